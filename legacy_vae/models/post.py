"""The post model: Hafner's "Building Variational Auto-Encoders in TensorFlow".

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
"""
from __future__ import annotations

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
    """The whole model on a batch: encode, reparameterize, decode, and the per-image ELBO terms."""
    loc, scale = encoder(x)
    code = losses.reparameterize(loc, scale, eps)
    logits = decoder(code)
    return Terms(code_mean=loc, code_stddev=scale, z=code, logits=logits,
                 log_likelihood=losses.log_likelihood(x, logits), kl=losses.kl(loc, scale))


def build(config, images=None, device=None) -> ModelHandles:
    """The post model's graph, in a ``tf.Graph`` of its own, and its named handles.

    Encoder and decoder are templates: ``terms`` (for the fast engine's towers)
    and the prior samples call them again on the same variables. ``images``:
    a function returning a batch tensor to make ``x``'s default (the fast
    engine's tf.data input); without it ``x`` must be fed, as in the post.
    ``device``: a device function for every op (``replica_device_setter``).
    """
    with inputs.model_graph(config, images, device) as (graph, global_step, x, eps, prior_eps):

        encoder = v1.make_template("encoder", make_encoder, code_size=config.code_size,
                                   hidden_size=config.hidden_size)
        decoder = v1.make_template("decoder", make_decoder, hidden_size=config.hidden_size)

        def terms(x, eps):
            return elbo_terms(encoder, decoder, x, eps)

        model = terms(x, eps)
        with v1.name_scope("loss"):
            reconstruction, kl, elbo, loss = losses.objective(model.log_likelihood, model.kl)
        with v1.name_scope("train"):
            optimizer = v1.train.AdamOptimizer(config.learning_rate, epsilon=config.adam_epsilon)
            train_op = optimizer.minimize(loss, global_step=global_step)
        # The decoder's second call reuses its variables: samples from the prior.
        prior_logits = decoder(prior_eps)
        return ModelHandles.collect(config, graph, global_step, (x, eps, prior_eps), model,
                                    (reconstruction, kl, elbo, loss), optimizer, train_op, prior_logits, terms)
