"""Session settings for small CPUs.

Measured on the 2-core development machine (post model, batch 100): the
training step is a chain of small matmuls, so one intra-op thread per
session beats two (see ``legacy_vae.graph.parallel``). XLA auto-clustering (``global_jit_level = ON_1``) fuses
the element-wise tails of the layers; on CPU TensorFlow honours it only when
the process starts with ``TF_XLA_FLAGS=--tf_xla_cpu_global_jit``, which the
``legacy-vae`` command sets (see :func:`xla_env`); measured with the flag,
the post model trains at ~420 steps/s instead of ~280. Without it (e.g. when
the library is imported into a notebook) the setting has no effect. Fusion
changes float rounding only: the same math, not bit-identical numbers.
"""
from __future__ import annotations

import os

XLA_CPU_FLAG = "--tf_xla_cpu_global_jit"


def xla_env() -> None:
    """Ask for XLA auto-clustering on CPU; must run before TensorFlow is imported."""
    flags = os.environ.get("TF_XLA_FLAGS", "")
    if XLA_CPU_FLAG not in flags.split():
        os.environ["TF_XLA_FLAGS"] = (flags + " " + XLA_CPU_FLAG).strip()


def session_config(intra_threads: int = 1, inter_threads: int = 1, xla: bool = True):
    """A ``ConfigProto`` with explicit thread pools and, optionally, XLA auto-clustering."""
    import tensorflow as tf

    v1 = tf.compat.v1
    config = v1.ConfigProto(intra_op_parallelism_threads=intra_threads,
                            inter_op_parallelism_threads=inter_threads,
                            allow_soft_placement=True)
    if xla:
        config.graph_options.optimizer_options.global_jit_level = v1.OptimizerOptions.ON_1
    return config
