"""One graph model's training loop: a ``MonitoredSession`` and its hooks.

TF1's machinery does the bookkeeping: ``ChiefSessionCreator`` initializes
the variables (or restores the checkpoint that legacy_vae.engine.saving
chose: the newest one that reads whole, found by file name), ``CheckpointSaverHook``
saves every ``checkpoint_every`` steps and at the end (relative paths in the
state file, so the run folder can be moved), ``SummarySaverHook``
(feed_dict path) writes the train ELBO/reconstruction/KL scalars every
``log_every`` steps. Our hooks (legacy_vae.engine.hooks) stop at
``config.steps``, guard against NaN, start the tf.data iterator at the
restored step, drive the progress bar, write the train scalars of loop runs
and record validation ELBO and figures.

Repeatability: the builders seed the graph with ``config.seed``, the noise
is stateless in (seed, global step),
the tf.data batch order is a function of (seed, epoch) and resumes by
skipping ``start_step`` batches, and the feed_dict path restores the
DataSet's batch order saved beside the checkpoint. So a run resumed from a
checkpoint ends with the same weights as one that never stopped.

Many steps per run: on the tf.data path each ``session.run`` is
``handles.train_steps``, a while loop of up to ``STEPS_PER_RUN`` steps that
computes exactly what as many ``train_op`` runs would (legacy_vae.engine.fast).
A run never crosses a step at which something happens (a multiple of
``visualize_every``, ``checkpoint_every``, the train-log interval, or the last
step), so validation, checkpoints, metrics and summaries land on the same
steps as with one step per run. The feed_dict path keeps one step per run.

Interrupting: the loop checks ``stop`` (a ``threading.Event``) before every
step; when it is set the loop leaves the session normally, so the saver
hook's ``end`` writes a checkpoint at the current step. Run this function in
a worker thread (legacy_vae.train does) so Ctrl-C reaches the main thread,
never the middle of a step.
"""
from __future__ import annotations

import contextlib
import logging
import time

import tensorflow as tf

from legacy_vae import checkpoints, figures, plots, runs
from legacy_vae.engine import checkpointing, hooks, model_data, saving
from legacy_vae.engine.events import EventsWriter
from legacy_vae.engine.fast import STEPS_PER_RUN, build
from legacy_vae.engine.monitor import Monitor
from legacy_vae.engine.threads import session_config

v1 = tf.compat.v1

LOG_EVERY = 100  # train metrics and train summaries: every 100 steps, off the hot path


