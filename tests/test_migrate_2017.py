"""TF1 checkpoints written by 2017-style code, converted for Keras 3.

Three scripts train a few steps, each in a process of its own as notebook 00
runs the 2017 scripts (``TF_USE_LEGACY_KERAS=1`` only where
``tf.compat.v1.layers`` needs it, never in this process):

* the fixed post and Slim scripts of notebooks/tf1_2017: ``legacy-vae convert``
  turns their checkpoints into ``.weights.h5`` files that plain Keras 3 loads,
  giving the ELBO the script computed (rtol 1e-6);
* a model the package does not contain, written here (FOREIGN): a small
  convolutional classifier with ``tf.layers.conv2d``, ``max_pooling2d``,
  ``dense`` and a ``tf_slim`` layer. Its checkpoint goes into a hand-written
  Keras 3 model, which gives the script's logits and loss; and the parity
  check, with the same graph written on Keras-3-safe layers, agrees on every
  gradient and catches one perturbed weight.
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from legacy_vae import migrate
from legacy_vae.config import defaults
from legacy_vae.models.layers import dense, flatten
from migrate_support import REPO_ROOT, env, leftovers, run_python

v1 = tf.compat.v1
SCRIPTS = REPO_ROOT / "notebooks" / "tf1_2017" / "fixed"
STEPS = 20
CHECK_IMAGES = 200

FOREIGN = '''"""A small MNIST classifier in the TF1 style of 2017 (written by legacy-vae's tests, not part of it)."""
import argparse
import os

import numpy as np
import tensorflow as tf
import tf_slim as slim
from legacy_vae import data as input_data


def classifier(images):
    net = tf.reshape(images, [-1, 28, 28, 1])
    net = tf.compat.v1.layers.conv2d(net, 8, 5, activation=tf.nn.relu)      # conv2d: 24x24x8
    net = tf.compat.v1.layers.max_pooling2d(net, 2, 2)                     # 12x12x8
    net = tf.compat.v1.layers.conv2d(net, 16, 3, activation=tf.nn.relu)     # conv2d_1: 10x10x16
    net = tf.compat.v1.layers.max_pooling2d(net, 2, 2)                     # 5x5x16
    net = tf.compat.v1.layers.flatten(net)
    net = tf.compat.v1.layers.dense(net, 32, tf.nn.relu)                   # dense
    net = slim.fully_connected(net, 32, scope='fc1')                       # fc1 (ReLU)
    return tf.compat.v1.layers.dense(net, 10)                              # dense_1: logits


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--data_dir')
    parser.add_argument('--steps', type=int, default=100)
    parser.add_argument('--out')
    parser.add_argument('--check_images', type=int, default=200)
    args = parser.parse_args()
    tf.compat.v1.disable_eager_execution()
    tf.compat.v1.set_random_seed(0)
    images = tf.compat.v1.placeholder(tf.float32, [None, 784])
    labels = tf.compat.v1.placeholder(tf.int64, [None])
    with tf.compat.v1.variable_scope('classifier'):
        logits = classifier(images)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    global_step = tf.compat.v1.train.get_or_create_global_step()
    train_op = tf.compat.v1.train.AdamOptimizer(1e-3).minimize(loss, global_step=global_step)
    mnist = input_data.read_data_sets(args.data_dir, seed=0)
    with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        for _ in range(args.steps):
            batch, batch_labels = mnist.train.next_batch(50)
            sess.run(train_op, {images: batch, labels: batch_labels})
        os.makedirs(args.out)
        tf.compat.v1.train.Saver().save(sess, os.path.join(args.out, 'model.ckpt'))
        check = {images: mnist.test.images[:args.check_images], labels: mnist.test.labels[:args.check_images]}
        np.savez(os.path.join(args.out, 'check.npz'), images=check[images], labels=check[labels],
                 logits=sess.run(logits, check), loss=sess.run(loss, check))


if __name__ == '__main__':
    main()
'''


@pytest.fixture(scope="module")
def scripts(tmp_path_factory, mnist_dir):
    """Run the three scripts side by side; {name: output folder}."""
    root = tmp_path_factory.mktemp("scripts")
    (root / "foreign_2017.py").write_text(FOREIGN)
    jobs = {"post": (SCRIPTS / "post_2017.py", True), "slim": (SCRIPTS / "slim_2017.py", False),
            "foreign": (root / "foreign_2017.py", True)}
    started = {}
    for name, (script, legacy_keras) in jobs.items():
        command = [sys.executable, str(script), "--data_dir", str(mnist_dir), "--steps", str(STEPS),
                   "--out", str(root / name), "--check_images", str(CHECK_IMAGES)]
        started[name] = subprocess.Popen(command, env=env(legacy_keras), stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True)
    for name, process in started.items():
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, f"{name} failed:\n{stderr[-3000:]}"
    return {name: root / name for name in jobs}


def convert_command(*args, cwd):
    return subprocess.run([sys.executable, "-m", "legacy_vae", "convert", *map(str, args)], cwd=cwd, env=env(),
                          capture_output=True, text=True, timeout=300)


# Plain Keras 3 and TensorFlow, no legacy_vae: the Slim model, its file loaded, the ELBO of the script's check.
SLIM_PLAIN = '''
import json, sys
import keras, numpy as np, tensorflow as tf
from keras import layers
encoder = keras.Sequential([keras.Input((784,)), layers.Dense(128, activation="relu"), layers.Dense(128)])
decoder = keras.Sequential([keras.Input((64,)), layers.Dense(128, activation="relu"), layers.Dense(784)])
images, eps = keras.Input((784,)), keras.Input((64,))
mu, logvar = keras.ops.split(encoder(images), 2, axis=-1)
z = mu + keras.ops.sqrt(keras.ops.exp(logvar)) * eps
model = keras.Model([images, eps], {"mu": mu, "logvar": logvar, "z": z, "logits": decoder(z)})
model.load_weights(sys.argv[1])
check = np.load(sys.argv[2])
out = model([check["images"], check["noise"]])
log_lik = -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=check["images"], logits=out["logits"]), -1)
kl = -0.5 * tf.reduce_sum(1.0 + out["logvar"] - out["mu"] ** 2 - tf.exp(out["logvar"]), -1)
print(json.dumps({"elbo": float(tf.reduce_mean(log_lik - kl)),
                  "imported": sorted(m for m in sys.modules if m.startswith("legacy_vae"))}))
