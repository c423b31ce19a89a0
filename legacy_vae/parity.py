"""TF1 graph model versus its TF2 eager twin: the same weights, batch and noise.

Typical use (a notebook, a test)::

    handles, session = parity.restore(run_dir)           # or build + init yourself
    twin = parity.twin_from_session(handles, session)    # same weights, eager
    parity.compare_losses(handles, session, twin, images, eps)
    parity.compare_gradients(handles, session, twin, images, eps)
    parity.monte_carlo_kl(*twin.posterior(images), draws=100_000)

Differences are reported as relative numbers: for a scalar
``|tf2 - tf1| / |tf1|``; for a weight tensor ``max|g2 - g1| / max|g1|``
(elementwise ratios blow up where a gradient is nearly zero).

The Monte Carlo KL estimates KL(q || p) = E_q[log q(z|x) - log p(z)] with
z = mean + stddev * eps, in float64; per draw and code dimension
``log q - log p = -eps^2/2 - log stddev + z^2/2`` (the log 2 pi terms cancel).
Its standard error is the sample standard deviation over sqrt(draws); the
average over images has SE sqrt(sum SE_i^2) / N (independent draws).
This module bridges both worlds, so it uses ``tf.compat.v1`` (sessions, Saver).
"""
from __future__ import annotations

import weakref
from pathlib import Path

import numpy as np
import tensorflow as tf

from legacy_vae import layout
from legacy_vae.models.twins import twin_for
from legacy_vae.models import builder

v1 = tf.compat.v1
TERMS = ("reconstruction", "kl", "elbo")
_GRADIENTS = weakref.WeakKeyDictionary()  # graph -> (variables, gradient tensors)


def build_graph_model(config):
    """The graph model of ``config`` (``post`` or ``slim``), in its own new graph."""
    return builder(config.model)(config)


def start(config):
    """(handles, session) of a graph model of ``config``, initialised from ``config.seed``.

    The builders set the graph-level seed, so the start is the training loop's.
    """
    handles = build_graph_model(config)
    session = v1.Session(graph=handles.graph)
    session.run(handles.init_op)
    return handles, session


def restore(path, config=None):
    """(handles, session) of a graph model restored from a run folder or a checkpoint prefix.

    A run folder supplies ``config.json`` and its latest checkpoint; a prefix
    such as ``RUN/checkpoints/model.ckpt-600`` needs ``config`` (or a
    ``config.json`` two folders up).
    """
    from legacy_vae.config import Config

    path = Path(path)
    if path.is_dir():
        from legacy_vae.checkpoints import newest_intact

        prefix = newest_intact(path / "checkpoints").prefix  # by file name: the folder may have moved
        if prefix is None:
            raise ValueError(f"{path / 'checkpoints'} has no checkpoint; train the model first")
        config = config or Config.load(path / "config.json")
    else:
        prefix = str(path)
        if config is None:
            config_path = path.parent.parent / "config.json"
            if not config_path.exists():
                raise ValueError(f"pass config=...: no config.json next to {path}")
            config = Config.load(config_path)
    layout.check(prefix)
    handles = build_graph_model(config)
    session = v1.Session(graph=handles.graph)
    with handles.graph.as_default():
        v1.train.Saver().restore(session, prefix)
    return handles, session


def graph_weights(session, graph=None) -> dict:
    """{variable name: array} of every trainable variable of a graph model."""
    graph = graph if graph is not None else session.graph
    variables = graph.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)
    return {v.op.name: value for v, value in zip(variables, session.run(variables))}


def twin_from_session(handles, session):
    """An eager twin of ``handles``' model holding the session's current weights."""
    twin = twin_for(handles.config)
    twin.load(graph_weights(session, handles.graph))
    return twin


def _relative(a, b) -> float:
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    scale = np.max(np.abs(b))
    return float(np.max(np.abs(a - b)) / scale) if scale > 0 else float(np.max(np.abs(a - b)))


def graph_losses(handles, session, images, eps) -> dict:
    values = session.run([handles.reconstruction, handles.kl, handles.elbo], handles.feed(images, eps))
    return {name: float(value) for name, value in zip(TERMS, values)}


def twin_losses(twin, images, eps) -> dict:
    out = twin.losses(images, eps)
    return {name: float(out[name]) for name in TERMS}


