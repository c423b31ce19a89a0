"""``legacy-vae train --cluster ps=P,workers=N`` and ``--cluster-spec JSON --task JOB:I``.

Local (``--cluster``): for each model, write its config.json and
``cluster/plan.json`` into the run folder, then start the supervisor
(:mod:`legacy_vae.cluster.supervise`) in a private network namespace and
wait for it; it starts and ends the tasks. ``--model both`` trains post,
then Slim, each on a cluster of its own. ``--resume RUN`` of such a folder
starts the cluster again; the chief restores its newest checkpoint.

External (``--cluster-spec``): this process *is* one task of a cluster
whose other tasks run elsewhere (one command per machine, see the README).
Nothing imports TensorFlow here but the external task itself.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from legacy_vae import runs
from legacy_vae.cluster import netns
from legacy_vae.config import Config

PLAN = "plan.json"


def cluster_config(config: Config) -> Config:
    """What a cluster worker trains: the model's own feed_dict graph, whole batches."""
    if config.model not in ("post", "slim"):
        raise ValueError(f"the cluster trains the graph models (post, slim), not {config.model}")
    if config.loop != "fast":
        raise ValueError("--cluster has a loop of its own; drop --loop classic")
    return config.replace(feed_dict=True, towers=1)


def plan_path(root) -> Path:
    return Path(root) / "cluster" / PLAN


def is_cluster_run(run_dir) -> bool:
    run_dir = Path(run_dir)
    return any(plan_path(root).exists() for root in (run_dir, run_dir / "post", run_dir / "slim"))


def updates_by_worker(root) -> dict:
    """{worker index: updates it made}, from the workers' update logs."""
    counts = {}
    for path in sorted((Path(root) / "cluster").glob("updates-worker*.jsonl")):
        index = int(path.stem[len("updates-worker"):])
        counts[index] = sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())
    return counts


def launch(plan: dict, isolated: bool = True) -> int:
    """Run the supervisor of ``plan`` to its end; return its exit status.

    SIGINT and SIGTERM reaching this process are passed on to it (it runs in
    a session of its own, so a Ctrl-C on the terminal reaches it only through
    here, exactly once).
    """
    path = plan_path(plan["run_dir"])
    path.parent.mkdir(parents=True, exist_ok=True)
    runs.write_json(path, plan)
    command = (netns.prefix() if isolated else []) + [
        sys.executable, "-m", "legacy_vae.cluster.supervise", str(path), "--watch-parent", str(os.getpid())]
    child = subprocess.Popen(command, stdin=subprocess.DEVNULL, start_new_session=True)
    forwarded = {}

    def forward(signum, frame):
        if child.poll() is None:
            child.send_signal(signum)

    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            forwarded[signum] = signal.signal(signum, forward)
        except ValueError:  # not the main thread: nothing to forward from
            pass
    try:
        return child.wait()
    finally:
        for signum, previous in forwarded.items():
            signal.signal(signum, previous)
        if child.poll() is None:  # only if this process itself is being torn down
            child.kill()
            child.wait()


def _train_model(config, root, ps, workers, sync, isolated) -> int:
    folder = runs.ModelFolder(root)
    folder.root.mkdir(parents=True, exist_ok=True)
    config.save(folder.config)
    plan = {"model": config.model, "config": str(folder.config.resolve()), "run_dir": str(folder.root.resolve()),
            "ps": ps, "workers": workers, "sync": bool(sync), "isolated": bool(isolated)}
    started = time.perf_counter()
    status = launch(plan, isolated)
    runs.write_json(folder.root / "cluster" / "summary.json", {
        "status": status, "wall_seconds": time.perf_counter() - started,
        "updates_by_worker": updates_by_worker(folder.root), "ps": ps, "workers": workers, "sync": bool(sync)})
    return status


def _run_all(configs, run_dir, roots, ps, workers, sync, isolated) -> int:
    if isolated:
        netns.check_available()
    results = []
    for config in configs:
        status = _train_model(config, roots[config.model], ps, workers, sync, isolated)
        if status != 0:
            return status
        results.append(runs.read_json(runs.ModelFolder(roots[config.model]).results))
    print(f"\nrun folder: {run_dir}")
    print(runs.format_table(results), flush=True)
    return 0


def train(configs, layout, out=None, sync=False, isolated=True) -> int:
    """A new cluster run of ``configs`` (one per model); the exit status."""
    from legacy_vae.cluster.spec import parse_layout

    ps, workers = parse_layout(layout)
    configs = [cluster_config(c) for c in configs]
    label = "both" if len(configs) > 1 else configs[0].model
    run_dir = runs.check_new_run_dir(out if out is not None else runs.default_run_dir(f"{label}-cluster"))
    roots = {c.model: run_dir if len(configs) == 1 else run_dir / c.model for c in configs}
    return _run_all(configs, run_dir, roots, ps, workers, sync, isolated)


def resume(run_dir, steps=None) -> int:
    """Start the cluster of ``run_dir`` again (same layout); the chief restores its newest checkpoint."""
    run_dir = Path(run_dir)
    roots = [root for root in (run_dir, run_dir / "post", run_dir / "slim") if plan_path(root).exists()]
    if not roots:
        raise ValueError(f"--resume {run_dir}: no cluster/{PLAN} there; it was not trained with --cluster")
    plans = [json.loads(plan_path(root).read_text(encoding="utf-8")) for root in roots]
    configs = [Config.load(runs.ModelFolder(root).config) for root in roots]
    if steps is not None:
        configs = [c.replace(steps=steps) for c in configs]
    todo = [(c, root) for c, root in zip(configs, roots) if not _finished(c, root)]
    if not todo:
        raise ValueError(f"--resume {run_dir}: every model already reached its steps; pass a larger --steps")
    first = plans[0]
    return _run_all([c for c, _ in todo], run_dir, {c.model: root for c, root in todo},
                    first["ps"], first["workers"], first["sync"], first.get("isolated", True))


def _finished(config, root) -> bool:
    folder = runs.ModelFolder(root)
    if not folder.results.exists():
        return False
    return runs.read_json(folder.results).get("steps", 0) >= config.steps
