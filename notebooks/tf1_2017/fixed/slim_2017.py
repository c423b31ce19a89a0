"""A VAE for binarized MNIST in the TensorFlow 1 style of 2017 (the Slim model).

tf.contrib.slim builds the layers: slim.fully_connected under one
slim.arg_scope that gives every layer truncated-normal(0, 0.1) weights. The
encoder's last layer is 128 wide, its halves the mean and the log-variance of
a 64-d code; the decoder draws the code itself.
notebooks/00_tf1_code_on_tf2.ipynb takes as_written/slim_2017.py through
tf_upgrade_v2 and a few hand fixes to fixed/slim_2017.py; only the latter runs
on TensorFlow 2.

    python slim_2017.py --data_dir MNIST_data/ --steps 2000 --out slim_run

writes a checkpoint, the graph's variables (variables.json) and one batch of
test digits with a fixed noise draw and the ELBO the graph gave them
(elbo_check.npz), so that another program can check it got the same numbers.
"""
import argparse
import json
import os

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
import tf_slim as slim
from legacy_vae import data as input_data  # same read_data_sets and next_batch

CODE_SIZE = 64
HIDDEN_UNITS = 128
PIXELS = 784


def binarize(images):
    return (images > 0.5).astype(np.float32)


def encoder(x):
    """x -> [mean | log-variance] of q(z | x), one 2 * CODE_SIZE wide linear layer."""
    with slim.arg_scope([slim.fully_connected],
                        weights_initializer=tf.compat.v1.truncated_normal_initializer(0.0, 0.1)):
        net = slim.fully_connected(x, HIDDEN_UNITS, scope='fc1')
        return slim.fully_connected(net, 2 * CODE_SIZE, activation_fn=None, scope='fc2')


def decoder(mean_logvar):
    """Draw z from q(z | x), then map it to 784 Bernoulli logits."""
    mean, logvar = tf.split(mean_logvar, num_or_size_splits=2, axis=1)
    noise = tf.random.normal(tf.shape(mean))
    z = mean + tf.sqrt(tf.exp(logvar)) * noise
    with slim.arg_scope([slim.fully_connected],
                        weights_initializer=tf.compat.v1.truncated_normal_initializer(0.0, 0.1)):
        net = slim.fully_connected(z, HIDDEN_UNITS, scope='fc1')
        logits = slim.fully_connected(net, PIXELS, activation_fn=None, scope='fc2')
    pixels = tfp.distributions.Bernoulli(logits=logits, dtype=tf.float32)
    return logits, pixels, noise


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data_dir', default='MNIST_data/')
    parser.add_argument('--steps', type=int, default=2000)
    parser.add_argument('--out', default='slim_run')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--check_images', type=int, default=500)
    args = parser.parse_args()
    # TensorFlow 2 runs eagerly; placeholders and sessions need graph mode.
    tf.compat.v1.disable_eager_execution()

    tf.compat.v1.set_random_seed(args.seed)
    global_step = tf.compat.v1.train.get_or_create_global_step()
    x = tf.compat.v1.placeholder(tf.float32, [None, PIXELS], name='x')
    with tf.compat.v1.variable_scope('encoder'):
        mean_logvar = encoder(x)
    with tf.compat.v1.variable_scope('decoder'):
        logits, pixels, noise = decoder(mean_logvar)
        x_hat = pixels.sample()

    mean, logvar = tf.split(mean_logvar, num_or_size_splits=2, axis=1)
    # Per digit: cross-entropy of the 784 pixels, and the KL of q(z | x) from N(0, I).
    reconstruction = tf.reduce_sum(
        tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=[1])
    kl = -0.5 * tf.reduce_sum(1.0 + logvar - tf.square(mean) - tf.exp(logvar), axis=[1])
    loss = tf.reduce_mean(reconstruction + kl)
    with tf.compat.v1.name_scope('train'):
        train_op = tf.compat.v1.train.AdamOptimizer().minimize(loss, global_step=global_step)

    mnist = input_data.read_data_sets(args.data_dir, seed=args.seed)
    test_feed = {x: binarize(mnist.test.images)}
    saver = tf.compat.v1.train.Saver()
    with tf.compat.v1.Session() as sess:
        sess.run(tf.compat.v1.global_variables_initializer())
        print('step 0: test loss %.2f' % sess.run(loss, test_feed))
        for _ in range(args.steps):
            batch, _ = mnist.train.next_batch(100)
            sess.run(train_op, {x: binarize(batch)})
        step = sess.run(global_step)
        print('step %d: test loss %.2f' % (step, sess.run(loss, test_feed)))
        sess.run(x_hat, {x: binarize(mnist.validation.images[:5])})

        if not os.path.isdir(args.out):
            os.makedirs(args.out)
        saver.save(sess, os.path.join(args.out, 'model.ckpt'))
        listing = [[v.op.name, v.shape.as_list()] for v in tf.compat.v1.global_variables()]
        with open(os.path.join(args.out, 'variables.json'), 'w') as f:
            json.dump(listing, f, indent=1)

        # The ELBO (= -loss) with noise chosen here: `noise` is a tensor of the
        # graph, and TF1 lets any tensor be fed in place of what it computes.
        check = binarize(mnist.test.images[:args.check_images])
        fixed_noise = np.random.RandomState(args.seed).randn(len(check), CODE_SIZE).astype(np.float32)
        fixed_elbo = -sess.run(loss, {x: check, noise: fixed_noise})
        np.savez(os.path.join(args.out, 'elbo_check.npz'), images=check, noise=fixed_noise, elbo=fixed_elbo)
        print('ELBO of %d test digits with fixed noise: %.6f' % (len(check), fixed_elbo))


if __name__ == '__main__':
    main()
