"""The convolutional VAE of TensorFlow's TF2 tutorial (https://www.tensorflow.org/tutorials/generative/cvae), in Keras 3.

    encoder  x [28,28,1] -> Conv(32, 3, /2) -> Conv(64, 3, /2) -> Flatten -> Dense(2k) = [mean | logvar]
    decoder  z [k] -> Dense(7*7*32) -> [7,7,32] -> ConvT(64, 3, x2) -> ConvT(32, 3, x2) -> ConvT(1, 3) = logits
    z        = mean + exp(logvar / 2) * eps,  eps ~ N(0, I)

The tutorial's loss is a one-sample Monte Carlo estimate of the whole ELBO,
KL term included (it never uses the closed form)::

    log N(s; m, logvar) = sum_j -1/2 [ (s_j - m_j)^2 exp(-logvar_j) + logvar_j + log 2 pi ]
    log p(x|z) = -sum_pixels sigmoid_cross_entropy(x, logits(z))
    loss       = -mean_batch [ log p(x|z) + log N(z; 0, 0) - log N(z; mean, logvar) ]

Differences from the tutorial, all for reproducibility: every initializer is
seeded per layer (no global ``keras.utils.set_random_seed``) and the noise
``eps`` is an argument, drawn by the caller from ``tf.random.stateless_normal``
keyed on (seed, step) instead of ``tf.random.normal``'s global state.
"""
from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

LOG_2PI = math.log(2.0 * math.pi)


def _init(seed: int, index: int):
    # A distinct, fixed seed per layer: initial weights depend only on the run's seed.
    return keras.initializers.GlorotUniform(seed=seed * 1000 + index)


class CVAE(keras.Model):
    """The tutorial's CVAE; ``latent_dim`` is the code size (2 in the tutorial)."""

    def __init__(self, latent_dim: int = 2, seed: int = 0):
        super().__init__()
        if not isinstance(latent_dim, int) or latent_dim <= 0:
            raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
        self.latent_dim = latent_dim
        L = keras.layers
        self.encoder = keras.Sequential([
            L.InputLayer(shape=(28, 28, 1)),
            L.Conv2D(32, 3, strides=2, activation="relu", kernel_initializer=_init(seed, 0)),
            L.Conv2D(64, 3, strides=2, activation="relu", kernel_initializer=_init(seed, 1)),
            L.Flatten(),
            # No activation: mean and log-variance are unconstrained.
            L.Dense(2 * latent_dim, kernel_initializer=_init(seed, 2)),
        ], name="encoder")
        self.decoder = keras.Sequential([
            L.InputLayer(shape=(latent_dim,)),
            L.Dense(7 * 7 * 32, activation="relu", kernel_initializer=_init(seed, 3)),
            L.Reshape((7, 7, 32)),
            L.Conv2DTranspose(64, 3, strides=2, padding="same", activation="relu",
                              kernel_initializer=_init(seed, 4)),
            L.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu",
                              kernel_initializer=_init(seed, 5)),
            # No activation: Bernoulli logits.
            L.Conv2DTranspose(1, 3, strides=1, padding="same", kernel_initializer=_init(seed, 6)),
        ], name="decoder")

    def encode(self, x):
        """x [N,28,28,1] -> (mean, logvar), each [N, latent_dim]."""
        mean, logvar = tf.split(self.encoder(x), 2, axis=1)
        return mean, logvar

    def reparameterize(self, mean, logvar, eps=None):
        """z = mean + exp(logvar / 2) * eps; ``eps`` defaults to fresh N(0, I) noise."""
        if eps is None:
            eps = tf.random.normal(tf.shape(mean))
        return eps * tf.exp(0.5 * logvar) + mean

    def decode(self, z, apply_sigmoid: bool = False):
        """z -> logits [N,28,28,1], or Bernoulli means if ``apply_sigmoid``."""
        logits = self.decoder(z)
        return tf.sigmoid(logits) if apply_sigmoid else logits

    def sample(self, eps=None):
        """Decode prior draws (100 fresh ones unless ``eps`` is given) to pixel means."""
        if eps is None:
            eps = tf.random.normal([100, self.latent_dim])
        return self.decode(eps, apply_sigmoid=True)

    def call(self, x, eps=None):
        mean, logvar = self.encode(x)
        return self.decode(self.reparameterize(mean, logvar, eps))


