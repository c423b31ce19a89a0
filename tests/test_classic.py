"""The classic loop (legacy_vae.models.classic): the seeds' figures, and the fast loop is the same training."""
import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from legacy_vae import train
from legacy_vae.config import defaults
from legacy_vae.data import DataSet
from legacy_vae.engine import pipeline
from legacy_vae.models import classic

v1 = tf.compat.v1


def checkpoint_values(folder):
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(folder / "checkpoints")))
    return {name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}


@pytest.mark.parametrize("model", ["post", "slim"])
def test_classic_and_fast_loops_end_with_identical_weights(model, tmp_path, mnist_dir):
    """600 steps cross an epoch of the 55,000 training images (550 batches of 100)."""
    config = defaults(model).replace(steps=600, visualize_every=300, checkpoint_every=300,
                                     data_dir=str(mnist_dir), towers=1)
    classic.TRAIN[model](config.replace(loop="classic"), tmp_path / "classic", say=lambda line: None)
    train.run([config], out=str(tmp_path / "fast"), progress=False)
    slow, fast = checkpoint_values(tmp_path / "classic"), checkpoint_values(tmp_path / "fast")
    assert sorted(slow) == sorted(fast) and int(fast["global_step"]) == 600
    assert any(name.endswith("/Adam") for name in fast)
    for name in slow:
        np.testing.assert_array_equal(fast[name], slow[name], err_msg=name)
    # Same weights, same digits, same noise: the same figure, byte for byte.
    for step in (0, 300, 600):
        name = f"reconstructions-step{step}.png" if model == "slim" else f"epoch-step{step}.png"
        assert (tmp_path / "classic" / "figures" / name).exists()
        if model == "slim":
            assert ((tmp_path / "classic" / "figures" / name).read_bytes()
                    == (tmp_path / "fast" / "figures" / name).read_bytes()), name


@pytest.mark.parametrize("batch_size, start_step", [(40, 0), (40, 13), (50, 0)])
def test_the_tf_data_batches_are_next_batch(batch_size, start_step):
    """250 examples in batches of 40: epochs end inside batches, whose tail joins the next head."""
    # Image i holds i / 256 in every pixel (exact in float32, inside [0, 1] as a DataSet wants).
    images = np.arange(250, dtype=np.float32)[:, None] / 256 * np.ones((1, 784), np.float32)
    reference = DataSet(images, np.zeros(250), seed=7)
    state = reference.get_state()
    expected = [reference.next_batch(batch_size)[0][:, 0] for _ in range(start_step + 30)][start_step:]
    graph = tf.Graph()
    with graph.as_default():
        source = pipeline.make_input(batch_size)
    with v1.Session(graph=graph) as session:
        source.initialize(session, images, state, start_step=start_step, end_step=start_step + 30)
        got = [session.run(source.next_batch)[:, 0] for _ in range(30)]
        with pytest.raises(tf.errors.OutOfRangeError):  # the order stops at end_step
            session.run(source.next_batch)
    for a, b in zip(got, expected):
        np.testing.assert_array_equal(a, b)


def run_cli(*args, cwd):
    return subprocess.run([sys.executable, "-m", "legacy_vae", "train", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_the_classic_post_loop_prints_epochs_and_draws_a_row_per_epoch(tmp_path, mnist_dir):
    done = run_cli("--loop", "classic", "--model", "post", "--steps", "60", "--visualize-every", "30",
                   "--data-dir", str(mnist_dir), "--out", "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [line.split(" elbo ")[0] for line in done.stdout.splitlines() if line.startswith("Epoch")] == [
        "Epoch 0", "Epoch 1", "Epoch 2"]
    figures = tmp_path / "run" / "figures"
    rows = [Image.open(figures / f"epoch-step{s}.png").size for s in (0, 30, 60)]
    stacked = Image.open(figures / "epochs.png")
    assert stacked.size == (rows[0][0], sum(height for _, height in rows))
    assert Image.open(figures / "epochs.gif").n_frames == 3
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["loop"] == "classic" and results["steps"] == 60 and results["test_elbo"] < 0
    assert results["checkpoint"] == "checkpoints/model.ckpt-60"


def test_the_classic_slim_loop_shows_digits_mean_and_sample(tmp_path, mnist_dir):
    done = run_cli("--loop", "classic", "--model", "slim", "--steps", "50", "--visualize-every", "20",
                   "--data-dir", str(mnist_dir), "--out", "run", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("Iteration")] == [
        "Iteration 0:", "Iteration 20:", "Iteration 40:", "Iteration 50:"]
    names = sorted(p.name for p in (tmp_path / "run" / "figures").iterdir())
    assert names == [f"reconstructions-step{s}.png" for s in (0, 20, 40, 50)]


def test_classic_refuses_fast_loop_options_and_resume(tmp_path, mnist_dir, command):
    status, _, err = command("train", "--loop", "classic", "--towers", "2", cwd=tmp_path)
    assert status == 2 and err.count("\n") == 1
    assert "it does not apply with --feed-dict, --loop classic" in err
    status, _, err = command("train", "--loop", "classic", "--model", "slim", "--steps", 5, "--data-dir", mnist_dir,
                             "--out", "run", "--no-progress", cwd=tmp_path)
    assert status == 0, err
    status, _, err = command("train", "--resume", "run", "--steps", 10, cwd=tmp_path)
    assert status == 2 and "trained with --loop classic" in err


def old_layout_run(folder, mnist_dir):
    """A run folder as legacy-vae 0.1 wrote it: its own layer names (encoder/loc, decoder/logits)."""
    config = defaults("post").replace(steps=10, data_dir=str(mnist_dir))
    shapes = {"encoder/dense": (784, 200), "encoder/dense_1": (200, 200), "encoder/loc": (200, 2),
              "encoder/scale": (200, 2), "decoder/dense": (2, 200), "decoder/dense_1": (200, 200),
              "decoder/logits": (200, 784)}
    (folder / "checkpoints").mkdir(parents=True)
    graph = tf.Graph()
    with graph.as_default():
        for scope, shape in shapes.items():
            v1.get_variable(f"{scope}/kernel", shape)
            v1.get_variable(f"{scope}/bias", shape[1:])
        step = v1.train.get_or_create_global_step()
        assign = step.assign(10)
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            session.run(assign)
            v1.train.Saver().save(session, str(folder / "checkpoints" / "model.ckpt"), global_step=10)
    # 0.1 kept the loop's state beside each checkpoint, as this version does.
    (folder / "checkpoints" / "state-10.json").write_text(json.dumps(
        {"step": 10, "train_seconds": 1.0, "dataset": None}))
    config.save(folder / "config.json")


@pytest.mark.parametrize("words", [["train", "--resume", "old", "--steps", "20"], ["evaluate", "old"]])
def test_a_run_folder_of_version_0_1_is_refused_in_one_line(words, tmp_path, mnist_dir, command):
    old_layout_run(tmp_path / "old", mnist_dir)
    status, _, err = command(*words, cwd=tmp_path)
    assert status == 1
    # Ours is one line, with no traceback.
    last = err.strip().splitlines()[-1]
    assert "Traceback" not in err, err
    assert "was written by legacy-vae 0.1 (variables such as encoder/loc/kernel)" in last
    assert "train the run again" in last
