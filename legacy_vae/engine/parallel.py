"""Train several graph models at once, each in its own thread, graph and session.

Each graph model trains in its own thread with its own ``tf.Graph`` and
``Session`` (legacy_vae.engine.loop); TensorFlow releases the GIL inside
``session.run``, so two models keep two cores busy. The main thread only
waits: Ctrl-C lands there, sets a stop event that every loop checks before
its next step, and each model leaves its session cleanly, which saves a
checkpoint at the step it reached. Then KeyboardInterrupt goes on up (the
CLI exits with status 130) after a hint on how to resume. SIGTERM does the
same (the CLI turns it into failures.Terminated, a KeyboardInterrupt, and
exits with status 143).

Each model gets the session threads ``threads.session_threads`` chooses, in
pools of its session's own, so two models side by side really get a core each
(docs/performance.md has the measurements).
"""
from __future__ import annotations

import sys
import threading
import time
from pathlib import Path

from legacy_vae import figures
from legacy_vae.engine import model_data, threads
from legacy_vae.engine.loop import train_model


class SideBySide:
    """RUN/figures/side_by_side-step<N>.png once every model has shown its step-N reconstructions."""

    def __init__(self, folder: Path, models, draw):
        self.folder, self.models, self.draw = Path(folder), list(models), draw
        self.pending: dict[int, dict] = {}
        self.lock = threading.Lock()

    def __call__(self, model, step, originals, reconstructions):
        with self.lock:
            entry = self.pending.setdefault(step, {})
            entry[model] = (originals, reconstructions)
            if len(entry) < len(self.models):
                return
            del self.pending[step]
        self.draw.submit(figures.side_by_side, self.folder, step, {name: entry[name] for name in self.models})


def _say_lock():
    lock = threading.Lock()

    def say(line):
        with lock:
            print(line, flush=True)
    return say


def _wait(workers):
    # Sleep-and-poll, not Thread.join: a KeyboardInterrupt that lands inside
    # join() can leave the thread looking finished while it still runs.
    while any(worker.is_alive() for worker in workers):
        time.sleep(0.1)
    for worker in workers:
        worker.join()


def train_models(configs, run_dir: Path, roots: dict, resume: bool, progress: bool,
                 draw=None, datasets=None) -> list[dict]:
    """Train each config into ``roots[model]`` at once; return their results in order.

    ``draw`` (a figures.Drawer) and ``datasets`` (of model_data.load_datasets)
    may have been started before TensorFlow was imported (legacy_vae.train);
    without them this function starts its own.
    Raises KeyboardInterrupt after Ctrl-C (every model saved a checkpoint)
    and the first model's error if one failed (the others were stopped).
    """
    if draw is None:
        with figures.Drawer() as draw:  # worker processes draw every model's figures
            return _train_models(configs, run_dir, roots, resume, progress, draw, datasets)
    return _train_models(configs, run_dir, roots, resume, progress, draw, datasets)


def _train_models(configs, run_dir, roots, resume, progress, draw, datasets):
    if datasets is None:
        datasets = model_data.load_datasets(configs)
    pools = threads.session_threads(len(configs))
    side = SideBySide(run_dir / "figures", [c.model for c in configs], draw) if len(configs) > 1 else None
    stop, say, outcomes = threading.Event(), _say_lock(), {}

    def work(position, config):
        try:
            data = model_data.prepare_data(config, datasets[config.model])
            outcomes[config.model] = train_model(
                config, roots[config.model], data, resume=resume, progress=progress, position=position,
                stop=stop, on_reconstructions=side, threads=pools, say=say, draw=draw)
        except BaseException as error:  # handed to the main thread below
            outcomes[config.model] = error
            stop.set()  # one model failing stops the others (each saves a checkpoint)

    workers = [threading.Thread(target=work, args=(i, c), name=f"train-{c.model}") for i, c in enumerate(configs)]
    for worker in workers:
        worker.start()
    interrupted = None
    try:
        _wait(workers)
    except KeyboardInterrupt as caught:  # Ctrl-C, or SIGTERM as failures.Terminated
        interrupted = caught
        stop.set()
        _wait(workers)

    errors = [o for o in outcomes.values() if isinstance(o, BaseException)]
    stopped = [o for o in outcomes.values() if isinstance(o, dict) and o.get("interrupted")]
    for outcome in stopped:
        sys.stderr.write(f"{outcome['model']}: stopped at step {outcome['step']}; "
                         f"checkpoint saved: {outcome['checkpoint']}\n")
    if stopped or interrupted is not None:
        sys.stderr.write(f"resume with: legacy-vae train --resume {run_dir}\n")
    if errors:
        raise errors[0]
    if interrupted is not None:
        raise interrupted
    return [outcomes[c.model] for c in configs]
