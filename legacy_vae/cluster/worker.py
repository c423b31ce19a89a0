"""One worker of the cluster: its server, its graph, its shard of the data, its loop.

Between-graph replication, as TF1 did it: every worker runs this same code,
builds the same graph (its variables on the parameter servers, see
:mod:`legacy_vae.cluster.graph`) and feeds its own batches. Worker 0, the
chief, also initializes or restores the variables and writes the run folder
(checkpoints, metrics, events, figures, results.json) exactly as the
single-process loop lays it out; the others only train.

Data: worker ``i`` of ``W`` trains on the training images ``i::W`` (its
shard), shuffled per epoch by a DataSet of its own; the noise ``eps`` it
feeds comes from a generator of its own, so no two workers share noise.
On a restart the shards' order is drawn afresh, keyed on the restored step.
"""
from __future__ import annotations

import os
import time

import numpy as np
import tensorflow as tf

from legacy_vae import plots, runs
from legacy_vae.cluster import chief as chief_records
from legacy_vae.cluster import graph as cluster_graph
from legacy_vae.cluster import hooks
from legacy_vae.cluster.processes import write_cpu
from legacy_vae.cluster.sessions import ChiefCreator, ClusterLost, WorkerCreator
from legacy_vae.cluster.snapshot import Snapshot
from legacy_vae.data import DataSet, read_data_sets
from legacy_vae.engine import model_data
from legacy_vae.engine import checkpointing
from legacy_vae.engine.loop import LOG_EVERY
from legacy_vae.engine.monitor import Monitor

v1 = tf.compat.v1

STREAM_SHARD, STREAM_NOISE = 11, 12  # seeds of the workers' own generators, apart from the graph's streams


def updates_path(run_dir, index: int):
    return runs.ModelFolder(run_dir).root / "cluster" / f"updates-worker{index}.jsonl"


class _ReleaseWorkersHook(v1.train.SessionRunHook):
    """Sync only, last of the chief's hooks: put one token per worker in the queue at the end,
    so that workers blocked waiting for the next step get one, see the last step and stop."""

    def __init__(self, release_op):
        self.release_op = release_op

    def end(self, session):
        session.run(self.release_op)


def _chief_hooks(config, wg, folder, data, writer, start, finished, say):
    h = wg.handles
    records = runs.truncate_metrics(folder.metrics, start) if start else []
    snapshot = Snapshot(config, h)
    monitor = Monitor(snapshot.handles, folder, data, writer, say=say,
                      validated_steps={r["step"] for r in records if r["split"] == "validation"})
    log_every = min(LOG_EVERY, config.visualize_every)
    train_summary = v1.summary.merge([v1.summary.scalar(f"train/{key}", getattr(h, key))
                                      for key in runs.METRIC_KEYS])
    record = chief_records.ChiefRecordHook(wg.step_after, h.global_step, h, snapshot, monitor,
                                           config.visualize_every, log_every, finished)
    saver = checkpointing.CheckpointSaverHook(folder.checkpoints, config.checkpoint_every, wg.saver, writer,
                                           listeners=[checkpointing.FiniteParametersCheck(h, folder.checkpoints)])
    summaries = v1.train.SummarySaverHook(save_steps=log_every, summary_writer=writer, summary_op=train_summary)
    return monitor, record, [chief_records.FirstLook(record), saver, summaries, record]


