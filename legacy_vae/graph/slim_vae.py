"""The Slim model: a tf.contrib.slim VAE notebook, on ``tf_slim``.

    encoder:  x -> 128 ReLU -> 128 linear = [mu | logvar],  z in R^64
    decoder:  z = mu + exp(logvar / 2) * eps  (drawn inside the decoder, as the
              original did), then z -> 128 ReLU -> 784 logits
    loss:     sum over pixels of sigmoid cross-entropy + closed-form KL,
              averaged over the batch; Adam with its defaults

Every ``slim.fully_connected`` runs under one ``slim.arg_scope`` that sets
truncated-normal(0, 0.1) weights, so slim names the variables
``<scope>/weights`` and ``<scope>/biases``. Prior samples reuse the decoder
(``variable_scope(reuse=True)``, slim's way) with mu = logvar = 0, so that
z = eps ~ N(0, I).
"""
from __future__ import annotations

import contextlib
import warnings

import tensorflow as tf
import tf_slim as slim

from legacy_vae.graph import losses
from legacy_vae.graph.common import finish_graph, input_tensors

v1 = tf.compat.v1

IMAGE_SIZE = 784


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
    """x -> mu_logvar, 2 * code_size wide: the first half mu, the second log-variance."""
    with _slim_scope():
        h = slim.fully_connected(x, hidden_size, scope="hidden")
        return slim.fully_connected(h, 2 * code_size, activation_fn=None, scope="mu_logvar")


def split(mu_logvar):
    """[mu | logvar] -> (mu, logvar)."""
    mu, logvar = tf.split(mu_logvar, 2, axis=-1)
    return mu, logvar


def decoder(mu_logvar, eps, hidden_size):
    """Draw z from (mu, logvar) with ``eps``, then decode it to 784 logits."""
    mu, logvar = split(mu_logvar)
    z = losses.reparameterize(mu, tf.exp(0.5 * logvar), eps)
    with _slim_scope():
        h = slim.fully_connected(z, hidden_size, scope="hidden")
        logits = slim.fully_connected(h, IMAGE_SIZE, activation_fn=None, scope="logits")
    return z, logits


def build(config, fast_input=None):
    """Build the Slim model in a new ``tf.Graph`` and return its :class:`ModelHandles`."""
    graph = tf.Graph()
    with graph.as_default():
        # The graph-level seed makes every initializer's draw repeatable (TF1's way).
        v1.set_random_seed(config.seed)
        global_step = v1.train.get_or_create_global_step()
        x, eps, prior_eps, pipeline = input_tensors(config, global_step, fast_input)

        with v1.variable_scope("encoder"):
            mu_logvar = encoder(x, config.code_size, config.hidden_size)
        with v1.variable_scope("decoder"):
            z, logits = decoder(mu_logvar, eps, config.hidden_size)
        with v1.variable_scope("decoder", reuse=True):
            standard = tf.zeros([prior_eps.shape[0], 2 * config.code_size])
            _, prior_logits = decoder(standard, prior_eps, config.hidden_size)

        def train_step(x, eps):
            # The step once more on the same variables (reuse=True), for the loop
            # that runs many steps per session.run (common.finish_graph): not
            # needed to understand the model, only to train it faster.
            with v1.variable_scope("encoder", reuse=True):
                mu_logvar = encoder(x, config.code_size, config.hidden_size)
            with v1.variable_scope("decoder", reuse=True):
                _, logits = decoder(mu_logvar, eps, config.hidden_size)
            mu, logvar = split(mu_logvar)
            return logits, losses.kl_logvar(mu, logvar)

        mu, logvar = split(mu_logvar)
        return finish_graph(config, graph, global_step, x, eps, prior_eps, pipeline,
                            code_mean=mu, code_stddev=tf.exp(0.5 * logvar), z=z, logits=logits,
                            per_image_kl=losses.kl_logvar(mu, logvar), prior_logits=prior_logits,
                            step=train_step)
