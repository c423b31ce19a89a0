"""Around each checkpoint save: refuse non-finite weights, keep the loop's state beside it.

TF1's ``CheckpointSaverHook`` saves every ``checkpoint_every`` steps and at the
end; its listeners run just before and after each save. A loss is computed
from the weights *before* the update, so a finite loss can still come with an
update that made the weights non-finite: :class:`FiniteParametersCheck`
refuses to write such weights, which keeps the last checkpoint good.
"""
from __future__ import annotations

import tensorflow as tf

from legacy_vae import runs
from legacy_vae.engine.hooks import DivergedError, diverged_message

v1 = tf.compat.v1


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


class FiguresWritten(v1.train.CheckpointSaverListener):
    """Before a checkpoint, wait for the figures given so far (drawn by worker processes).

    A resumed run does not draw again the steps its checkpoint covers, so a
    checkpoint may exist only once their figures are on disk; a figure that
    could not be written stops the run here, before the checkpoint.
    """

    def __init__(self, monitor):
        self.monitor = monitor

    def before_save(self, session, global_step_value):
        self.monitor.figures_written()


class LoopStateListener(v1.train.CheckpointSaverListener):
    """Save what the checkpoint does not hold beside it: ``state-<step>.json``.

    That is the train seconds so far and, on the feed_dict path, the
    DataSet's batch order (the tf.data path needs none: its order is a
    function of the seed and the step). It is written before the checkpoint,
    so a checkpoint on disk always has its state (a process killed in
    between leaves a state file without a checkpoint, which resume ignores).
    Files of checkpoints the Saver has deleted are deleted after the save.
    """

    def __init__(self, folder: runs.ModelFolder, saver, seconds, dataset=None):
        self.folder, self.saver, self.seconds, self.dataset = folder, saver, seconds, dataset

    def before_save(self, session, global_step_value):
        state = {"step": int(global_step_value), "train_seconds": self.seconds(),
                 "dataset": None if self.dataset is None else self.dataset.get_state()}
        runs.write_json(self.folder.state_file(global_step_value), state)

    def after_save(self, session, global_step_value):
        kept = {runs.checkpoint_step(p) for p in self.saver.last_checkpoints}
        for path in self.folder.checkpoints.glob("state-*.json"):
            if runs.checkpoint_step(path.stem) not in kept:
                path.unlink(missing_ok=True)


class CheckpointSaverHook(v1.train.CheckpointSaverHook):
    """TF's saver hook, writing its graph and checkpoint events to our events/ writer.

    The stock ``begin`` opens ``SummaryWriterCache.get(checkpoint_dir)``: an
    event file inside checkpoints/, beside the one TensorBoard should read.
    """

    def __init__(self, checkpoint_dir, save_steps, saver, writer, listeners, steps_per_run=1):
        super().__init__(str(checkpoint_dir), save_steps=save_steps, saver=saver,
                         listeners=listeners, save_graph_def=False)
        self._events_writer = writer
        # The stock hook skips re-reading the global step unless the step it
        # read during the run plus steps_per_run reaches the next save; with
        # loop runs of up to that many steps it then never misses a save.
        self._set_steps_per_run(steps_per_run)

    def begin(self):
        self._summary_writer = self._events_writer
        self._global_step_tensor = v1.train.get_global_step()
        for listener in self._listeners:
            listener.begin()
