"""The post model: Hafner's "Building Variational Auto-Encoders in TensorFlow"
(https://danijar.com/building-variational-auto-encoders-in-tensorflow/).

    q(z | x) = N(loc(x), diag(scale(x)^2)),  a 784-200-200 ReLU MLP, scale through a softplus
    p(z)     = N(0, I),  z in R^2 by default
    p(x | z) = Bernoulli(sigmoid(logits(z))),  a 2-200-200-784 ReLU MLP
    ELBO     = E_q[log p(x | z)] - KL(q(z | x) || p(z)),  one sample z = loc + scale * eps per image

The post wrote this with ``tf.layers.dense`` and ``tf.contrib.distributions``;
both are gone, so the layers are rebuilt on ``get_variable`` (``layers``:
unnamed layers get the scopes ``dense``, ``dense_1``, ... as before) and the
densities are written out (``losses``: the closed-form KL that
``tfd.kl_divergence`` computed, the Bernoulli log-probability that
``tfd.Independent(tfd.Bernoulli(logits), 2).log_prob`` computed). The
variables are the post's, name for name::

    encoder/dense/kernel   [784, 200]   encoder/dense_1/kernel [200, 200]
    encoder/dense_2/kernel [200, code]  (loc)    encoder/dense_3/kernel [200, code]  (scale)
    decoder/dense/kernel   [code, 200]  decoder/dense_1/kernel [200, 200]
    decoder/dense_2/kernel [200, 784]   (logits)          and a ``bias`` beside each kernel

``tf.compat.v1.make_template`` wraps encoder and decoder, as in the post: the
first call creates the variables, every later call (the prior samples, the
fast engine's towers) reuses them.

``build(config)`` makes the graph in a ``tf.Graph`` of its own;
``make_model(config, x)`` builds the same graph into the current default
graph, so that the fast engine (legacy_vae.engine.fast) and the cluster
(legacy_vae.cluster.graph) can open that graph themselves, with their own
``tf.data`` input as ``x`` or their own variable placement around it.
"""
from __future__ import annotations

import functools

import tensorflow as tf

from legacy_vae.models import inputs, layers, losses
from legacy_vae.models.handles import ModelHandles, Terms

v1 = tf.compat.v1


def make_encoder(x, code_size, hidden_size):
    """x -> (loc, scale) of q(z | x); the softplus keeps the scale positive."""
    h = layers.flatten(x)
    h = layers.dense(h, hidden_size, tf.nn.relu)
    h = layers.dense(h, hidden_size, tf.nn.relu)
    loc = layers.dense(h, code_size)
    scale = layers.dense(h, code_size, tf.nn.softplus)
    return tf.identity(loc, name="loc"), tf.identity(scale, name="scale")


def make_decoder(code, hidden_size):
    """z -> the 784 Bernoulli logits of p(x | z)."""
    h = layers.dense(code, hidden_size, tf.nn.relu)
    h = layers.dense(h, hidden_size, tf.nn.relu)
    logits = layers.dense(h, inputs.IMAGE_SIZE)
    return tf.identity(logits, name="logits")


def elbo_terms(encoder, decoder, x, eps) -> Terms:
    """The whole model on a batch, as the post's "Define the model" and "Define the loss" lines."""
    loc, scale = encoder(x)                              # posterior = make_encoder(data)
    code = losses.reparameterize(loc, scale, eps)        # code = posterior.sample()
    logits = decoder(code)
    likelihood = losses.log_likelihood(x, logits)        # make_decoder(code).log_prob(data)
    divergence = losses.kl(loc, scale)                   # kl_divergence(posterior, prior)
    return Terms(loc, scale, code, logits, likelihood, divergence)


def build(config) -> ModelHandles:
    """The post model's graph, in a ``tf.Graph`` of its own, and its named handles."""
    with tf.Graph().as_default():
        return make_model(config)


def make_model(config, x=None) -> ModelHandles:
    """Build the post model into the current default graph and name its tensors.

    ``x``: the batch of digits, a new placeholder unless the caller brings its own
    tensor (the fast engine brings one whose default is its tf.data batch).
    """
    v1.set_random_seed(config.seed)  # the graph-level seed makes every initializer's draw repeatable
    global_step = v1.train.get_or_create_global_step()
    x, eps = inputs.data_and_noise(config, global_step, x)
    encoder = v1.make_template("encoder", make_encoder, code_size=config.code_size,
                               hidden_size=config.hidden_size)
    decoder = v1.make_template("decoder", make_decoder, hidden_size=config.hidden_size)

    # Define the model.
    prior_eps = inputs.prior_sample(config)  # prior.sample(10), drawn once
    loc, scale, code, logits, likelihood, divergence = elbo_terms(encoder, decoder, x, eps)

    # Define the loss.
    with v1.name_scope("loss"):
        reconstruction, kl, elbo, loss = losses.objective(likelihood, divergence)
    with v1.name_scope("train"):
        optimizer = v1.train.AdamOptimizer(config.learning_rate, epsilon=config.adam_epsilon)
        optimize = optimizer.minimize(loss, global_step=global_step)
    prior_logits = decoder(prior_eps)  # the decoder's second call reuses its variables

    # What the figures show: Bernoulli means (sigmoid of the logits) and one Bernoulli draw.
    reconstructions = tf.sigmoid(logits, name="reconstructions")
    x_hat = losses.bernoulli_sample(logits, inputs.sample_seed(config, global_step), name="x_hat")
    samples = tf.sigmoid(prior_logits, name="prior_samples")  # make_decoder(prior.sample(10)).mean()
    return ModelHandles(
        graph=v1.get_default_graph(), config=config, x=x, eps=eps, prior_eps=prior_eps,
        global_step=global_step, code_mean=loc, code_stddev=scale, z=code, logits=logits,
        per_image_log_likelihood=likelihood, per_image_kl=divergence,
        reconstruction=reconstruction, kl=kl, elbo=elbo, loss=loss, train_op=optimize,
        reconstructions=reconstructions, x_hat=x_hat, prior_samples=samples,
        init_op=v1.global_variables_initializer(), optimizer=optimizer,
        terms=functools.partial(elbo_terms, encoder, decoder))