def log_normal_pdf(sample, mean, logvar, raxis: int = 1):
    """log N(sample; mean, diag(exp(logvar))), summed over ``raxis``."""
    return tf.reduce_sum(-0.5 * ((sample - mean) ** 2.0 * tf.exp(-logvar) + logvar + LOG_2PI), axis=raxis)


def elbo_terms(model: CVAE, x, eps):
    """Per-image one-sample terms: log p(x|z), log p(z), log q(z|x), each [N]."""
    mean, logvar = model.encode(x)
    z = model.reparameterize(mean, logvar, eps)
    logits = model.decode(z)
    cross_ent = tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits)
    logpx_z = -tf.reduce_sum(cross_ent, axis=[1, 2, 3])
    logpz = log_normal_pdf(z, 0.0, 0.0)
    logqz_x = log_normal_pdf(z, mean, logvar)
    return logpx_z, logpz, logqz_x


def compute_loss(model: CVAE, x, eps):
    """The tutorial's loss, -mean(log p(x|z) + log p(z) - log q(z|x)) with one sample per
    image, and the per-image terms it is made of (for the step's reports)."""
    logpx_z, logpz, logqz_x = elbo_terms(model, x, eps)
    return -tf.reduce_mean(logpx_z + logpz - logqz_x), (logpx_z, logpz, logqz_x)


def make_optimizer(config):
    """The tutorial's ``Adam(1e-4)``; epsilon from the config (Keras' default, 1e-7)."""
    return keras.optimizers.Adam(config.learning_rate, epsilon=config.adam_epsilon)


def make_train_step(model: CVAE, optimizer):
    """A ``tf.function`` ``step(x, eps) -> {"loss", "reconstruction", "kl"}`` doing one Adam update.

    ``reconstruction`` (-log p(x|z)) and ``kl`` (log q(z|x) - log p(z)) are the
    batch means of the one-sample terms, so ``loss = reconstruction + kl``.
    The step number lives in ``optimizer.iterations``, incremented inside the
    same call, so weights and step can never disagree (e.g. after Ctrl-C).
    """
    variables = model.trainable_variables

    @tf.function
    def train_step(x, eps):
        with tf.GradientTape() as tape:
            loss, (logpx_z, logpz, logqz_x) = compute_loss(model, x, eps)
        gradients = tape.gradient(loss, variables)
        optimizer.apply_gradients(zip(gradients, variables))
        return {"loss": loss, "reconstruction": -tf.reduce_mean(logpx_z),
                "kl": tf.reduce_mean(logqz_x - logpz)}

    return train_step


def kl_closed_form(mean, logvar):
    """KL(N(mean, exp(logvar)) || N(0, I)) per image: what the one-sample estimate estimates."""
    return -0.5 * tf.reduce_sum(1.0 + logvar - tf.square(mean) - tf.exp(logvar), axis=1)


def make_evaluator(model: CVAE):
    """A ``tf.function`` ``(x, eps) -> dict`` of per-image terms; build it once per model."""

    @tf.function(reduce_retracing=True)
    def per_image(x, eps):
        logpx_z, logpz, logqz_x = elbo_terms(model, x, eps)
        mean, logvar = model.encode(x)
        return {"reconstruction": -logpx_z, "kl": logqz_x - logpz,
                "kl_closed_form": kl_closed_form(mean, logvar)}

    return per_image


def evaluate(model: CVAE, images, eps, chunk: int = 500, evaluator=None) -> dict:
    """Per-image terms on ``images`` with noise ``eps`` (one row per image), as NumPy arrays.

    Returns ``elbo``, ``reconstruction`` (-log p(x|z)), ``kl`` (the one-sample
    log q(z|x) - log p(z), so that elbo = -(reconstruction + kl) exactly) and
    ``kl_closed_form``, each of shape [N]. The chunk size does not change the
    per-image values; pass ``evaluator`` (from :func:`make_evaluator`) to
    avoid tracing again on every call.
    """
    if len(images) != len(eps):
        raise ValueError(f"need one noise row per image: {len(images)} images, {len(eps)} rows of eps")
    evaluator = evaluator or make_evaluator(model)
    parts = [evaluator(tf.constant(images[i:i + chunk]), tf.constant(eps[i:i + chunk]))
             for i in range(0, len(images), chunk)]
    out = {key: np.concatenate([p[key].numpy() for p in parts]) for key in parts[0]}
    out["elbo"] = -(out["reconstruction"] + out["kl"])
    return out
