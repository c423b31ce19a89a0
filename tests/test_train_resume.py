"""Repeatability and resuming: one seed, one result, whether or not the run stopped on the way."""
import signal
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from cli_runs import POST, finish, ignoring_sigint, run, started, wait_for
from legacy_vae import cli, runs, train
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


def short(model, mnist_dir, **changes):
    """A shrunk config: a validation and a checkpoint every 20 steps."""
    return config(model, mnist_dir, **{"visualize_every": 20, "checkpoint_every": 20, **changes})


def test_a_dynamically_binarized_run_resumes_bit_identically(tmp_path, mnist_dir):
    """Dynamic binarization draws fresh pixels from the run's seed: the resumed run must draw what
    the uninterrupted one drew after step 40."""
    whole, resumed = tmp_path / "whole", tmp_path / "resumed"
    train.run([short("post", mnist_dir, binarize="dynamic", steps=60)], out=str(whole), progress=False)
    train.run([short("post", mnist_dir, binarize="dynamic", steps=40)], out=str(resumed), progress=False)
    train.resume(resumed, steps=60, progress=False)
    assert runs.read_json(resumed / "config.json")["binarize"] == "dynamic"
    assert_same_weights(resumed, whole)
    assert train_losses(resumed) == train_losses(whole)


def test_a_both_run_folder_resumes_each_model(tmp_path, mnist_dir, capsys):
    """`legacy-vae train --model both` stopped at step 40, resumed to 60: each model's folder ends
    like an uninterrupted 60-step run's."""
    shrink = ["--visualize-every", "20", "--checkpoint-every", "20", "--data-dir", str(mnist_dir), "--no-progress"]
    assert cli.main(["train", "--model", "both", "--steps", "60", "--out", str(tmp_path / "whole"), *shrink]) == 0
    assert cli.main(["train", "--model", "both", "--steps", "40", "--out", str(tmp_path / "both"), *shrink]) == 0
    assert cli.main(["train", "--resume", str(tmp_path / "both"), "--steps", "60", "--no-progress"]) == 0
    for model in ("post", "slim"):
        assert runs.checkpoint_step(tf.train.latest_checkpoint(str(tmp_path / "both" / model / "checkpoints"))) == 60
        assert_same_weights(tmp_path / "both" / model, tmp_path / "whole" / model)
        assert train_losses(tmp_path / "both" / model) == train_losses(tmp_path / "whole" / model)
    assert capsys.readouterr().err.count("Traceback") == 0


def test_the_cvae_trains_and_resumes_through_the_command(tmp_path, mnist_dir, capsys, monkeypatch):
    """`legacy-vae train --model cvae` for 2 epochs of 10 steps, then `--resume` to 4 epochs: the
    resumed run continues from its step-20 checkpoint and ends where 40 uninterrupted steps do.
    Each epoch's test ELBO is taken on the first 500 test images (the command's eight passes over
    all 10,000 took most of this test's 40 s); what is compared here is training."""
    from legacy_vae.eager import train as cvae_train

    load_data = cvae_train.load_data
    monkeypatch.setattr(cvae_train, "load_data", lambda config, test_limit=None: load_data(config, 500))
    shrink = ["--model", "cvae", "--epoch-steps", "10", "--data-dir", str(mnist_dir), "--no-progress"]
    assert cli.main(["train", *shrink, "--steps", "40", "--out", str(tmp_path / "whole")]) == 0
    assert cli.main(["train", *shrink, "--steps", "20", "--out", str(tmp_path / "cvae")]) == 0
    capsys.readouterr()
    assert cli.main(["train", "--resume", str(tmp_path / "cvae"), "--steps", "40", "--no-progress"]) == 0
    printed = capsys.readouterr()
    assert runs.read_json(tmp_path / "cvae" / "config.json")["steps"] == 40
    assert runs.read_json(tmp_path / "cvae" / "results.json")["steps"] == 40
    assert runs.read_json(tmp_path / "cvae" / "results.json")["num_test_images"] == 500
    assert "Traceback" not in printed.err
    assert train_losses(tmp_path / "cvae") == train_losses(tmp_path / "whole")
    assert_same_cvae_weights(tmp_path / "cvae", tmp_path / "whole")


def assert_same_cvae_weights(a, b):
    """Every variable of the checkpoints equal (weights, Adam's moments and step), but
    tf.train.Checkpoint's count of its own saves (the resumed run saved once more); the object
    graph is left out too, as it holds Keras's layer names, which count up within a process."""
    a, b = weights(a), weights(b)
    assert sorted(a) == sorted(b)
    names = [name for name in a if name.endswith("VARIABLE_VALUE") and not name.startswith("save_counter")]
    assert len([name for name in names if "_trainable_variables" in name]) > 4
    for name in names:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
