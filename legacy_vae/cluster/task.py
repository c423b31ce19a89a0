"""One task of a cluster, in a process of its own.

    python -m legacy_vae.cluster.task --job ps|worker --index I --spec JSON --config RUN/config.json
                                      --run-dir RUN [--sync] [--watch-parent PID]

TensorFlow's gRPC server cannot be shut down inside a process, so every
task is its own process, and it leaves with ``os._exit`` once its work is
done (a normal interpreter exit may hang tearing the server down).

Exit status: 0 done, 3 the parameter servers went away (ClusterLost), 4
stopped by SIGTERM/SIGINT (the chief saved a checkpoint first), 1 anything
else; the last line on stderr says which. A parameter server never finishes
by itself: it serves until it is terminated, or until the process that
started it (``--watch-parent``) is gone.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
import traceback

EXIT_DONE, EXIT_ERROR, EXIT_LOST, EXIT_STOPPED = 0, 1, 3, 4
PARENT_POLL_SECONDS = 0.5
STOP_GRACE_SECONDS = 60  # after a stop request, a worker that is still busy is ended anyway


def finish(code: int, line: str | None = None):
    if line:
        sys.stderr.write(line + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def watch_parent(parent: int, stop: threading.Event, hard: bool) -> None:
    """End this task when ``parent`` is gone (it was killed before it could end us).

    A parameter server (``hard``) leaves at once; a worker first gets ``stop``
    and ``STOP_GRACE_SECONDS`` to save what it can.
    """
    def loop():
        while os.getppid() == parent:
            time.sleep(PARENT_POLL_SECONDS)
        stop.set()
        if not hard:
            time.sleep(STOP_GRACE_SECONDS)
        finish(EXIT_STOPPED, f"task: the supervisor (pid {parent}) is gone; leaving")

    threading.Thread(target=loop, name="watch-parent", daemon=True).start()


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM / SIGINT: finish the current step, save, leave; a second one leaves at once."""
    def handler(signum, frame):
        if stop.is_set():
            finish(EXIT_STOPPED, f"task: second {signal.Signals(signum).name}; leaving without saving")
        stop.set()
        threading.Timer(STOP_GRACE_SECONDS, finish, (EXIT_STOPPED, "task: did not stop in time")).start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def serve_ps(spec: dict, index: int, stop: threading.Event, run_dir=None, threads=(1, 2)) -> None:
    """Hold variables for the workers until stopped. The main thread sleeps in Python (not
    in ``server.join()``, which never returns), so that signals are handled. With
    ``run_dir``, the CPU time spent serving goes to ``cluster/cpu-ps<index>.json``."""
    import tensorflow as tf

    from legacy_vae.cluster.graph import session_config

    tf.distribute.Server(tf.train.ClusterSpec(spec), job_name="ps", task_index=index,
                         config=session_config("ps", index, threads), start=True)
    print(f"ps {index}: serving at {spec['ps'][index]}", flush=True)
    began = time.process_time()  # all threads of the process: the gRPC ones apply the updates
    while not stop.is_set():
        time.sleep(PARENT_POLL_SECONDS)
    if run_dir is not None:
        from legacy_vae.cluster.processes import write_cpu

        write_cpu(run_dir, f"ps{index}", time.process_time() - began)


def run_task(job: str, index: int, spec: dict, config, run_dir, sync=False, parent=None) -> int:
    """Run one task to its end; return its exit status (see the module docstring)."""
    stop = threading.Event()
    if job == "ps":
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    else:
        stop_on_signals(stop)
    if parent is not None:
        watch_parent(parent, stop, hard=job == "ps")
    if job == "ps":
        serve_ps(spec, index, stop, run_dir)
        return EXIT_STOPPED
    from legacy_vae.cluster.sessions import ClusterLost
    from legacy_vae.cluster.worker import train_worker

    try:
        result = train_worker(config, spec, index, run_dir, sync=sync, stop=stop)
    except ClusterLost as error:
        sys.stderr.write(f"{error}; stopping\n")
        return EXIT_LOST
    if result.get("interrupted"):
        sys.stderr.write(f"worker {index}: stopped on request"
                         f"{'; checkpoint ' + str(result.get('checkpoint')) if index == 0 else ''}\n")
        return EXIT_STOPPED
    print(f"worker {index}: done" + (f", test ELBO {result['test_elbo']:.2f} at step {result['steps']}"
                                     if index == 0 and "test_elbo" in result else
                                     f", {result.get('updates')} updates"), flush=True)
    return EXIT_DONE


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m legacy_vae.cluster.task", description=__doc__.split("\n")[0])
    parser.add_argument("--job", choices=("ps", "worker"), required=True)
    parser.add_argument("--index", type=int, required=True)
    parser.add_argument("--spec", required=True, help="the ClusterSpec as JSON")
    parser.add_argument("--config", help="the model's config.json (workers)")
    parser.add_argument("--run-dir", help="the run folder")
    parser.add_argument("--sync", action="store_true")
    parser.add_argument("--watch-parent", type=int, metavar="PID")
    args = parser.parse_args(argv)
    from legacy_vae.quiet import import_tensorflow

    # A task never uses Keras: leaving out TensorFlow's import of it saves 0.6-1.5 s of CPU at the
    # start of every task, and the C++ start-up lines stay out of the task's log.
    import_tensorflow(keras=False)
    config = None
    if args.job == "worker":
        from legacy_vae.config import Config

        config = Config.load(args.config)
    try:
        code = run_task(args.job, args.index, json.loads(args.spec), config, args.run_dir,
                        sync=args.sync, parent=args.watch_parent)
    except Exception as error:  # the whole traceback goes to the task's log, the cause on the last line
        traceback.print_exc()
        finish(EXIT_ERROR, f"{args.job} {args.index}: {type(error).__name__}: {error}")
    finish(code)


if __name__ == "__main__":
    main()
