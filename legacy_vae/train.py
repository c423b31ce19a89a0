"""``legacy-vae train``: run the graph models (side by side) or the TF2 CVAE, and resume runs.

    run(configs, out=None, progress=True) -> dict     a new run folder (config.loop: classic or fast)
    resume(run_dir, steps=None, progress=True) -> dict continue from the last checkpoints

The graph models train in threads (legacy_vae.engine.parallel), one
``MonitoredSession`` each (legacy_vae.engine.loop); ``--model cvae`` goes to
legacy_vae.eager.train. At the end the run gets its results.json, the loss
curves of every model and a table on the terminal.

Both hold the run folder's lock (legacy_vae.locks) while they work, so a
second command in the same folder stops at once. A model's checkpoint in
results.json is relative to that model's folder (RUN/results.json of
``--model both`` repeats each model's results as they are). A file that
cannot be written (full disk, file-size limit) stops the run with
failures.WriteError, whose message says how to resume.
"""
from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

from legacy_vae import layout, locks, plots, runs
from legacy_vae.config import Config
from legacy_vae.failures import WriteError


def _finish(run_dir: Path, results: list[dict], roots: dict, started: float, draw=None) -> dict:
    # ``draw``: the run's figures.Drawer, still open, whose warm worker draws the loss curves
    # (this process then never imports matplotlib); closing it waits for them.
    if len(roots) > 1:
        metrics = {m: runs.read_metrics(runs.ModelFolder(root).metrics) for m, root in roots.items()}
        if any(metrics.values()):  # the classic loop keeps no metrics
            path = run_dir / "figures" / "loss_curves.png"
            if draw is not None:
                from legacy_vae import figures

                draw.submit(figures.save, plots.loss_curves, path, metrics)
            else:
                plots.save(plots.loss_curves(metrics), path)
        summary = {"models": {r["model"]: r for r in results}, "wall_seconds": time.perf_counter() - started}
        runs.write_json(run_dir / "results.json", summary)
    else:
        summary = results[0]
    print(f"\nrun folder: {run_dir}")
    print(runs.format_table(results), flush=True)
    return summary


def _cvae(config, run_dir: Path, resume: bool, progress: bool) -> dict:
    from legacy_vae.eager.train import train as train_eager  # written separately; imported only here

    results = train_eager(config, run_dir, resume=resume, progress=progress)  # writes config.json too
    print(f"\nrun folder: {run_dir}")
    print(runs.format_table([results]), flush=True)
    return results


def _relocatable(result: dict) -> dict:
    """A model's results with its checkpoint relative to the model folder, also when an older
    version wrote it as an absolute path (of wherever the run was first written)."""
    path = result.get("checkpoint")
    if path and os.path.isabs(path):
        return dict(result, checkpoint=os.path.join("checkpoints", os.path.basename(path)))
    return result


@contextlib.contextmanager
def _resume_hint(run_dir: Path):
    # A failed write names the file; only here is the run folder known, to say how to go on.
    try:
        yield
    except WriteError as error:
        error.resume = run_dir
        raise


def _import_tensorflow() -> None:
    # Without its C++ start-up lines, and without Keras 3, which the graph models never use
    # (the cvae imports it when it builds its model). A no-op once TensorFlow is loaded.
    from legacy_vae.quiet import import_tensorflow

    import_tensorflow(keras=False)


@contextlib.contextmanager
def _started(configs):
    """(draw, datasets): the figure workers and MNIST, set going before TensorFlow is imported.

    Neither needs TensorFlow, and its import keeps one core busy for about
    3 s: meanwhile the worker imports matplotlib in its own process and a
    thread reads the MNIST files (zlib and NumPy release the GIL), so the
    first step comes sooner (docs/performance.md has the times).
    """
    from concurrent.futures import ThreadPoolExecutor

    from legacy_vae import figures
    from legacy_vae.engine import model_data

    with figures.Drawer() as draw:  # worker processes draw every model's figures
        with ThreadPoolExecutor(1, thread_name_prefix="read-mnist") as reader:
            reading = reader.submit(model_data.load_datasets, configs)
            _import_tensorflow()
            datasets = reading.result()  # a missing or damaged file raises its DataError here
        yield draw, datasets


def _remove_if_empty(folders) -> None:
    for folder in folders:
        with contextlib.suppress(OSError):
            folder.rmdir()  # only empty folders: this run wrote nothing there


