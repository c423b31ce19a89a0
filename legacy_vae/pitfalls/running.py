"""Running a graph: initialization order, summaries, and ops made after the build.

A TF1 graph is built first and run later; these pitfalls mix the two up:
a variable read before its initializer ran, an initializer made before the
optimizer added its slots, ``merge_all`` collecting summaries of an earlier
build, and ops created after the graph was (or should have been) finalized.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from legacy_vae.pitfalls.outcome import Outcome, attempt, hidden_layer

v1 = tf.compat.v1


def _layer_graph(init_first: bool):
    """x -> hidden layer -> sum, Adam in scope ``train``; the initializer made before or after Adam."""
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 4], name="x")
        loss = tf.reduce_sum(hidden_layer("dense", x), name="loss")
        if init_first:
            init = v1.global_variables_initializer()  # sees only hidden/kernel and hidden/bias
        with v1.name_scope("train"):
            train_op = v1.train.AdamOptimizer(1e-3).minimize(loss)
        if not init_first:
            init = v1.global_variables_initializer()  # sees Adam's slots and beta powers too
    return graph, x, loss, train_op, init


_BATCH = np.ones((2, 4), np.float32)


def uninitialized_variable() -> Outcome:
    """Run the loss in a new session without running the initializer first."""
    graph, x, loss, _, _ = _layer_graph(init_first=False)
    with v1.Session(graph=graph) as sess:
        return attempt("uninitialized_variable", lambda: sess.run(loss, {x: _BATCH}))


def uninitialized_variable_fix() -> Outcome:
    """Run the initializer once per session, then the loss."""
    graph, x, loss, _, init = _layer_graph(init_first=False)
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        return Outcome("uninitialized_variable", values=(float(sess.run(loss, {x: _BATCH})),))


def init_before_optimizer(init_first: bool = True) -> Outcome:
    """Make the initializer before ``minimize`` (the pitfall) and run a training step.

    names = the variables the initializer did not cover (Adam's slots and beta powers).
    """
    graph, x, _, train_op, init = _layer_graph(init_first)
    covered = {op.name for op in init.control_inputs}  # one initializer (an assign) per variable
    missing = tuple(v.name for v in graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES)
                    if v.initializer.name not in covered)
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        outcome = attempt("init_before_optimizer", lambda: sess.run(train_op, {x: _BATCH}))
    return dataclasses.replace(outcome, names=missing)


def init_before_optimizer_fix() -> Outcome:
    """The initializer made last, after every variable exists."""
    return init_before_optimizer(init_first=False)


def _summary_cell(graph):
    """A cell that builds a model input, its loss and a scalar summary of the loss."""
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 4], name="x")
        loss = tf.reduce_mean(tf.square(x), name="loss")
        v1.summary.scalar("train_loss", loss)
    return x


def stale_summaries(runs: int = 2) -> Outcome:
    """Run the summary cell ``runs`` times in one graph, then fetch ``merge_all()``.

    names = the summaries ``merge_all`` collected, one per run of the cell.
    """
    graph = tf.Graph()
    for _ in range(runs):
        x = _summary_cell(graph)
    with graph.as_default():
        merged = v1.summary.merge_all()
        names = tuple(t.op.name for t in graph.get_collection(v1.GraphKeys.SUMMARIES))
    with v1.Session(graph=graph) as sess:
        outcome = attempt("stale_summaries", lambda: sess.run(merged, {x: _BATCH}))
    return dataclasses.replace(outcome, names=names)


def stale_summaries_fix(runs: int = 2) -> Outcome:
    """Each run of the cell in a graph of its own: ``merge_all`` finds that run's summary only."""
    for _ in range(runs):
        graph = tf.Graph()
        x = _summary_cell(graph)
        with graph.as_default():
            merged = v1.summary.merge_all()
            names = tuple(t.op.name for t in graph.get_collection(v1.GraphKeys.SUMMARIES))
        with v1.Session(graph=graph) as sess:
            serialized = sess.run(merged, {x: _BATCH})
    return Outcome("stale_summaries", names=names, counts=(len(serialized),))


def _counter_graph():
    graph = tf.Graph()
    with graph.as_default():
        counter = v1.get_variable("counter", [], initializer=v1.zeros_initializer())
        increment = v1.assign_add(counter, 1.0)
        init = v1.global_variables_initializer()
    return graph, counter, increment, init


def ops_added_in_loop(steps: int = 3) -> Outcome:
    """A loop that builds ``assign_add`` at every step: the graph grows with each step."""
    graph, counter, _, init = _counter_graph()
    counts = []
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(steps):
            with graph.as_default():
                sess.run(v1.assign_add(counter, 1.0))  # the accident: a new op per step
            counts.append(len(graph.get_operations()))
        value = sess.run(counter)
    return Outcome("ops_added_in_loop", counts=tuple(counts), values=(float(value),))


def ops_added_in_loop_fix(steps: int = 3) -> Outcome:
    """Build the op once and ``finalize``: the loop leaves the graph alone, the accident raises."""
    graph, counter, increment, init = _counter_graph()
    graph.finalize()
    counts = []
    with v1.Session(graph=graph) as sess:
        sess.run(init)
        for _ in range(steps):
            sess.run(increment)
            counts.append(len(graph.get_operations()))
        with graph.as_default():
            outcome = attempt("ops_added_in_loop", lambda: v1.assign_add(counter, 1.0))
        value = sess.run(counter)
    return dataclasses.replace(outcome, counts=tuple(counts), values=(float(value),))


def monitored_session_finalizes(build_first: bool = False) -> Outcome:
    """Open a ``MonitoredSession`` (as the post did), then make a metric op inside its block.

    ``build_first=True`` makes the op before opening the session (the fix).
    values = the counter after one increment and, if it ran, the metric;
    counts = (1,) if the graph was finalized inside the session's block.
    """
    graph, counter, increment, _ = _counter_graph()
    with graph.as_default():
        doubled = tf.multiply(counter, 2.0, name="doubled") if build_first else None
        with v1.train.MonitoredSession() as sess:  # its Scaffold finalizes the graph here
            finalized = graph.finalized             # (and closing un-finalizes it again)
            values = [float(sess.run(increment))]
            if doubled is None:
                outcome = attempt("monitored_session_finalizes", lambda: tf.multiply(counter, 2.0))
            else:
                outcome = Outcome("monitored_session_finalizes")
                values.append(float(sess.run(doubled)))
    return dataclasses.replace(outcome, values=tuple(values), counts=(int(finalized),))


def monitored_session_finalizes_fix() -> Outcome:
    """Every op made before ``MonitoredSession`` opens."""
    return monitored_session_finalizes(build_first=True)
