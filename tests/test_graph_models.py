"""Structure of the two graph-mode models: variables, templates, names, feeding."""
import warnings

import numpy as np
import pytest
import tensorflow as tf

from legacy_vae.config import defaults
from legacy_vae.models import layers, post, slim_vae

v1 = tf.compat.v1


def variables(graph):
    with graph.as_default():
        return {v.op.name: tuple(v.shape.as_list()) for v in v1.trainable_variables()}


def test_post_variables_names_and_shapes():
    handles = post.build(defaults("post"))
    assert variables(handles.graph) == {
        "encoder/dense/kernel": (784, 200), "encoder/dense/bias": (200,),
        "encoder/dense_1/kernel": (200, 200), "encoder/dense_1/bias": (200,),
        "encoder/dense_2/kernel": (200, 2), "encoder/dense_2/bias": (2,),
        "encoder/dense_3/kernel": (200, 2), "encoder/dense_3/bias": (2,),
        "decoder/dense/kernel": (2, 200), "decoder/dense/bias": (200,),
        "decoder/dense_1/kernel": (200, 200), "decoder/dense_1/bias": (200,),
        "decoder/dense_2/kernel": (200, 784), "decoder/dense_2/bias": (784,),
    }


def test_slim_variables_are_weights_and_biases_under_expected_scopes():
    handles = slim_vae.build(defaults("slim"))
    assert variables(handles.graph) == {
        "encoder/fc1/weights": (784, 128), "encoder/fc1/biases": (128,),
        "encoder/fc2/weights": (128, 128), "encoder/fc2/biases": (128,),
        "decoder/fc1/weights": (64, 128), "decoder/fc1/biases": (128,),
        "decoder/fc2/weights": (128, 784), "decoder/fc2/biases": (784,),
    }


def test_make_template_shares_the_decoder():
    """Reconstruction and prior sampling call the decoder twice; its variables exist once."""
    handles = post.build(defaults("post"))
    names = variables(handles.graph)
    assert sum(name.startswith("decoder/") for name in names) == 6
    assert not any(name.startswith("decoder_1") for name in names)
    # Both decoder calls read the same kernel: the prior-sample path depends on it.
    kernel = handles.graph.get_tensor_by_name("decoder/dense_2/kernel:0")
    ops = {op.name for op in handles.graph.get_operations()
           if any(t.op.name == kernel.op.name for t in op.inputs)}
    assert len(ops) >= 2


def test_a_second_decoder_call_adds_no_variables():
    graph = tf.Graph()
    with graph.as_default():
        make_decoder = v1.make_template("decoder", post.make_decoder, hidden_size=8)
        make_decoder(tf.zeros([3, 2]))
        first = len(v1.trainable_variables())
        make_decoder(tf.ones([5, 2]))
        assert len(v1.trainable_variables()) == first == 6


def test_stable_node_names_for_learners():
    from legacy_vae.engine import fast

    named = {"post": ("encoder/loc", "encoder/scale", "decoder/logits"),
             "slim": ("encoder/mu", "encoder/logvar", "decoder/logits")}
    for model in ("post", "slim"):
        for feed_dict in (False, True):
            graph = fast.build(defaults(model), feed_dict=feed_dict).graph
            for name in ("x", "eps", "prior_eps", "loss/elbo", "loss/reconstruction", "loss/kl",
                         "reconstructions", "x_hat", "prior_samples") + named[model]:
                graph.get_operation_by_name(name)


def test_dense_initialisation_matches_tf_layers_defaults():
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(0)
        layers.dense(tf.zeros([1, 300]), 500)
        kernel, bias = v1.trainable_variables()
        init = v1.global_variables_initializer()
    with v1.Session(graph=graph) as session:
        session.run(init)
        k, b = session.run([kernel, bias])
    limit = np.sqrt(6.0 / (300 + 500))
    assert kernel.op.name == "dense/kernel" and bias.op.name == "dense/bias"
    assert np.all(np.abs(k) <= limit) and np.abs(k).max() > 0.95 * limit
    np.testing.assert_allclose(np.var(k), limit ** 2 / 3, rtol=0.05)  # uniform variance
    assert not b.any()


def test_flatten_keeps_the_batch_dimension():
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 28, 28, 1])
        flat = layers.flatten(x)
    assert flat.shape.as_list() == [None, 784]


def test_slim_build_does_not_warn_about_layer_apply():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        slim_vae.build(defaults("slim"))
    assert not [w for w in caught if "layer.apply" in str(w.message)]
    # The filter is scoped: the user's own warnings still show afterwards.
    with pytest.warns(UserWarning, match="still shown"):
        warnings.warn("still shown", UserWarning)


