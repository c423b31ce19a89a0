"""Train the tutorial's convolutional VAE into a run folder.

Faithful to the TF2 tutorial: all 60,000 training images (``validation_size=0``,
so 1875 steps of 32 make an epoch), binarized at 0.5, Adam(1e-4), latent 2, 10
epochs; after every epoch the ELBO on the 10,000 test images is printed as
``Epoch: N, Test set ELBO: X, time elapse for current epoch: T`` and a 4x4 grid
of decoded test digits is saved. An epoch is ``config.epoch_steps`` steps
(1,875 in the faithful config); ``checkpoint_every`` sets the checkpoints.

Reproducible where the tutorial was not: the batch order (:mod:`order`) and
all noise are pure functions of (seed, step) and the initializers are seeded
per layer, so the same seed gives the same losses, and a checkpoint (model,
optimizer, step) is all a resumed run needs to continue exactly.

The test ELBO uses fixed noise (one draw per test image, the same every
epoch), so epochs differ only by the model. It is the mean over images; the
tutorial averaged 313 batch means (the last of 16 images), which is reported
as ``test_elbo_tutorial_batches`` and differs by a few hundredths of a nat.
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import numpy as np
import tensorflow as tf
from tqdm.auto import tqdm

from legacy_vae import checkpoints, plots, runs, streams
from legacy_vae.data import binarize_dynamic, binarize_static, read_data_sets
from legacy_vae.eager import config_check, cvae_figures
from legacy_vae.eager.order import BatchOrder
from legacy_vae.failures import write_error
from legacy_vae.models import cvae

def noise(seed: int, stream: int, counter: int, shape) -> tf.Tensor:
    """N(0, I) noise that depends only on (seed, stream, counter) (legacy_vae.streams)."""
    return tf.random.stateless_normal(shape, streams.key(seed, stream, counter))


def load_data(config, test_limit=None):
    """(train images, test images, test labels), [N,28,28,1] float32, binarized per the config."""
    data = read_data_sets(config.data_dir, validation_size=0, seed=config.seed, reshape=False)
    train_x, test_x, test_y = data.train.images, data.test.images, data.test.labels
    if test_limit is not None:
        test_x, test_y = test_x[:test_limit], test_y[:test_limit]
    if config.binarize == "static":
        train_x, test_x = binarize_static(train_x), binarize_static(test_x)
    elif config.binarize == "dynamic":
        # Training batches get a fresh draw per step; the test set one fixed draw.
        test_x = binarize_dynamic(test_x, streams.rng(config.seed, streams.BINARIZE, 2**31))
    return train_x, test_x, test_y


def train(config, run_dir, resume: bool = False, progress: bool = True, test_limit: int | None = None) -> dict:
    """Train (or, with ``resume``, continue) the CVAE of ``config`` in ``run_dir``; return the results.

    ``test_limit`` evaluates on the first ``test_limit`` test images only (for tests).
    """
    config_check.check_config(config)
    run_dir = Path(run_dir)
    model = cvae.CVAE(config.code_size, seed=config.seed)
    optimizer = cvae.make_optimizer(config)
    optimizer.build(model.trainable_variables)  # slots must exist before a restore
    saved_step = tf.Variable(0, dtype=tf.int64, trainable=False)
    checkpoint = tf.train.Checkpoint(model=model, optimizer=optimizer, step=saved_step)
    manager = tf.train.CheckpointManager(checkpoint, run_dir / "checkpoints", max_to_keep=5)
    start = 0
    if resume:
        # The newest checkpoint that reads whole, found by file name (see legacy_vae.checkpoints).
        chosen = checkpoints.newest_intact(run_dir / "checkpoints")
        config_check.prepare(config, run_dir, resume, chosen.prefix)
        for line in chosen.notices("resuming from"):
            sys.stderr.write(f"cvae: {line}\n")
        checkpoints.remove_leftovers(run_dir / "checkpoints")
        checkpoint.restore(chosen.prefix).assert_existing_objects_matched()
        start = int(saved_step.numpy())
    else:
        found = checkpoints.listing(run_dir / "checkpoints")
        config_check.prepare(config, run_dir, resume, found[-1][1] if found else None)
    return _Run(config, run_dir, model, optimizer, checkpoint, manager, test_limit).loop(start, progress)


class _Run:
    def __init__(self, config, run_dir, model, optimizer, checkpoint, manager, test_limit):
        self.config, self.run_dir, self.model = config, run_dir, model
        self.optimizer, self.checkpoint, self.manager = optimizer, checkpoint, manager
        self.figures = run_dir / "figures"
        self.train_x, self.test_x, self.test_y = load_data(config, test_limit)
        k, seed = config.code_size, config.seed
        self.test_eps = noise(seed, streams.TEST, 0, [len(self.test_x), k]).numpy()
        self.show_x = self.test_x[:config.num_show]
        self.show_eps = noise(seed, streams.SHOW, 0, [len(self.show_x), k]).numpy()
        self.train_step = cvae.make_train_step(model, optimizer)
        self.evaluator = cvae.make_evaluator(model)
        self.order = BatchOrder(seed, len(self.train_x), config.batch_size)
        self.writer = tf.summary.create_file_writer(str(run_dir / "events"))

    def batch(self, step: int) -> np.ndarray:
        x = self.train_x[self.order.indices(step)]
        if self.config.binarize == "dynamic":
            x = binarize_dynamic(x, streams.rng(self.config.seed, streams.BINARIZE, step))
        return x

    def loop(self, start: int, progress: bool) -> dict:
        config = self.config
        self.metrics = self.run_dir / "metrics.jsonl"
        runs.truncate_metrics(self.metrics, start)  # rows past the checkpoint will run again
        if start == 0:
            cvae_figures.save_grid(self.model, self.show_x, self.show_eps, self.figures, 0, 0)
        sums, window_start, window_first = np.zeros(3), time.perf_counter(), start
        bar = tqdm(total=config.steps, initial=start, disable=not progress, desc="cvae", unit="step")
        step = start
        try:
            while step < config.steps:
                out = self.train_step(tf.constant(self.batch(step)),
                                      noise(config.seed, streams.EPS, step, [config.batch_size, config.code_size]))
                values = np.array([float(out["loss"]), float(out["reconstruction"]), float(out["kl"])])
                step += 1
                if not np.all(np.isfinite(values)):
                    raise FloatingPointError(
                        f"cvae: the training loss is {values[0]} at step {step}; training stopped without "
                        f"saving. The last good checkpoint is {self.manager.latest_checkpoint or 'none yet'}; "
                        "lower learning_rate or check the input data.")
                sums += values
                bar.update(1)
                if step % 50 == 0:
                    bar.set_postfix(loss=f"{values[0]:.2f}")
                epoch_end = step % config.epoch_steps == 0 or step == config.steps
                if epoch_end:
                    seconds = time.perf_counter() - window_start  # training only, as the tutorial timed it
                    self.end_of_epoch(step, sums / (step - window_first), seconds, bar)
                if step % config.checkpoint_every == 0 or step == config.steps:
                    self.save()
                if epoch_end:
                    sums, window_start, window_first = np.zeros(3), time.perf_counter(), step
        except KeyboardInterrupt:
            path = self.save()
            bar.write(f"cvae: interrupted; saved {path} (step {int(self.optimizer.iterations.numpy())})")
            raise
        finally:
            bar.close()
            self.writer.flush()
        return self.finish(start)

    def save(self) -> str:
        step = int(self.optimizer.iterations.numpy())
        if not all(bool(tf.reduce_all(tf.math.is_finite(v))) for v in self.model.trainable_variables):
            raise FloatingPointError(f"cvae: the weights are not finite at step {step}; not saving a "
                                     f"checkpoint. The last good one is {self.manager.latest_checkpoint}.")
        self.checkpoint.step.assign(step)
        try:
            return self.manager.save(checkpoint_number=step)
        except (tf.errors.OpError, OSError) as error:  # a full disk, a file-size limit
            raise write_error(Path(self.manager.directory) / f"ckpt-{step}", error) from error

    def evaluate(self) -> dict:
        terms = cvae.evaluate(self.model, self.test_x, self.test_eps, evaluator=self.evaluator)
        batches = [terms["elbo"][i:i + 32].mean() for i in range(0, len(terms["elbo"]), 32)]
        summary = {key: float(np.mean(value)) for key, value in terms.items()}
        summary["elbo_tutorial_batches"] = float(np.mean(batches))
        return summary

    def end_of_epoch(self, step: int, train_means, seconds: float, bar) -> None:
        epoch = math.ceil(step / self.config.epoch_steps)
        test = self.evaluate()
        wall = time.time()
        runs.append_metric(self.metrics, {"model": "cvae", "step": step, "split": "train", "elbo": -train_means[0],
                          "reconstruction": train_means[1], "kl": train_means[2], "wall_time": wall})
        runs.append_metric(self.metrics, {"model": "cvae", "step": step, "split": "test", "elbo": test["elbo"],
                          "reconstruction": test["reconstruction"], "kl": test["kl"],
                          "kl_closed_form": test["kl_closed_form"],
                          "elbo_tutorial_batches": test["elbo_tutorial_batches"], "epoch": epoch,
                          "epoch_seconds": seconds, "wall_time": wall})
        with self.writer.as_default():
            tf.summary.scalar("train/elbo", -train_means[0], step=step)
            for key in ("elbo", "reconstruction", "kl"):
                tf.summary.scalar(f"test/{key}", test[key], step=step)
        bar.write(f"Epoch: {epoch}, Test set ELBO: {test['elbo']:.4f}, "
                  f"time elapse for current epoch: {seconds:.2f}")
        cvae_figures.save_grid(self.model, self.show_x, self.show_eps, self.figures, step, epoch)
        cvae_figures.save_gif(self.figures, self.figures / "cvae.gif")

    def finish(self, start: int) -> dict:
        """The end-of-run pictures and results.json (also when a resume had nothing left to do)."""
        config, figures = self.config, self.figures
        tests = runs.read_metrics(self.metrics, "test")
        done = tests and tests[-1]["step"] == config.steps
        test = tests[-1] if done else self.evaluate()
        prior_eps = noise(config.seed, streams.PRIOR, 0, [config.num_prior_samples, config.code_size])
        cvae_figures.save_samples(self.model, prior_eps.numpy(), figures / "prior_samples.png")
        if config.code_size == 2:
            cvae_figures.save_manifold(self.model, figures / "manifold.png")
            means, _ = self.model.encode(tf.constant(self.test_x[:5000]))
            plots.save(plots.codes(means.numpy(), self.test_y[:5000]), figures / "codes.png")
        series = {split: ([r["step"] for r in runs.read_metrics(self.metrics, split)],
                          [r["elbo"] for r in runs.read_metrics(self.metrics, split)]) for split in ("train", "test")}
        plots.save(plots.curves(series, title="CVAE ELBO"), figures / "loss_curves.png")
        epoch_seconds = [r["epoch_seconds"] for r in runs.read_metrics(self.metrics, "test")]
        results = {
            "model": "cvae", "steps": config.steps, "resumed_from_step": start,
            "epochs": config.steps * config.batch_size / len(self.train_x),
            "num_test_images": len(self.test_x),
            "test_elbo": test["elbo"], "test_reconstruction": test["reconstruction"], "test_kl": test["kl"],
            "test_kl_closed_form": test["kl_closed_form"],
            "test_elbo_tutorial_batches": test["elbo_tutorial_batches"],
            "epoch_seconds": epoch_seconds, "train_seconds": float(sum(epoch_seconds)),
            "checkpoint": checkpoints.relative(self.manager.latest_checkpoint, self.run_dir),
        }
        runs.write_json(self.run_dir / "results.json", results)
        return results
