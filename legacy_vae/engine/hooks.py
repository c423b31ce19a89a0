"""The ``SessionRunHook``s of the training loop (checkpoint listeners: ``checkpointing``).

TF1's own hooks do much of the work (``CheckpointSaverHook``, and
``SummarySaverHook`` on the feed_dict path); these do what those cannot, or
cannot on runs of many steps. Order matters: ``MonitoredSession`` calls
``after_run`` in list order, so :class:`FiniteLossGuard` goes before the
checkpoint saver and raises before it sees a NaN or infinite loss, and the
saver comes after the hooks that record metrics and figures, so a checkpoint
exists only once everything up to its step is written.

Hooks count steps in Python (one monitored ``run`` = one optimizer step, or,
when the run is the multi-step loop ``handles.train_steps``, as many steps as
the loop reports), so they never need a second ``session.run`` of the global
step on the hot path. On a loop run every number comes from the loop's own
outputs (``handles.train_run``): fetching ``handles.loss`` there would pull
one more batch from the tf.data iterator and shift every later batch.
"""
from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from legacy_vae import checkpoints
from legacy_vae.failures import RunError

v1 = tf.compat.v1


class DivergedError(RunError, ValueError):
    """The loss or the weights became NaN or infinite; the message says what to do.

    A failure at run time (exit status 1); a ValueError too, for callers that caught it as one.
    """


def diverged_message(model, what, step, checkpoint_dir, learning_rate) -> str:
    found = checkpoints.listing(checkpoint_dir)
    last = found[-1][1] if found else None
    return (f"{model}: {what} at step {step}; the last good checkpoint is {last}; "
            f"lower --learning-rate (it is {learning_rate:g}) and train again")


def runs_loop(handles, run_context) -> bool:
    """Whether this monitored run is ``handles.train_steps`` (many steps) rather than one step."""
    loop = handles.train_steps
    return loop is not None and any(f is loop for f in tf.nest.flatten(run_context.original_args.fetches))


class StepHook(v1.train.SessionRunHook):
    """Knows the global step after each run without fetching it.

    Subclasses say what to fetch with ``fetches(loop)`` (``loop``: the run is
    ``train_steps``) and get it in ``on_step(run_context, results)``;
    ``self.steps`` is how many steps the run made.
    """

    def __init__(self, handles):
        self.handles = handles
        self.step = None
        self.loop = False
        self.steps = 1

    def after_create_session(self, session, coord):
        self.step = int(session.run(self.handles.global_step))

    def fetches(self, loop):
        return None

    def before_run(self, run_context):
        self.loop = runs_loop(self.handles, run_context)
        fetches = self.fetches(self.loop)
        if self.loop:
            fetches = {"steps": self.handles.train_run.steps,
                       **({} if fetches is None else {"results": fetches})}
        return None if fetches is None else v1.train.SessionRunArgs(fetches)

    def after_run(self, run_context, run_values):
        results = run_values.results
        self.steps = 1
        if self.loop:
            self.steps, results = int(results["steps"]), results.get("results")
        self.step += self.steps
        self.on_step(run_context, results)

    def on_step(self, run_context, results):
        pass


class StopAtStepHook(StepHook):
    """Stop once the global step reaches ``last_step``.

    TF's own hook compares a global step read in the same run, which a loop
    run may read before its steps; this one counts them.
    """

    def __init__(self, handles, last_step):
        super().__init__(handles)
        self.last_step = last_step

    def on_step(self, run_context, results):
        if self.step >= self.last_step:
            run_context.request_stop()


class FiniteLossGuard(StepHook):
    """Stop with a clear message on a NaN or infinite loss.

    ``tf.train.NanTensorHook`` misses infinities and its error names neither
    the model, the step nor the checkpoint to go back to.
    """

    def __init__(self, handles, checkpoint_dir):
        super().__init__(handles)
        self.checkpoint_dir = checkpoint_dir

    def fetches(self, loop):
        run = self.handles.train_run
        return [run.nonfinite_step, run.loss] if loop else self.handles.loss

    def on_step(self, run_context, results):
        # The loop stops at its first non-finite loss: that step is its last.
        if self.loop:
            step, loss = int(results[0]), results[1]
            bad = step >= 0
        else:
            step, loss, bad = self.step, results, not np.isfinite(results)
        if bad:
            config = self.handles.config
            raise DivergedError(diverged_message(config.model, f"loss is {loss}", step,
                                                 self.checkpoint_dir, config.learning_rate))


