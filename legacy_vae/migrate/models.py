"""The package's two graph models as plain Keras 3 models, for their converted checkpoints.

Layer for layer the graphs of ``legacy_vae.models.post`` and ``slim_vae``,
with the seeds' sizes, and nothing but ``keras.Input``, ``keras.layers.Dense``,
``keras.Sequential`` and ``keras.ops``::

    post   encoder (functional): x -> dense 200 relu -> dense 200 relu -> loc (dense code),
                                                                        scale (dense code, softplus)
           decoder (Sequential): z -> dense 200 relu -> dense 200 relu -> dense 784 (logits)
    slim   encoder (Sequential): x -> fc1 dense 128 relu -> fc2 dense 2*code = [mu | logvar]
           decoder (Sequential): z -> fc1 dense 128 relu -> fc2 dense 784 (logits)

The whole model takes ``[images, eps]`` and returns a dict: the code's
parameters, ``z = mean + stddev * eps`` and the logits, so the same noise
that was fed to the TF1 graph gives the same ``z``. The submodels are named
``encoder`` and ``decoder`` like the TF1 scopes, so the converter matches
each scope's layers to its own submodel. :func:`elbo` computes the terms
with the package's loss functions (nats per image, batch means);
:func:`tf1_graph` and :func:`tf2_loss` are the two sides of a parity check.

A ``.weights.h5`` written for one of these loads into any model built the
same way, e.g. by the same lines copied into a program that never imports
``legacy_vae`` (docs/migrate.md shows them).
"""
from __future__ import annotations

import keras
from keras import layers

IMAGE_SIZE = 784


def post_model(code_size: int = 2, hidden_size: int = 200) -> keras.Model:
    """The post model's encoder and decoder, wired as ``[images, eps] -> {loc, scale, z, logits}``."""
    x = keras.Input((IMAGE_SIZE,))
    h = layers.Dense(hidden_size, activation="relu")(x)
    h = layers.Dense(hidden_size, activation="relu")(h)
    loc = layers.Dense(code_size)(h)
    scale = layers.Dense(code_size, activation="softplus")(h)
    encoder = keras.Model(x, [loc, scale], name="encoder")
    decoder = keras.Sequential([keras.Input((code_size,)), layers.Dense(hidden_size, activation="relu"),
                                layers.Dense(hidden_size, activation="relu"), layers.Dense(IMAGE_SIZE)],
                               name="decoder")
    images, eps = keras.Input((IMAGE_SIZE,), name="images"), keras.Input((code_size,), name="eps")
    loc, scale = encoder(images)
    z = loc + scale * eps
    return keras.Model([images, eps], {"loc": loc, "scale": scale, "z": z, "logits": decoder(z)}, name="post")


def slim_model(code_size: int = 64, hidden_size: int = 128) -> keras.Model:
    """The Slim model, ``[images, eps] -> {mu, logvar, z, logits}``; z is drawn between the two halves."""
    encoder = keras.Sequential([keras.Input((IMAGE_SIZE,)), layers.Dense(hidden_size, activation="relu"),
                                layers.Dense(2 * code_size)], name="encoder")
    decoder = keras.Sequential([keras.Input((code_size,)), layers.Dense(hidden_size, activation="relu"),
                                layers.Dense(IMAGE_SIZE)], name="decoder")
    images, eps = keras.Input((IMAGE_SIZE,), name="images"), keras.Input((code_size,), name="eps")
    mu, logvar = keras.ops.split(encoder(images), 2, axis=-1)
    z = mu + keras.ops.sqrt(keras.ops.exp(logvar)) * eps
    return keras.Model([images, eps], {"mu": mu, "logvar": logvar, "z": z, "logits": decoder(z)}, name="slim")


def for_config(config) -> keras.Model:
    """The Keras 3 model of a package config (``post`` or ``slim``), with its code and hidden sizes."""
    if config.model == "post":
        return post_model(config.code_size, config.hidden_size)
    if config.model == "slim":
        return slim_model(config.code_size, config.hidden_size)
    raise ValueError(f"no Keras 3 counterpart for model {config.model!r}: the converter knows post and slim")


def elbo(model, images, eps) -> dict:
    """{reconstruction, kl, elbo, loss} of ``model`` on a batch, as the TF1 graphs compute them."""
    import tensorflow as tf

    from legacy_vae.models import losses

    out = model([tf.convert_to_tensor(images, tf.float32), tf.convert_to_tensor(eps, tf.float32)])
    log_lik = losses.log_likelihood(tf.convert_to_tensor(images, tf.float32), out["logits"])
    if "scale" in out:
        kl = losses.kl(out["loc"], out["scale"])
    else:
        kl = losses.kl_logvar(out["mu"], out["logvar"])
    reconstruction, kl_mean, elbo_mean, loss = losses.objective(log_lik, kl)
    return {"reconstruction": reconstruction, "kl": kl_mean, "elbo": elbo_mean, "loss": loss}


def tf1_graph(config):
    """A ``build_tf1`` for :func:`legacy_vae.migrate.check`: the package's own graph of ``config``.

    Feeds ``x`` and ``eps``, returns the loss (minus the ELBO) that Adam minimized.
    """
    def build():
        from legacy_vae.models import builder

        handles = builder(config.model)(config)
        return {"x": handles.x, "eps": handles.eps}, handles.loss
    return build


def tf2_loss(model):
    """The matching ``tf2_loss(x, eps)``: minus the ELBO of the Keras 3 ``model``."""
    def loss(x, eps):
        return elbo(model, x, eps)["loss"]
    return loss