'''


def test_convert_the_2017_slim_checkpoint_for_plain_keras(scripts, tmp_path):
    """(The post script's is converted by the commands of docs/migrate.md, in test_migrate_cli.py.)"""
    done = convert_command(scripts["slim"], "--model", "slim", "--to", "slim.weights.h5", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "encoder/fc1/weights" in done.stdout and "16 optimizer slots, global_step" in done.stdout
    result = run_python(SLIM_PLAIN, tmp_path, tmp_path / "slim.weights.h5", scripts["slim"] / "elbo_check.npz")
    assert result["imported"] == []
    np.testing.assert_allclose(result["elbo"], float(np.load(scripts["slim"] / "elbo_check.npz")["elbo"]),
                               rtol=1e-6)


@pytest.mark.parametrize("name", ["post", "slim"])
def test_the_2017_checkpoints_give_the_package_keras_models_the_scripts_elbo(scripts, name, tmp_path):
    model = migrate.for_config(defaults(name))
    migrate.convert(scripts[name] / "model.ckpt", model, tmp_path / f"{name}.weights.h5")
    check = np.load(scripts[name] / "elbo_check.npz")
    keras_elbo = float(migrate.elbo(model, check["images"], check["noise"])["elbo"])
    np.testing.assert_allclose(keras_elbo, float(check["elbo"]), rtol=1e-6)
    other = np.random.RandomState(1).randn(*check["noise"].shape).astype(np.float32)
    assert abs(float(migrate.elbo(model, check["images"], other)["elbo"]) - float(check["elbo"])) > 1e-4 * abs(
        float(check["elbo"]))


def foreign_keras():
    """The foreign classifier, written by hand in Keras 3."""
    import keras
    from keras import layers

    return keras.Sequential([keras.Input((784,)), layers.Reshape((28, 28, 1)),
                             layers.Conv2D(8, 5, activation="relu"), layers.MaxPooling2D(2, 2),
                             layers.Conv2D(16, 3, activation="relu"), layers.MaxPooling2D(2, 2),
                             layers.Flatten(), layers.Dense(32, activation="relu"),
                             layers.Dense(32, activation="relu"), layers.Dense(10)], name="classifier")


def foreign_loss(model):
    def loss(images, labels):
        logits = model(images)
        return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    return loss


def test_a_foreign_checkpoint_gives_the_hand_written_keras_model_the_same_outputs(scripts, tmp_path):
    done = migrate.convert(scripts["foreign"] / "model.ckpt", foreign_keras(), tmp_path / "classifier.weights.h5")
    assert [(p.keras_path.split("/")[-1], p.tf1_name) for p in done.pairs][::2] == [
        ("kernel", "classifier/conv2d/kernel"), ("kernel", "classifier/conv2d_1/kernel"),
        ("kernel", "classifier/dense/kernel"), ("kernel", "classifier/fc1/weights"),
        ("kernel", "classifier/dense_1/kernel")]
    model = foreign_keras()
    model.load_weights(tmp_path / "classifier.weights.h5")
    check = np.load(scripts["foreign"] / "check.npz")
    logits = model(check["images"]).numpy()
    np.testing.assert_allclose(logits, check["logits"], rtol=1e-5, atol=1e-5)
    loss = float(foreign_loss(model)(check["images"], check["labels"]))
    np.testing.assert_allclose(loss, float(check["loss"]), rtol=1e-5)
    # Trained weights, not the initial ones: the script's loss fell below chance's log(10).
    assert loss < np.log(10)


def conv2d(inputs, filters, size, name=None):
    """tf.layers.conv2d (valid padding, ReLU) on get_variable: the same variable names, no legacy Keras."""
    with v1.variable_scope(name, default_name="conv2d"):
        kernel = v1.get_variable("kernel", [size, size, int(inputs.shape[-1]), filters],
                                 initializer=v1.glorot_uniform_initializer())
        bias = v1.get_variable("bias", [filters], initializer=v1.zeros_initializer())
        return tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(inputs, kernel, 1, "VALID"), bias))


def foreign_graph():
    """The foreign script's graph again, on layers that build under Keras 3 (a user's test would do this)."""
    import tf_slim as slim

    images = v1.placeholder(tf.float32, [None, 784])
    labels = v1.placeholder(tf.int64, [None])
    with v1.variable_scope("classifier"):
        net = tf.reshape(images, [-1, 28, 28, 1])
        net = tf.nn.max_pool2d(conv2d(net, 8, 5), 2, 2, "VALID")
        net = tf.nn.max_pool2d(conv2d(net, 16, 3), 2, 2, "VALID")
        net = dense(flatten(net), 32, tf.nn.relu)
        net = slim.fully_connected(net, 32, scope="fc1")
        logits = dense(net, 10)
    loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
    return {"images": images, "labels": labels}, loss


@pytest.mark.filterwarnings("ignore:`layer.apply` is deprecated:UserWarning")
def test_parity_on_the_foreign_model_and_one_perturbed_weight(scripts):
    check = np.load(scripts["foreign"] / "check.npz")
    inputs = {"images": check["images"][:64], "labels": check["labels"][:64]}
    checkpoint = scripts["foreign"] / "model.ckpt"
    model = foreign_keras()
    report = migrate.assert_parity(foreign_graph, foreign_loss(model), model, inputs, checkpoint=checkpoint)
    assert len(report.rows) == 11
    np.testing.assert_allclose(report.tf1_loss, float(foreign_loss(model)(**inputs)), rtol=1e-5)
    kernel = model.layers[3].kernel  # the second convolution: classifier/conv2d_1/kernel
    kernel.assign(kernel * 1.01)
    with pytest.raises(migrate.ParityError) as failed:
        migrate.assert_parity(foreign_graph, foreign_loss(model), model, inputs, checkpoint=checkpoint,
                              assign=False)
    different = [row.name for row in failed.value.report.rows if row.weight_difference > 0]
    assert [name.split(" -> ")[0] for name in different] == ["classifier/conv2d_1/kernel"]
    assert "classifier/conv2d_1/kernel -> " in str(failed.value)


def test_a_foreign_checkpoint_that_does_not_fit_is_refused_at_once(scripts, tmp_path):
    import keras
    from keras import layers

    # 16 units where the script had 32 after the convolutions, and no fc1 at all.
    wrong = keras.Sequential([keras.Input((784,)), layers.Reshape((28, 28, 1)), layers.Conv2D(8, 5),
                              layers.MaxPooling2D(2, 2), layers.Conv2D(16, 3), layers.MaxPooling2D(2, 2),
                              layers.Flatten(), layers.Dense(16), layers.Dense(10)], name="classifier")
    with pytest.raises(migrate.MigrationError) as refused:
        migrate.convert(scripts["foreign"] / "model.ckpt", wrong, tmp_path / "out" / "wrong.weights.h5")
    text = str(refused.value)
    assert "unmatched: Keras layer dense" in text and "unused: checkpoint variable classifier/fc1/weights" in text
    assert len(refused.value.problems) >= 2
    assert leftovers(tmp_path / "out") == []