def compare_losses(handles, session, twin, images, eps) -> dict:
    """Reconstruction, closed-form KL and ELBO from both frameworks and their relative differences."""
    tf1, tf2 = graph_losses(handles, session, images, eps), twin_losses(twin, images, eps)
    return {"tf1": tf1, "tf2": tf2, "relative_difference": {k: _relative(tf2[k], tf1[k]) for k in TERMS}}


def graph_gradients(handles, session, images, eps) -> dict:
    """{variable name: d loss / d variable} in the graph (gradient ops are added once per graph)."""
    graph = handles.graph
    if graph not in _GRADIENTS:
        if graph.finalized:
            raise ValueError("the graph is finalized, so gradient ops cannot be added; "
                             "use parity.restore(...) to get a fresh graph")
        with graph.as_default():
            variables = graph.get_collection(v1.GraphKeys.TRAINABLE_VARIABLES)
            _GRADIENTS[graph] = (variables, tf.gradients(handles.loss, variables))
    variables, gradients = _GRADIENTS[graph]
    values = session.run(gradients, handles.feed(images, eps))
    return {v.op.name: value for v, value in zip(variables, values)}


def twin_gradients(twin, images, eps) -> dict:
    """{graph variable name: d loss / d variable} in the eager twin, by ``tf.GradientTape``."""
    with tf.GradientTape() as tape:
        loss = twin.losses(images, eps)["loss"]
    gradients = tape.gradient(loss, twin.variable_list)
    return {name: g.numpy() for name, g in zip(twin.names, gradients)}


def compare_gradients(handles, session, twin, images, eps) -> dict:
    """{"tf1": {...}, "tf2": {...}, "relative_difference": {name: float}} for every weight."""
    tf1 = graph_gradients(handles, session, images, eps)
    tf2 = twin_gradients(twin, images, eps)
    if set(tf1) != set(tf2):
        raise ValueError(f"the graph and the twin name different variables: "
                         f"{sorted(set(tf1) ^ set(tf2))}")
    return {"tf1": tf1, "tf2": tf2, "relative_difference": {k: _relative(tf2[k], tf1[k]) for k in tf1}}


def closed_form_kl(mean, stddev) -> np.ndarray:
    """KL(N(mean, stddev^2) || N(0, I)) per image, in float64."""
    mean, stddev = np.asarray(mean, np.float64), np.asarray(stddev, np.float64)
    return np.sum(0.5 * (mean ** 2 + stddev ** 2 - 1.0) - np.log(stddev), axis=-1)


def monte_carlo_kl(mean, stddev, draws: int = 100_000, seed: int = 0, chunk_values: int = 4_000_000) -> dict:
    """E_q[log q(z|x) - log p(z)] by sampling, per image and averaged, with standard errors.

    Returns ``per_image``, ``per_image_stderr``, ``closed_form`` (arrays [N])
    and ``mean``, ``mean_stderr``, ``mean_closed_form`` (floats).
    """
    mean, stddev = np.asarray(mean, np.float64), np.asarray(stddev, np.float64)
    if mean.shape != stddev.shape or mean.ndim != 2:
        raise ValueError(f"mean and stddev must both be [N, code], got {mean.shape} and {stddev.shape}")
    if draws < 2:
        raise ValueError(f"draws must be at least 2 to have a standard error, got {draws}")
    rng = np.random.default_rng(seed)
    total, total_sq = np.zeros(len(mean)), np.zeros(len(mean))
    per_chunk = max(1, chunk_values // mean.size)
    for start in range(0, draws, per_chunk):
        eps = rng.standard_normal((min(per_chunk, draws - start),) + mean.shape)
        z = mean + stddev * eps
        log_ratio = np.sum(-0.5 * eps ** 2 - np.log(stddev) + 0.5 * z ** 2, axis=-1)
        total += log_ratio.sum(axis=0)
        total_sq += (log_ratio ** 2).sum(axis=0)
    per_image = total / draws
    variance = (total_sq - draws * per_image ** 2) / (draws - 1)
    stderr = np.sqrt(np.maximum(variance, 0.0) / draws)
    closed = closed_form_kl(mean, stddev)
    return {"per_image": per_image, "per_image_stderr": stderr, "closed_form": closed,
            "mean": float(per_image.mean()), "mean_stderr": float(np.sqrt(np.sum(stderr ** 2)) / len(mean)),
            "mean_closed_form": float(closed.mean())}
