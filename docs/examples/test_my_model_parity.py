"""Copy this file into your tests: your TF1 model and its Keras 3 rewrite give the same loss and gradients.

Replace ``build_tf1`` by your graph code (placeholders in, loss out), ``keras_model``
by your Keras 3 model and ``tf2_loss_of`` by your loss on it. Everything runs
in one process on Keras 3: no tf-keras, no ``TF_USE_LEGACY_KERAS``. Run with

    python -m pytest -q test_my_model_parity.py

(docs/migrate.md explains the matching of weights and the tolerances.)
"""
import keras
import numpy as np
import pytest
import tensorflow as tf
import tf_slim as slim

from legacy_vae import migrate
from legacy_vae.models.layers import dense  # tf.layers.dense's variables and names, without legacy Keras

v1 = tf.compat.v1
# tf_slim 1.1.0 calls a deprecated Keras 2 method inside slim.fully_connected; not this test's business.
pytestmark = pytest.mark.filterwarnings("ignore:`layer.apply` is deprecated:UserWarning")


def build_tf1():
    """The TF1 graph: a classifier of noisy digits, in the 2017 style (runs inside a fresh tf.Graph)."""
    v1.set_random_seed(0)
    images = v1.placeholder(tf.float32, [None, 784], name="images")
    labels = v1.placeholder(tf.int64, [None], name="labels")
    noise = tf.random.normal(tf.shape(images), stddev=0.1)  # drawn in the graph; the test feeds it
    with v1.variable_scope("classifier"):
        net = dense(images + noise, 64, tf.nn.relu)            # classifier/dense/kernel, .../bias
        net = slim.fully_connected(net, 32, scope="fc1")        # classifier/fc1/weights, .../biases (ReLU)
        logits = dense(net, 10)                                 # classifier/dense_1/kernel, .../bias
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    return {"images": images, "labels": labels, "noise": noise}, loss


def keras_model():
    """The Keras 3 rewrite; named like the TF1 scope, so its layers take that scope's variables."""
    return keras.Sequential([keras.Input((784,)), keras.layers.Dense(64, activation="relu"),
                             keras.layers.Dense(32, activation="relu"), keras.layers.Dense(10)], name="classifier")


def tf2_loss_of(model):
    def loss(images, labels, noise):
        logits = model(images + noise)
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    return loss


@pytest.fixture
def inputs():
    """The same digits, labels and noise for both sides."""
    rng = np.random.default_rng(0)
    return {"images": rng.random((32, 784), np.float32), "labels": rng.integers(0, 10, 32),
            "noise": 0.1 * rng.standard_normal((32, 784), np.float32)}


def test_same_loss_and_gradients_from_the_graphs_weights(inputs):
    model = keras_model()
    report = migrate.assert_parity(build_tf1, tf2_loss_of(model), model, inputs)
    assert len(report.rows) == 1 + 6  # the loss, then three kernels and three biases


def test_a_converted_checkpoint_loads_into_keras_and_agrees(inputs, tmp_path):
    # A checkpoint as your TF1 training wrote it (here: the graph's first weights, saved by a Saver).
    with tf.Graph().as_default():
        build_tf1()
        with v1.Session() as session:
            session.run(v1.global_variables_initializer())
            prefix = v1.train.Saver().save(session, str(tmp_path / "model.ckpt"))
    migrate.convert(prefix, keras_model(), tmp_path / "model.weights.h5")
    model = keras_model()
    model.load_weights(tmp_path / "model.weights.h5")  # plain Keras 3 from here on
    # assign=False: the model keeps the weights it loaded; the check compares them too.
    migrate.assert_parity(build_tf1, tf2_loss_of(model), model, inputs, checkpoint=prefix, assign=False)


def test_one_perturbed_weight_is_reported_by_name(inputs):
    model = keras_model()
    migrate.assert_parity(build_tf1, tf2_loss_of(model), model, inputs)  # copies the graph's weights in
    layer = model.layers[1]  # the layer that took classifier/fc1
    layer.bias.assign(layer.bias + 0.01)
    with pytest.raises(migrate.ParityError) as failed:
        migrate.assert_parity(build_tf1, tf2_loss_of(model), model, inputs, assign=False)
    line = next(line for line in str(failed.value).splitlines() if line.startswith("classifier/fc1/biases"))
    assert "DIFFERENT" in line and "the weights differ" in line
