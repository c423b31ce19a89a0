"""Runs stopped the hard ways: SIGKILL inside a checkpoint write, a file-size limit, SIGTERM,
and a second command in the same folder. The CLI runs in subprocesses; each run is resumed
to 200 steps and must end with the weights of 200 uninterrupted steps (``post_reference``).
"""
import json
import re
import resource
import shutil
import signal

from cli_runs import POST, finish, our_lines, run, start, stop, wait_for
from legacy_vae import checkpoints, runs
from test_train_resume import assert_same_weights, train_losses


def assert_intact(run_dir):
    """Every checkpoint reads whole and has its loop state; metrics.jsonl parses, one record per step."""
    folder = runs.ModelFolder(run_dir)
    found = checkpoints.listing(folder.checkpoints)
    assert found
    for step, prefix in found:
        assert checkpoints.problem(prefix) is None, prefix
        assert folder.state_file(step).is_file(), step
    lines = folder.metrics.read_text().splitlines()
    records = [json.loads(line) for line in lines]
    keys = [(r["split"], r["step"]) for r in records]
    assert len(keys) == len(set(keys)), keys


def partial_files(folder):
    return sorted(p.name for p in folder.iterdir() if ".tempstate" in p.name) if folder.is_dir() else []


def test_sigkill_during_a_checkpoint_write_resumes(post_reference, tmp_path, mnist_dir):
    """A real SIGKILL while TensorFlow writes a checkpoint. The test polls the checkpoints folder;
    when a partly written file (``*.tempstate*``) appears it freezes the process (SIGSTOP), and
    kills it if the file is still there, else lets it go on to the next checkpoint."""
    out = tmp_path / "killed"
    folder = out / "checkpoints"
    process = start("train", *POST, "--steps", 100000, "--data-dir", mnist_dir, "--out", out, cwd=tmp_path)
    try:
        def caught_writing():
            if not partial_files(folder):
                return False
            process.send_signal(signal.SIGSTOP)
            if partial_files(folder):
                process.kill()
                return True
            process.send_signal(signal.SIGCONT)  # the write ended in between: try the next one
            return False
        wait_for(caught_writing, process, "a checkpoint being written", timeout=120)
    finally:
        stop(process)
    leftovers = partial_files(folder)
    killed_at = int(re.match(r"model\.ckpt-(\d+)\.", leftovers[0]).group(1))
    assert not (folder / f"model.ckpt-{killed_at}.index").exists()
    assert killed_at < 200

    resumed = run("train", "--resume", out, "--steps", 200, "--no-progress", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert our_lines(resumed.stderr) == [
        f"post: removed {len(leftovers)} partial file(s) of an interrupted checkpoint write from {folder}"]
    assert partial_files(folder) == []
    assert_same_weights(out, post_reference)
    assert train_losses(out) == train_losses(post_reference)


def test_file_size_limit_while_checkpointing_fails_in_one_line(post_at_100, post_reference, tmp_path):
    """RLIMIT_FSIZE below the size of a checkpoint: the resumed run cannot write its first one."""
    full = tmp_path / "full"
    shutil.copytree(post_at_100, full)
    data = full / "checkpoints" / "model.ckpt-100.data-00000-of-00001"
    limit = data.stat().st_size // 2
    before = {p.name: p.read_bytes() for p in (full / "checkpoints").iterdir()}

    def small_files():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))

    failed = run("train", "--resume", "full", "--steps", 200, "--no-progress", cwd=tmp_path,
                 preexec_fn=small_files)
    assert failed.returncode == 1, failed.stderr
    assert our_lines(failed.stderr) == [
        "legacy-vae train: error: could not write full/checkpoints/model.ckpt-100: File too large; free some "
        "space or raise the file-size limit, then resume with 'legacy-vae train --resume full' "
        "(the checkpoints already written are intact)"]
    assert {p.name: p.read_bytes() for p in (full / "checkpoints").iterdir()} == before
    assert_intact(full)

    resumed = run("train", "--resume", "full", "--steps", 200, "--no-progress", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert our_lines(resumed.stderr) == []
    assert_same_weights(full, post_reference)


def test_sigterm_checkpoints_and_a_second_resume_is_refused(post_at_100, post_reference, tmp_path):
    """While a resume trains, a second resume of the same folder stops at once; then SIGTERM
    (what `timeout` and schedulers send) saves a checkpoint like Ctrl-C and exits with 143."""
    busy = tmp_path / "busy"
    shutil.copytree(post_at_100, busy)
    first = start("train", "--resume", "busy", "--steps", 100000, "--no-progress", cwd=tmp_path)
    try:
        wait_for(lambda: (busy / "checkpoints" / "state-120.json").exists(), first, "a checkpoint at step 120")
        # Paused (still holding the folder) while the second starts: it must not pass step 200 meanwhile.
        first.send_signal(signal.SIGSTOP)
        second = run("train", "--resume", "busy", "--steps", 300, "--no-progress", cwd=tmp_path, timeout=60)
        first.send_signal(signal.SIGCONT)
        assert first.poll() is None, "the first resume must still be training"
        first.send_signal(signal.SIGTERM)
        _, stderr = finish(first)
    finally:
        stop(first)
    assert second.returncode == 1, second.stderr
    assert our_lines(second.stderr) == [
        "legacy-vae train: error: busy is in use by another legacy-vae command (a training still running?); "
        "wait for it to end, or stop it (Ctrl-C or SIGTERM: both save a checkpoint), then run this again"]
    assert runs.read_json(busy / "config.json")["steps"] == 100000  # the second wrote nothing

    assert first.returncode == 143, stderr
    lines = our_lines(stderr)
    assert lines[-2:] == ["resume with: legacy-vae train --resume busy", "legacy-vae train: terminated (SIGTERM)"]
    step = runs.checkpoint_step(checkpoints.listing(busy / "checkpoints")[-1][1])
    assert lines[:-2] == [f"post: stopped at step {step}; checkpoint saved: busy/checkpoints/model.ckpt-{step}"]
    assert 120 <= step < 200, "SIGTERM must land before step 200 for the comparison below"
    assert_intact(busy)

    resumed = run("train", "--resume", "busy", "--steps", 200, "--no-progress", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_weights(busy, post_reference)
