"""Sharing weights: ``make_template``, ``variable_scope(reuse=True)`` and what defeats them.

The post shares its decoder through ``tf.compat.v1.make_template``, the Slim
notebook through ``variable_scope("decoder", reuse=True)``. Both find
variables again by name through ``get_variable``; a name that changes (a
uniquified scope) or a variable made some other way breaks the sharing.
"""
from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

from legacy_vae.models import layers, post, slim_vae
from legacy_vae.pitfalls.outcome import Outcome, attempt, variable_names

v1 = tf.compat.v1


def _mlp(z):
    # Unnamed layers: each call opens fresh scopes dense, dense_1, ...
    h = layers.dense(z, 8, tf.nn.relu)
    return layers.dense(h, 4)


def _twice(network):
    """Call ``network`` twice on the same input; return (variable names, max |difference|)."""
    graph = tf.Graph()
    with graph.as_default():
        z = tf.constant(np.linspace(-1.0, 1.0, 6, dtype=np.float32).reshape(3, 2))
        first, second = network(z), network(z)
        init = v1.global_variables_initializer()
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        a, b = sess.run([first, second])
    return variable_names(graph), float(np.max(np.abs(a - b)))


def network_called_twice() -> Outcome:
    """Without a template: two calls make two sets of weights (and two different networks)."""
    names, difference = _twice(_mlp)
    return Outcome("network_called_twice", counts=(len(names),), names=names, values=(difference,))


def network_called_twice_fix() -> Outcome:
    """``make_template``: the second call reuses the first call's weights."""
    names, difference = _twice(v1.make_template("network", _mlp))
    return Outcome("network_called_twice", counts=(len(names),), names=names, values=(difference,))


def _template_cell():
    """The cell that defines the post's decoder template and decodes a code."""
    decode = v1.make_template("decoder", post.make_decoder, hidden_size=8)
    decode(tf.zeros([1, 2]))
    return decode.variable_scope.name


def template_created_twice() -> Outcome:
    """Run the template cell twice in one graph: the second run gets ``decoder_1``."""
    graph = tf.Graph()
    with graph.as_default():
        scopes = (_template_cell(), _template_cell())
    return Outcome("template_created_twice", counts=(len(variable_names(graph)),), names=scopes)


def template_created_twice_fix() -> Outcome:
    """Each run of the build in its own graph: scope ``decoder`` and one set of weights each time."""
    scopes, counts = [], []
    for _ in range(2):
        graph = tf.Graph()
        with graph.as_default():
            scopes.append(_template_cell())
        counts.append(len(variable_names(graph)))
    return Outcome("template_created_twice", counts=tuple(counts), names=tuple(scopes))


def _first_kernel_entry(sess, graph) -> float:
    kernel, = (v for v in graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES) if v.op.name == "decoder/dense/kernel")
    return float(sess.run(kernel)[0, 0])


def _save_decoder(folder) -> tuple:
    """Initialize a decoder and save it: (checkpoint path, its first kernel entry, its graph)."""
    graph = tf.Graph()
    with graph.as_default():
        _template_cell()
        saver = v1.train.Saver()
        init = v1.global_variables_initializer()
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        return saver.save(sess, str(Path(folder) / "model")), _first_kernel_entry(sess, graph), graph


def restore_after_uniquified_scope() -> Outcome:
    """Re-run the build cell in the graph that saved, then restore: ``decoder_1/...`` is not in the file."""
    with tempfile.TemporaryDirectory() as folder:
        path, _, graph = _save_decoder(folder)
        with graph.as_default():
            scope = _template_cell()                 # the re-run: decoder_1
            saver = v1.train.Saver()                 # every variable, decoder_1's included
            with v1.Session(graph=graph) as sess:
                outcome = attempt("restore_after_uniquified_scope", lambda: saver.restore(sess, path))
    return dataclasses.replace(outcome, names=(scope,))


def restore_after_uniquified_scope_fix() -> Outcome:
    """Rebuild in a fresh graph (scope ``decoder`` again) and restore: values = (saved, restored)."""
    with tempfile.TemporaryDirectory() as folder:
        path, saved, _ = _save_decoder(folder)
        graph = tf.Graph()
        with graph.as_default():
            scope = _template_cell()
            saver = v1.train.Saver()
            with v1.Session(graph=graph) as sess:
                saver.restore(sess, path)
                restored = _first_kernel_entry(sess, graph)
    return Outcome("restore_after_uniquified_scope", names=(scope,), values=(saved, restored))


def _slim_decoder(reuse):
    with v1.variable_scope("decoder", reuse=reuse):
        slim_vae.decoder(tf.zeros([1, 4]), tf.zeros([1, 2]), hidden_size=8)


def reuse_missing_variable() -> Outcome:
    """Open ``variable_scope("decoder", reuse=True)`` before any decoder was built."""
    graph = tf.Graph()
    with graph.as_default():
        outcome = attempt("reuse_missing_variable", lambda: _slim_decoder(reuse=True))
    return dataclasses.replace(outcome, names=variable_names(graph))


def reuse_missing_variable_fix() -> Outcome:
    """Build the decoder once without reuse, then reuse it: counts = variables after each."""
    graph = tf.Graph()
    with graph.as_default():
        _slim_decoder(reuse=None)
        first = len(variable_names(graph))
        outcome = attempt("reuse_missing_variable", lambda: _slim_decoder(reuse=True))
    return dataclasses.replace(outcome, counts=(first, len(variable_names(graph))), names=variable_names(graph))


def _make_variable_net(kind):
    if kind == "variable":
        def net(z):
            weights = tf.Variable(tf.ones([2, 3]), name="weights")  # bypasses get_variable
            return tf.matmul(z, weights)
    elif kind == "keras":
        def net(z):
            return tf.keras.layers.Dense(3)(z)  # a new Keras layer, new variables, per call
    elif kind == "dense":
        def net(z):
            return layers.dense(z, 3)
    else:
        raise ValueError(f"kind must be 'variable', 'keras' or 'dense', got {kind!r}")
    return net


def variable_in_template(kind: str = "variable") -> Outcome:
    """Call a template whose function makes ``tf.Variable`` (or a Keras layer) twice."""
    graph = tf.Graph()
    with graph.as_default():
        network = v1.make_template("network", _make_variable_net(kind))
        z = tf.zeros([1, 2])
        network(z)
        outcome = attempt("variable_in_template", lambda: network(z))
    return dataclasses.replace(outcome, names=variable_names(graph))


def variable_in_template_fix() -> Outcome:
    """Variables through ``get_variable`` (``layers.dense``): the second call adds none."""
    graph = tf.Graph()
    with graph.as_default():
        network = v1.make_template("network", _make_variable_net("dense"))
        z = tf.zeros([1, 2])
        network(z)
        after_first = len(variable_names(graph))
        outcome = attempt("variable_in_template", lambda: network(z))
    names = variable_names(graph)
    return dataclasses.replace(outcome, counts=(after_first, len(names)), names=names)
