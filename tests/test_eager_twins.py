"""The eager twins: TF1 names, seeded weights, and one Adam step in three TF2 modes.

TF1 had one way to run a training step (``session.run(train_op)``); TF2 has
three, all available through ``make_train_step(twin, mode)``: ``eager`` (ops
run one by one from Python), ``function`` (``tf.function`` traces a graph
once) and ``jit`` (the traced graph compiled by XLA). They compute the same
thing: from the same weights, the losses of 20 steps agree to a relative
1e-4 (XLA fuses and reorders float arithmetic, so not bit for bit).
"""
import numpy as np
import pytest

from legacy_vae import parity
from legacy_vae.config import defaults
from legacy_vae.data import binarize_static, read_data_sets
from legacy_vae.models.twins import PostTwin, SlimTwin, make_train_step, twin_for


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return read_data_sets(mnist_dir, seed=0)


@pytest.mark.parametrize("model", ["post", "slim"])
def test_twin_variables_are_named_and_shaped_like_the_graph_models(model):
    config = defaults(model)
    handles = parity.build_graph_model(config)
    graph_variables = handles.graph.get_collection("trainable_variables")
    twin = twin_for(config)
    assert twin.names == [v.op.name for v in graph_variables]
    assert [tuple(v.shape) for v in twin.variable_list] == [tuple(v.shape.as_list()) for v in graph_variables]


@pytest.mark.parametrize("model", ["post", "slim"])
def test_a_twin_from_a_session_holds_every_weight(model):
    handles, session = parity.start(defaults(model))
    twin = parity.twin_from_session(handles, session)
    graph = parity.graph_weights(session)
    session.close()
    for name, value in twin.weights().items():
        np.testing.assert_array_equal(value, graph[name], err_msg=name)


def test_initial_weights_depend_only_on_the_seed():
    config = defaults("slim")
    a, b, c = SlimTwin(config).weights(), SlimTwin(config).weights(), SlimTwin(config.replace(seed=1)).weights()
    name = "encoder/fc1/weights"
    np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(a[name], c[name])
    # slim's truncated normal(0, 0.1): nothing beyond two standard deviations.
    assert np.abs(a[name]).max() <= 0.2 and a[name].std() == pytest.approx(0.088, abs=0.005)
    assert not np.any(a["encoder/fc1/biases"])


@pytest.mark.parametrize("model", ["post", "slim"])
def test_three_modes_take_the_same_steps(model, mnist):
    config = defaults(model)
    start = twin_for(config).weights()
    rng = np.random.default_rng(0)
    batches = [mnist.train.images[i * 100:(i + 1) * 100] for i in range(20)]
    if config.binarize == "static":
        batches = [binarize_static(b) for b in batches]
    noise = [rng.standard_normal((100, config.code_size)).astype(np.float32) for _ in batches]
    losses = {}
    for mode in ("eager", "function", "jit"):
        twin = twin_for(config)
        twin.load(start)
        step = make_train_step(twin, mode)
        losses[mode] = np.array([float(step(x, eps)) for x, eps in zip(batches, noise)])
    np.testing.assert_allclose(losses["function"], losses["eager"], rtol=1e-4)
    np.testing.assert_allclose(losses["jit"], losses["eager"], rtol=1e-4)
    assert losses["eager"][-5:].mean() < 0.8 * losses["eager"][0]  # and they train


def test_twin_errors_name_the_fix():
    with pytest.raises(ValueError, match="mode must be one of"):
        make_train_step(PostTwin(defaults("post")), "graph")
    with pytest.raises(ValueError, match="needs a 'post' config"):
        PostTwin(defaults("slim"))
    with pytest.raises(ValueError, match="eager already"):
        twin_for(defaults("cvae"))