def train_worker(config, spec: dict, index: int, run_dir, *, sync=False, threads=(1, 2), stop=None,
                 say=print) -> dict:
    """Run worker ``index`` until the global step reaches ``config.steps`` (or ``stop`` is set).

    Returns the chief's results.json dict (``{"interrupted": True, ...}`` if
    stopped early) or, on another worker, ``{"worker", "updates"}``. Raises
    :class:`ClusterLost` if the parameter servers go away.
    """
    chief = index == 0
    # This worker's own server: the master its session talks to (server.target).
    server = tf.distribute.Server(tf.train.ClusterSpec(spec), job_name="worker", task_index=index,
                                  config=cluster_graph.session_config("worker", index, threads), start=True)
    wg = cluster_graph.build(config, spec, index, sync=sync)
    h = wg.handles
    folder = runs.ModelFolder(run_dir)
    (folder.root / "cluster").mkdir(parents=True, exist_ok=True)
    data = model_data.prepare_data(config, read_data_sets(config.data_dir, seed=config.seed))
    start = runs.checkpoint_step(tf.train.latest_checkpoint(str(folder.checkpoints))) if chief else None
    interrupted = []

    writer = monitor = record = None
    with h.graph.as_default():
        stopper = hooks.StopAtStepHook(wg.step_after, h.global_step, config.steps)
        updates = hooks.UpdateLogHook(wg.step_after, h.global_step, updates_path(run_dir, index), index)
        all_hooks = [stopper, updates]
        if wg.sync_optimizer is not None:
            all_hooks.append(wg.sync_optimizer.make_session_run_hook(chief))
        scaffold = v1.train.Scaffold(init_op=h.init_op, saver=wg.saver)
        session_config = cluster_graph.session_config("worker", index, threads)
        if chief:
            folder.create()
            config.save(folder.config)
            writer = v1.summary.FileWriter(str(folder.events))
            monitor, record, own_hooks = _chief_hooks(config, wg, folder, data, writer, start or 0,
                                                      finished=lambda: not interrupted, say=say)
            all_hooks = [chief_records.SettleHook(h.global_step), *all_hooks, *own_hooks]
            if wg.sync_optimizer is not None:
                release = wg.sync_optimizer.get_init_tokens_op(len(spec["worker"]))
                all_hooks.append(_ReleaseWorkersHook(release))
            creator = ChiefCreator(scaffold, server.target, session_config, folder.checkpoints)
        else:
            creator = WorkerCreator(scaffold, server.target, session_config, index)

    x = model_data.image_input(h)
    try:
        with h.graph.as_default(), v1.train.MonitoredSession(session_creator=creator, hooks=all_hooks,
                                                             stop_grace_period_secs=10) as session:
            first = stopper.step
            workers = len(spec["worker"])
            shard = DataSet(data.train_images[index::workers], data.train_labels[index::workers],
                            seed=[config.seed, STREAM_SHARD, index, first])
            noise = np.random.default_rng([config.seed, STREAM_NOISE, index, first])
            say(f"worker {index}: training from global step {first} to {config.steps}"
                f"{' (synchronous)' if sync else ''}")
            began, cpu_began, updates_before = time.perf_counter(), time.process_time(), updates.updates
            while stopper.step < config.steps and not session.should_stop():
                if stop is not None and stop.is_set():
                    interrupted.append(True)
                    break
                images = shard.next_batch(config.batch_size)[0]
                eps = noise.standard_normal((config.batch_size, config.code_size)).astype(np.float32)
                session.run(wg.train_op, {x: images, h.eps: eps})
            loop_seconds = time.perf_counter() - began
            write_cpu(run_dir, f"worker{index}", time.process_time() - cpu_began, updates.updates - updates_before)
    finally:
        if writer is not None:
            writer.close()
        if record is not None:
            record.snapshot.close()

    if not chief:
        return {"worker": index, "updates": updates.updates, "interrupted": bool(interrupted)}
    checkpoint = tf.train.latest_checkpoint(str(folder.checkpoints))
    if interrupted:
        return {"model": config.model, "interrupted": True, "step": record.final_step, "checkpoint": checkpoint}
    # The other workers train on while the chief evaluates, so its evaluations stay in the time.
    train_seconds = max(loop_seconds, 1e-9)
    results = {"model": config.model, "steps": record.final_step, "seed": config.seed, "feed_dict": True,
               **(record.results or {}), "validation_elbo": (monitor.last_validation or {}).get("elbo"),
               "train_seconds": train_seconds,
               # Global steps (all workers' updates) per second of the chief's loop.
               "steps_per_second": (record.final_step - first) / train_seconds,
               "start_step": first, "chief_updates": updates.updates,
               "checkpoint": os.path.abspath(checkpoint),
               "cluster": {"ps": len(spec["ps"]), "workers": len(spec["worker"]), "sync": bool(sync)}}
    runs.write_json(folder.results, results)
    plots.save(plots.loss_curves({config.model: runs.read_metrics(folder.metrics)}), folder.figures / "loss_curves.png")
    return results


__all__ = ["train_worker", "ClusterLost", "updates_path"]
