"""Runs stopped the hard ways: SIGKILL inside a checkpoint write, a file-size limit, SIGTERM,
and a second command in the same folder. The CLI runs in subprocesses; each run is resumed
to 200 steps and must end with the weights of 200 uninterrupted steps (``post_reference``).
"""
import json
import re
import resource
import shutil
import signal

from cli_runs import POST, finish, our_lines, run, started, wait_for
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


def reference_run(steps, post_reference, tmp_path, mnist_dir):
    """An uninterrupted post run of ``steps`` steps: ``post_reference`` for 200, else trained here
    (needed only when a loaded machine let the interrupted run pass step 200 first)."""
    if steps == 200:
        return post_reference
    done = run("train", *POST, "--steps", steps, "--data-dir", mnist_dir, "--out", "reference", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path / "reference"


def test_sigkill_during_a_checkpoint_write_resumes(post_reference, tmp_path, mnist_dir):
    """A real SIGKILL while TensorFlow writes a checkpoint. The test polls the checkpoints folder;
    when a partly written file (``*.tempstate*``) appears it freezes the process (SIGSTOP), and
    kills it if the file is still there, else lets it go on to the next checkpoint. The resumed
    run must end like an uninterrupted one: ``post_reference`` (200 steps) when the kill landed
    before step 200, else a reference trained here to the next checkpoint."""
    out = tmp_path / "killed"
    folder = out / "checkpoints"
    with started("train", *POST, "--steps", 100000, "--data-dir", mnist_dir, "--out", out,
                 cwd=tmp_path) as process:
        def caught_writing():
            if not partial_files(folder):
                return False
            process.send_signal(signal.SIGSTOP)
            if partial_files(folder):
                process.kill()
                return True
            process.send_signal(signal.SIGCONT)  # the write ended in between: try the next one
            return False
        wait_for(caught_writing, process, "a checkpoint being written")
    leftovers = partial_files(folder)
    killed_at = int(re.match(r"model\.ckpt-(\d+)\.", leftovers[0]).group(1))
    assert not (folder / f"model.ckpt-{killed_at}.index").exists()  # killed inside that write
    steps = max(200, killed_at + 20)
    reference = reference_run(steps, post_reference, tmp_path, mnist_dir)

    resumed = run("train", "--resume", out, "--steps", steps, "--no-progress", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert our_lines(resumed.stderr) == [
        f"post: removed {len(leftovers)} partial file(s) of an interrupted checkpoint write from {folder}"]
    assert partial_files(folder) == []
    assert_same_weights(out, reference)
    assert train_losses(out) == train_losses(reference)


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


def test_sigterm_checkpoints_and_a_second_resume_is_refused(post_at_100, post_reference, tmp_path, mnist_dir):
    """While a resume trains, a second resume of the same folder stops at once; then SIGTERM
    (what `timeout` and schedulers send) saves a checkpoint like Ctrl-C and exits with 143.
    The first resume is frozen (SIGSTOP) as soon as its checkpoint of step 120 is on disk and
    until SIGTERM is sent, so the signal lands there (within one checkpoint interval), however
    loaded the machine."""
    busy = tmp_path / "busy"
    shutil.copytree(post_at_100, busy)
    with started("train", "--resume", "busy", "--steps", 100000, "--no-progress", cwd=tmp_path) as first:
        wait_for(lambda: (busy / "checkpoints" / "state-120.json").exists(), first, "a checkpoint at step 120")
        first.send_signal(signal.SIGSTOP)
        frozen_at = max(int(p.stem.split("-")[1]) for p in (busy / "checkpoints").glob("state-*.json"))
        second = run("train", "--resume", "busy", "--steps", 300, "--no-progress", cwd=tmp_path)
        assert first.poll() is None, "the first resume must still be training"
        first.send_signal(signal.SIGTERM)
        first.send_signal(signal.SIGCONT)
        _, stderr = finish(first)
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
    # Stopped where it was frozen: a fast-path run never crosses a checkpoint step, so at most
    # the run in progress (to the next checkpoint) was finished.
    assert 120 <= frozen_at <= step <= frozen_at + 20, (frozen_at, step)
    assert_intact(busy)

    steps = 200 if step < 200 else step + 20
    resumed = run("train", "--resume", "busy", "--steps", steps, "--no-progress", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert_same_weights(busy, reference_run(steps, post_reference, tmp_path, mnist_dir))
