"""Thread pools for the training sessions: whose pools, and how many threads.

By default every ``Session`` in a process shares the intra- and inter-op
pools of the *first* session (or of the eager context), whatever its own
``ConfigProto`` asks for. ``use_per_session_threads`` gives each session its
own inter-op pool, and ``TF_OVERRIDE_GLOBAL_THREADPOOL=1`` (read once, when
TensorFlow makes its first CPU device, so it must be set before that:
:func:`thread_env`, which the ``legacy-vae`` command calls) gives each
session's device its own intra-op pool. The loop asks for no XLA: with two
towers on two inter-op threads the plain kernels were faster.
docs/performance.md has the measurements behind both choices.
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


def cores() -> int:
    """The cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def session_threads(count: int) -> tuple[int, int]:
    """(intra-op, inter-op) threads for each of ``count`` models training at once.

    One intra-op thread, and the cores shared out as inter-op threads: the
    loop's two towers are independent chains of small matmuls that pay off
    on two inter-op threads, while one matmul split over two intra-op threads
    costs more in hand-offs than it gains (docs/performance.md).
    """
    return 1, max(1, cores() // count)
