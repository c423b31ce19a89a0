"""Every random stream of the package: one id each, and the keys its draws use.

A draw is a pure function of (run seed, stream, counter), never of a global
random state, so a run repeats exactly, a resumed run draws what an
uninterrupted one would have, and two streams never share numbers::

    EPS       reparameterization noise, counter = step
    BINARIZE  dynamic binarization (graph: per step; NumPy: held-out sets once)
    PRIOR     the fixed prior draws behind sample grids, counter = 0
    ORDER     the TF2 CVAE's batch order, counter = epoch
    SHOW      the TF2 CVAE's noise for its shown digits
    TEST      the TF2 CVAE's noise for its test ELBO
    SAMPLE    the Bernoulli sample x_hat of a graph model's reconstructions
    ELBO      the evaluation's one-sample ELBO noise, counter = image index
    IW        the evaluation's importance samples, counter = image index

The graph models' batch order is the DataSet's own (legacy_vae.data).
"""
from __future__ import annotations

EPS, BINARIZE, PRIOR, ORDER, SHOW, TEST, SAMPLE, ELBO, IW = range(9)


def key(seed: int, stream: int, counter):
    """The [2] int64 key of a TensorFlow stateless op (a tensor; ``counter`` may be one)."""
    import tensorflow as tf

    return tf.stack([tf.constant(seed * 16 + stream, tf.int64), tf.cast(counter, tf.int64)])


def rng(seed: int, stream: int, *counters: int):
    """A NumPy generator for one stream (and counters such as an epoch or an image index)."""
    import numpy as np

    return np.random.default_rng([int(seed), int(stream), *(int(c) for c in counters)])
