"""The post model: Hafner's "Building Variational Auto-Encoders in TensorFlow".

    q(z | x) = N(loc(x), diag(softplus(.)^2)),  loc, scale from a 784-200-200 ReLU MLP
    p(z)     = N(0, I),  z in R^2 by default
    p(x | z) = Bernoulli(sigmoid(logits(z))),   logits from a 2-200-200-784 ReLU MLP
    ELBO     = E_q[log p(x | z)] - KL(q(z | x) || p(z)),  one sample of z per image

The original used ``tf.contrib.distributions`` and ``tf.layers``; both are gone,
so the densities are written out (``losses``) and the layers rebuilt on
``get_variable`` (``layers``). What stays is the idiom the post taught:
``tf.compat.v1.make_template`` wraps encoder and decoder so that the decoder
that reconstructs and the decoder that decodes prior samples share one set of
variables, created on the first call.
"""
from __future__ import annotations

import tensorflow as tf

from legacy_vae.graph import layers, losses
from legacy_vae.graph.common import finish_graph, input_tensors

v1 = tf.compat.v1

IMAGE_SIZE = 784


def encoder(x, code_size, hidden_size):
    """x -> (loc, scale) of q(z | x); the softplus keeps the scale positive."""
    h = layers.flatten(x)
    h = layers.dense(h, hidden_size, tf.nn.relu)
    h = layers.dense(h, hidden_size, tf.nn.relu)
    loc = layers.dense(h, code_size, name="loc")
    scale = layers.dense(h, code_size, tf.nn.softplus, name="scale")
    return loc, scale


def decoder(z, hidden_size):
    """z -> the 784 Bernoulli logits of p(x | z)."""
    h = layers.dense(z, hidden_size, tf.nn.relu)
    h = layers.dense(h, hidden_size, tf.nn.relu)
    return layers.dense(h, IMAGE_SIZE, name="logits")


def build(config, fast_input=None):
    """Build the post model in a new ``tf.Graph`` and return its :class:`ModelHandles`."""
    graph = tf.Graph()
    with graph.as_default():
        # The graph-level seed makes every initializer's draw repeatable (TF1's way).
        v1.set_random_seed(config.seed)
        global_step = v1.train.get_or_create_global_step()
        x, eps, prior_eps, pipeline = input_tensors(config, global_step, fast_input)

        make_encoder = v1.make_template("encoder", encoder, code_size=config.code_size,
                                        hidden_size=config.hidden_size)
        make_decoder = v1.make_template("decoder", decoder, hidden_size=config.hidden_size)

        loc, scale = make_encoder(x)
        z = losses.reparameterize(loc, scale, eps)
        logits = make_decoder(z)
        # The second call reuses the decoder's variables: no new ones are made.
        prior_logits = make_decoder(prior_eps)

        def train_step(x, eps):
            # The step once more on the same templates, for the loop that runs
            # many steps per session.run (common.finish_graph): not needed to
            # understand the model, only to train it faster.
            loc, scale = make_encoder(x)
            return make_decoder(losses.reparameterize(loc, scale, eps)), losses.kl(loc, scale)

        return finish_graph(config, graph, global_step, x, eps, prior_eps, pipeline,
                            code_mean=loc, code_stddev=scale, z=z, logits=logits,
                            per_image_kl=losses.kl(loc, scale), prior_logits=prior_logits,
                            step=train_step)
