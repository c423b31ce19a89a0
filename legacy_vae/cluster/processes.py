"""Child processes of the supervisor: started in groups of their own, logged, ended for sure.

Each task runs in a new session (its own process group), so a Ctrl-C on
the terminal reaches the supervisor only, which then stops the tasks in
order (workers first, so that the chief can save, then the parameter
servers); and so that ``killpg`` ends a task together with anything it
started. Output goes to ``<log_dir>/<job>-<index>.log``; the chief's stdout
is also relayed, line by line, to the supervisor's own stdout (its progress).
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path


@dataclasses.dataclass
class Task:
    job: str
    index: int
    argv: list
    log: Path
    process: subprocess.Popen | None = None
    relay: threading.Thread | None = None
    terminated: bool = False  # SIGTERM sent: a second one would tell a worker to leave without saving

    @property
    def name(self) -> str:
        return f"{self.job}:{self.index}"

    @property
    def chief(self) -> bool:
        return self.job == "worker" and self.index == 0

    def start(self, echo=None) -> "Task":
        """Start it; with ``echo`` (a function of one line) its stdout is relayed there as well."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log, "ab", buffering=0)
        stdout = subprocess.PIPE if echo else log
        try:
            self.process = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=log,
                                            start_new_session=True)
        finally:
            if not echo:
                log.close()
        if echo:
            self.relay = threading.Thread(target=_relay, args=(self.process.stdout, log, echo), daemon=True)
            self.relay.start()
        return self

    def poll(self):
        return None if self.process is None else self.process.poll()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, signum) -> None:
        if signum == signal.SIGTERM:
            if self.terminated:
                return
            self.terminated = True
        if self.alive():
            try:
                os.killpg(self.process.pid, signum)
            except ProcessLookupError:
                pass

    def wait(self, seconds: float) -> bool:
        """Wait up to ``seconds`` for it to end; whether it has."""
        if self.process is None:
            return True
        try:
            self.process.wait(timeout=max(seconds, 0))
            return True
        except subprocess.TimeoutExpired:
            return False

    def end(self, grace: float) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds; always reap, and kill the whole group."""
        if self.process is None:
            return
        self.signal(signal.SIGTERM)
        if not self.wait(grace):
            self.signal(signal.SIGKILL)
            self.wait(10)
        try:  # whatever it started in its group goes too, even after it has exited itself
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.relay is not None:
            self.relay.join(timeout=5)


def _relay(stream, log, echo):
    with log:
        for raw in iter(stream.readline, b""):
            log.write(raw)
            echo(raw.decode("utf-8", "replace").rstrip("\n"))
    stream.close()


def describe(code) -> str:
    """'finished', 'exited with status 3', 'killed by SIGKILL'."""
    if code is None:
        return "still running"
    if code == 0:
        return "finished"
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exited with status {code}"


def end_all(tasks, grace: float) -> None:
    """End every task still running: workers first (they may be saving), then the ps."""
    workers = [t for t in tasks if t.job == "worker"]
    for task in workers:
        task.signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for task in workers:
        task.end(max(0.0, deadline - time.monotonic()))
    for task in tasks:
        if task.job != "worker":
            task.end(5)


def write_cpu(run_dir, task: str, seconds: float, updates=None) -> None:
    """``cluster/cpu-<task>.json``: CPU seconds of one task while training (all its threads),
    which the benchmark adds up: it depends far less on the machine's load than wall time."""
    path = Path(run_dir) / "cluster" / f"cpu-{task}.json"
    path.write_text(json.dumps({"cpu_seconds": seconds, "updates": updates}) + "\n", encoding="utf-8")