class InputInitHook(v1.train.SessionRunHook):
    """Start the tf.data iterator at the restored global step (0 for a new run), in the
    batch order of a DataSet in ``order_state`` (before its first batch) up to ``end_step``."""

    def __init__(self, handles, train_images, order_state, end_step):
        self.handles, self.train_images, self.order_state = handles, train_images, order_state
        self.end_step = end_step

    def after_create_session(self, session, coord):
        step = int(session.run(self.handles.global_step))
        self.handles.input.initialize(session, self.train_images, self.order_state, start_step=step,
                                      end_step=max(step, self.end_step))


class TrainMetricsHook(StepHook):
    """Progress bar with the loss at every step; mean train metrics every ``every`` steps."""

    def __init__(self, handles, monitor, every, bar=None):
        super().__init__(handles)
        self.monitor, self.every, self.bar = monitor, every, bar
        self.sums = np.zeros(3)
        self.count = 0

    def fetches(self, loop):
        if loop:
            return [self.handles.train_run.sums, self.handles.train_run.loss]
        h = self.handles
        return [h.loss, h.reconstruction, h.kl]

    def on_step(self, run_context, results):
        if self.loop:
            sums, loss = results  # exact float64 sums: the same as adding step by step
        else:
            sums, loss = results, results[0]
        self.sums += sums
        self.count += self.steps
        if self.bar is not None:
            self.bar.set_postfix_str(f"loss={loss:.2f}", refresh=False)
            self.bar.update(self.steps)
        if self.step % self.every == 0:
            self.flush()

    def flush(self):
        if self.count:
            loss, reconstruction, kl = self.sums / self.count
            self.monitor.record_train(self.step, {"elbo": -loss, "reconstruction": reconstruction, "kl": kl})
            self.sums[:] = 0
            self.count = 0

    def end(self, session):
        self.flush()  # the steps since the last record, also when interrupted


class ValidationHook(StepHook):
    """Validation ELBO and figures every ``every`` steps from the first step, and at the last.

    Step 0 is shown before any training, as the seeds' loops did (their
    first figure came from the untrained model).

    ``finished()`` says whether training ended normally (not interrupted):
    only then does ``end`` validate and run the test-set ``monitor.finish``.
    """

    def __init__(self, handles, monitor, every, finished):
        super().__init__(handles)
        self.monitor, self.every, self.finished = monitor, every, finished
        self.results = None

    def after_create_session(self, session, coord):
        super().after_create_session(session, coord)
        if self.step % self.every == 0:
            self.monitor.validate(session, self.step)  # a no-op for a step already recorded

    def on_step(self, run_context, results):
        if self.step % self.every == 0:
            self.monitor.validate(run_context.session, self.step)

    def end(self, session):
        if not self.finished():
            return
        started = time.perf_counter()
        self.monitor.validate(session, self.step)
        self.results = self.monitor.finish(session, self.step)
        self.results["final_evaluation_seconds"] = time.perf_counter() - started


class LoopSummaryHook(StepHook):
    """Train scalars on loop runs: what ``SummarySaverHook`` writes for one-step runs.

    ``summary_op`` is built from the loop's first-step outputs
    (``train_run.first_*``); it is written at that first step when it is the
    session's first or at least ``every`` steps after the last one written, so
    with runs that start on multiples of ``every`` the steps are 1, 1 + every, ...
    exactly as before.
    """

    def __init__(self, handles, writer, every, summary_op):
        super().__init__(handles)
        self.writer, self.every, self.summary_op = writer, every, summary_op
        self.last = None
        self.write = False

    def fetches(self, loop):
        first = self.step + 1
        self.write = loop and (self.last is None or first >= self.last + self.every)
        return self.summary_op if self.write else None

    def on_step(self, run_context, summary):
        if not self.write:
            return
        first = self.step - self.steps + 1
        if self.last is None:
            self.writer.add_session_log(v1.SessionLog(status=v1.SessionLog.START), first)
        self.writer.add_summary(summary, first)
        self.last = first
