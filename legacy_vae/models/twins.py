"""Eager TF2 twins of the two graph-mode MLP models, loadable by graph variable name.

A twin is a ``tf.Module`` holding plain ``tf.Variable``s named exactly as the
graph model names its variables (``encoder/dense/kernel``,
``encoder/fc1/weights``, ...), so one set of weights can be evaluated by
both frameworks: ``twin.load(weights)`` takes a graph model's trained weights
by name (``parity.twin_from_session``), ``twin.weights()`` gives them back.

The maths is the graph models' (see ``legacy_vae.models.post`` / ``slim_vae``),
written a second time on purpose, in TF2 idioms, so that a parity test
compares two implementations rather than one with itself::

    post:  loc, scale = MLP(x), softplus;   KL = sum (loc^2 + scale^2 - 1)/2 - log scale
    slim:  mu, logvar = MLP(x) split;        KL = -1/2 sum 1 + logvar - mu^2 - exp(logvar)
    both:  z = mean + stddev * eps;  reconstruction = sum_pixels sigmoid_xent(x, logits(z))
           elbo = -mean(reconstruction + KL)   (nats per image, averaged over the batch)

Training: ``make_train_step(twin, mode)``, one Adam step of a twin, in three TF2 modes::

    eager     plain Python: every op dispatched one by one (TF2's default)
    function  ``tf.function``: traced once into a graph, run by the TF runtime
    jit       ``tf.function(jit_compile=True)``: the traced graph compiled by XLA

The optimizer is Keras 3's ``Adam`` with TF1's hyperparameters (beta1 0.9,
beta2 0.999, epsilon from the config: 1e-8, TF1's default, not Keras' 1e-7).
Both apply epsilon the same way, to the uncorrected root,
alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t), theta -= alpha_t * m_t / (sqrt(v_t) + epsilon),
so one step agrees with ``tf.compat.v1.train.AdamOptimizer`` to float rounding
(tests/test_parity_adam.py measures it).
"""
from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf


IMAGE_SIZE = 784


def _glorot(shape, seed):
    # What TF1's glorot_uniform_initializer draws, from a stateless stream.
    limit = np.sqrt(6.0 / (shape[0] + shape[1]))
    return tf.random.stateless_uniform(shape, seed, -limit, limit)


def _truncated(shape, seed):
    # slim.arg_scope's truncated_normal_initializer(0, 0.1).
    return 0.1 * tf.random.stateless_truncated_normal(shape, seed)


class _Twin(tf.Module):
    model = ""
    logits_layer = ""  # the decoder's output layer, named as in the graph model
    weight, bias, initializer = "kernel", "bias", staticmethod(_glorot)

    def __init__(self, config):
        super().__init__(name=f"{self.model}_twin")
        if config.model != self.model:
            raise ValueError(f"{type(self).__name__} needs a {self.model!r} config, got model {config.model!r}")
        self.config = config
        self.variable_list, names = [], []
        for index, (scope, fan_in, fan_out) in enumerate(self.layer_shapes(config)):
            seed = tf.constant([config.seed, index], tf.int64)
            names += [f"{scope}/{self.weight}", f"{scope}/{self.bias}"]
            self.variable_list.append(tf.Variable(self.initializer([fan_in, fan_out], seed), name=names[-2]))
            self.variable_list.append(tf.Variable(tf.zeros([fan_out]), name=names[-1]))
        # Names kept apart from variable.name, which an enclosing name_scope would prefix.
        self._names = tuple(names)
        self._by_name = dict(zip(names, self.variable_list))

    @property
    def names(self) -> list[str]:
        """Graph variable names, in the order of ``variable_list``."""
        return list(self._names)

    def layer(self, h, scope: str, activation=None):
        out = tf.matmul(h, self._by_name[f"{scope}/{self.weight}"]) + self._by_name[f"{scope}/{self.bias}"]
        return activation(out) if activation is not None else out

    def weights(self) -> dict:
        """{graph variable name: NumPy array} of the current weights."""
        return {name: v.numpy() for name, v in self._by_name.items()}

    def load(self, weights: dict) -> None:
        """Assign every variable from ``weights`` ({graph name: array}); all or nothing."""
        missing = sorted(set(self._by_name) - set(weights))
        unexpected = sorted(set(weights) - set(self._by_name))
        if missing or unexpected:
            raise ValueError(f"{type(self).__name__}.load: missing {missing}, unexpected {unexpected}; "
                             f"expected exactly {sorted(self._by_name)}")
        wrong = [f"{n}: {np.shape(weights[n])} != {tuple(v.shape)}"
                 for n, v in self._by_name.items() if tuple(np.shape(weights[n])) != tuple(v.shape)]
        if wrong:
            raise ValueError(f"{type(self).__name__}.load: wrong shapes ({'; '.join(wrong)}); "
                             "was the graph model built with the same code_size and hidden_size?")
        for name, variable in self._by_name.items():
            variable.assign(np.asarray(weights[name], dtype=np.float32))

    def posterior(self, x):
        """(mean, stddev) of q(z|x) whatever the model's own parameterization."""
        params = self.encode(x)
        return params[0], self.stddev(*params)

    def recon_per_image(self, x, logits):
        return tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits), axis=-1)

    def losses(self, x, eps) -> dict:
        """Batch means in nats per image: ``reconstruction``, ``kl``, ``elbo`` (and ``loss`` = -elbo)."""
        x = tf.convert_to_tensor(x, tf.float32)
        params = self.encode(x)
        z = params[0] + self.stddev(*params) * tf.convert_to_tensor(eps, tf.float32)
        reconstruction = tf.reduce_mean(self.recon_per_image(x, self.decode(z)))
        kl = tf.reduce_mean(self.kl_per_image(*params))
        elbo = -(reconstruction + kl)
        return {"reconstruction": reconstruction, "kl": kl, "elbo": elbo, "loss": -elbo}

    def decode(self, z):
        """z [N, code] -> Bernoulli logits [N, 784]."""
        h = self.hidden_decoder(tf.convert_to_tensor(z, tf.float32))
        return self.layer(h, self.logits_layer)


