"""TF1 graph mode and TF2 eager compute the same VAE: same weights, batch and noise.

What changed from TF1 to TF2 for these models, and what did not:

- TF1 built a graph and ran it in a ``Session`` with a ``feed_dict``; TF2 runs
  each op as Python reaches it, and ``tf.GradientTape`` records what
  ``tf.gradients`` read off the graph.
- Variables were found by name (``encoder/dense/kernel``); in TF2 they are
  Python attributes. The twins keep the TF1 names so weights move across.
- The maths is the same: on real MNIST batches the reconstruction term, the
  closed-form KL and the ELBO agree to a relative 1e-5 (measured: below 1e-7),
  and the gradient of the loss with respect to every weight to a relative
  1e-4 (measured: below 4e-7), relative meaning max|g2 - g1| / max|g1|.
"""
import numpy as np
import pytest

from legacy_vae import parity
from legacy_vae.config import defaults
from legacy_vae.data import binarize_static, read_data_sets


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return read_data_sets(mnist_dir, seed=0)


def targets(config, images):
    return binarize_static(images) if config.binarize == "static" else images


@pytest.fixture(scope="module", params=["post", "slim"])
def trained(request, mnist):
    """A graph model after 30 Adam steps on real batches, and its twin holding the same weights."""
    config = defaults(request.param)
    handles, session = parity.start(config)
    for _ in range(30):
        session.run(handles.train_op, handles.feed(targets(config, mnist.train.next_batch(100)[0])))
    yield config, handles, session, parity.twin_from_session(handles, session)
    session.close()


def batch_and_noise(config, mnist, seed=1):
    images = targets(config, mnist.test.images[:100])
    eps = np.random.default_rng(seed).standard_normal((100, config.code_size)).astype(np.float32)
    return images, eps


def test_twin_holds_the_graph_weights(trained):
    config, handles, session, twin = trained
    graph = parity.graph_weights(session, handles.graph)
    assert sorted(graph) == sorted(twin.names)
    for name, value in twin.weights().items():
        np.testing.assert_array_equal(value, graph[name], err_msg=name)


def test_reconstruction_kl_and_elbo_agree(trained, mnist):
    config, handles, session, twin = trained
    images, eps = batch_and_noise(config, mnist)
    result = parity.compare_losses(handles, session, twin, images, eps)
    for term in ("reconstruction", "kl", "elbo"):
        assert result["relative_difference"][term] <= 1e-5, (term, result)
    # The convention: positive terms, a negative ELBO, elbo = -(reconstruction + kl).
    tf1 = result["tf1"]
    assert tf1["reconstruction"] > 0 and tf1["kl"] > 0 and tf1["elbo"] < 0
    assert tf1["elbo"] == pytest.approx(-(tf1["reconstruction"] + tf1["kl"]), rel=1e-6)


def test_the_noise_is_really_used(trained, mnist):
    # Different eps must change the terms, or agreement above would prove nothing about eps.
    config, handles, session, twin = trained
    images, eps = batch_and_noise(config, mnist)
    _, other = batch_and_noise(config, mnist, seed=2)
    first = parity.compare_losses(handles, session, twin, images, eps)["tf2"]
    second = parity.compare_losses(handles, session, twin, images, other)["tf2"]
    assert first["reconstruction"] != second["reconstruction"]


def test_gradients_agree_for_every_weight(trained, mnist):
    config, handles, session, twin = trained
    images, eps = batch_and_noise(config, mnist)
    result = parity.compare_gradients(handles, session, twin, images, eps)
    assert sorted(result["relative_difference"]) == sorted(twin.names)
    for name, difference in result["relative_difference"].items():
        assert difference <= 1e-4, (name, difference)
        assert np.any(result["tf1"][name] != 0), f"{name}: an all-zero gradient compares nothing"


def test_twin_rejects_weights_it_cannot_hold(trained):
    config, handles, session, twin = trained
    weights = twin.weights()
    name = twin.names[0]
    with pytest.raises(ValueError, match="missing"):
        twin.load({k: v for k, v in weights.items() if k != name})
    with pytest.raises(ValueError, match="wrong shapes"):
        twin.load(dict(weights, **{name: weights[name][:-1]}))
