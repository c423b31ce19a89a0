"""The chief's hooks: its records and evaluations, and a quiet end.

The chief trains like any worker and, besides, keeps the run folder: train
loss records, validation ELBO and figures as its session opens (step 0 of
a fresh run, unless another worker got in first) and whenever the global
step crosses a multiple of ``visualize_every``, and the test set at the
end, all through the single-process loop's ``Monitor``.
"""
from __future__ import annotations

import threading
import time

import numpy as np
import tensorflow as tf

from legacy_vae.cluster.hooks import GlobalStepHook, crossed

v1 = tf.compat.v1


class Evaluations:
    """The chief's evaluations, one at a time, in a thread of their own.

    ``start`` copies the weights into the snapshot (on the caller's thread:
    it needs the cluster session) and evaluates that copy in the background,
    so the chief goes on training instead of leaving the updates to the
    others while it computes 15,000 ELBOs and draws figures. A new ``start``
    first waits for the previous evaluation: the snapshot holds one copy.
    """

    def __init__(self, snapshot, monitor):
        self.snapshot, self.monitor = snapshot, monitor
        self.thread, self.error = None, None

    def start(self, cluster_session) -> int:
        self.wait()
        step = self.snapshot.load(cluster_session)
        self.thread = threading.Thread(target=self._run, args=(step,), name="chief-evaluation", daemon=True)
        self.thread.start()
        return step

    def _run(self, step):
        try:
            self.monitor.validate(self.snapshot.session, step)
        except BaseException as error:  # raised again on the training thread by wait()
            self.error = error

    def wait(self):
        if self.thread is not None:
            self.thread.join()
            self.thread = None
        if self.error is not None:
            error, self.error = self.error, None
            raise error


class ChiefRecordHook(GlobalStepHook):
    """The chief's records: its train loss and, on crossings, validation ELBO and figures.

    ``monitor`` is the single-process loop's :class:`legacy_vae.engine.monitor.Monitor`
    (metrics.jsonl, PNGs, TensorBoard) on the handles of ``snapshot``
    (:mod:`legacy_vae.cluster.snapshot`): each evaluation first copies the
    weights into that local graph, is filed under the step it copied, and
    runs beside the training (:class:`Evaluations`). The train records are
    means over the chief's own batches since the last record (the other
    workers' losses stay in their processes). Validation runs as the
    session opens (:class:`FirstLook`), whenever the global step crosses a
    multiple of ``visualize_every``, and at the end, followed by the test
    set (``finish``) unless the run was interrupted.
    """

    def __init__(self, step_after, global_step, handles, snapshot, monitor, visualize_every, log_every, finished):
        super().__init__(step_after, global_step)
        self.handles, self.snapshot, self.monitor = handles, snapshot, monitor
        self.visualize_every, self.log_every, self.finished = visualize_every, log_every, finished
        self.evaluations = Evaluations(snapshot, monitor)
        self.sums, self.count = np.zeros(3), 0
        self.results = None
        self.final_step = None

    def first_look(self, session):
        """The look at the weights the chief finds when its session opens (:class:`FirstLook`)."""
        if not self.monitor.validated_steps:
            self.evaluations.start(session)

    def fetches(self):
        return [self.handles.loss, self.handles.reconstruction, self.handles.kl]

    def on_step(self, run_context, previous, values):
        self.sums += values
        self.count += 1
        if crossed(previous, self.step, self.log_every):
            self.flush()
        if crossed(previous, self.step, self.visualize_every):
            self.evaluations.start(run_context.session)

    def flush(self):
        if self.count:
            loss, reconstruction, kl = self.sums / self.count
            self.monitor.record_train(self.step, {"elbo": -loss, "reconstruction": reconstruction, "kl": kl})
            self.sums[:], self.count = 0, 0

    def end(self, session):
        self.flush()
        self.evaluations.wait()
        if not self.finished():
            self.final_step = int(session.run(self.global_step))
            return
        started = time.perf_counter()
        self.final_step = self.snapshot.load(session)
        self.monitor.validate(self.snapshot.session, self.final_step)
        self.results = self.monitor.finish(self.snapshot.session, self.final_step)
        self.results["final_evaluation_seconds"] = time.perf_counter() - started


class FirstLook(v1.train.SessionRunHook):
    """Ahead of the checkpoint saver in the chief's list: its first look, as its session opens.

    The other workers start their updates as soon as the chief has made the
    variables ready, and the saver's first checkpoint (graph and all: 36-72
    ms for the post model on an idle machine, more under load) is long
    enough for them to move the global step: a look behind it was filed
    under step 11 instead of 0 in one CI run. Here only two reads of the
    global step come before it. A worker can still get in first on a loaded
    machine; the look is then filed under the step it copied, as every look is.
    """

    def __init__(self, record: ChiefRecordHook):
        self.record = record

    def after_create_session(self, session, coord):
        self.record.first_look(session)


class SettleHook(v1.train.SessionRunHook):
    """First in the chief's list: at the end, wait until the global step stops moving.

    The other workers stop once they see the last step, each after at most
    one more update; waiting here (a few reads, 0.2 s apart, 10 s at most)
    lets the final checkpoint and test ELBO see the same weights.
    """

    def __init__(self, global_step, quiet_reads=3, interval=0.2, limit=10.0):
        self.global_step, self.quiet_reads, self.interval, self.limit = global_step, quiet_reads, interval, limit

    def end(self, session):
        deadline = time.monotonic() + self.limit
        last, quiet = int(session.run(self.global_step)), 0
        while quiet < self.quiet_reads and time.monotonic() < deadline:
            time.sleep(self.interval)
            now = int(session.run(self.global_step))
            quiet = quiet + 1 if now == last else 0
            last = now

