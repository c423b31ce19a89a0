"""``dense`` and ``flatten`` on ``tf.compat.v1.get_variable``.

Keras 3 removed ``tf.compat.v1.layers``, which the post model was written
with. These two functions do what ``tf.layers.dense`` / ``tf.layers.flatten``
did in graph mode: variables ``<scope>/kernel`` (Glorot-uniform) and
``<scope>/bias`` (zeros) created through ``get_variable``, so they are found
again by ``make_template`` and ``variable_scope(reuse=True)``, and unnamed
layers get the scopes ``dense``, ``dense_1``, ... as before.

    y = activation(x @ kernel + bias),  kernel ~ U(-a, a),  a = sqrt(6 / (fan_in + fan_out))
"""
from __future__ import annotations

import tensorflow as tf

v1 = tf.compat.v1


def dense(inputs, units, activation=None, use_bias=True, name=None,
          kernel_initializer=None, bias_initializer=None):
    """A fully connected layer built from ``get_variable`` (what ``tf.layers.dense`` did)."""
    inputs = tf.convert_to_tensor(inputs)
    fan_in = inputs.shape[-1]
    if fan_in is None:
        raise ValueError(f"dense: the last dimension of {inputs.name} must be known, got shape {inputs.shape}")
    if kernel_initializer is None:
        kernel_initializer = v1.glorot_uniform_initializer()
    if bias_initializer is None:
        bias_initializer = v1.zeros_initializer()
    with v1.variable_scope(name, default_name="dense"):
        kernel = v1.get_variable("kernel", [int(fan_in), units], inputs.dtype, kernel_initializer)
        outputs = tf.matmul(inputs, kernel)
        if use_bias:
            bias = v1.get_variable("bias", [units], inputs.dtype, bias_initializer)
            outputs = tf.nn.bias_add(outputs, bias)
        if activation is not None:
            outputs = activation(outputs)
        return outputs


def flatten(inputs, name=None):
    """Keep the batch dimension, fold the rest into one (what ``tf.layers.flatten`` did)."""
    inputs = tf.convert_to_tensor(inputs)
    with v1.name_scope(name, "flatten", [inputs]):
        size = 1
        for dim in inputs.shape[1:]:
            if dim is None:
                return tf.reshape(inputs, [tf.shape(inputs)[0], -1])
            size *= int(dim)
        return tf.reshape(inputs, [-1, size])
