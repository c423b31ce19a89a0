"""Session settings for small CPUs.

Two things decide how fast the graph loop trains on the 2-core machine:

* **Whose thread pools.** By default every ``Session`` in a process shares
  the intra- and inter-op pools that the *first* session (or the eager
  context) created, whatever its own ``ConfigProto`` asks for. Two models
  side by side then share one set of threads, and a session asking for one
  intra-op thread may get the eager context's two. ``use_per_session_threads``
  gives each session its own inter-op pool, and ``TF_OVERRIDE_GLOBAL_THREADPOOL=1``
  (read once, when TensorFlow makes its first CPU device, so it must be set
  before that: :func:`thread_env`, which the ``legacy-vae`` command calls)
  gives each session's device its own intra-op pool. Measured, faithful
  ``legacy-vae train`` (both models side by side, one thread each): 87 s of
  wall time with the shared pools, 72.5 s with pools of their own.
* **XLA or not.** Auto-clustering (``global_jit_level``, which on CPU also
  needs ``TF_XLA_FLAGS=--tf_xla_cpu_global_jit``) fused the whole loop body
  into one cluster and was the faster choice while each step ran as one
  tower. Once each batch is split into two towers that run on two inter-op
  threads (``legacy_vae.graph.fast``), the plain kernels win, so the loop
  no longer asks for XLA. Steps per second, post model, batch 100, 1,000-step
  blocks, pools of its own (``/tmp`` scripts, not kept; the benchmark
  reproduces the last row):

      one tower,  XLA,    (intra, inter) = (1, 1), one core pinned   315
      one tower,  no XLA, (1, 1), one core pinned                    343
      one tower,  XLA,    (2, 1)                                     467
      one tower,  no XLA, (1, 2)                                     420
      two towers, XLA,    (2, 2)                                     505
      two towers, no XLA, (1, 2)                                     595

  The Slim model, two towers, no XLA, (1, 2): 889 steps/s (one tower with
  XLA, pinned: 380).
"""
from __future__ import annotations

import os

THREADPOOL_ENV = "TF_OVERRIDE_GLOBAL_THREADPOOL"


def thread_env() -> None:
    """Give every session its own intra-op pool; effective only before TensorFlow's first device."""
    os.environ.setdefault(THREADPOOL_ENV, "1")


def session_config(intra_threads: int = 1, inter_threads: int = 1):
    """A ``ConfigProto`` with thread pools of the session's own (see the module docstring)."""
    import tensorflow as tf

    return tf.compat.v1.ConfigProto(intra_op_parallelism_threads=intra_threads,
                                    inter_op_parallelism_threads=inter_threads,
                                    use_per_session_threads=True,
                                    allow_soft_placement=True)
