"""The downsides of ``reset_default_graph()``, the TF1 notebook's way to start over.

It swaps the thread's default graph for an empty one. Everything made before
the call (tensors held in Python variables, an open session, the graph-level
seed) stays with the old graph. These pitfalls reset for real, so each runs
in a worker thread of its own (see ``outcome.in_own_thread``).
"""
from __future__ import annotations

import tensorflow as tf

from legacy_vae.pitfalls.outcome import Outcome, attempt, in_own_thread

v1 = tf.compat.v1


def _times_two():
    x = v1.placeholder(tf.float32, [], name="x")
    return x, tf.multiply(x, 2.0, name="y")


def tensor_from_before_reset(use: str = "feed") -> Outcome:
    """Build, reset, rebuild, then run with one handle from before the reset.

    ``use="feed"`` feeds the old placeholder, ``use="fetch"`` fetches the old output.
    """
    if use not in ("feed", "fetch"):
        raise ValueError(f"use must be 'feed' or 'fetch', got {use!r}")

    def session():
        with v1.get_default_graph().as_default():   # cell 1: build in the default graph
            old_x, old_y = _times_two()
        v1.reset_default_graph()                    # cell 2: "start over"
        with v1.get_default_graph().as_default():   # cell 3: rebuild, run with a stale handle
            x, y = _times_two()
            with v1.Session() as sess:
                if use == "feed":
                    return attempt("tensor_from_before_reset", lambda: sess.run(y, {old_x: 1.0}))
                return attempt("tensor_from_before_reset", lambda: sess.run(old_y, {x: 1.0}))

    return in_own_thread(session)


def tensor_from_before_reset_fix() -> Outcome:
    """Rebuild into a new ``tf.Graph`` and run a ``Session(graph=...)`` on it."""
    graph = tf.Graph()
    with graph.as_default():
        x, y = _times_two()
    with v1.Session(graph=graph) as sess:
        value = sess.run(y, {x: 1.5})
    return Outcome("tensor_from_before_reset", names=(x.name, y.name), values=(float(value),))


def _two_times_three():
    return tf.multiply(tf.constant(3.0, name="x"), 2.0, name="y")


def session_from_before_reset() -> Outcome:
    """Open a session, reset, rebuild, and fetch the new graph's tensor in the old session."""
    def session():
        with v1.get_default_graph().as_default():
            _two_times_three()
            sess = v1.Session()                     # bound to the default graph of this moment
        v1.reset_default_graph()
        with v1.get_default_graph().as_default():
            y = _two_times_three()
        try:
            return attempt("session_from_before_reset", lambda: sess.run(y))
        finally:
            sess.close()

    return in_own_thread(session)


def session_from_before_reset_fix() -> Outcome:
    """A session per graph, opened on the graph it runs: ``Session(graph=graph)``."""
    graph = tf.Graph()
    with graph.as_default():
        y = _two_times_three()
    with v1.Session(graph=graph) as sess:
        value = sess.run(y)
    return Outcome("session_from_before_reset", values=(float(value),))


def reset_inside_nesting(where: str = "graph") -> Outcome:
    """Call ``reset_default_graph`` inside ``graph.as_default()`` or an open ``with Session``."""
    if where not in ("graph", "session"):
        raise ValueError(f"where must be 'graph' or 'session', got {where!r}")

    def session():
        graph = tf.Graph()
        if where == "graph":
            with graph.as_default():
                return attempt("reset_inside_nesting", v1.reset_default_graph)
        with v1.Session(graph=graph):  # entering a session makes its graph the default
            return attempt("reset_inside_nesting", v1.reset_default_graph)

    return in_own_thread(session)


def reset_inside_nesting_fix() -> Outcome:
    """Instead of clearing the graph you are in, make a new one: counts = (old ops, new ops)."""
    old = tf.Graph()
    with old.as_default():
        v1.placeholder(tf.float32, [], name="x")
        fresh = tf.Graph()  # allowed anywhere, touches no other graph
    return Outcome("reset_inside_nesting", counts=(len(old.get_operations()), len(fresh.get_operations())))


def _first_weights(graph):
    """Build a 4 -> 3 layer's kernel in ``graph`` and return its first initial value."""
    with graph.as_default():
        kernel = v1.get_variable("kernel", [4, 3], initializer=v1.glorot_uniform_initializer())
        init = v1.global_variables_initializer()
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        return float(sess.run(kernel)[0, 0])


def seed_lost_after_reset(runs: int = 2, seed: int = 0) -> Outcome:
    """Seed the graph once in a set-up cell, then run a model cell that resets first.

    values = the first initial weight of each run (they differ), names = each
    run's graph-level seed (``None``: the seed went with the old graph).
    """
    def session():
        with v1.get_default_graph().as_default():
            v1.set_random_seed(seed)                 # the set-up cell
        values, seeds = [], []
        for _ in range(runs):
            v1.reset_default_graph()                 # the model cell's first line
            graph = v1.get_default_graph()
            seeds.append(str(graph.seed))
            values.append(_first_weights(graph))
        return Outcome("seed_lost_after_reset", names=tuple(seeds), values=tuple(values))

    return in_own_thread(session)


def seed_lost_after_reset_fix(runs: int = 2, seed: int = 0) -> Outcome:
    """Set the seed inside the build, in the graph it is meant for: the same weights every run."""
    values, seeds = [], []
    for _ in range(runs):
        graph = tf.Graph()
        with graph.as_default():
            v1.set_random_seed(seed)
        seeds.append(str(graph.seed))
        values.append(_first_weights(graph))
    return Outcome("seed_lost_after_reset", names=tuple(seeds), values=tuple(values))
