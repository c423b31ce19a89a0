"""One throughput measurement, run in a fresh process per (model, variant).

A fresh process per variant keeps the comparison fair: each gets its own
TensorFlow thread pools, set before TensorFlow starts, and
nothing one variant compiled or cached helps another.

    graph          the package's own training loop, exactly as ``legacy-vae train`` runs it
    tf2_function   the eager twin's Adam step under ``tf.function``
    tf2_jit        the same under ``tf.function(jit_compile=True)``
    tf2_eager      the same, op by op

Every variant trains from the same seeded start on real MNIST batches of 100,
runs ``warmup`` steps first (tracing, XLA compilation, first-touch of memory)
and then times ``repeats`` blocks of ``steps`` steps each.
"""
from __future__ import annotations

import json
import sys
import time

VARIANTS = ("graph", "tf2_function", "tf2_jit", "tf2_eager")


def _round_up(value: int, multiple: int) -> int:
    return max(multiple, -(-value // multiple) * multiple)


def time_graph(config, steps: int, repeats: int, warmup: int, pools=None) -> list[float]:
    """Steps per second of ``legacy_vae.engine.loop.train_model``, block by block.

    ``pools``: (intra-op, inter-op) threads, default the loop's own choice for one model.
    """
    import tempfile

    import tensorflow as tf

    from legacy_vae.data import read_data_sets
    from legacy_vae.engine import model_data, threads
    from legacy_vae.engine.loop import train_model

    # The loop ends its runs on multiples of its log interval (100 steps), so
    # block boundaries on multiples of 100 are seen exactly.
    steps, warmup = _round_up(steps, 100), _round_up(warmup, 100)
    total = warmup + steps * repeats
    # One untimed run after the last block: the end-of-training evaluation
    # then falls outside every timed block.
    config = config.replace(steps=total + 100, visualize_every=total, checkpoint_every=total)
    marks = {warmup + steps * r: None for r in range(repeats + 1)}

    class BlockTimer(tf.compat.v1.train.SessionRunHook):
        # After each run, one read of the global step (a run may cover up
        # to 50 steps); block marks fall on run boundaries, multiples of 100.
        def begin(self):
            self.global_step = tf.compat.v1.train.get_global_step()

        def after_run(self, run_context, run_values):
            step = int(run_context.session.run(self.global_step))
            if step in marks and marks[step] is None:
                marks[step] = time.perf_counter()

    data = model_data.prepare_data(config, read_data_sets(config.data_dir, seed=config.seed))
    with tempfile.TemporaryDirectory(prefix="legacy-vae-bench-") as root:
        train_model(config, root, data, progress=False, threads=pools or threads.session_threads(1),
                    extra_hooks=[BlockTimer()], say=lambda line: None)
    times = [marks[warmup + steps * r] for r in range(repeats + 1)]
    return [steps / (b - a) for a, b in zip(times, times[1:])]


def time_tf2(config, mode: str, steps: int, repeats: int, warmup: int) -> list[float]:
    """Steps per second of the eager twin's step in ``mode``, on pre-cut batches.

    The TF2 variants get their best case: one epoch of shuffled batches and
    their noise are cut in advance, so a step costs one slice and the step
    itself (no input pipeline in the timed loop).
    """
    import numpy as np
    import tensorflow as tf

    from legacy_vae.engine.threads import cores as count_cores

    cores = count_cores()
    tf.config.threading.set_intra_op_parallelism_threads(cores)
    tf.config.threading.set_inter_op_parallelism_threads(cores)
    from legacy_vae.data import binarize_static, read_data_sets
    from legacy_vae.models.twins import make_train_step, twin_for

    images = read_data_sets(config.data_dir, seed=config.seed).train.images
    if config.binarize == "static":
        images = binarize_static(images)
    rng = np.random.default_rng(config.seed)
    count = len(images) // config.batch_size
    order = rng.permutation(len(images))[:count * config.batch_size]
    batches = tf.constant(images[order].reshape(count, config.batch_size, -1))
    noise = tf.constant(rng.standard_normal((count, config.batch_size, config.code_size), dtype=np.float32))
    step = make_train_step(twin_for(config), mode)
    position = [0]

    def run(n):
        loss = None
        for _ in range(n):
            i = position[0] % count
            loss = step(batches[i], noise[i])
            position[0] += 1
        float(loss)  # wait for the last step

    run(warmup)
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        run(steps)
        rates.append(steps / (time.perf_counter() - start))
    return rates


def time_matmul() -> float:
    from legacy_vae.bench.machine import matmul_gflops
    from legacy_vae.engine.threads import cores

    return matmul_gflops(threads=cores())


def main(argv=None) -> int:
    """``python -m legacy_vae.bench.variants MODEL VARIANT STEPS REPEATS WARMUP`` -> JSON on stdout."""
    model, variant, steps, repeats, warmup = (argv or sys.argv[1:])
    steps, repeats, warmup = int(steps), int(repeats), int(warmup)
    from legacy_vae.engine.threads import thread_env

    thread_env()  # as the legacy-vae command does before TensorFlow starts
    from legacy_vae.config import defaults

    if model == "matmul":
        result = {"matmul_gflops": time_matmul()}
    elif variant == "graph":
        result = {"rates": time_graph(defaults(model), steps, repeats, warmup)}
    elif variant in VARIANTS:
        mode = variant.replace("tf2_", "")
        result = {"rates": time_tf2(defaults(model), mode, steps, repeats, warmup)}
    else:
        raise SystemExit(f"unknown variant {variant!r}; expected one of {VARIANTS}")
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
