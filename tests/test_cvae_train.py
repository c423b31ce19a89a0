"""Training the tutorial's CVAE into a run folder: artefacts, resume, determinism, guards.

The tutorial trained in a notebook: its shuffling and noise came from
TensorFlow's global random state, so two runs differed and an interrupted run
started over. Here the batch order and all noise are functions of
(seed, step), initializers are seeded per layer, and a ``tf.train.Checkpoint``
(model, optimizer, step) is all a resumed run needs: the same seed gives
identical losses, also across an interruption. Shrunk to 120 steps of 32 with
an "epoch" of 40 steps and the test ELBO on 500 test images.
"""
import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from legacy_vae.config import defaults
from legacy_vae.eager import train as cvae_train
from legacy_vae.models.cvae import CVAE

TEST_LIMIT = 500


def small_config(mnist_dir, **changes):
    return defaults("cvae").replace(steps=120, epoch_steps=40, checkpoint_every=40,
                                    data_dir=str(mnist_dir), **changes)


def rows(run, split):
    lines = (run / "metrics.jsonl").read_text().splitlines()
    return [r for r in map(json.loads, lines) if r["split"] == split]


def numbers(run, split):
    return [{k: r[k] for k in ("step", "elbo", "reconstruction", "kl")} for r in rows(run, split)]


def interrupt_at(monkeypatch, step, error):
    """Make the training loop meet ``error`` when it fetches batch ``step``."""
    original = cvae_train._Run.batch

    def batch(self, index):
        if index >= step:
            if error == "nan":
                return np.full_like(original(self, index), np.nan)
            raise error
        return original(self, index)

    monkeypatch.setattr(cvae_train._Run, "batch", batch)


@pytest.fixture(scope="module")
def full_run(tmp_path_factory, mnist_dir):
    run = tmp_path_factory.mktemp("cvae") / "run"
    results = cvae_train.train(small_config(mnist_dir), run, progress=False, test_limit=TEST_LIMIT)
    return run, results


def test_run_folder_has_every_artefact(full_run):
    run, results = full_run
    assert json.loads((run / "config.json").read_text())["model"] == "cvae"
    assert json.loads((run / "results.json").read_text()) == results
    assert [r["step"] for r in rows(run, "test")] == [40, 80, 120]
    assert [r["step"] for r in rows(run, "train")] == [40, 80, 120]
    figures = run / "figures"
    for step in (0, 40, 80, 120):  # step 0: the untrained model, as the tutorial's epoch 0
        assert (figures / f"reconstructions-step{step}.png").stat().st_size > 0
    with Image.open(figures / "cvae.gif") as gif:
        assert gif.n_frames == 4
    for name in ("manifold.png", "prior_samples.png", "codes.png", "loss_curves.png"):
        assert (figures / name).stat().st_size > 0
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-120")
    assert list((run / "events").iterdir())
    assert results["model"] == "cvae" and results["steps"] == 120
    assert results["epochs"] == pytest.approx(120 * 32 / 60_000)  # all 60,000 training images
    assert results["num_test_images"] == TEST_LIMIT and len(results["epoch_seconds"]) == 3
    assert results["test_elbo"] == rows(run, "test")[-1]["elbo"]


def test_training_lowers_the_loss(full_run):
    run, results = full_run
    test, train = rows(run, "test"), rows(run, "train")
    assert test[0]["elbo"] < test[1]["elbo"] < test[2]["elbo"] < -150
    assert train[-1]["elbo"] > train[0]["elbo"] + 50
    for row in test:  # the terms add up: elbo = -(reconstruction + kl)
        assert row["elbo"] == pytest.approx(-(row["reconstruction"] + row["kl"]), rel=1e-6)


def test_checkpoint_restores_the_trained_model(full_run):
    run, _ = full_run
    model, step = CVAE(2, seed=99), tf.Variable(0, dtype=tf.int64)
    checkpoint = tf.train.Checkpoint(model=model, step=step)
    checkpoint.restore(tf.train.latest_checkpoint(str(run / "checkpoints"))).expect_partial()
    assert int(step.numpy()) == 120
    assert not np.array_equal(model.encoder.layers[0].get_weights()[0],
                              CVAE(2, seed=99).encoder.layers[0].get_weights()[0])


def test_interrupted_run_resumes_to_identical_losses(full_run, tmp_path, monkeypatch, mnist_dir, capsys):
    full, full_results = full_run
    run = tmp_path / "run"
    interrupt_at(monkeypatch, 60, KeyboardInterrupt)
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C saves a checkpoint, then is re-raised
        cvae_train.train(small_config(mnist_dir), run, progress=False, test_limit=TEST_LIMIT)
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-60")
    # Same seed, separate run: identical numbers up to the interruption.
    assert numbers(run, "test") == numbers(full, "test")[:1]
    assert numbers(run, "train") == numbers(full, "train")[:1]
    monkeypatch.undo()
    results = cvae_train.train(small_config(mnist_dir), run, resume=True, progress=False, test_limit=TEST_LIMIT)
    # Bit-identical test ELBOs after the resume. (The train row at step 80
    # averages only steps 61-80, so it alone differs from the full run's.)
    assert numbers(run, "test") == numbers(full, "test")
    assert numbers(run, "train")[-1] == numbers(full, "train")[-1]
    assert results["test_elbo"] == full_results["test_elbo"]
    assert results["resumed_from_step"] == 60
    out = capsys.readouterr().out
    assert "Epoch: 3, Test set ELBO: " in out and "time elapse for current epoch: " in out


def test_nan_stops_with_the_step_and_keeps_the_last_good_checkpoint(tmp_path, monkeypatch, mnist_dir):
    run = tmp_path / "run"
    interrupt_at(monkeypatch, 50, "nan")
    with pytest.raises(FloatingPointError, match=r"cvae: the training loss is nan at step 51.*ckpt-40"):
        cvae_train.train(small_config(mnist_dir), run, progress=False, test_limit=TEST_LIMIT)
    assert tf.train.latest_checkpoint(str(run / "checkpoints")).endswith("ckpt-40")
    assert [r["step"] for r in rows(run, "test")] == [40]


def test_bad_calls_are_refused_with_the_fix(full_run, tmp_path, mnist_dir):
    full, _ = full_run
    with pytest.raises(ValueError, match="no checkpoint to resume from"):
        cvae_train.train(small_config(mnist_dir), tmp_path / "empty", resume=True, progress=False)
    with pytest.raises(ValueError, match="already holds a checkpoint.*resume=True"):
        cvae_train.train(small_config(mnist_dir), full, progress=False)
    with pytest.raises(ValueError, match="different learning_rate"):
        cvae_train.train(small_config(mnist_dir, learning_rate=1e-3), full, resume=True, progress=False)
    with pytest.raises(ValueError, match="use defaults\\('cvae'\\)"):
        cvae_train.train(defaults("post"), tmp_path / "post", progress=False)
