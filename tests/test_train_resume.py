"""Repeatability and resuming: one seed, one result, whether or not the run stopped on the way."""
import signal
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from cli_runs import POST, finish, ignoring_sigint, run, started, wait_for
from legacy_vae import runs, train
from legacy_vae.config import defaults


def config(model, mnist_dir, **changes):
    settings = dict(steps=300, visualize_every=100, checkpoint_every=100, data_dir=str(mnist_dir))
    return defaults(model).replace(**{**settings, **changes})


def weights(run_dir):
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(Path(run_dir) / "checkpoints")))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


def train_losses(run_dir):
    """(split, step, elbo, reconstruction, kl) of the train and validation records."""
    return [(r["split"], r["step"], r["elbo"], r["reconstruction"], r["kl"])
            for r in runs.read_metrics(Path(run_dir) / "metrics.jsonl") if r["split"] != "test"]


def assert_same_weights(a, b):
    a, b = weights(a), weights(b)
    assert sorted(a) == sorted(b)
    assert "global_step" in a and any("Adam" in name for name in a)  # optimizer state too
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, mnist_dir):
    """300 uninterrupted steps of post (tf.data path) and slim (feed_dict path)."""
    root = tmp_path_factory.mktemp("uninterrupted")
    for model, fast in (("post", True), ("slim", False)):
        train.run([config(model, mnist_dir, feed_dict=not fast)], out=str(root / model), progress=False)
    return root


def test_one_seed_gives_identical_losses_and_weights(uninterrupted, tmp_path, mnist_dir, capsys):
    train.run([config("post", mnist_dir)], out=str(tmp_path / "again"), progress=False)
    assert train_losses(tmp_path / "again") == train_losses(uninterrupted / "post")
    assert_same_weights(tmp_path / "again", uninterrupted / "post")
    printed = capsys.readouterr().out
    for split, step, elbo, *_ in train_losses(uninterrupted / "post"):
        if split == "train":
            assert f"post step {step}/300: train loss {-elbo:.2f}, validation ELBO " in printed


@pytest.mark.parametrize("model, fast", [("post", True), ("slim", False)])
def test_interrupted_and_resumed_equals_uninterrupted(uninterrupted, tmp_path, mnist_dir, model, fast):
    run_dir = tmp_path / "resumed"
    train.run([config(model, mnist_dir, feed_dict=not fast, steps=200)], out=str(run_dir), progress=False)
    summary = train.resume(run_dir, steps=300, progress=False)
    assert summary["steps"] == 300 and runs.read_json(run_dir / "config.json")["steps"] == 300
    assert_same_weights(run_dir, uninterrupted / model)
    # metrics.jsonl continues: the resumed run records what the uninterrupted one did, plus
    # the test ELBO of the first session at step 200.
    resumed = train_losses(run_dir)
    assert resumed == train_losses(uninterrupted / model)
    tests = [r["step"] for r in runs.read_metrics(run_dir / "metrics.jsonl", "test")]
    assert tests == [200, 300]


def test_resume_of_a_finished_run_asks_for_more_steps(uninterrupted):
    with pytest.raises(ValueError, match="already finished its steps.*larger --steps"):
        train.resume(uninterrupted / "post", progress=False)
    with pytest.raises(ValueError, match="already at step 300; --steps must be at least 300"):
        train.resume(uninterrupted / "post", steps=100, progress=False)


def test_resume_of_a_folder_that_is_no_run(tmp_path):
    with pytest.raises(ValueError, match="no config.json there"):
        train.resume(tmp_path, progress=False)


def test_ctrl_c_saves_a_checkpoint_and_resume_continues(tmp_path, mnist_dir):
    """SIGINT once the checkpoint of step 20 is on disk. The child starts with SIGINT ignored, as a
    shell starts a background job (and as the suite's own workers may be): the command must still
    stop on Ctrl-C, since it installs its handler itself (legacy_vae.failures)."""
    out = tmp_path / "run"
    with started("train", *POST, "--steps", 100000, "--data-dir", mnist_dir, "--out", out,
                 cwd=tmp_path, preexec_fn=ignoring_sigint) as process:
        wait_for(lambda: (out / "checkpoints" / "state-20.json").exists(), process, "a checkpoint at step 20")
        process.send_signal(signal.SIGINT)
        stdout, stderr = finish(process)
    assert process.returncode == 130, stderr
    step = runs.checkpoint_step(tf.train.latest_checkpoint(str(out / "checkpoints")))
    assert step >= 20 and (out / "checkpoints" / f"state-{step}.json").exists()
    assert f"post: stopped at step {step}; checkpoint saved: " in stderr
    assert f"resume with: legacy-vae train --resume {out}" in stderr
    assert not (out / "results.json").exists()

    resumed = run("train", "--resume", out, "--steps", step + 50, "--no-progress", cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert runs.checkpoint_step(tf.train.latest_checkpoint(str(out / "checkpoints"))) == step + 50
    assert runs.read_json(out / "results.json")["steps"] == step + 50
    row = [line.split() for line in resumed.stdout.splitlines() if line.startswith("post ")]
    assert row and row[-1][1] == str(step + 50), resumed.stdout
