"""Run folders that are moved, copied, written by an older version, or hold a broken checkpoint.

Each test copies a real 100-step post run (``post_at_100``, trained through
the CLI), changes it as a user or a fault would, and resumes it to 200 steps
with the CLI in a subprocess: the weights must then equal those of 200
uninterrupted steps (``post_reference``) bit for bit.
"""
import json
import os
import shutil

from cli_runs import our_lines, run, text_files
from legacy_vae import checkpoints, cli, runs
from test_train_resume import assert_same_weights, train_losses


def copy_run(source, target):
    shutil.copytree(source, target)
    return target


def test_copied_run_resumes_and_evaluates_from_its_own_files(post_at_100, post_reference, tmp_path):
    """Copy a finished run, take the original away, then resume and evaluate the copy."""
    copy = copy_run(post_at_100, tmp_path / "copy")
    for path, text in text_files(copy):
        assert str(post_at_100) not in text, f"{path} names the original folder"
    away = post_at_100.with_name("moved-away")
    post_at_100.rename(away)  # the original is gone while the copy is used
    try:
        resumed = run("train", "--resume", "copy", "--steps", 200, "--no-progress", cwd=tmp_path)
        assert resumed.returncode == 0, resumed.stderr
        assert our_lines(resumed.stderr) == []  # nothing to report: the copy is a run folder like any other
        evaluated = run("evaluate", "copy", "--iw-samples", 5, "--limit", 20, "--no-progress", cwd=tmp_path)
        assert evaluated.returncode == 0, evaluated.stderr
        assert our_lines(evaluated.stderr) == []
    finally:
        away.rename(post_at_100)
    assert_same_weights(copy, post_reference)
    assert runs.read_json(copy / "results.json")["checkpoint"] == "checkpoints/model.ckpt-200"
    assert json.loads((copy / "evaluation.json").read_text())["checkpoint"] == "checkpoints/model.ckpt-200"
    assert json.loads((copy / "evaluation.json").read_text())["step"] == 200
    assert (copy / "checkpoints" / "model.ckpt-200.index").is_file()
    for path, text in text_files(copy):
        assert str(tmp_path) not in text, f"{path} holds an absolute path into the run folder"


