"""The seeds' own training loops, written as plainly as they wrote them.

    post:  for each epoch: the test ELBO, the test codes and 10 prior samples;
           then 600 steps of  sess.run(train_op, {x: mnist.train.next_batch(100)[0]})
    slim:  for each of 20,000 iterations: every 1,000 from 0, 5 fresh validation
           digits with their reconstructions; then  sess.run(train_op, {x: binarized batch})

No tf.data, no hooks, no towers: a ``tf.compat.v1.Session``, ``feed_dict`` and
Python loops. ``legacy-vae train --loop classic`` runs these; the default fast
loop (legacy_vae.engine) trains the same model faster: its while loop holds a
second update op (``optimizer.minimize`` again, on the same variables with the
same Adam and its slots) beside the model file's ``train_op``, and the tests
show that for one seed and step count, with one tower, both end with identical weights. Where these
loops depart from the seeds (README lists why): the noise is keyed on the
global step instead of drawn afresh by the graph, the prior samples reuse one
draw so the grids show progress, figures come *before* the step they are
named after and once more after the last step, and a checkpoint is saved at
the end so that ``legacy-vae evaluate`` can read the run.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import tensorflow as tf

from legacy_vae import figures, runs
from legacy_vae.data import read_data_sets
from legacy_vae.models import post, slim_vae

v1 = tf.compat.v1

# Pools of the session's own, one thread per op and two ops at once: for these small matmuls fed
# one batch at a time, the fastest of the thread settings measured (docs/performance.md, "The
# classic loop's session"); the default (every core for each op, pools shared by all sessions)
# spends more on hand-offs than the split work saves.
SESSION_CONFIG = v1.ConfigProto(intra_op_parallelism_threads=1, inter_op_parallelism_threads=2,
                                use_per_session_threads=True)


def binarized(images, config):
    """The images as the model trains on them (``static``: thresholded at 0.5, as the Slim notebook did)."""
    return (images > 0.5).astype(np.float32) if config.binarize == "static" else images


def train_post(config, out, say=print) -> dict:
    """The post's loop: evaluate and draw at each epoch start, then ``visualize_every`` steps."""
    h = post.build(config)
    mnist = read_data_sets(config.data_dir, seed=config.seed)
    test_images = binarized(mnist.test.images, config)
    out, every = Path(out), config.visualize_every
    epochs = -(-config.steps // every)
    # draw: figures in worker processes
    with figures.Drawer() as draw, v1.Session(graph=h.graph, config=SESSION_CONFIG) as sess:
        sess.run(h.init_op)
        started = time.perf_counter()
        for epoch in range(epochs + 1):  # one look more, after the last epoch
            step = min(epoch * every, config.steps)
            test_elbo, test_codes, samples = sess.run([h.elbo, h.z, h.prior_samples], {h.x: test_images})
            say(f"Epoch {epoch} elbo {test_elbo:.2f}")
            draw.submit(figures.epoch, out / "figures", "post", step, test_codes, mnist.test.labels, samples,
                        test_elbo, False)  # False: epochs.png and .gif once, at the end
            if epoch == epochs:
                break
            for _ in range(min(every, config.steps - step)):
                sess.run(h.train_op, {h.x: binarized(mnist.train.next_batch(config.batch_size)[0], config)})
        results = _finish(config, h, sess, out, test_images, time.perf_counter() - started)
        draw.wait()
        draw.submit(figures.epochs, out / "figures")  # every epoch's PNG, one under the other, and a GIF
    return results


def train_slim(config, out, say=print) -> dict:
    """The Slim notebook's loop: a figure every ``visualize_every`` iterations from 0, a step each."""
    h = slim_vae.build(config)
    mnist = read_data_sets(config.data_dir, seed=config.seed)
    out = Path(out)
    with figures.Drawer() as draw, v1.Session(graph=h.graph, config=SESSION_CONFIG) as sess:
        sess.run(h.init_op)
        started = time.perf_counter()
        for i in range(config.steps + 1):
            if i % config.visualize_every == 0 or i == config.steps:
                digits = binarized(mnist.validation.next_batch(config.num_show)[0], config)
                means, sample = sess.run([h.reconstructions, h.x_hat], {h.x: digits})
                say(f"Iteration {i}:")
                draw.submit(figures.reconstructions, out / "figures", "slim", i, digits, means, sample)
            if i == config.steps:
                break
            batch = mnist.train.next_batch(config.batch_size)
            sess.run(h.train_op, {h.x: binarized(batch[0], config)})
        return _finish(config, h, sess, out, binarized(mnist.test.images, config), time.perf_counter() - started)


TRAIN = {"post": train_post, "slim": train_slim}


def _finish(config, h, sess, out: Path, test_images, seconds: float) -> dict:
    """Save the weights and the run's record (config.json, results.json) into ``out``."""
    elbo, reconstruction, kl = sess.run([h.elbo, h.reconstruction, h.kl], {h.x: test_images})
    saver = v1.train.Saver(save_relative_paths=True)  # the folder can be moved
    checkpoint = saver.save(sess, str(out / "checkpoints" / "model.ckpt"), global_step=h.global_step)
    config.save(out / "config.json")
    results = {"model": config.model, "loop": "classic", "steps": int(sess.run(h.global_step)),
               "seed": config.seed, "test_elbo": float(elbo), "test_reconstruction": float(reconstruction),
               "test_kl": float(kl), "train_seconds": seconds,
               "checkpoint": str(Path(checkpoint).relative_to(out))}
    runs.write_json(out / "results.json", results)
    return results
