"""What machine a benchmark ran on, and its dense matmul FLOP rate.

The peak is measured, not taken from a datasheet: a square float32 matmul
large enough to run at the BLAS kernel's full speed, timed in the same process
and with the same thread count as the variants it is compared with.
"""
from __future__ import annotations

import os
import platform
import time


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def describe() -> dict:
    import numpy as np
    import tensorflow as tf

    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
    }


def matmul_gflops(size: int = 2048, repeats: int = 10, threads: int | None = None) -> float:
    """Best-of-three FLOP rate of ``size`` x ``size`` float32 matmuls, in GFLOP/s.

    Runs in a graph-mode session so that the thread count is set per session,
    without touching the process-wide eager configuration.
    """
    import numpy as np
    import tensorflow as tf

    v1 = tf.compat.v1
    threads = threads or os.cpu_count() or 1
    graph = tf.Graph()
    with graph.as_default():
        rng = np.random.default_rng(0)
        a = tf.Variable(rng.standard_normal((size, size), dtype=np.float32))
        b = tf.Variable(rng.standard_normal((size, size), dtype=np.float32))
        # Chain the products so no run can be skipped or overlapped away.
        out = a
        for _ in range(repeats):
            out = tf.matmul(out, b) * (1.0 / size)
        result = tf.reduce_sum(out)
        init = v1.global_variables_initializer()
    config = v1.ConfigProto(intra_op_parallelism_threads=threads, inter_op_parallelism_threads=1)
    with v1.Session(graph=graph, config=config) as session:
        session.run(init)
        session.run(result)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            session.run(result)
            best = min(best, time.perf_counter() - start)
    return 2.0 * size ** 3 * repeats / best / 1e9
