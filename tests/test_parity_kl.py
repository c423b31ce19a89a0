"""The closed-form KL and the Bernoulli likelihood the models use are the quantities they claim.

TF1's ``tf.contrib.distributions`` gave ``kl_divergence`` and
``Bernoulli.log_prob``; both are gone, and the package writes them out. These
tests check the written-out versions against first principles:

- the closed-form KL(q(z|x) || N(0, I)) equals the Monte Carlo estimate
  E_q[log q(z|x) - log p(z)] within 4 standard errors over 100,000 draws,
  for random encoder outputs and for a model trained a few hundred steps;
- ``sigmoid_cross_entropy_with_logits`` is minus the Bernoulli log-probability
  x log sigmoid(l) + (1 - x) log sigmoid(-l), also for grey-level targets and
  for logits so large that log(sigmoid(l)) computed naively is -inf.
"""
import numpy as np
import pytest
import tensorflow as tf

from legacy_vae import parity
from legacy_vae.config import defaults
from legacy_vae.data import read_data_sets

DRAWS = 100_000


def assert_within_4_stderr(result):
    z_scores = (result["per_image"] - result["closed_form"]) / result["per_image_stderr"]
    assert np.all(np.abs(z_scores) < 4), z_scores
    mean_z = (result["mean"] - result["mean_closed_form"]) / result["mean_stderr"]
    assert abs(mean_z) < 4, mean_z


def test_kl_matches_monte_carlo_for_random_encoder_outputs():
    rng = np.random.default_rng(0)
    mean = rng.normal(0.0, 1.5, size=(8, 5))
    stddev = np.exp(rng.normal(-0.5, 0.7, size=(8, 5)))
    result = parity.monte_carlo_kl(mean, stddev, draws=DRAWS, seed=1)
    assert_within_4_stderr(result)
    # The standard error is small enough to catch a real mistake, e.g. a KL
    # missing its -1/2 per dimension would be off by 2.5 nats here.
    assert result["mean_stderr"] < 0.05


def test_monte_carlo_detects_a_wrong_closed_form():
    # The same check fails for a KL with the log term's sign flipped.
    rng = np.random.default_rng(0)
    mean, stddev = rng.normal(size=(4, 3)), np.exp(rng.normal(size=(4, 3)))
    result = parity.monte_carlo_kl(mean, stddev, draws=DRAWS, seed=1)
    wrong = np.sum(0.5 * (mean ** 2 + stddev ** 2 - 1) + np.log(stddev), axis=-1)
    assert np.any(np.abs(result["per_image"] - wrong) > 4 * result["per_image_stderr"])


def test_kl_matches_monte_carlo_for_a_trained_model(mnist_dir):
    # The post model, trained 300 steps: encoder outputs a real posterior has.
    config = defaults("post")
    mnist = read_data_sets(mnist_dir, seed=0)
    handles, session = parity.start(config)
    for _ in range(300):
        session.run(handles.train_op, handles.feed(mnist.train.next_batch(100)[0]))
    mean, stddev = session.run([handles.code_mean, handles.code_stddev],
                               handles.feed(mnist.test.images[:16]))
    session.close()
    assert np.mean(stddev) < 0.5, "after training the posterior should be much narrower than the prior"
    result = parity.monte_carlo_kl(mean, stddev, draws=DRAWS, seed=2)
    assert_within_4_stderr(result)
    assert result["mean_closed_form"] > 1.0  # an informative posterior, not the prior


def test_sigmoid_cross_entropy_is_the_bernoulli_log_probability():
    rng = np.random.default_rng(0)
    logits = np.concatenate([rng.normal(0, 4, 1000), [-60.0, -30.0, 0.0, 30.0, 60.0]]).astype(np.float32)
    # Binary and grey-level targets (the post trained on grey levels).
    for x in (rng.integers(0, 2, logits.shape).astype(np.float32), rng.random(logits.shape).astype(np.float32)):
        cross_entropy = tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits).numpy()
        log_prob = (x * tf.math.log_sigmoid(logits) + (1 - x) * tf.math.log_sigmoid(-logits)).numpy()
        np.testing.assert_allclose(cross_entropy, -log_prob, rtol=1e-5, atol=1e-5)
    # Why the package never writes log(sigmoid(l)): at l = -120 sigmoid underflows to 0 in float32.
    with np.errstate(divide="ignore"):
        naive = np.log(tf.sigmoid(tf.constant(-120.0)).numpy())
    assert naive == -np.inf
    assert tf.math.log_sigmoid(-120.0).numpy() == pytest.approx(-120.0)
