"""The ELBO's pieces against NumPy references, in graph mode and eagerly."""
import numpy as np
import pytest
import tensorflow as tf

from legacy_vae.models import losses

v1 = tf.compat.v1


def np_softplus(a):
    return np.logaddexp(0.0, a)


def np_log_sigmoid(a):
    return -np_softplus(-a)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


def run_in_graph(fn, *arrays):
    """Evaluate ``fn`` on placeholders in a fresh graph, as the models do."""
    graph = tf.Graph()
    with graph.as_default():
        placeholders = [v1.placeholder(tf.float64, a.shape) for a in arrays]
        out = fn(*placeholders)
    with v1.Session(graph=graph) as session:
        return session.run(out, dict(zip(placeholders, arrays)))


def test_reparameterize_matches_numpy(rng):
    mean, stddev, eps = rng.normal(size=(3, 50, 4))
    stddev = np.abs(stddev)
    got = run_in_graph(losses.reparameterize, mean, stddev, eps)
    np.testing.assert_allclose(got, mean + stddev * eps, rtol=1e-12)


def test_kl_matches_numpy_in_both_parameterizations(rng):
    loc = rng.normal(size=(64, 8))
    scale = np.exp(rng.normal(scale=0.5, size=(64, 8)))
    expected = np.sum(0.5 * (loc ** 2 + scale ** 2 - 1.0) - np.log(scale), axis=-1)
    np.testing.assert_allclose(run_in_graph(losses.kl, loc, scale), expected, rtol=1e-10)
    logvar = 2.0 * np.log(scale)
    np.testing.assert_allclose(run_in_graph(losses.kl_logvar, loc, logvar), expected, rtol=1e-10)


def test_kl_is_zero_for_standard_normal_and_positive_otherwise(rng):
    zeros, ones = np.zeros((5, 3)), np.ones((5, 3))
    np.testing.assert_allclose(run_in_graph(losses.kl, zeros, ones), 0.0, atol=1e-12)
    np.testing.assert_allclose(run_in_graph(losses.kl_logvar, zeros, zeros), 0.0, atol=1e-12)
    loc = rng.normal(size=(100, 3))
    scale = np.exp(rng.normal(size=(100, 3)))
    assert np.all(run_in_graph(losses.kl, loc, scale) > 0)
    assert np.all(run_in_graph(losses.kl_logvar, loc, 2 * np.log(scale)) > 0)


def test_log_likelihood_is_bernoulli_summed_over_pixels(rng):
    logits = rng.normal(scale=3.0, size=(20, 784))
    for x in (rng.random((20, 784)), (rng.random((20, 784)) < 0.3).astype(np.float64)):
        expected = np.sum(x * np_log_sigmoid(logits) + (1 - x) * np_log_sigmoid(-logits), axis=-1)
        got = run_in_graph(losses.log_likelihood, x, logits)
        assert got.shape == (20,)
        np.testing.assert_allclose(got, expected, rtol=1e-10)


def test_elbo_is_batch_mean_of_log_likelihood_minus_kl(rng):
    log_lik, kl = rng.normal(size=(2, 30))
    np.testing.assert_allclose(run_in_graph(losses.elbo, log_lik, kl), np.mean(log_lik - kl), rtol=1e-12)


def test_objective_names_the_batch_means(rng):
    log_lik, kl = rng.normal(size=(2, 30))
    reconstruction, kl_mean, elbo, loss = (t.numpy() for t in losses.objective(tf.constant(log_lik), tf.constant(kl)))
    np.testing.assert_allclose([reconstruction, kl_mean, elbo, loss],
                               [-log_lik.mean(), kl.mean(), (log_lik - kl).mean(), (kl - log_lik).mean()], rtol=1e-12)
    graph = tf.Graph()
    with graph.as_default(), tf.compat.v1.name_scope("loss"):
        losses.objective(tf.constant(log_lik), tf.constant(kl))
    for name in ("loss/reconstruction", "loss/kl", "loss/elbo", "loss/loss"):
        graph.get_operation_by_name(name)


def test_bernoulli_sample_draws_ones_with_probability_sigmoid(rng):
    logits = tf.constant(rng.normal(scale=2.0, size=(4000, 3)), tf.float32)
    sample = losses.bernoulli_sample(logits, tf.constant([7, 1], tf.int64)).numpy()
    assert set(np.unique(sample)) <= {0.0, 1.0}
    np.testing.assert_allclose(sample.mean(), tf.sigmoid(logits).numpy().mean(), atol=0.02)
    again = losses.bernoulli_sample(logits, tf.constant([7, 1], tf.int64)).numpy()
    np.testing.assert_array_equal(sample, again)  # stateless: the same key, the same draw


def test_losses_also_run_eagerly(rng):
    loc, scale = rng.normal(size=(2, 4, 2))
    scale = np.abs(scale) + 0.1
    assert tf.executing_eagerly()
    eager = losses.kl(tf.constant(loc), tf.constant(scale)).numpy()
    np.testing.assert_allclose(eager, run_in_graph(losses.kl, loc, scale), rtol=1e-12)