class PostTwin(_Twin):
    """The post model: 784-200-200 encoder to (loc, softplus scale), 2-200-200-784 decoder."""

    model = "post"
    logits_layer = "decoder/dense_2"

    @staticmethod
    def layer_shapes(config):
        # The post's unnamed tf.layers.dense scopes: dense_2 and dense_3 are loc and scale.
        h, k = config.hidden_size, config.code_size
        return [("encoder/dense", IMAGE_SIZE, h), ("encoder/dense_1", h, h), ("encoder/dense_2", h, k),
                ("encoder/dense_3", h, k), ("decoder/dense", k, h), ("decoder/dense_1", h, h),
                ("decoder/dense_2", h, IMAGE_SIZE)]

    def encode(self, x):
        """x [N, 784] -> (loc, scale) of q(z|x)."""
        h = self.layer(tf.convert_to_tensor(x, tf.float32), "encoder/dense", tf.nn.relu)
        h = self.layer(h, "encoder/dense_1", tf.nn.relu)
        return self.layer(h, "encoder/dense_2"), self.layer(h, "encoder/dense_3", tf.nn.softplus)

    @staticmethod
    def stddev(loc, scale):
        return scale

    @staticmethod
    def kl_per_image(loc, scale):
        """KL(q(z|x) || N(0, I)) per image, from the encoder's outputs."""
        return tf.reduce_sum(0.5 * (loc ** 2 + scale ** 2 - 1.0) - tf.math.log(scale), axis=-1)

    def hidden_decoder(self, z):
        return self.layer(self.layer(z, "decoder/dense", tf.nn.relu), "decoder/dense_1", tf.nn.relu)


class SlimTwin(_Twin):
    """The Slim model: 784-128 ReLU encoder to [mu | logvar], 64-128-784 decoder."""

    model = "slim"
    logits_layer = "decoder/fc2"
    weight, bias, initializer = "weights", "biases", staticmethod(_truncated)

    @staticmethod
    def layer_shapes(config):
        # The course notebook's scopes: fc1, then fc2 ([mu | logvar] in the encoder, logits in the decoder).
        h, k = config.hidden_size, config.code_size
        return [("encoder/fc1", IMAGE_SIZE, h), ("encoder/fc2", h, 2 * k),
                ("decoder/fc1", k, h), ("decoder/fc2", h, IMAGE_SIZE)]

    def encode(self, x):
        """x [N, 784] -> (mu, logvar) of q(z|x)."""
        h = self.layer(tf.convert_to_tensor(x, tf.float32), "encoder/fc1", tf.nn.relu)
        mu, logvar = tf.split(self.layer(h, "encoder/fc2"), 2, axis=-1)
        return mu, logvar

    @staticmethod
    def stddev(mu, logvar):
        return tf.exp(0.5 * logvar)

    @staticmethod
    def kl_per_image(mu, logvar):
        """KL(q(z|x) || N(0, I)) per image, from the encoder's outputs."""
        return -0.5 * tf.reduce_sum(1.0 + logvar - mu ** 2 - tf.exp(logvar), axis=-1)

    def hidden_decoder(self, z):
        return self.layer(z, "decoder/fc1", tf.nn.relu)


def twin_for(config) -> _Twin:
    """The twin class matching ``config.model``, freshly initialised from ``config.seed``."""
    classes = {"post": PostTwin, "slim": SlimTwin}
    if config.model not in classes:
        raise ValueError(f"there are eager twins of {sorted(classes)} only, not {config.model!r} "
                         "(the cvae is eager already)")
    return classes[config.model](config)


MODES = ("eager", "function", "jit")


class TrainStep:
    """``step(x, eps) -> loss`` (a scalar tensor: -ELBO before the update)."""

    def __init__(self, twin, mode: str = "function", learning_rate=None, epsilon=None):
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
        config = twin.config
        self.twin, self.mode = twin, mode
        self.optimizer = keras.optimizers.Adam(
            config.learning_rate if learning_rate is None else learning_rate,
            beta_1=0.9, beta_2=0.999,
            epsilon=config.adam_epsilon if epsilon is None else epsilon)
        # Slots are made now: a tf.function may create variables only while tracing.
        self.optimizer.build(twin.variable_list)
        self._step = {"eager": self._update,
                      "function": tf.function(self._update),
                      "jit": tf.function(self._update, jit_compile=True)}[mode]

    def _update(self, x, eps):
        variables = self.twin.variable_list
        with tf.GradientTape() as tape:
            loss = self.twin.losses(x, eps)["loss"]
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(gradients, variables))
        return loss

    def __call__(self, x, eps):
        return self._step(tf.convert_to_tensor(x, tf.float32), tf.convert_to_tensor(eps, tf.float32))


def make_train_step(twin, mode: str = "function", learning_rate=None, epsilon=None) -> TrainStep:
    """A :class:`TrainStep` for ``twin``; learning rate and epsilon default to the twin's config."""
    return TrainStep(twin, mode, learning_rate, epsilon)
