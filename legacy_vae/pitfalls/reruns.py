"""Re-running a cell: named variables clash, unnamed ops pile up.

A notebook keeps one Python process alive, and TF1 keeps one default graph
in it, so running a cell again adds to what its first run built.
"""
from __future__ import annotations

import dataclasses

import tensorflow as tf

from legacy_vae.pitfalls.outcome import Outcome, attempt, hidden_layer, in_own_thread, variable_names

v1 = tf.compat.v1


def variable_already_exists(kind: str = "dense") -> Outcome:
    """Run a cell that creates the variables of scope ``hidden`` twice in one graph."""
    graph = tf.Graph()
    with graph.as_default():
        def cell():
            hidden_layer(kind, v1.placeholder(tf.float32, [None, 4], name="x"))

        cell()
        outcome = attempt("variable_already_exists", cell)
    return dataclasses.replace(outcome, names=variable_names(graph))


def variable_already_exists_fix(kind: str = "dense") -> Outcome:
    """The same cell run twice, each run building its own ``tf.Graph``."""
    counts, names = [], ()
    for _ in range(2):
        graph = tf.Graph()
        with graph.as_default():
            hidden_layer(kind, v1.placeholder(tf.float32, [None, 4], name="x"))
        names = variable_names(graph)
        counts.append(len(names))
    return Outcome("variable_already_exists", counts=tuple(counts), names=names)


def reset_at_top_of_cell(kind: str = "slim", runs: int = 2) -> Outcome:
    """The Slim notebook's own cure: the model cell starts with ``reset_default_graph()``.

    Each run clears the default graph first, so the same names come back and
    nothing clashes: counts = variables after each run, values = 1.0 where a
    run got a new default graph object. (Its downsides are in ``resets``.)
    """
    def session():
        graphs, counts, names = [], [], ()
        for _ in range(runs):
            v1.reset_default_graph()                   # the cell's first line
            with v1.get_default_graph().as_default():  # TF2 is eager: enter the default graph to build
                hidden_layer(kind, v1.placeholder(tf.float32, [None, 4], name="x"))
                graphs.append(v1.get_default_graph())
                names = variable_names(graphs[-1])
                counts.append(len(names))
        fresh = tuple(float(later is not earlier) for earlier, later in zip(graphs, graphs[1:]))
        return Outcome("variable_already_exists", counts=tuple(counts), names=names, values=fresh)

    return in_own_thread(session)


def _input_cell():
    x = v1.placeholder(tf.float32, [None, 4], name="x")
    tf.reduce_sum(tf.square(x), name="total")
    return x.op.name


def ops_pile_up(runs: int = 3) -> Outcome:
    """Run a cell that creates ``x`` and a sum ``runs`` times in one graph."""
    graph = tf.Graph()
    counts, names = [], []
    with graph.as_default():
        for _ in range(runs):
            names.append(_input_cell())  # uniquified silently: x, x_1, x_2, ...
            counts.append(len(graph.get_operations()))
    return Outcome("ops_pile_up", counts=tuple(counts), names=tuple(names))


def ops_pile_up_fix(runs: int = 3) -> Outcome:
    """The same cell, each run in a fresh graph: same count, same names."""
    counts, names = [], []
    for _ in range(runs):
        graph = tf.Graph()
        with graph.as_default():
            names.append(_input_cell())
        counts.append(len(graph.get_operations()))
    return Outcome("ops_pile_up", counts=tuple(counts), names=tuple(names))
