"""The tutorial's CVAE, checked against a plain NumPy forward pass.

The tutorial wrote its loss as a one-sample Monte Carlo ELBO,
log p(x|z) + log p(z) - log q(z|x), with a hand-written log_normal_pdf. Here
the same formula is computed a second time in float64 NumPy, with the
convolutions written out by hand from the Keras layers' weights:

    Conv2D (valid, stride s):     out[i, j] = sum_{a,b} x[s i + a, s j + b] @ K[a, b]
    Conv2DTranspose (same, s):    full[s i + a, s j + b] += x[i, j] @ K[a, b]^T,
                                  then crop (k - s) // 2 rows/columns at the top/left
                                  to H * s (TF's 'same' padding of the forward conv)
"""
import math

import numpy as np
import pytest
import tensorflow as tf

from legacy_vae.data import binarize_static, read_data_sets
from legacy_vae.models.cvae import CVAE, compute_loss, elbo_terms


def conv2d_valid(x, kernel, bias, stride):
    kh, kw = kernel.shape[:2]
    rows, cols = (x.shape[1] - kh) // stride + 1, (x.shape[2] - kw) // stride + 1
    out = np.zeros((x.shape[0], rows, cols, kernel.shape[3]))
    for a in range(kh):
        for b in range(kw):
            patch = x[:, a:a + stride * (rows - 1) + 1:stride, b:b + stride * (cols - 1) + 1:stride, :]
            out += patch @ kernel[a, b]
    return out + bias


def conv2d_transpose_same(x, kernel, bias, stride):
    # Keras stores the transposed kernel as [kh, kw, out_channels, in_channels].
    kh, kw = kernel.shape[:2]
    n, rows, cols, _ = x.shape
    full = np.zeros((n, (rows - 1) * stride + kh, (cols - 1) * stride + kw, kernel.shape[2]))
    for a in range(kh):
        for b in range(kw):
            full[:, a:a + stride * (rows - 1) + 1:stride, b:b + stride * (cols - 1) + 1:stride, :] += \
                x @ kernel[a, b].T
    top, left = max(kh - stride, 0) // 2, max(kw - stride, 0) // 2
    return full[:, top:top + rows * stride, left:left + cols * stride, :] + bias


def relu(x):
    return np.maximum(x, 0.0)


def numpy_elbo_terms(model, x, eps):
    """(log p(x|z), log p(z), log q(z|x)) per image, in float64, from the model's weights."""
    enc = [layer.get_weights() for layer in model.encoder.layers if layer.get_weights()]
    dec = [layer.get_weights() for layer in model.decoder.layers if layer.get_weights()]
    h = relu(conv2d_valid(x, *enc[0], stride=2))
    h = relu(conv2d_valid(h, *enc[1], stride=2))
    h = h.reshape(len(x), -1) @ enc[2][0] + enc[2][1]  # Flatten is row-major over (h, w, c)
    mean, logvar = np.split(h, 2, axis=1)
    z = mean + np.exp(0.5 * logvar) * eps
    h = relu(z @ dec[0][0] + dec[0][1]).reshape(-1, 7, 7, 32)
    h = relu(conv2d_transpose_same(h, *dec[1], stride=2))
    h = relu(conv2d_transpose_same(h, *dec[2], stride=2))
    logits = conv2d_transpose_same(h, *dec[3], stride=1)
    # Bernoulli log-probability, written stably: x l - log(1 + e^l).
    logpx_z = np.sum(x * logits - np.logaddexp(0.0, logits), axis=(1, 2, 3))
    log_2pi = math.log(2 * math.pi)
    logpz = np.sum(-0.5 * (z ** 2 + log_2pi), axis=1)
    logqz_x = np.sum(-0.5 * ((z - mean) ** 2 * np.exp(-logvar) + logvar + log_2pi), axis=1)
    return logpx_z, logpz, logqz_x


@pytest.fixture(scope="module")
def model_and_batch(mnist_dir):
    model = CVAE(2, seed=3)
    rng = np.random.default_rng(0)
    # Nonzero biases, so that a bias added in the wrong place would show.
    for layer in model.encoder.layers + model.decoder.layers:
        if layer.get_weights():
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(0, 0.1, bias.shape).astype(np.float32)])
    images = read_data_sets(mnist_dir, seed=0, reshape=False).test.images[:8]
    x = binarize_static(images).astype(np.float64)
    eps = rng.standard_normal((8, 2))
    return model, x, eps


def test_architecture_is_the_tutorials():
    model = CVAE(2)
    assert model.encoder.output_shape == (None, 4)
    assert [tuple(layer.output.shape) for layer in model.encoder.layers] == [
        (None, 13, 13, 32), (None, 6, 6, 64), (None, 2304), (None, 4)]
    assert [tuple(layer.output.shape) for layer in model.decoder.layers] == [
        (None, 1568), (None, 7, 7, 32), (None, 14, 14, 64), (None, 28, 28, 32), (None, 28, 28, 1)]
    assert model.encoder.count_params() + model.decoder.count_params() == 69_989


def test_elbo_terms_match_numpy(model_and_batch):
    model, x, eps = model_and_batch
    tf_terms = elbo_terms(model, tf.constant(x, tf.float32), tf.constant(eps, tf.float32))
    for name, got, expected in zip(("log p(x|z)", "log p(z)", "log q(z|x)"), tf_terms,
                                   numpy_elbo_terms(model, x, eps)):
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-4, atol=1e-4, err_msg=name)


def test_tutorial_loss_matches_numpy(model_and_batch):
    model, x, eps = model_and_batch
    logpx_z, logpz, logqz_x = numpy_elbo_terms(model, x, eps)
    expected = -np.mean(logpx_z + logpz - logqz_x)
    got = compute_loss(model, tf.constant(x, tf.float32), tf.constant(eps, tf.float32))[0].numpy()
    assert got == pytest.approx(expected, rel=1e-5)
    # And the noise matters: other eps, another loss.
    other = compute_loss(model, tf.constant(x, tf.float32), tf.constant(-eps, tf.float32))[0].numpy()
    assert other != pytest.approx(got, rel=1e-6)


def test_sample_decodes_given_codes_to_pixel_means(model_and_batch):
    model, _, eps = model_and_batch
    samples = model.sample(tf.constant(eps, tf.float32)).numpy()
    logits = model.decode(tf.constant(eps, tf.float32)).numpy()
    assert samples.shape == (8, 28, 28, 1)
    np.testing.assert_allclose(samples, 1 / (1 + np.exp(-logits)), rtol=1e-5, atol=1e-6)
