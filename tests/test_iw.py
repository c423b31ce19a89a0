"""The importance-weighted estimator against log-likelihoods computed exactly."""
import numpy as np
import pytest

from legacy_vae.evaluate import iw


def log_mean_exp(values, axis=-1):
    """A reference: log(mean(exp(values))), shifted by the maximum so -1e4 does not underflow."""
    values = np.asarray(values, dtype=np.float64)
    top = np.max(values, axis=axis, keepdims=True)
    return np.squeeze(np.log(np.mean(np.exp(values - top), axis=axis, keepdims=True)) + top, axis=axis)


def _log_sigmoid(t):
    return -np.logaddexp(0.0, -t)


def _bernoulli_log_lik(x, logits):
    """sum_i x_i log sigmoid(l_i) + (1 - x_i) log sigmoid(-l_i) over the last axis."""
    return np.sum(x * _log_sigmoid(logits) + (1 - x) * _log_sigmoid(-logits), axis=-1)


def _grid_posterior(log_joint, grid_points, cell):
    """Exact log p(x) and the posterior mean/stddev per code axis, by summing on a grid."""
    log_px = log_mean_exp(log_joint) + np.log(log_joint.size * cell)
    post = np.exp(log_joint - log_joint.max())
    post /= post.sum()
    mean = post @ grid_points
    var = post @ (grid_points - mean) ** 2
    return log_px, mean, np.sqrt(var)


@pytest.mark.parametrize("code", [1, 2])
def test_bernoulli_latent_model_matches_quadrature(code):
    rng = np.random.default_rng(code)
    pixels = 16
    weights = rng.normal(0, 1.5, (code, pixels))
    bias = rng.normal(0, 1, pixels)
    # Data drawn from the model itself.
    x = (rng.random((3, pixels)) < 1 / (1 + np.exp(-(rng.normal(size=(3, code)) @ weights + bias)))).astype(float)

    axis = np.linspace(-9, 9, 3601 if code == 1 else 801)
    step = axis[1] - axis[0]
    grid = np.stack(np.meshgrid(*([axis] * code), indexing="ij"), -1).reshape(-1, code)
    log_prior = iw.standard_normal_log_density(grid)

    means, stds, exact = [], [], []
    for image in x:
        log_joint = _bernoulli_log_lik(image, grid @ weights + bias) + log_prior
        log_px, mean, std = _grid_posterior(log_joint, grid, step ** code)
        exact.append(log_px)
        means.append(mean)
        stds.append(1.3 * std)  # a slightly wide proposal: heavier tails than the posterior

    def log_likelihood(z):
        return _bernoulli_log_lik(x[:, None, :], z @ weights + bias)

    estimate = iw.importance_log_likelihood(log_likelihood, np.array(means), np.array(stds),
                                            num_samples=50000, chunk_size=5000,
                                            noise=iw.ImageNoise(0, range(3), code))
    np.testing.assert_allclose(estimate.log_likelihood, exact, atol=0.02)
    # The ELBO part sits strictly below log p(x): the estimator is not just echoing the mean weight.
    assert np.all(estimate.mean_log_weight < np.array(exact) - 0.01)


def test_exact_posterior_proposal_gives_log_px_for_every_k():
    """Linear-Gaussian model with q = the true posterior: every weight equals p(x)."""
    rng = np.random.default_rng(1)
    dim, noise_std = 5, 0.7
    w, b = rng.normal(size=dim), rng.normal(size=dim)
    x = rng.normal(size=(4, dim)) * 2
    covariance = np.outer(w, w) + noise_std ** 2 * np.eye(dim)
    _, logdet = np.linalg.slogdet(covariance)
    centred = x - b
    exact = -0.5 * (np.einsum("ni,ij,nj->n", centred, np.linalg.inv(covariance), centred)
                    + logdet + dim * np.log(2 * np.pi))
    precision = 1 + w @ w / noise_std ** 2
    mean = (centred @ w / noise_std ** 2 / precision)[:, None]
    stddev = np.full_like(mean, precision ** -0.5)

    def log_likelihood(z):
        residual = x[:, None, :] - (z * w + b)
        return (-0.5 * np.sum(residual ** 2, -1) / noise_std ** 2
                - dim * np.log(noise_std) - 0.5 * dim * np.log(2 * np.pi))

    for k in (1, 3, 50):
        estimate = iw.importance_log_likelihood(log_likelihood, mean, stddev, k, 7, iw.ImageNoise(0, range(4), 1))
        np.testing.assert_allclose(estimate.log_likelihood, exact, rtol=0, atol=1e-9)
        np.testing.assert_allclose(estimate.effective_samples, k, rtol=1e-9)


def test_chunk_size_does_not_change_the_estimate():
    rng = np.random.default_rng(2)
    mean, stddev = rng.normal(size=(5, 3)), rng.uniform(0.3, 2, (5, 3))
    target = rng.normal(size=(5, 1, 3))

    def log_likelihood(z):
        return -200.0 - 3.0 * np.sum((z - target) ** 2, -1)

    results = [iw.importance_log_likelihood(log_likelihood, mean, stddev, 250, chunk, iw.ImageNoise(9, range(5), 3))
               for chunk in (7, 100, 250)]
    for other in results[1:]:
        np.testing.assert_allclose(other.log_likelihood, results[0].log_likelihood, rtol=0, atol=1e-10)
        np.testing.assert_allclose(other.mean_log_weight, results[0].mean_log_weight, rtol=0, atol=1e-10)
    # A different seed draws different samples, so the check above is not vacuous.
    other_seed = iw.importance_log_likelihood(log_likelihood, mean, stddev, 250, 100, iw.ImageNoise(10, range(5), 3))
    assert not np.allclose(other_seed.log_likelihood, results[0].log_likelihood, atol=1e-6)


def test_noise_depends_on_image_index_not_on_the_batch():
    full = iw.ImageNoise(3, range(6), 2)(40)
    part = iw.ImageNoise(3, [4, 5], 2)
    np.testing.assert_array_equal(np.concatenate([part(15), part(25)], axis=1), full[4:])


def running(values):
    estimate = iw.RunningLogMeanExp(len(values))
    estimate.update(np.asarray(values, np.float64))
    return estimate.result()


def test_the_running_log_mean_exp_is_stable_far_below_and_above_zero():
    with np.errstate(divide="ignore"):
        assert np.log(np.mean(np.exp([-1e4, -1e4]))) == -np.inf  # the naive way underflows
    assert running([[-1e4, -1e4]]) == [-1e4]
    np.testing.assert_allclose(running([[-1e4, -1e4 + np.log(3.0)]]), [-1e4 + np.log(2.0)], rtol=1e-15)
    np.testing.assert_allclose(running(np.full((2, 1000), 800.0)), [800.0, 800.0])


def test_running_log_mean_exp_rescales_when_the_maximum_grows():
    values = np.array([[-1e4, -1e4 - 3.0, -9000.0, -1e4 + 0.5, -20.0, -25.0]])
    running = iw.RunningLogMeanExp(1)
    for start in range(0, 6, 2):
        running.update(values[:, start:start + 2])
    np.testing.assert_allclose(running.result(), log_mean_exp(values), rtol=1e-14)
    np.testing.assert_allclose(running.mean(), values.mean(), rtol=1e-14)
    assert np.isfinite(running.effective_sample_size()).all()


def test_running_log_mean_exp_rejects_nan():
    running = iw.RunningLogMeanExp(2)
    with pytest.raises(FloatingPointError, match="non-finite"):
        running.update([[0.0, np.nan], [1.0, 2.0]])
