"""What both graph models share: their inputs and noise, and the loss and train op.

The noise is drawn by stateless random ops keyed on (seed, global step), so a
step computes the same thing whether the run was resumed or not; ``x`` and
``eps`` are placeholders with defaults, so a test or notebook can feed its own
batch and noise into the very graph that trains.
"""
from __future__ import annotations

import tensorflow as tf

from legacy_vae.graph import losses, pipeline
from legacy_vae.graph.handles import ModelHandles

v1 = tf.compat.v1


def input_tensors(config, global_step, fast_input=None):
    """Create ``x``, ``eps`` and ``prior_eps`` (and the tf.data pipeline if fast)."""
    if fast_input is None:
        fast_input = config.fast_input
    source = None
    if fast_input:
        source = pipeline.make_input(config.seed, config.batch_size)
        x = v1.placeholder_with_default(source.next_batch, [None, 784], name="x")
    else:
        x = v1.placeholder(tf.float32, [None, 784], name="x")
    if config.binarize == "dynamic":
        # A fresh Bernoulli draw of every pixel at every step.
        keys = tf.random.stateless_uniform(tf.shape(x), pipeline.stream_seed(
            config.seed, pipeline.STREAM_BINARIZE, global_step))
        x = tf.cast(keys < x, tf.float32, name="x_binarized")
    noise = tf.random.stateless_normal(
        tf.stack([tf.shape(x)[0], config.code_size]),
        pipeline.stream_seed(config.seed, pipeline.STREAM_EPS, global_step))
    eps = v1.placeholder_with_default(noise, [None, config.code_size], name="eps")
    # Prior draws use the same noise at every step, so sample grids show training progress.
    prior_noise = tf.random.stateless_normal(
        [config.num_prior_samples, config.code_size],
        pipeline.stream_seed(config.seed, pipeline.STREAM_PRIOR, 0))
    prior_eps = v1.placeholder_with_default(prior_noise, [config.num_prior_samples, config.code_size],
                                            name="prior_eps")
    return x, eps, prior_eps, source


def finish_graph(config, graph, global_step, x, eps, prior_eps, source, *,
                 code_mean, code_stddev, z, logits, per_image_kl, prior_logits):
    """Add the ELBO, Adam and the initializer, and collect the handles."""
    with v1.name_scope("loss"):
        log_lik = losses.log_likelihood(x, logits)
        reconstruction = tf.reduce_mean(-log_lik, name="reconstruction")
        kl = tf.reduce_mean(per_image_kl, name="kl")
        elbo = tf.identity(losses.elbo(log_lik, per_image_kl), name="elbo")
        loss = tf.negative(elbo, name="loss")
    with v1.name_scope("train"):
        optimizer = v1.train.AdamOptimizer(config.learning_rate, epsilon=config.adam_epsilon)
        train_op = optimizer.minimize(loss, global_step=global_step)
    return ModelHandles(
        graph=graph, config=config, x=x, eps=eps, prior_eps=prior_eps, global_step=global_step,
        code_mean=code_mean, code_stddev=code_stddev, z=z, logits=logits,
        per_image_log_likelihood=log_lik, per_image_kl=per_image_kl,
        reconstruction=reconstruction, kl=kl, elbo=elbo, loss=loss, train_op=train_op,
        reconstructions=tf.sigmoid(logits, name="reconstructions"),
        prior_samples=tf.sigmoid(prior_logits, name="prior_samples"),
        init_op=v1.global_variables_initializer(), input=source)
