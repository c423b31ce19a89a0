"""TensorFlow Probability as an independent oracle for the package's ELBO pieces.

``losses.kl`` / ``losses.kl_logvar`` write KL(N(mean, diag(std^2)) || N(0, I))
out in closed form, and ``losses.log_likelihood`` the Bernoulli
log-likelihood as a sum of sigmoid cross-entropies. TFP gets the same numbers
its own way, as the post's ``tf.contrib.distributions`` code did:
``tfd.kl_divergence`` of two ``MultivariateNormalDiag`` goes through the general
multivariate-normal KL (log-determinants, a trace, a Mahalanobis term), and
``tfd.Bernoulli.log_prob`` through softplus terms. Compared in graph mode
(tf.Graph + Session) and eagerly, on random inputs and on a trained model.

TFP imports in this process as it is: it needs the tf-keras package installed,
not switched on, so Keras 3 stays ``tf.keras`` here.
"""
import os

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

from legacy_vae.config import defaults
from legacy_vae.data import read_data_sets
from legacy_vae.models import losses, post

tfd = tfp.distributions
v1 = tf.compat.v1
RTOL = 1e-5
MODES = ("graph", "eager")


def oracle_kl(mean, stddev):
    """KL(q || N(0, I)) per row, by TFP."""
    code_size = mean.shape[-1]
    prior = tfd.MultivariateNormalDiag(loc=tf.zeros([code_size]), scale_diag=tf.ones([code_size]))
    return tfd.kl_divergence(tfd.MultivariateNormalDiag(loc=mean, scale_diag=stddev), prior)


def oracle_log_likelihood(x, logits):
    """log p(x | z) per row by TFP: the 784 pixels of a row are one event."""
    return tfd.Independent(tfd.Bernoulli(logits=logits), reinterpreted_batch_ndims=1).log_prob(x)


def evaluate(mode, fn, *arrays):
    """Run ``fn`` (tensors -> tensors) on NumPy ``arrays`` in a graph and session, or eagerly."""
    if mode == "eager":
        assert tf.executing_eagerly()
        return [t.numpy() for t in fn(*[tf.constant(a) for a in arrays])]
    graph = tf.Graph()
    with graph.as_default():
        placeholders = [v1.placeholder(tf.float32, a.shape) for a in arrays]
        outputs = fn(*placeholders)
    with v1.Session(graph=graph) as sess:
        return sess.run(list(outputs), dict(zip(placeholders, arrays)))


def test_tfp_runs_beside_keras_3():
    # The import above worked without legacy Keras switched on, and did not switch it on.
    assert os.environ.get("TF_USE_LEGACY_KERAS", "") not in ("1", "true", "True")
    assert tf.keras.__version__.startswith("3."), tf.keras.__version__


def _gaussian(rng, batch, code_size):
    mean = rng.normal(0.0, 1.5, (batch, code_size)).astype(np.float32)
    # Standard deviations from 0.05 to 2.7: sharp and broad posteriors.
    stddev = np.exp(rng.uniform(-3.0, 1.0, (batch, code_size))).astype(np.float32)
    return mean, stddev


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("code_size", [2, 64])  # the post's and the Slim model's codes
def test_kl_matches_tfp_on_random_gaussians(mode, code_size):
    mean, stddev = _gaussian(np.random.default_rng(code_size), 256, code_size)
    ours, theirs = evaluate(mode, lambda m, s: (losses.kl(m, s), oracle_kl(m, s)), mean, stddev)
    assert ours.shape == theirs.shape == (256,)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("code_size", [2, 64])
def test_kl_logvar_matches_tfp_on_random_gaussians(mode, code_size):
    mean, stddev = _gaussian(np.random.default_rng(100 + code_size), 256, code_size)
    logvar = (2.0 * np.log(stddev)).astype(np.float32)
    ours, theirs = evaluate(
        mode, lambda m, lv: (losses.kl_logvar(m, lv), oracle_kl(m, tf.exp(0.5 * lv))), mean, logvar)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("pixels", ["binary", "grey"])  # the Slim model's targets, and the post's
def test_log_likelihood_matches_tfp_on_random_logits(mode, pixels):
    rng = np.random.default_rng(7)
    logits = rng.normal(0.0, 5.0, (128, 784)).astype(np.float32)
    logits[:, :16] = rng.choice([-40.0, 40.0], (128, 16))  # saturated pixels, where a naive log(sigmoid) fails
    x = rng.random((128, 784)).astype(np.float32)
    if pixels == "binary":
        x = (x < 0.3).astype(np.float32)
    ours, theirs = evaluate(
        mode, lambda x_, l_: (losses.log_likelihood(x_, l_), oracle_log_likelihood(x_, l_)), x, logits)
    assert ours.shape == theirs.shape == (128,)
    np.testing.assert_allclose(ours, theirs, rtol=RTOL)


@pytest.fixture(scope="module")
def trained_post(mnist_dir):
    """The post model after 200 classic feed_dict steps, and its terms on 500 test digits.

    TFP's versions of the terms are built into the model's own graph, on its
    own code_mean, code_stddev and logits, and fetched in the same run.
    """
    h = post.build(defaults("post"))
    data = read_data_sets(mnist_dir, seed=0)
    with h.graph.as_default():
        tfp_kl = oracle_kl(h.code_mean, h.code_stddev)
        tfp_log_likelihood = oracle_log_likelihood(h.x, h.logits)
    images = data.test.images[:500]
    fetches = {"elbo": h.elbo, "kl": h.per_image_kl, "log_likelihood": h.per_image_log_likelihood,
               "code_mean": h.code_mean, "code_stddev": h.code_stddev, "logits": h.logits,
               "tfp_kl": tfp_kl, "tfp_log_likelihood": tfp_log_likelihood}
    with v1.Session(graph=h.graph) as sess:
        sess.run(h.init_op)
        untrained_elbo = sess.run(h.elbo, {h.x: images})
        for _ in range(200):
            sess.run(h.train_op, {h.x: data.train.next_batch(100)[0]})
        fetched = sess.run(fetches, {h.x: images})
    fetched["images"] = images
    fetched["untrained_elbo"] = untrained_elbo
    return fetched


def test_trained_post_terms_match_tfp_in_graph(trained_post):
    t = trained_post
    assert t["elbo"] > t["untrained_elbo"]  # the comparison is on a trained model
    np.testing.assert_allclose(t["kl"], t["tfp_kl"], rtol=RTOL)
    np.testing.assert_allclose(t["log_likelihood"], t["tfp_log_likelihood"], rtol=RTOL)
    np.testing.assert_allclose(t["elbo"], np.mean(t["tfp_log_likelihood"] - t["tfp_kl"]), rtol=RTOL)


def test_trained_post_terms_match_tfp_eagerly(trained_post):
    t = trained_post
    tfp_kl, tfp_log_likelihood = evaluate(
        "eager", lambda m, s, x, l: (oracle_kl(m, s), oracle_log_likelihood(x, l)),
        t["code_mean"], t["code_stddev"], t["images"], t["logits"])
    np.testing.assert_allclose(t["kl"], tfp_kl, rtol=RTOL)
    np.testing.assert_allclose(t["log_likelihood"], tfp_log_likelihood, rtol=RTOL)
