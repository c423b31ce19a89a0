"""Hooks of a cluster worker's MonitoredSession.

On one machine the loop counts steps itself; on a cluster the global step
also moves under the other workers' updates, so every hook here reads it:
each fetches ``step_after`` (the global step read on the parameter server
right after this worker's update, in the same run; session.run fetches it
once however many hooks ask). Things that happen "every N steps" happen when
the global step *crosses* a multiple of N, which on a busy cluster may be a
step or two past it: the records say the step they were taken at.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import tensorflow as tf

v1 = tf.compat.v1


class GlobalStepHook(v1.train.SessionRunHook):
    """Knows the global step after each of this worker's runs; subclasses act on it."""

    def __init__(self, step_after, global_step):
        self.step_after, self.global_step = step_after, global_step
        self.step = None

    def after_create_session(self, session, coord):
        self.step = int(session.run(self.global_step))

    def fetches(self):
        return None

    def before_run(self, run_context):
        extra = self.fetches()
        return v1.train.SessionRunArgs({"step": self.step_after, **({} if extra is None else {"extra": extra})})

    def after_run(self, run_context, run_values):
        previous, self.step = self.step, int(run_values.results["step"])
        self.on_step(run_context, previous, run_values.results.get("extra"))

    def on_step(self, run_context, previous, extra):
        pass


def crossed(previous: int, step: int, every: int) -> bool:
    """Whether the global step went past a multiple of ``every`` between two reads."""
    return every > 0 and step // every > previous // every


class StopAtStepHook(GlobalStepHook):
    """Stop this worker once the global step has reached ``last_step``."""

    def __init__(self, step_after, global_step, last_step):
        super().__init__(step_after, global_step)
        self.last_step = last_step

    def before_run(self, run_context):
        if self.step is not None and self.step >= self.last_step:
            run_context.request_stop()
        return super().before_run(run_context)

    def on_step(self, run_context, previous, extra):
        if self.step >= self.last_step:
            run_context.request_stop()


class UpdateLogHook(GlobalStepHook):
    """``updates-worker<i>.jsonl``: one line per update of this worker (who did which update).

    Each line is ``{"worker", "update", "step", "time"}``: this worker's own
    count of updates, the global step read just after it, and the wall time.
    Lines are written every ``flush_every`` updates and at the end.
    """

    def __init__(self, step_after, global_step, path, worker: int, flush_every: int = 100):
        super().__init__(step_after, global_step)
        self.path, self.worker, self.flush_every = Path(path), worker, flush_every
        self.updates = self._count_existing()
        self.pending = []

    def _count_existing(self) -> int:
        if not self.path.exists():
            return 0
        return sum(1 for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip())

    def on_step(self, run_context, previous, extra):
        self.updates += 1
        self.pending.append({"worker": self.worker, "update": self.updates, "step": self.step,
                             "time": time.time()})
        if len(self.pending) >= self.flush_every:
            self.flush()

    def flush(self):
        if self.pending:
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write("".join(json.dumps(r) + "\n" for r in self.pending))
            self.pending = []

    def end(self, session):
        self.flush()
