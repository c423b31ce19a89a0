"""The inputs of a graph model: the image placeholder ``x`` and the noise ``eps``.

The seeds drew their noise inside the graph (``posterior.sample()``,
``tf.random_normal``), so every run of the graph drew new numbers and a run
could not be repeated or resumed exactly. Here the noise is a *stateless*
random op keyed on (seed, stream, global step): the step that trains with it
draws the same numbers whether the run was resumed or not, and the classic
loop and the fast loop draw the same numbers at the same step. ``eps`` is a
``placeholder_with_default`` of that draw, so a test or a notebook can still
feed its own noise (TF1 lets any such tensor be fed)::

    eps      ~ N(0, I)   [batch, code]   stream EPS,   counter = global step
    x_hat    ~ Bernoulli(sigmoid(logits)) stream SAMPLE, counter = global step
    prior    ~ N(0, I)   [samples, code] stream PRIOR, counter = 0 (the same
               draw at every step, so sample grids show training progress)
    binarize:  x ~ Bernoulli(grey)       stream BINARIZE, counter = global step

The stream ids and keys are legacy_vae.streams', so no two streams share numbers.
"""
from __future__ import annotations

import tensorflow as tf

from legacy_vae import streams

v1 = tf.compat.v1

IMAGE_SIZE = 784


def data_and_noise(config, global_step, x=None):
    """``x`` and ``eps`` of a model graph (see the module docstring).

    ``x`` is a plain placeholder, as in the seeds, unless the caller brings
    its own images tensor (the fast engine brings a placeholder whose default
    is its tf.data batch). With ``config.binarize == "dynamic"`` the model
    sees ``x_binarized``, a fresh draw at every step.
    """
    if x is None:
        x = v1.placeholder(tf.float32, [None, IMAGE_SIZE], name="x")
    if config.binarize == "dynamic":
        x = binarize(config.seed, x, global_step, name="x_binarized")
    eps = v1.placeholder_with_default(noise(config.seed, x, config.code_size, global_step),
                                      [None, config.code_size], name="eps")
    return x, eps


def prior_sample(config):
    """``prior_eps``: ``config.num_prior_samples`` codes drawn once from p(z) = N(0, I).

    The post drew ``prior.sample(10)`` afresh at every look; one fixed draw
    makes the sample grids show training progress instead of new noise.
    """
    draw = tf.random.stateless_normal([config.num_prior_samples, config.code_size],
                                      streams.key(config.seed, streams.PRIOR, 0))
    return v1.placeholder_with_default(draw, [config.num_prior_samples, config.code_size], name="prior_eps")


def placeholders(config, global_step):
    """``x``, ``eps`` and ``prior_eps`` in one call, for a graph built by hand (notebooks 01 and 02)."""
    return (*data_and_noise(config, global_step), prior_sample(config))


def noise(seed, x, code_size, step):
    """N(0, I) noise of one step, one row per image of ``x``."""
    return tf.random.stateless_normal(tf.stack([tf.shape(x)[0], code_size]),
                                      streams.key(seed, streams.EPS, step))


def binarize(seed, x, step, name=None):
    """A fresh Bernoulli draw of every pixel of ``x`` (dynamic binarization)."""
    keys = tf.random.stateless_uniform(tf.shape(x), streams.key(seed, streams.BINARIZE, step))
    return tf.cast(keys < x, tf.float32, name=name)


def sample_seed(config, global_step):
    """The key of the Bernoulli sample ``x_hat`` at this step."""
    return streams.key(config.seed, streams.SAMPLE, global_step)