def run(configs, out=None, progress=True) -> dict:
    """Train ``configs`` (one per model) into a new run folder; return the results."""
    configs = list(configs)
    models = [c.model for c in configs]
    if not configs or len(set(models)) != len(models):
        raise ValueError(f"train needs one config per model, got models {models}")
    if "cvae" in models and len(models) > 1:
        raise ValueError("the cvae model trains alone; use --model cvae")
    label = "both" if sorted(models) == ["post", "slim"] else "-".join(models)
    run_dir = runs.check_new_run_dir(out if out is not None else runs.default_run_dir(label))
    roots = {m: run_dir if len(models) == 1 else run_dir / m for m in models}
    folders = [run_dir, *(root for root in roots.values() if root != run_dir)]
    created = [folder for folder in folders if not folder.exists()]
    for folder in folders:
        folder.mkdir(parents=True, exist_ok=True)
    try:
        with locks.hold(folders), _resume_hint(run_dir):
            if models == ["cvae"]:
                _import_tensorflow()
                return _cvae(configs[0], run_dir, resume=False, progress=progress)
            started = time.perf_counter()
            if {c.loop for c in configs} == {"classic"}:
                _import_tensorflow()
                from legacy_vae.models import classic

                # The seeds' loops, one model after the other, as they were run.
                results = [classic.TRAIN[c.model](c, roots[c.model]) for c in configs]
                return _finish(run_dir, results, roots, started)
            with _started(configs) as (draw, datasets):
                from legacy_vae.engine import parallel

                results = parallel.train_models(configs, run_dir, roots, resume=False, progress=progress,
                                                draw=draw, datasets=datasets)
                return _finish(run_dir, results, roots, started, draw)
    except BaseException:
        _remove_if_empty(reversed(created))
        raise


def resume(run_dir, steps=None, progress=True) -> dict:
    """Continue the run in ``run_dir`` from its last checkpoints (``steps``: a new total)."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"--resume {run_dir}: no such folder; pass a run folder written by 'legacy-vae train'")
    if (run_dir / "config.json").exists():
        roots = {Config.load(run_dir / "config.json").model: run_dir}
    else:
        roots = {m: run_dir / m for m in ("post", "slim") if (run_dir / m / "config.json").exists()}
    if not roots:
        raise ValueError(f"--resume {run_dir}: no config.json there (nor in post/ or slim/); "
                         f"is it a folder written by 'legacy-vae train'?")
    configs = {m: Config.load(root / "config.json") for m, root in roots.items()}
    if any(c.loop == "classic" for c in configs.values()):
        raise ValueError(f"--resume {run_dir}: it was trained with --loop classic, which keeps no "
                         f"checkpoints to resume from; train it again, or use the default fast loop")
    if steps is not None:
        configs = {m: c.replace(steps=steps) for m, c in configs.items()}
    folders = [run_dir, *(root for root in roots.values() if root != run_dir)]
    with locks.hold(folders), _resume_hint(run_dir):
        _import_tensorflow()
        if list(configs) == ["cvae"]:
            return _cvae(configs["cvae"], run_dir, resume=True, progress=progress)
        return _resume_graph(run_dir, roots, configs, progress)


def _resume_graph(run_dir: Path, roots: dict, configs: dict, progress: bool) -> dict:
    from legacy_vae.engine import saving

    todo, done = [], {}
    for model, config in configs.items():
        folder = runs.ModelFolder(roots[model])
        point = saving.restore_point(folder, resume=True)  # the newest usable checkpoint
        if point["prefix"]:
            layout.check(point["prefix"])
        step = point["step"]
        if step > config.steps:
            raise ValueError(f"--resume {run_dir}: {model} is already at step {step}; "
                             f"--steps must be at least {step}")
        if step == config.steps and folder.results.exists():
            done[model] = _relocatable(runs.read_json(folder.results))
        else:
            todo.append(config)
    if not todo:
        raise ValueError(f"--resume {run_dir}: every model already finished its steps "
                         f"({', '.join(f'{m} {c.steps}' for m, c in configs.items())}); "
                         f"pass a larger --steps to train further")
    from legacy_vae.engine import parallel

    started = time.perf_counter()
    trained = {r["model"]: r for r in parallel.train_models(todo, run_dir, roots, resume=True, progress=progress)}
    results = [trained.get(m) or done[m] for m in configs]
    return _finish(run_dir, results, roots, started)
