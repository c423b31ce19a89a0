"""Cluster benchmarks: steps/s by number of workers, async vs sync, bytes per update.

    legacy-vae bench cluster [--model post] [--steps 2000] [--workers 1 2 4]
    legacy-vae bench cluster --sync --workers 2

Each row is one local cluster run (``legacy-vae train --cluster``) in a
folder under ``--out``; without ``--sync`` it first runs the single-process
loops (the fast loop, and feed_dict with one tower: what a cluster worker
runs) for comparison, and every row gives the machine's 1-minute load
average at its end (the machine is shared: rates only compare at like loads).
"CPU ms/gradient" adds up the CPU time of every process (all threads) while
training and divides by the gradients pushed (async: the updates): what one
costs, less dependent on the load than steps/s. For the single process it is the CPU
of a run minus that of a run a tenth as long, per extra step; for the
cluster, the workers' loops (the chief's evaluation at step 0 included) and
the ps while serving. Rates come from the workers' update logs: global
steps per second from the moment every worker has made its first update
(the chief first evaluates step 0) to the last update, so start-up and the
final evaluation are left out. "MB/gradient" is the loopback traffic of the
cluster's private network namespace divided by the gradients the workers
pushed (async: one per global step; sync: one per worker and step), so it
counts a pull of the weights and a push of a gradient, plus everything else
the tasks sent each other (start-up, the chief's snapshots).
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from legacy_vae import runs, tables
from legacy_vae.cluster import command
from legacy_vae.config import defaults


def update_rate(root) -> dict:
    """Global steps per second while every worker was training, from the update logs."""
    logs = sorted((Path(root) / "cluster").glob("updates-worker*.jsonl"))
    records = [[json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
               for path in logs]
    if not records or not all(records):
        return {"steps_per_second": None, "window_updates": 0}
    start = max(r[0]["time"] for r in records)  # the last worker to start
    times = sorted(r["time"] for worker in records for r in worker if r["time"] >= start)
    seconds = times[-1] - times[0]
    return {"steps_per_second": (len(times) - 1) / seconds if seconds > 0 else None,
            "window_updates": len(times), "window_seconds": seconds}


def parameter_count(model: str) -> int:
    """Floats in the model's trainable variables (what a worker pulls, and pushes as gradients)."""
    import tensorflow as tf

    from legacy_vae.models import builder as model_builder

    handles = model_builder(model)(defaults(model).replace(feed_dict=True, towers=1))
    with handles.graph.as_default():
        return sum(v.shape.num_elements() for v in tf.compat.v1.trainable_variables())


# The CPU time of `legacy-vae train` from its first line to its last (TensorFlow's import left out).
_TIMED = ("import json, sys, time; from legacy_vae.cli import main; began = time.process_time(); "
          "status = main(sys.argv[1:]); status and sys.exit(status); "
          "print(json.dumps({'cpu_seconds': time.process_time() - began}))")


def _timed_train(model, steps, out: Path, options) -> float:
    done = subprocess.run([sys.executable, "-c", _TIMED, "train", "--model", model, "--steps", str(steps),
                           "--visualize-every", str(steps), "--checkpoint-every", str(steps), "--no-progress",
                           "--out", str(out), *options], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"legacy-vae train for the benchmark failed (status {done.returncode}): "
                           f"{done.stderr.strip().splitlines()[-1] if done.stderr.strip() else 'no output'}")
    return json.loads(done.stdout.strip().splitlines()[-1])["cpu_seconds"]


