"""One Adam step of an eager twin, in three TF2 execution modes.

    eager     plain Python: every op dispatched one by one (TF2's default)
    function  ``tf.function``: traced once into a graph, run by the TF runtime
    jit       ``tf.function(jit_compile=True)``: the traced graph compiled by XLA

The optimizer is Keras 3's ``Adam`` with TF1's hyperparameters (beta1 0.9,
beta2 0.999, epsilon from the config: 1e-8, TF1's default, not Keras' 1e-7).
Both apply epsilon the same way, to the uncorrected root:

    alpha_t = lr * sqrt(1 - beta2^t) / (1 - beta1^t)
    theta  -= alpha_t * m_t / (sqrt(v_t) + epsilon)

so from the same weights and gradient one step agrees with
``tf.compat.v1.train.AdamOptimizer`` to float rounding (tests/test_parity_adam.py
measures it). A hand-written Adam was not needed.
"""
from __future__ import annotations

import keras
import tensorflow as tf

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
