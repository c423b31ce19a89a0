"""The Slim model: a tf.contrib.slim VAE notebook, on ``tf_slim``.

    encoder:  x -> fc1 (128, ReLU) -> fc2 (128, linear) = [mu | logvar],  z in R^64
    decoder:  z = mu + sqrt(exp(logvar)) * eps  (drawn inside the decoder, as the
              notebook did), then z -> fc1 (128, ReLU) -> fc2 (784 logits)
    loss:     reconstruction = sum over pixels of sigmoid cross-entropy,
              KL = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)),
              mean over the batch of their sum; Adam with its defaults

Every ``slim.fully_connected`` runs under one ``slim.arg_scope`` that sets
truncated-normal(0, 0.1) weights, and each layer is named as in the
notebook, so the variables are its own::

    encoder/fc1/weights [784, 128]   encoder/fc2/weights [128, 2 * code]
    decoder/fc1/weights [code, 128]  decoder/fc2/weights [128, 784]   and ``biases`` beside each

Prior samples reuse the decoder (``variable_scope(reuse=True)``, slim's way)
with mu = logvar = 0, so that z = eps ~ N(0, I).
"""
from __future__ import annotations

import contextlib
import warnings

import tensorflow as tf
import tf_slim as slim

from legacy_vae.models import inputs, losses
from legacy_vae.models.handles import ModelHandles, Terms

v1 = tf.compat.v1


@contextlib.contextmanager
def _slim_scope():
    """slim's arg_scope, with tf-slim's own deprecation warning silenced here only.

    tf_slim 1.1.0 calls ``layer.apply``, which Keras' legacy base layer flags
    with a UserWarning on every call; the filter is scoped to these calls so
    that the user's own warnings are untouched.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"`layer\.apply` is deprecated", category=UserWarning)
        with slim.arg_scope([slim.fully_connected],
                            weights_initializer=v1.truncated_normal_initializer(0.0, 0.1)):
            yield


def encoder(x, code_size, hidden_size):
    """x -> mu_logvar, 2 * code_size wide: the first half mu, the second the log-variance."""
    with _slim_scope():
        h = slim.fully_connected(x, hidden_size, scope="fc1")
        return slim.fully_connected(h, 2 * code_size, activation_fn=None, scope="fc2")


def split(mu_logvar):
    """[mu | logvar] -> (mu, logvar)."""
    mu, logvar = tf.split(mu_logvar, 2, axis=-1)
    return tf.identity(mu, name="mu"), tf.identity(logvar, name="logvar")


def decoder(mu_logvar, eps, hidden_size):
    """Draw z from (mu, logvar) with ``eps``, then decode it to 784 logits."""
    mu, logvar = split(mu_logvar)
    stddev = tf.sqrt(tf.exp(logvar))
    z = losses.reparameterize(mu, stddev, eps)
    with _slim_scope():
        h = slim.fully_connected(z, hidden_size, scope="fc1")
        logits = slim.fully_connected(h, inputs.IMAGE_SIZE, activation_fn=None, scope="fc2")
    return z, tf.identity(logits, name="logits")


def elbo_terms(x, eps, code_size, hidden_size, reuse=None) -> Terms:
    """The whole model on a batch: encode, draw z in the decoder, and the per-image ELBO terms.

    ``reuse=True`` runs it again on the variables the first call created.
    """
    with v1.variable_scope("encoder", reuse=reuse):
        mu_logvar = encoder(x, code_size, hidden_size)
        mu, logvar = split(mu_logvar)  # named encoder/mu and encoder/logvar
    with v1.variable_scope("decoder", reuse=reuse):
        z, logits = decoder(mu_logvar, eps, hidden_size)
    return Terms(code_mean=mu, code_stddev=tf.sqrt(tf.exp(logvar)), z=z, logits=logits,
                 log_likelihood=losses.log_likelihood(x, logits), kl=losses.kl_logvar(mu, logvar))


def build(config, images=None, device=None) -> ModelHandles:
    """The Slim model's graph, in a ``tf.Graph`` of its own, and its named handles.

    ``images``: a function returning a batch tensor to make ``x``'s default
    (the fast engine's tf.data input); without it ``x`` must be fed, as in the notebook.
    ``device``: a device function for every op, e.g. ``replica_device_setter`` on a cluster.
    """
    with inputs.model_graph(config, images, device) as (graph, global_step, x, eps, prior_eps):

        def terms(x, eps):
            return elbo_terms(x, eps, config.code_size, config.hidden_size, reuse=True)

        model = elbo_terms(x, eps, config.code_size, config.hidden_size)
        with v1.name_scope("loss"):
            reconstruction, kl, elbo, loss = losses.objective(model.log_likelihood, model.kl)
        with v1.name_scope("train"):
            optimizer = v1.train.AdamOptimizer(config.learning_rate, epsilon=config.adam_epsilon)
            train_op = optimizer.minimize(loss, global_step=global_step)
        with v1.variable_scope("decoder", reuse=True):
            # mu = logvar = 0 makes z = prior_eps, a draw from N(0, I).
            standard = tf.zeros([config.num_prior_samples, 2 * config.code_size])
            _, prior_logits = decoder(standard, prior_eps, config.hidden_size)
        return ModelHandles.collect(config, graph, global_step, (x, eps, prior_eps), model,
                                    (reconstruction, kl, elbo, loss), optimizer, train_op, prior_logits, terms)