def single_run(model, steps, out: Path, feed_dict: bool) -> dict:
    """The single-process loop on the same machine, for comparison (processes of its own).

    Its CPU per update is the difference of a run of ``steps`` and one of a
    tenth as many, so that start-up, evaluations and figures cancel out.
    """
    options = ["--feed-dict"] if feed_dict else []  # feed_dict runs the model's own graph: one tower
    short = max(1, steps // 10)
    started = time.perf_counter()
    cpu = _timed_train(model, steps, out, options)
    wall = time.perf_counter() - started
    cpu_short = _timed_train(model, short, out.with_name(out.name + "-short"), options)
    results = runs.read_json(out / "results.json")
    return {"model": model, "ps": 0, "workers": 0, "sync": False, "steps": results["steps"],
            "label": "one process, feed_dict" if feed_dict else "one process, fast loop",
            "test_elbo": results["test_elbo"], "steps_per_second": results["steps_per_second"],
            "cpu_ms_per_update": 1000 * (cpu - cpu_short) / (steps - short),
            "wall_seconds": wall, "load": os.getloadavg()[0]}


def cpu_per_update(root) -> float | None:
    """CPU milliseconds of all tasks (workers' loops, the ps while serving) per update."""
    files = sorted((Path(root) / "cluster").glob("cpu-*.json"))
    records = [json.loads(path.read_text(encoding="utf-8")) for path in files]
    updates = sum(r["updates"] or 0 for r in records)
    return 1000 * sum(r["cpu_seconds"] for r in records) / updates if updates else None


def one_run(model, ps, workers, steps, sync, out: Path) -> dict:
    config = defaults(model).replace(steps=steps, visualize_every=steps, checkpoint_every=steps)
    started = time.perf_counter()
    status = command.train([config], f"ps={ps},workers={workers}", out=out, sync=sync)
    wall = time.perf_counter() - started
    if status != 0:
        raise RuntimeError(f"the cluster run in {out} failed (status {status}); see {out / 'cluster'}")
    results = runs.read_json(out / "results.json")
    summary = runs.read_json(out / "cluster" / "summary.json")
    traffic = out / "cluster" / "traffic.json"
    updates = sum(summary["updates_by_worker"].values())
    row = {"model": model, "ps": ps, "workers": workers, "sync": sync, "steps": results["steps"],
           "updates_by_worker": summary["updates_by_worker"], "test_elbo": results["test_elbo"],
           "wall_seconds": wall, "load": os.getloadavg()[0], "cpu_ms_per_update": cpu_per_update(out),
           **update_rate(out)}
    if traffic.exists():
        row["mb_per_gradient"] = runs.read_json(traffic)["loopback_bytes"] / max(updates, 1) / 1e6
    return row


def table(rows) -> str:
    header = ("layout", "steps", "steps/s", "images/s", "CPU ms/gradient", "test ELBO", "MB/gradient", "wall s",
              "load")
    lines = []
    for r in rows:
        rate = r["steps_per_second"]
        batch = defaults(r["model"]).batch_size * (r["workers"] if r["sync"] else 1)
        layout = r.get("label") or f"{r['ps']} ps + {r['workers']} workers, {'sync' if r['sync'] else 'async'}"
        mb = r.get("mb_per_gradient")
        lines.append((f"{r['model']}: {layout}", r["steps"], f"{rate:.1f}" if rate else "-",
                      f"{rate * batch:,.0f}" if rate else "-",
                      f"{r['cpu_ms_per_update']:.1f}" if r.get("cpu_ms_per_update") else "-",
                      f"{r['test_elbo']:.2f}", f"{mb:.2f}" if mb else "-", f"{r['wall_seconds']:.0f}",
                      f"{r['load']:.1f}"))
    return tables.table(header, lines)


def paper(model: str, floats: int) -> str:
    """Parameter-server traffic per update, from the model's size."""
    mb = 2 * floats * 4 / 1e6
    lines = [f"{model}: {floats:,} trainable floats; per update a worker pulls them and pushes as many "
             f"gradient floats: 2 x {floats:,} x 4 B = {mb:.2f} MB through the parameter server(s)."]
    for gbit in (1, 10, 25):
        per_direction = gbit * 1e9 / 8 / (floats * 4)  # pulls out of the ps and pushes into it share no direction
        lines.append(f"  one ps on {gbit:>2} Gb/s: at most {per_direction:,.0f} updates/s before its link is full")
    return "\n".join(lines)


def main(model="post", steps=2000, workers=(1, 2, 4), sync=False, out=None, json_path=None) -> list:
    """Print the table (and the ps traffic on paper); return its rows.

    Without ``sync``: the two single-process loops, then one asynchronous run
    per number of ``workers``. With ``sync``: for each number of workers an
    async and a sync run of the same length.
    """
    out = Path(out) if out else runs.default_run_dir("bench-cluster")
    rows = []
    if not sync:
        for feed_dict in (False, True):
            rows.append(single_run(model, steps, out / f"{model}-single-{'feed' if feed_dict else 'fast'}", feed_dict))
    for n in workers:
        for mode in ((False, True) if sync else (False,)):
            rows.append(one_run(model, 1, n, steps, mode, out / f"{model}-ps1-w{n}-{'sync' if mode else 'async'}"))
    print(table(rows))
    print(paper(model, parameter_count(model)))
    if json_path:
        runs.write_json(json_path, {"rows": rows})
    return rows
