"""The TF2 convolutional VAE ("cvae"), restored from its tf.train.Checkpoint for evaluation.

Same interface as :class:`legacy_vae.evaluate.graph.GraphModel`:
``encode(images, eps)`` gives the proposal N(mean, exp(logvar)) and the
one-sample ELBO terms (the closed-form KL, lower-variance than the tutorial's
Monte Carlo estimate of the same quantity), ``log_likelihood(images, z)``
decodes [n, c, d] codes. Both are ``tf.function``s with a fixed input
signature, so every batch shape reuses one trace.

The decoder's transposed convolutions cost about 18 million multiply-adds
per code (against 0.2 million for the post model's MLP), so the CVAE sends
fewer codes per call (``rows_per_run``) to keep activations near 100 MB.
"""
from __future__ import annotations

import gc

import tensorflow as tf

from legacy_vae.data.checks import model_images
from legacy_vae.models import cvae


def _restore(saved, checkpoint: str):
    """Restore the model and step from ``checkpoint``; the first line of the error, or None.

    Every weight of the model must come from the file; the optimizer's slots
    are not needed. A failed restore leaves a pending restoration behind whose
    finalizer logs dozens of "unrestored value" warnings; it is collected
    here, with TensorFlow's logger quietened, so the one clear error is all
    the user sees.
    """
    try:
        saved.restore(checkpoint).expect_partial().assert_existing_objects_matched()
        return None
    except (AssertionError, ValueError, tf.errors.OpError) as error:
        problem = str(error).splitlines()[0]
    logger = tf.get_logger()
    level = logger.level
    logger.setLevel("ERROR")
    try:
        del saved
        gc.collect()
    finally:
        logger.setLevel(level)
    return problem


class EagerModel:
    """A CVAE from ``config`` with the weights of ``checkpoint`` (written by legacy_vae.eager.train)."""

    rows_per_run = 2000

    def __init__(self, config, checkpoint: str):
        self.config, self.checkpoint = config, checkpoint
        self.code_size = config.code_size
        self.model = cvae.CVAE(config.code_size, seed=config.seed)
        step = tf.Variable(0, dtype=tf.int64, trainable=False)
        problem = _restore(tf.train.Checkpoint(model=self.model, step=step), checkpoint)
        if problem:
            raise ValueError(f"checkpoint {checkpoint} does not fit the CVAE that config.json describes "
                             f"(code_size={config.code_size}): {problem}")
        self.step = int(step.numpy())
        d = self.code_size
        self._encode = tf.function(self._encode_fn, input_signature=[
            tf.TensorSpec([None, 784], tf.float32), tf.TensorSpec([None, d], tf.float32)])
        self._decode = tf.function(self._log_likelihood_fn, input_signature=[
            tf.TensorSpec([None, 784], tf.float32), tf.TensorSpec([None, None, d], tf.float32)])

    def _encode_fn(self, images, eps):
        x = tf.reshape(images, [-1, 28, 28, 1])
        mean, logvar = self.model.encode(x)
        stddev = tf.exp(0.5 * logvar)
        logits = self.model.decode(mean + stddev * eps)
        log_lik = -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=[1, 2, 3])
        return mean, stddev, log_lik, cvae.kl_closed_form(mean, logvar)

    def _log_likelihood_fn(self, images, z):
        shape = tf.shape(z)
        logits = tf.reshape(self.model.decode(tf.reshape(z, [-1, self.code_size])), [shape[0], shape[1], 784])
        labels = tf.broadcast_to(images[:, None, :], tf.shape(logits))
        return -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits), axis=-1)

    def encode(self, images, eps):
        images = model_images(images, "the CVAE's encode")  # float (N, 784) in [0, 1], else one clear error
        out = self._encode(tf.constant(images, tf.float32), tf.constant(eps, tf.float32))
        return tuple(t.numpy() for t in out)

    def log_likelihood(self, images, z):
        return self._decode(tf.constant(images, tf.float32), tf.constant(z, tf.float32)).numpy()

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