@pytest.mark.parametrize("module,model", [(post, "post"), (slim_vae, "slim")])
def test_wrong_shape_fed_names_expected_shape(module, model):
    handles = module.build(defaults(model))
    with pytest.raises(ValueError, match=r"expects images of shape \(N, 784\).*got shape \(4, 28, 28\).*reshape\(-1, 784\)"):
        handles.feed(np.zeros((4, 28, 28), np.float32))
    with pytest.raises(ValueError, match=r"expects noise of shape \(4, %d\)" % handles.code_size):
        handles.feed(np.zeros((4, 784), np.float32), eps=np.zeros((4, 3), np.float32))
    # TensorFlow itself refuses the raw feed too, naming the placeholder's shape.
    with v1.Session(graph=handles.graph) as session:
        session.run(handles.init_op)
        with pytest.raises(ValueError, match=r"Cannot feed value of shape \(4, 28, 28\) for Tensor x:0, which has shape \(None, 784\)"):
            session.run(handles.loss, {handles.x: np.zeros((4, 28, 28), np.float32)})


@pytest.mark.parametrize("module,model", [(post, "post"), (slim_vae, "slim")])
def test_fed_noise_determines_the_loss(module, model):
    """x and eps are placeholders with defaults: feeding both fixes the loss exactly."""
    handles = module.build(defaults(model))
    rng = np.random.default_rng(0)
    x = (rng.random((10, 784)) < 0.3).astype(np.float32)
    eps = rng.normal(size=(10, handles.code_size)).astype(np.float32)
    with v1.Session(graph=handles.graph) as session:
        session.run(handles.init_op)
        a = session.run(handles.loss, handles.feed(x, eps))
        b = session.run(handles.loss, handles.feed(x, eps))
        c = session.run(handles.loss, handles.feed(x, eps + 1.0))
    assert a == b and a != c and np.isfinite(a)


@pytest.mark.parametrize("module,model", [(post, "post"), (slim_vae, "slim")])
def test_the_seed_fixes_the_initial_weights(module, model):
    def initial(seed):
        handles = module.build(defaults(model).replace(seed=seed))
        with handles.graph.as_default():
            variables = v1.trainable_variables()
        with v1.Session(graph=handles.graph) as session:
            session.run(handles.init_op)
            return session.run(variables)

    first, again, other = initial(3), initial(3), initial(4)
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, c) for a, c in zip(first, other))


@pytest.mark.parametrize("module", [post, slim_vae])
def test_model_files_know_nothing_of_the_engine_or_the_cluster(module):
    """A model file takes a config (and, to build into a graph opened elsewhere, an ``x``): the
    tf.data input and the device function stay in legacy_vae.engine and legacy_vae.cluster."""
    import inspect

    from legacy_vae.models import handles

    assert list(inspect.signature(module.build).parameters) == ["config"]
    assert list(inspect.signature(module.make_model).parameters) == ["config", "x"]
    assert {name for name, value in vars(handles).items() if isinstance(value, type)
            and value.__module__ == handles.__name__} == {"Terms", "ModelHandles"}
    fields = {field.name for field in __import__("dataclasses").fields(handles.ModelHandles)}
    assert not fields & {"input", "train_steps", "steps_per_run", "train_run"}


@pytest.mark.parametrize("module,model", [(post, "post"), (slim_vae, "slim")])
def test_make_model_builds_the_same_graph_wherever_it_is_opened(module, model):
    """``build`` (a graph of its own), the engine's feed_dict graph and ``make_model`` in a graph
    opened by hand are one GraphDef, byte for byte."""
    from legacy_vae.engine import fast

    config = defaults(model)
    graph = tf.Graph()
    with graph.as_default():
        handles = module.make_model(config)
    assert handles.graph is graph
    own = module.build(config).graph.as_graph_def().SerializeToString(deterministic=True)
    for other in (graph, fast.build(config, feed_dict=True).graph):
        assert other.as_graph_def().SerializeToString(deterministic=True) == own


@pytest.mark.parametrize("module,model", [(post, "post"), (slim_vae, "slim")])
def test_the_posts_names_are_the_handles(module, model):
    handles = module.build(defaults(model))
    assert handles.loc is handles.code_mean and handles.scale is handles.code_stddev
    assert handles.code is handles.z and handles.samples is handles.prior_samples
    assert handles.likelihood is handles.per_image_log_likelihood and handles.divergence is handles.per_image_kl
    # samples = the decoder's Bernoulli means on the prior draw, built in the model file
    assert handles.prior_samples.op.type == "Sigmoid"
    assert handles.prior_eps.op.name == "prior_eps"