def run_length(step: int, last_step: int, intervals) -> int:
    """Steps of the next loop run from ``step``: at most STEPS_PER_RUN, ending at the
    next multiple of any of ``intervals`` or at ``last_step``, whichever comes first."""
    ends = [last_step] + [(step // every + 1) * every for every in intervals if every > 0]
    return max(1, min([STEPS_PER_RUN] + [end - step for end in ends if end > step]))


class _DropSaverDeprecations(logging.Filter):
    # TF's own Saver calls two deprecated helpers of TF's: get_checkpoint_mtimes
    # when restoring (to rotate out old checkpoints too) and remove_checkpoint
    # when rotating. Each logs a deprecation warning that asks the *user* to
    # change code they never wrote; drop exactly those two, while we train.
    def filter(self, record):
        message = record.getMessage()
        return "get_checkpoint_mtimes" not in message and "remove_checkpoint" not in message


@contextlib.contextmanager
def _quiet_saver():
    logger, quiet = tf.get_logger(), _DropSaverDeprecations()
    logger.addFilter(quiet)
    try:
        yield
    finally:
        logger.removeFilter(quiet)


class _Clock:
    """Train seconds: loop wall time minus the time spent on validation and figures."""

    def __init__(self, base, monitor):
        self.base, self.monitor = base, monitor
        self.started = self.stopped = None
        self.eval_at_start = self.eval_at_stop = 0.0

    def start(self):
        self.started, self.eval_at_start = time.perf_counter(), self.monitor.eval_seconds

    def stop(self):
        self.stopped, self.eval_at_stop = time.perf_counter(), self.monitor.eval_seconds

    def seconds(self) -> float:
        if self.started is None:
            return self.base
        end = self.stopped if self.stopped is not None else time.perf_counter()
        evals = (self.eval_at_stop if self.stopped is not None else self.monitor.eval_seconds)
        return self.base + (end - self.started) - (evals - self.eval_at_start)


def train_model(config, root, data: model_data.ModelData, *, resume=False, progress=True, position=0,
                stop=None, on_reconstructions=None, threads=(1, 1), say=print, extra_hooks=(), draw=None) -> dict:
    """Train ``config`` into the model run folder ``root``; return its results.

    ``resume`` continues from the latest checkpoint in ``root`` (metrics past
    it are dropped first). Returns the results.json dict, or
    ``{"model", "interrupted": True, "step", "checkpoint"}`` if ``stop`` was set.
    Raises hooks.DivergedError on a NaN or infinite loss. ``threads`` is
    (intra-op, inter-op) for the session; ``extra_hooks`` run after ours
    (e.g. a benchmark's timer). ``draw`` (a figures.Drawer, shared by models
    training side by side) draws the figures; without one, the run has its own.
    """
    folder = runs.ModelFolder(root)
    if not resume and checkpoints.listing(folder.checkpoints):
        # ChiefSessionCreator would silently continue from it.
        raise ValueError(f"{root} already holds checkpoints; resume it or choose a new folder")
    folder.create()
    config.save(folder.config)
    point = saving.restore_point(folder, resume)
    if resume:
        saving.prepare_resume(folder, point, config.model)
    records = runs.truncate_metrics(folder.metrics, point["step"]) if resume else []
    handles = build(config)
    fast = handles.input is not None  # tf.data input and many steps per run (engine.fast)
    dataset = None if fast else data.train_set(point["dataset"] if point["step"] else None)
    if not fast and point["step"] and point["dataset"] is None:
        raise ValueError(f"cannot resume the feed_dict batch order of {root}: "
                         f"{folder.state_file(point['step'])} is missing")

    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=config.steps, initial=min(point["step"], config.steps), position=position,
                   desc=config.model, leave=True, dynamic_ncols=True, unit="step")
    with handles.graph.as_default():
        writer = EventsWriter(str(folder.events))
    own_draw = draw is None
    if own_draw:
        draw = figures.Drawer()
    monitor = None
    failed = True
    try:
        with handles.graph.as_default():
            saver = saving.Saver(max_to_keep=5)
            with _quiet_saver():
                saver.recover_last_checkpoints(point["kept"])  # the older ones still rotate out
            log_every = min(LOG_EVERY, config.visualize_every)
            # On the fast path the summary comes from the loop's outputs: handles.elbo
            # would pull an extra batch from the iterator in the same run.
            source = handles.train_run if fast else handles
            train_summary = v1.summary.merge([
                v1.summary.scalar(f"train/{key}", getattr(source, f"first_{key}" if fast else key))
                for key in runs.METRIC_KEYS])
            monitor = Monitor(handles, folder, data, writer, draw=draw, say=None if progress else say,
                              on_reconstructions=on_reconstructions, threads=threads[1],
                              validated_steps={r["step"] for r in records if r["split"] == "validation"})
            clock = _Clock(point["train_seconds"], monitor)
            interrupted = []
            validation = hooks.ValidationHook(handles, monitor, config.visualize_every,
                                              finished=lambda: not interrupted)
            listeners = [checkpointing.FiniteParametersCheck(handles, folder.checkpoints),
                         checkpointing.FiguresWritten(monitor),
                         checkpointing.LoopStateListener(folder, saver, clock.seconds, dataset)]
            stopper = hooks.StopAtStepHook(handles, config.steps)
            all_hooks = [
                # First: it raises before the saver can see a non-finite step.
                hooks.FiniteLossGuard(handles, folder.checkpoints),
                *([hooks.InputInitHook(handles, data.train_images, data.train_start, config.steps)] if fast else []),
                stopper,
                (hooks.LoopSummaryHook(handles, writer, log_every, train_summary) if fast else
                 v1.train.SummarySaverHook(save_steps=log_every, summary_writer=writer, summary_op=train_summary)),
                hooks.TrainMetricsHook(handles, monitor, log_every, bar),
                validation,
                # After the hooks that write metrics and figures (see legacy_vae.engine.hooks).
                checkpointing.CheckpointSaverHook(folder.checkpoints, config.checkpoint_every, saver, writer, listeners,
                                          steps_per_run=STEPS_PER_RUN if fast else 1),
                *extra_hooks,
            ]
            scaffold = v1.train.Scaffold(init_op=handles.init_op, saver=saver, summary_op=train_summary)
            # The chosen checkpoint, by path: checkpoint_dir would trust the state file's paths.
            creator = v1.train.ChiefSessionCreator(scaffold=scaffold, checkpoint_filename_with_path=point["prefix"],
                                                   config=session_config(*threads))
            x = model_data.image_input(handles)
            with _quiet_saver(), v1.train.MonitoredSession(session_creator=creator, hooks=all_hooks) as session:
                clock.start()
                while not session.should_stop():
                    if stop is not None and stop.is_set():
                        interrupted.append(True)
                        break
                    if fast:
                        steps = run_length(stopper.step, config.steps,
                                           (config.visualize_every, config.checkpoint_every, log_every))
                        session.run(handles.train_steps, {handles.steps_per_run: steps})
                    else:
                        session.run(handles.train_op, {x: dataset.next_batch(config.batch_size)[0]})
                clock.stop()
        checkpoint = saver.last_checkpoints[-1] if saver.last_checkpoints else None
        if interrupted:
            results = {"model": config.model, "interrupted": True, "step": validation.step,
                       "checkpoint": checkpoint}
        else:
            train_seconds = clock.seconds()
            results = {"model": config.model, "steps": validation.step, "seed": config.seed,
                       "feed_dict": not fast, **(validation.results or {}),
                       "validation_elbo": (monitor.last_validation or {}).get("elbo"),
                       "train_seconds": train_seconds,
                       "steps_per_second": validation.step / train_seconds if train_seconds > 0 else None,
                       # Relative to the run folder, which may be moved.
                       "checkpoint": checkpoint and checkpoints.relative(checkpoint, folder.root)}
            runs.write_json(folder.results, results)
            draw.submit(figures.save, plots.loss_curves, folder.figures / "loss_curves.png",
                        {config.model: runs.read_metrics(folder.metrics)})
        failed = False
    finally:
        # Every figure given is drawn, also after an error (whose own message then wins).
        with contextlib.ExitStack() as closing:
            closing.callback(writer.close)
            if bar is not None:
                closing.callback(bar.close)
            if own_draw:
                closing.callback(_close, draw.close, failed)
            if monitor is not None:
                closing.callback(_close, monitor.close, failed)
    return results


def _close(close, failed: bool) -> None:
    if not failed:
        close()
        return
    with contextlib.suppress(Exception):
        close()
