"""``SessionRunHook``s and checkpoint listeners of the training loop.

TF1's own hooks do most of the work (``StopAtStepHook``,
``CheckpointSaverHook``, ``SummarySaverHook``); the ones here do what those
cannot. Order matters: ``MonitoredSession`` calls ``after_run`` in list order,
so :class:`FiniteLossGuard` goes before the checkpoint saver and raises before
the saver sees a step whose loss is NaN or infinite. A loss is computed from
the weights *before* the update, so a finite loss can still come with an
update that made the weights non-finite; :class:`FiniteParametersCheck` runs
just before every save and refuses to write such weights. Together they keep
the last checkpoint good.

Hooks count steps in Python (one monitored ``run`` = one optimizer step, the
loop runs nothing else through the monitored session), so they never need a
second ``session.run`` of the global step on the hot path.
"""
from __future__ import annotations

import time

import numpy as np
import tensorflow as tf

from legacy_vae import runs

v1 = tf.compat.v1


class DivergedError(ValueError):
    """The loss or the weights became NaN or infinite; the message says what to do."""


def diverged_message(model, what, step, checkpoint_dir, learning_rate) -> str:
    last = tf.train.latest_checkpoint(str(checkpoint_dir))
    return (f"{model}: {what} at step {step}; the last good checkpoint is {last}; "
            f"lower --learning-rate (it is {learning_rate:g}) and train again")


class StepHook(v1.train.SessionRunHook):
    """Knows the global step after each run without fetching it."""

    def __init__(self, handles):
        self.handles = handles
        self.step = None

    def after_create_session(self, session, coord):
        self.step = int(session.run(self.handles.global_step))

    def after_run(self, run_context, run_values):
        self.step += 1
        self.on_step(run_context, run_values.results)

    def on_step(self, run_context, results):
        pass


class FiniteLossGuard(StepHook):
    """Stop with a clear message on a NaN or infinite loss.

    ``tf.train.NanTensorHook`` misses infinities and its error names neither
    the model, the step nor the checkpoint to go back to.
    """

    def __init__(self, handles, checkpoint_dir):
        super().__init__(handles)
        self.checkpoint_dir = checkpoint_dir

    def before_run(self, run_context):
        return v1.train.SessionRunArgs(self.handles.loss)

    def on_step(self, run_context, loss):
        if not np.isfinite(loss):
            config = self.handles.config
            raise DivergedError(diverged_message(config.model, f"loss is {loss}", self.step,
                                                 self.checkpoint_dir, config.learning_rate))


class FiniteParametersCheck(v1.train.CheckpointSaverListener):
    """Refuse to save non-finite weights (checked only when saving: off the hot path)."""

    def __init__(self, handles, checkpoint_dir):
        self.handles, self.checkpoint_dir = handles, checkpoint_dir
        with handles.graph.as_default():
            self.all_finite = tf.reduce_all(
                [tf.reduce_all(tf.math.is_finite(v)) for v in v1.trainable_variables()])

    def before_save(self, session, global_step_value):
        if not session.run(self.all_finite):
            config = self.handles.config
            raise DivergedError(diverged_message(config.model, "the weights became NaN or infinite",
                                                 global_step_value, self.checkpoint_dir, config.learning_rate))


class LoopStateListener(v1.train.CheckpointSaverListener):
    """Save what the checkpoint does not hold beside it: ``state-<step>.json``.

    That is the train seconds so far and, on the feed_dict path, the
    DataSet's batch order (the tf.data path needs none: its order is a
    function of the seed and the step). Files of checkpoints the Saver has
    deleted are deleted too.
    """

    def __init__(self, folder: runs.ModelFolder, saver, seconds, dataset=None):
        self.folder, self.saver, self.seconds, self.dataset = folder, saver, seconds, dataset

    def after_save(self, session, global_step_value):
        state = {"step": int(global_step_value), "train_seconds": self.seconds(),
                 "dataset": None if self.dataset is None else self.dataset.get_state()}
        runs.write_json(self.folder.state_file(global_step_value), state)
        kept = {runs.checkpoint_step(p) for p in self.saver.last_checkpoints}
        for path in self.folder.checkpoints.glob("state-*.json"):
            if runs.checkpoint_step(path.stem) not in kept:
                path.unlink(missing_ok=True)


class CheckpointSaverHook(v1.train.CheckpointSaverHook):
    """TF's saver hook, writing its graph and checkpoint events to our events/ writer.

    The stock ``begin`` opens ``SummaryWriterCache.get(checkpoint_dir)``: an
    event file inside checkpoints/, beside the one TensorBoard should read.
    """

    def __init__(self, checkpoint_dir, save_steps, saver, writer, listeners):
        super().__init__(str(checkpoint_dir), save_steps=save_steps, saver=saver,
                         listeners=listeners, save_graph_def=False)
        self._events_writer = writer

    def begin(self):
        self._summary_writer = self._events_writer
        self._global_step_tensor = v1.train.get_global_step()
        for listener in self._listeners:
            listener.begin()


class InputInitHook(v1.train.SessionRunHook):
    """Start the tf.data iterator at the restored global step (0 for a new run)."""

    def __init__(self, handles, train_images):
        self.handles, self.train_images = handles, train_images

    def after_create_session(self, session, coord):
        step = int(session.run(self.handles.global_step))
        self.handles.input.initialize(session, self.train_images, start_step=step)


class TrainMetricsHook(StepHook):
    """Progress bar with the loss at every step; mean train metrics every ``every`` steps."""

    def __init__(self, handles, monitor, every, bar=None):
        super().__init__(handles)
        self.monitor, self.every, self.bar = monitor, every, bar
        self.sums = np.zeros(3)
        self.count = 0

    def before_run(self, run_context):
        h = self.handles
        return v1.train.SessionRunArgs([h.loss, h.reconstruction, h.kl])

    def on_step(self, run_context, results):
        self.sums += results
        self.count += 1
        if self.bar is not None:
            self.bar.set_postfix_str(f"loss={results[0]:.2f}", refresh=False)
            self.bar.update()
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
    """Validation ELBO and figures every ``every`` steps and at the last step.

    ``finished()`` says whether training ended normally (not interrupted):
    only then does ``end`` validate and run the test-set ``monitor.finish``.
    """

    def __init__(self, handles, monitor, every, finished):
        super().__init__(handles)
        self.monitor, self.every, self.finished = monitor, every, finished
        self.results = None

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
