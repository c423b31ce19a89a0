"""A VAE for MNIST digits in the TensorFlow 1 style of 2017 (the post model).

Written the way TensorFlow 1.4 wanted it: a graph of placeholders, tf.layers
for the two networks, tf.contrib.distributions for the three densities and
tf.make_template so that every call of a network shares its weights.
notebooks/00_tf1_code_on_tf2.ipynb takes as_written/post_2017.py through
tf_upgrade_v2 and a few hand fixes to fixed/post_2017.py; only the latter runs
on TensorFlow 2.

    python post_2017.py --data_dir MNIST_data/ --steps 600 --out post_run

writes a checkpoint, the graph's variables (variables.json) and one batch of
test digits with a fixed noise draw and the ELBO the graph gave them
(elbo_check.npz), so that another program can check it got the same numbers.
"""
import argparse
import json
import os

import numpy as np
import tensorflow as tf
from tensorflow.examples.tutorials.mnist import input_data

tfd = tf.contrib.distributions

CODE_SIZE = 2
HIDDEN_UNITS = 200
PIXELS = 784


def encoder_net(images, code_size):
    """q(z | x): a diagonal Gaussian whose mean and spread two ReLU layers predict."""
    net = tf.layers.dense(images, HIDDEN_UNITS, tf.nn.relu)
    net = tf.layers.dense(net, HIDDEN_UNITS, tf.nn.relu)
    mean = tf.layers.dense(net, code_size)
    # softplus: a standard deviation has to be positive.
    spread = tf.layers.dense(net, code_size, tf.nn.softplus)
    return tfd.MultivariateNormalDiag(mean, spread)


def decoder_net(z):
    """p(x | z): one Bernoulli per pixel; Independent(..., 1) makes the row of 784 one event."""
    net = tf.layers.dense(z, HIDDEN_UNITS, tf.nn.relu)
    net = tf.layers.dense(net, HIDDEN_UNITS, tf.nn.relu)
    logits = tf.layers.dense(net, PIXELS)
    return tfd.Independent(tfd.Bernoulli(logits=logits), 1)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--data_dir', default='MNIST_data/')
    parser.add_argument('--steps', type=int, default=600)
    parser.add_argument('--out', default='post_run')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--check_images', type=int, default=500)
    args = parser.parse_args()

    tf.set_random_seed(args.seed)
    global_step = tf.train.get_or_create_global_step()
    # make_template: the first call creates encoder/dense..., later calls reuse them.
    encoder = tf.make_template('encoder', encoder_net)
    decoder = tf.make_template('decoder', decoder_net)

    images = tf.placeholder(tf.float32, [None, PIXELS])
    p_z = tfd.MultivariateNormalDiag(tf.zeros(CODE_SIZE), tf.ones(CODE_SIZE))
    q_z = encoder(images, CODE_SIZE)
    z = q_z.sample()
    log_px = decoder(z).log_prob(images)
    kl = tfd.kl_divergence(q_z, p_z)
    elbo = tf.reduce_mean(log_px - kl)
    with tf.name_scope('train'):
        train_op = tf.train.AdamOptimizer(0.001).minimize(-elbo, global_step=global_step)

    mnist = input_data.read_data_sets(args.data_dir, seed=args.seed)
    test_feed = {images: mnist.test.images}
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        print('step 0: test ELBO %.2f' % sess.run(elbo, test_feed))
        for _ in range(args.steps):
            batch, _ = mnist.train.next_batch(100)
            sess.run(train_op, {images: batch})
        step = sess.run(global_step)
        print('step %d: test ELBO %.2f' % (step, sess.run(elbo, test_feed)))

        if not os.path.isdir(args.out):
            os.makedirs(args.out)
        saver.save(sess, os.path.join(args.out, 'model.ckpt'))
        listing = [[v.op.name, v.shape.as_list()] for v in tf.global_variables()]
        with open(os.path.join(args.out, 'variables.json'), 'w') as f:
            json.dump(listing, f, indent=1)

        # The ELBO with noise chosen here rather than drawn by q_z.sample().
        # The graph has no handle on the sampler's noise, but TF1 lets any
        # tensor be fed: feeding `z` replaces the sample by mean + spread * noise.
        check = mnist.test.images[:args.check_images]
        noise = np.random.RandomState(args.seed).randn(len(check), CODE_SIZE).astype(np.float32)
        mean, spread = sess.run([q_z.mean(), q_z.stddev()], {images: check})
        fixed_elbo = sess.run(elbo, {images: check, z: mean + spread * noise})
        np.savez(os.path.join(args.out, 'elbo_check.npz'), images=check, noise=noise, elbo=fixed_elbo)
        print('ELBO of %d test digits with fixed noise: %.6f' % (len(check), fixed_elbo))


if __name__ == '__main__':
    main()