def absolute_state(folder, elsewhere):
    """The state file an older legacy-vae wrote: absolute paths, here into the folder ``elsewhere``."""
    names = [os.path.basename(prefix) for _, prefix in checkpoints.listing(elsewhere)]
    lines = [f'model_checkpoint_path: "{elsewhere / names[-1]}"']
    lines += [f'all_model_checkpoint_paths: "{elsewhere / name}"' for name in names]
    (folder / "checkpoint").write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_folder_with_absolute_paths_uses_its_own_checkpoints(post_at_100, post_reference, tmp_path):
    """An older folder's state file names the checkpoints of another run (the one it was copied
    from, here the 200-step reference): evaluate and resume read this folder's own, with a notice,
    and leave the other run alone."""
    old = copy_run(post_at_100, tmp_path / "old")
    other = post_reference / "checkpoints"
    absolute_state(old / "checkpoints", other)
    results = runs.read_json(old / "results.json")
    runs.write_json(old / "results.json", dict(results, checkpoint=str(other / "model.ckpt-100")))
    before = {p.name: p.stat().st_mtime_ns for p in other.iterdir()}

    # In a subprocess: TensorFlow's own log lines ("Couldn't match files ...") must not reach the user.
    evaluated = run("evaluate", "old", "--iw-samples", 5, "--limit", 20, "--no-progress", cwd=tmp_path)
    assert evaluated.returncode == 0, evaluated.stderr
    assert our_lines(evaluated.stderr) == [
        f"old: old/checkpoints/checkpoint names checkpoints by absolute path in {other} "
        f"(the run folder was moved or copied); using the checkpoints in this folder by file name"]
    assert json.loads((old / "evaluation.json").read_text())["step"] == 100  # its own, not the other's 200

    resumed = run("train", "--resume", "old", "--steps", 200, "--no-progress", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert our_lines(resumed.stderr) == [
        f"post: old/checkpoints/checkpoint names checkpoints by absolute path in {other} (the run folder "
        f"was moved or copied); using the checkpoints in this folder by file name; rewritten with relative paths"]
    assert_same_weights(old, post_reference)
    assert {p.name: p.stat().st_mtime_ns for p in other.iterdir()} == before
    assert str(other) not in (old / "checkpoints" / "checkpoint").read_text()


def truncate(path):
    with open(path, "r+b") as handle:
        handle.truncate(os.path.getsize(path) // 2)


def test_truncated_newest_checkpoint_falls_back_and_resume_ends_identical(post_at_100, post_reference, tmp_path,
                                                                          capsys, monkeypatch):
    broken = copy_run(post_at_100, tmp_path / "broken")
    data = broken / "checkpoints" / "model.ckpt-100.data-00000-of-00001"
    truncate(data)
    problem = f"checkpoint model.ckpt-100 is unusable: {data} is truncated"

    monkeypatch.setenv("TF_OVERRIDE_GLOBAL_THREADPOOL", "1")  # cli.main sets it; keep it to this test
    status = cli.main(["evaluate", str(broken), "--iw-samples", "5", "--limit", "20", "--no-progress"])
    assert status == 0
    assert capsys.readouterr().err.splitlines() == [f"{broken}: {problem}; evaluating model.ckpt-80 (step 80)"]
    assert json.loads((broken / "evaluation.json").read_text())["step"] == 80

    resumed = run("train", "--resume", broken, "--steps", 200, "--no-progress", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert our_lines(resumed.stderr) == [f"post: {problem}; resuming from model.ckpt-80 (step 80)"]
    # Steps 81-100 were trained again: the same weights and the same metrics as never stopping.
    assert_same_weights(broken, post_reference)
    assert train_losses(broken) == train_losses(post_reference)


def test_no_intact_checkpoint_is_a_run_time_failure(post_at_100, tmp_path, capsys, monkeypatch):
    broken = copy_run(post_at_100, tmp_path / "broken")
    for step, prefix in checkpoints.listing(broken / "checkpoints"):
        truncate(prefix + ".data-00000-of-00001")
    monkeypatch.setenv("TF_OVERRIDE_GLOBAL_THREADPOOL", "1")
    for argv in (["evaluate", str(broken), "--no-progress"], ["train", "--resume", str(broken), "--no-progress"]):
        assert cli.main(argv) == 1
        err = capsys.readouterr().err.splitlines()
        assert len(err) == 1 and err[0].startswith(f"legacy-vae {argv[0]}: error: no usable checkpoint in "), err
        assert "model.ckpt-100, is unusable" in err[0] and "so are the 4 older ones" in err[0]
    assert not (broken / "evaluation.json").exists()


def test_a_checkpoint_without_readable_loop_state_is_skipped(post_at_100, tmp_path):
    """What a process killed between a state-<step>.json and its checkpoint (in an older
    version, which wrote the state after the checkpoint) or a damaged disk can leave."""
    from legacy_vae.engine import saving

    folder = runs.ModelFolder(copy_run(post_at_100, tmp_path / "run"))
    folder.state_file(100).unlink()
    folder.state_file(80).write_text('{"step": 80, "train_sec')
    point = saving.restore_point(folder, resume=True)
    assert (point["step"], os.path.basename(point["prefix"])) == (60, "model.ckpt-60")
    assert point == {**runs.read_json(folder.state_file(60)), **point}  # train seconds as of step 60
    reasons = [reason for _, reason in point["choice"].skipped]
    assert reasons[0] == f"{folder.state_file(100)} is missing"
    assert reasons[1].startswith(f"{folder.state_file(80)} cannot be read (")
