"""The Slim model: the Duke-Tsinghua MLSS 2017 notebook "Variational Autoencoder in
TensorFlow" (https://github.com/kevinjliang/Duke-Tsinghua-MLSS-2017, 03A), on ``tf_slim``.

    encoder:  x -> fc1 (128, ReLU) -> fc2 (128, linear) = [mu | logvar],  z in R^64
    decoder:  z = mu + sqrt(exp(logvar)) * eps  (drawn inside the decoder, as the
              notebook did), then z -> fc1 (128, ReLU) -> fc2 (784 logits)
    loss:     reconstruction = sum over pixels of sigmoid cross-entropy,
              KL = -1/2 sum_j (1 + logvar_j - mu_j^2 - exp(logvar_j)),
              mean over the batch of their sum; Adam with its defaults

``encoder`` and ``decoder`` each open the notebook's ``slim.arg_scope``
(ReLU, truncated-normal(0, 0.1) weights) around their ``slim.fully_connected``
layers, and each layer is named as in the notebook, so the variables are its own::

    encoder/fc1/weights [784, 128]   encoder/fc2/weights [128, 2 * code]
    decoder/fc1/weights [code, 128]  decoder/fc2/weights [128, 784]   and ``biases`` beside each

The notebook built its decoder once and drew no prior samples; this package
adds them, reusing the decoder's variables (``variable_scope(reuse=True)``)
with mu = logvar = 0, so that z = eps ~ N(0, I).

``build(config)`` makes the graph in a ``tf.Graph`` of its own;
``make_model(config, x)`` builds the same graph into the current default
graph (for the fast engine's tf.data ``x`` and the cluster's variable placement).
"""
from __future__ import annotations

import functools
import warnings

import tensorflow as tf
import tf_slim as slim

from legacy_vae.models import inputs, losses
from legacy_vae.models.handles import ModelHandles, Terms

v1 = tf.compat.v1


def without_layer_apply_warning(function):
    """Run ``function`` with one warning hidden: tf_slim 1.1.0 calls Keras' deprecated
    ``layer.apply`` for every layer, and Keras says so each time. Only that
    message, only during these calls: the user's own warnings still show."""
    @functools.wraps(function)
    def quiet(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=r"`layer\.apply` is deprecated", category=UserWarning)
            return function(*args, **kwargs)
    return quiet


@without_layer_apply_warning
def encoder(x, code_size, hidden_size):
    """Network q(z | x): x -> mu_logvar, 2 * code_size wide (the first half mu, the second the log-variance)."""
    with slim.arg_scope([slim.fully_connected],
                        activation_fn=tf.nn.relu,
                        weights_initializer=v1.truncated_normal_initializer(0.0, 0.1)):
        mu_logvar = slim.fully_connected(x, hidden_size, scope="fc1")
        mu_logvar = slim.fully_connected(mu_logvar, 2 * code_size, activation_fn=None, scope="fc2")
    return mu_logvar


def split(mu_logvar):
    """[mu | logvar] -> (mu, logvar)."""
    mu, logvar = tf.split(mu_logvar, 2, axis=-1)
    return tf.identity(mu, name="mu"), tf.identity(logvar, name="logvar")


@without_layer_apply_warning
def decoder(mu_logvar, eps, hidden_size):
    """Network p(x | z): draw z from (mu, logvar) with ``eps``, then decode it to 784 logits."""
    mu, logvar = split(mu_logvar)
    stddev = tf.sqrt(tf.exp(logvar))
    z = losses.reparameterize(mu, stddev, eps)
    with slim.arg_scope([slim.fully_connected],
                        activation_fn=tf.nn.relu,
                        weights_initializer=v1.truncated_normal_initializer(0.0, 0.1)):
        x_logits = slim.fully_connected(z, hidden_size, scope="fc1")
        x_logits = slim.fully_connected(x_logits, inputs.IMAGE_SIZE, activation_fn=None, scope="fc2")
    return z, tf.identity(x_logits, name="logits")


