"""A worker's graph: the model's own graph, its variables placed on the parameter servers.

``replica_device_setter`` is the device function TF1's between-graph
replication was built on: every variable op (and, through colocation, its
initializer, its Adam slots and the ops that update them) goes to a ``ps``
task, round-robin over the ps tasks; every other op runs on this worker.
Each worker builds the same graph with the same names, so their variables
are the same variables, held once on the parameter servers.

``build`` opens the worker's ``tf.Graph`` under that device function and has
the model file build into it (``make_model(config)`` of
legacy_vae.models.post / slim_vae), so the cluster graph is the
single-process feed_dict graph name for name: a cluster checkpoint restores
into ``post.build``'s graph and into ``legacy-vae evaluate`` unchanged.

Synchronous training wraps the model's own Adam in ``SyncReplicasOptimizer``
and calls ``minimize`` once more on the same loss: Adam finds its slots and
``beta*_power`` already made by the model's ``train_op`` and reuses them, so
the variables (and the checkpoint) stay the same; the model's asynchronous
``train_op`` is left in the graph, unused.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import tensorflow as tf

from legacy_vae import models

v1 = tf.compat.v1


@dataclasses.dataclass(frozen=True)
class WorkerGraph:
    handles: Any          # the model's ModelHandles (feed_dict graph)
    train_op: Any         # the model's train_op (async) or the SyncReplicasOptimizer's
    step_after: Any       # the global step read after this worker's update (same run)
    saver: Any
    sync_optimizer: Any = None   # SyncReplicasOptimizer when training synchronously
    device: Any = None           # the device function the graph was built with


def device_function(spec: dict, index: int):
    """Variables to the ps tasks (round-robin), everything else to ``/job:worker/task:index``."""
    return v1.train.replica_device_setter(cluster=tf.train.ClusterSpec(spec),
                                          worker_device=f"/job:worker/task:{index}")


def build(config, spec: dict, index: int, sync: bool = False) -> WorkerGraph:
    """Worker ``index``'s graph of ``config.model`` for the cluster ``spec``."""
    device = device_function(spec, index)
    workers = len(spec["worker"])
    sync_optimizer = None
    graph = tf.Graph()
    with graph.as_default(), graph.device(device):
        handles = models.maker(config.model)(config)
        train_op = handles.train_op
        if sync:
            with v1.name_scope("sync"):
                # Every step waits for one gradient from each worker, averages
                # them and applies one Adam update: a big batch of workers x batch.
                sync_optimizer = v1.train.SyncReplicasOptimizer(
                    handles.optimizer, replicas_to_aggregate=workers, total_num_replicas=workers)
                train_op = sync_optimizer.minimize(handles.loss, global_step=handles.global_step)
        with tf.control_dependencies([train_op]):
            # Read on the ps once this worker's update is in. In async training
            # another worker may have added its update in between, so this is
            # "the global step just after my update", not an exclusive ticket.
            step_after = tf.identity(handles.global_step.read_value(), name="step_after")
        saver = v1.train.Saver(max_to_keep=5)
    return WorkerGraph(handles=handles, train_op=train_op, step_after=step_after, saver=saver,
                       sync_optimizer=sync_optimizer, device=device)


def placement(graph) -> list[tuple[str, str, list]]:
    """(name, device, shape) of every global variable of ``graph``: where each one lives."""
    with graph.as_default():
        return [(v.op.name, v.device, v.shape.as_list()) for v in v1.global_variables()]


def session_config(job: str, index: int, threads: tuple[int, int] = (1, 2)):
    """A ConfigProto for one task: its own thread pools and a device filter.

    The filter lets a worker see only the parameter servers and itself, so it
    neither waits for the other workers to start nor fails when one of them dies.
    """
    intra, inter = threads
    filters = ["/job:ps", f"/job:worker/task:{index}"] if job == "worker" else []
    return v1.ConfigProto(intra_op_parallelism_threads=intra, inter_op_parallelism_threads=inter,
                          device_filters=filters, allow_soft_placement=True)
