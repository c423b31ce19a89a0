"""The chief's evaluations run on a snapshot of the weights, in a local graph.

On a cluster the other workers keep updating while the chief evaluates: an
ELBO over 5,000 validation images fed in chunks, each chunk a run that reads
the weights from the parameter servers, would mix several models, and the
step it is filed under would name none of them (the first prototype showed
a step-0 validation ELBO of -517 beside a "step-0" test ELBO of -204: 125
updates had landed in between). So the chief fetches the weights and the
global step in one run, loads them into a single-process graph of the same
model (``post.build`` / ``slim_vae.build``, no devices, a session of its own),
and every figure and number of that evaluation comes from that snapshot, at
the step it was taken. It also keeps evaluation traffic off the ps.
"""
from __future__ import annotations

import tensorflow as tf

from legacy_vae.models import builder as model_builder
from legacy_vae.engine.threads import session_config

v1 = tf.compat.v1


class Snapshot:
    """A local copy of the model: ``load(session)`` copies the cluster's weights into it."""

    def __init__(self, config, cluster_handles):
        self.handles = model_builder(config.model)(config)
        with cluster_handles.graph.as_default():
            source = {v.op.name: v for v in v1.trainable_variables()}
        self.fetches = {"step": cluster_handles.global_step, "weights": source}
        with self.handles.graph.as_default():
            local = {v.op.name: v for v in v1.trainable_variables()}
            if set(local) != set(source):
                raise ValueError(f"the local and the cluster graph differ in their weights: "
                                 f"{sorted(set(local) ^ set(source))[:4]}")
            self.feeds = {name: v1.placeholder(v.dtype.base_dtype, v.shape) for name, v in local.items()}
            step = v1.placeholder(tf.int64, [])
            self.feeds_step = step
            self.assign = tf.group([local[name].assign(value) for name, value in self.feeds.items()]
                                   + [self.handles.global_step.assign(step)])
            init = v1.global_variables_initializer()
        self.session = v1.Session(graph=self.handles.graph, config=session_config(1, 1))
        self.session.run(init)
        self.step = None

    def load(self, cluster_session) -> int:
        """Copy the cluster's weights and global step (one run) into the local graph; return the step.

        ``cluster_session`` is a raw session (a hook's ``run_context.session``
        or the one ``end`` gets), so the copy does not count as a training run.
        """
        values = cluster_session.run(self.fetches)
        feed = {self.feeds[name]: value for name, value in values["weights"].items()}
        feed[self.feeds_step] = int(values["step"])
        self.session.run(self.assign, feed)
        self.step = int(values["step"])
        return self.step

    def close(self):
        self.session.close()
