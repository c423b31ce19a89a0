"""The supervisor: start one process per task, watch them, end them all, say what happened.

    python -m legacy_vae.cluster.supervise PLAN.json [--watch-parent PID]

PLAN.json (written by :mod:`legacy_vae.cluster.command`) names the run
folder, the model's config.json, the layout (``ps``, ``workers``) and
``sync``. The supervisor runs inside the cluster's private network
namespace (:mod:`legacy_vae.cluster.netns`), switches its loopback on,
picks free ports there, writes the spec to ``cluster/spec.json`` and starts
the tasks (:mod:`legacy_vae.cluster.task`). What it does when one ends:

=====================  ===================================================
the chief finishes     the other workers get a little time to see the last
                       step and stop, then everything is ended: status 0
a ps ends              its variables are gone: every task is ended, one line
                       names the last checkpoint to resume from: status 1
the chief fails        nobody writes checkpoints any more: same, status 1
another worker fails   asynchronous: the others go on (one line says so);
                       synchronous: every step needs it, so as for the chief
SIGINT / SIGTERM       workers get SIGTERM (the chief saves a checkpoint),
                       then the ps: status 130 / 143
=====================  ===================================================

Every task is ended, by SIGKILL of its process group if need be, whatever
happened (the ``finally`` below); each task also leaves by itself if the
supervisor disappears (``--watch-parent``), and the supervisor if the
command that started it does.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from pathlib import Path

from legacy_vae.cluster import netns, spec as cluster_spec
from legacy_vae.cluster.processes import Task, describe, end_all

POLL_SECONDS = 0.2
AFTER_CHIEF_SECONDS = 30   # the other workers stop within a step of the end; sync ones need the release
STOP_GRACE_SECONDS = 60    # time for the chief to save after SIGTERM


def task_argv(plan: dict, spec: dict, job: str, index: int, python=sys.executable) -> list:
    argv = [python, "-m", "legacy_vae.cluster.task", "--job", job, "--index", str(index),
            "--spec", json.dumps(spec), "--watch-parent", str(os.getpid())]
    argv += ["--run-dir", plan["run_dir"]]
    if job == "worker":
        argv += ["--config", plan["config"]] + (["--sync"] if plan["sync"] else [])
    return argv


def last_checkpoint(run_dir) -> str | None:
    """The newest checkpoint named in ``checkpoints/checkpoint`` (read as text: no TensorFlow here)."""
    index = Path(run_dir) / "checkpoints" / "checkpoint"
    if not index.exists():
        return None
    for line in index.read_text(encoding="utf-8").splitlines():
        if line.startswith("model_checkpoint_path:"):
            return line.split(":", 1)[1].strip().strip('"')
    return None


class Supervisor:
    def __init__(self, tasks, run_dir, sync, say=print):
        self.tasks, self.run_dir, self.sync, self.say = tasks, Path(run_dir), sync, say
        self.requested = threading.Event()
        self.signum = None
        self.reported = set()

    def on_signal(self, signum, frame):
        if self.requested.is_set():  # a second one: no more waiting
            for task in self.tasks:
                task.signal(signal.SIGKILL)
        self.signum = signum
        self.requested.set()

    def resume_hint(self) -> str:
        checkpoint = last_checkpoint(self.run_dir)
        where = f"the last checkpoint is {checkpoint}" if checkpoint else "no checkpoint was written yet"
        return f"{where}; restart with 'legacy-vae train --resume {self.run_dir}'"

    def verdict(self):
        """(status, line) once the run is decided, else None."""
        by_job = {job: [t for t in self.tasks if t.job == job] for job in ("ps", "worker")}
        for task in by_job["ps"]:
            if task.poll() is not None:
                return 1, (f"parameter server {task.name} {describe(task.poll())}: the variables it held are "
                           f"gone, so the cluster was stopped (its log: {task.log}); {self.resume_hint()}")
        chief = by_job["worker"][0]
        if chief.poll() == 0:
            return 0, None
        if chief.poll() is not None:
            return 1, (f"the chief (worker:0) {describe(chief.poll())}: no one writes checkpoints any more, "
                       f"so the cluster was stopped (its log: {chief.log}); {self.resume_hint()}")
        for task in by_job["worker"][1:]:
            code = task.poll()
            if code is None or code == 0 or task.name in self.reported:
                continue
            if self.sync:
                return 1, (f"{task.name} {describe(code)}: synchronous training needs every worker at every "
                           f"step, so the cluster was stopped (its log: {task.log}); {self.resume_hint()}")
            self.reported.add(task.name)
            self.say(f"cluster: {task.name} {describe(code)}; the other workers go on (its log: {task.log})")
        return None

    def run(self) -> int:
        status, line = None, None
        try:
            for task in self.tasks:
                task.start(echo=self.say if task.chief else None)
            # Which process is which task: for a person (or a test) who wants to stop one.
            pids = {"supervisor": os.getpid(), **{task.name: task.process.pid for task in self.tasks}}
            (self.run_dir / "cluster" / "tasks.json").write_text(json.dumps(pids) + "\n", encoding="utf-8")
            while status is None:
                if self.requested.is_set():
                    name = signal.Signals(self.signum).name if self.signum else "a stop request"
                    self.say(f"cluster: {name}: stopping the workers (the chief saves a checkpoint), then the ps")
                    end_all(self.tasks, STOP_GRACE_SECONDS)
                    status = 128 + (self.signum or signal.SIGTERM)
                    line = f"stopped on request; {self.resume_hint()}"
                    break
                decided = self.verdict()
                if decided is not None:
                    status, line = decided
                    break
                time.sleep(POLL_SECONDS)
            if status == 0:
                deadline = time.monotonic() + AFTER_CHIEF_SECONDS
                for task in self.tasks[1:]:
                    if task.job == "worker":
                        task.wait(deadline - time.monotonic())
        finally:
            end_all(self.tasks, 5 if status in (0, 1) else STOP_GRACE_SECONDS)
        if line:
            sys.stderr.write(f"legacy-vae train --cluster: {line}\n")
        return status


def build_tasks(plan: dict, spec: dict) -> list:
    log_dir = Path(plan["run_dir"]) / "cluster"
    tasks = [Task("ps", i, task_argv(plan, spec, "ps", i), log_dir / f"ps-{i}.log") for i in range(len(spec["ps"]))]
    tasks += [Task("worker", i, task_argv(plan, spec, "worker", i), log_dir / f"worker-{i}.log")
              for i in range(len(spec["worker"]))]
    return tasks


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m legacy_vae.cluster.supervise")
    parser.add_argument("plan")
    parser.add_argument("--watch-parent", type=int, metavar="PID")
    args = parser.parse_args(argv)
    plan = json.loads(Path(args.plan).read_text(encoding="utf-8"))
    if plan.get("isolated", True):
        netns.bring_up_loopback()
    spec = cluster_spec.local_spec(plan["ps"], plan["workers"])
    (Path(plan["run_dir"]) / "cluster" / "spec.json").write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    say = lambda line: print(line, flush=True)  # noqa: E731
    tasks = build_tasks(plan, spec)
    supervisor = Supervisor(tasks, plan["run_dir"], plan["sync"], say=say)
    # In the private namespace loopback carries the cluster's traffic and nothing else.
    traffic = netns.loopback_bytes() if plan.get("isolated", True) else None
    signal.signal(signal.SIGINT, supervisor.on_signal)
    signal.signal(signal.SIGTERM, supervisor.on_signal)
    if args.watch_parent:
        def watch():
            while os.getppid() == args.watch_parent:
                time.sleep(POLL_SECONDS)
            supervisor.signum = signal.SIGTERM
            supervisor.requested.set()
        threading.Thread(target=watch, daemon=True).start()
    say(f"cluster: {plan['ps']} ps + {plan['workers']} worker(s), "
        f"{'synchronous' if plan['sync'] else 'asynchronous'}; spec {json.dumps(spec)}; "
        f"logs in {Path(plan['run_dir']) / 'cluster'}")
    status = supervisor.run()
    if traffic is not None:
        (Path(plan["run_dir"]) / "cluster" / "traffic.json").write_text(
            json.dumps({"loopback_bytes": netns.loopback_bytes() - traffic}) + "\n", encoding="utf-8")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