def elbo_terms(x, eps, code_size, hidden_size, reuse=None) -> Terms:
    """The whole model on a batch: encode, draw z in the decoder, and the per-image ELBO terms.

    ``reuse=True`` runs it again on the variables the first call created.
    """
    with v1.variable_scope("encoder", reuse=reuse):
        mu_logvar = encoder(x, code_size, hidden_size)
        mu, logvar = split(mu_logvar)  # named encoder/mu and encoder/logvar
    with v1.variable_scope("decoder", reuse=reuse):
        z, x_logits = decoder(mu_logvar, eps, hidden_size)
    stddev = tf.sqrt(tf.exp(logvar))
    likelihood = losses.log_likelihood(x, x_logits)     # minus the sigmoid cross-entropy
    divergence = losses.kl_logvar(mu, logvar)           # the notebook's kl_d, per image
    return Terms(mu, stddev, z, x_logits, likelihood, divergence)


def optimizer(config, likelihood, divergence, global_step):
    """The loss and its Adam step (the notebook's ``optimizer()``): train_step, reconstruction, kl,
    and the ELBO, the loss and the Adam instance besides, named ``loss/...`` and ``train/...``."""
    with v1.name_scope("loss"):
        reconstruction, kl, elbo, loss = losses.objective(likelihood, divergence)
    with v1.name_scope("train"):
        adam = v1.train.AdamOptimizer(config.learning_rate, epsilon=config.adam_epsilon)
        train_step = adam.minimize(loss, global_step=global_step)
    return train_step, reconstruction, kl, elbo, loss, adam


def build(config) -> ModelHandles:
    """The Slim model's graph, in a ``tf.Graph`` of its own, and its named handles."""
    with tf.Graph().as_default():
        return make_model(config)


def make_model(config, x=None) -> ModelHandles:
    """Build the Slim model into the current default graph and name its tensors.

    ``x``: the batch of digits, a new placeholder unless the caller brings its own
    tensor (the fast engine brings one whose default is its tf.data batch).
    """
    v1.set_random_seed(config.seed)  # the graph-level seed makes every initializer's draw repeatable
    global_step = v1.train.get_or_create_global_step()
    x, eps = inputs.data_and_noise(config, global_step, x)
    prior_eps = inputs.prior_sample(config)

    # Define the VAE graph, then the optimization.
    mu, stddev, z, x_logits, likelihood, divergence = elbo_terms(x, eps, config.code_size, config.hidden_size)
    train_step, reconstruction, kl, elbo, loss, adam = optimizer(config, likelihood, divergence, global_step)

    with v1.variable_scope("decoder", reuse=True):
        # mu = logvar = 0 makes z = prior_eps, a draw from N(0, I).
        standard = tf.zeros([config.num_prior_samples, 2 * config.code_size])
        _, prior_logits = decoder(standard, prior_eps, config.hidden_size)

    # What the figures show: Bernoulli means (sigmoid of the logits) and one Bernoulli draw.
    reconstructions = tf.sigmoid(x_logits, name="reconstructions")
    x_hat = losses.bernoulli_sample(x_logits, inputs.sample_seed(config, global_step), name="x_hat")
    samples = tf.sigmoid(prior_logits, name="prior_samples")
    return ModelHandles(
        graph=v1.get_default_graph(), config=config, x=x, eps=eps, prior_eps=prior_eps,
        global_step=global_step, code_mean=mu, code_stddev=stddev, z=z, logits=x_logits,
        per_image_log_likelihood=likelihood, per_image_kl=divergence,
        reconstruction=reconstruction, kl=kl, elbo=elbo, loss=loss, train_op=train_step,
        reconstructions=reconstructions, x_hat=x_hat, prior_samples=samples,
        init_op=v1.global_variables_initializer(), optimizer=adam,
        terms=functools.partial(elbo_terms, code_size=config.code_size, hidden_size=config.hidden_size,
                                reuse=True))
