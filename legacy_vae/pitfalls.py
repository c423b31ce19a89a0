"""The classic Jupyter pitfalls of TF1 graph mode, each reproduced and then avoided.

A notebook keeps one Python process alive, and TF1 keeps one global default
graph in it, so re-running a cell adds to what earlier runs built. Each
function below rebuilds one pitfall in a graph of its own and returns an
:class:`Outcome` (the exception TensorFlow raised, or counts and names); its
``*_fix`` partner applies the cure and returns what happened then.

The cure for most of them is one pattern, the one the whole package follows:

    graph = tf.Graph()
    with graph.as_default():          # every op and variable goes into `graph`
        ...build...
    graph.finalize()                  # optional: later op creation is an error
    with tf.compat.v1.Session(graph=graph) as session:
        ...run...

Two pitfalls are about ``reset_default_graph`` itself. The default graph, and
the global one it falls back on, belong to the current thread, so those run
in a short-lived worker thread: they really reset that thread's default graph
while the caller's default graph and eager mode stay as they were.
"""
from __future__ import annotations

import dataclasses
import threading
import warnings

import numpy as np
import tensorflow as tf

from legacy_vae.models import layers, post

v1 = tf.compat.v1


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What happened when a pitfall (or its fix) ran."""

    pitfall: str
    error: str | None = None         # exception type name, None if nothing was raised
    message: str | None = None       # TensorFlow's message, verbatim
    counts: tuple[int, ...] = ()     # e.g. node counts after each re-run
    names: tuple[str, ...] = ()      # e.g. the names the re-runs produced
    values: tuple[float, ...] = ()   # e.g. a fetched value

    @property
    def raised(self) -> bool:
        return self.error is not None

    @property
    def headline(self) -> str:
        """The first line of the message (template errors append a traceback)."""
        return (self.message or "").splitlines()[0] if self.message else ""


def _attempt(pitfall, action, **found) -> Outcome:
    """Run ``action`` and record the exception it raises, if any, with ``found``."""
    try:
        action()
    except Exception as error:  # the point is to record whichever error TensorFlow raises
        return Outcome(pitfall, type(error).__name__, str(error), **found)
    return Outcome(pitfall, **found)


def _in_own_thread(function):
    """Run ``function`` in a new thread, whose default-graph stack starts empty."""
    result = {}

    def target():
        try:
            result["value"] = function()
        except BaseException as error:  # handed back to the caller's thread below
            result["error"] = error

    worker = threading.Thread(target=target, name="legacy-vae-pitfall")
    worker.start()
    worker.join()
    if "error" in result:
        raise result["error"]
    return result["value"]


def _variable_names(graph):
    return tuple(v.name for v in graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES))


def _hidden_layer(kind, x):
    """A named layer, built the way the package's two models build theirs."""
    if kind == "dense":
        return layers.dense(x, 3, tf.nn.relu, name="hidden")
    if kind == "slim":
        import tf_slim as slim

        with warnings.catch_warnings():
            # tf_slim 1.1.0 trips Keras' "layer.apply is deprecated" on every call.
            warnings.filterwarnings("ignore", message=r"`layer\.apply` is deprecated")
            return slim.fully_connected(x, 3, scope="hidden")
    raise ValueError(f"kind must be 'dense' (get_variable) or 'slim', got {kind!r}")


# 1. Re-running a cell that creates named variables.

def variable_already_exists(kind: str = "dense") -> Outcome:
    """Run a cell that creates the variables of scope ``hidden`` twice in one graph."""
    graph = tf.Graph()
    with graph.as_default():
        def cell():
            _hidden_layer(kind, v1.placeholder(tf.float32, [None, 4], name="x"))

        cell()
        outcome = _attempt("variable_already_exists", cell)
    return dataclasses.replace(outcome, names=_variable_names(graph))


def variable_already_exists_fix(kind: str = "dense") -> Outcome:
    """The same cell run twice, each run building its own ``tf.Graph``."""
    counts, names = [], ()
    for _ in range(2):
        graph = tf.Graph()
        with graph.as_default():
            _hidden_layer(kind, v1.placeholder(tf.float32, [None, 4], name="x"))
        names = _variable_names(graph)
        counts.append(len(names))
    return Outcome("variable_already_exists", counts=tuple(counts), names=names)


# 2. Unnamed ops piling up.

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


# 3. A tensor from before reset_default_graph.

def tensor_from_before_reset(use: str = "feed") -> Outcome:
    """Build, reset, rebuild, then run with one handle from before the reset.

    ``use="feed"`` feeds the old placeholder, ``use="fetch"`` fetches the old output.
    """
    if use not in ("feed", "fetch"):
        raise ValueError(f"use must be 'feed' or 'fetch', got {use!r}")

    def session():
        with v1.get_default_graph().as_default():   # cell 1: build in the default graph
            old_x = v1.placeholder(tf.float32, [], name="x")
            old_y = tf.multiply(old_x, 2.0, name="y")
        v1.reset_default_graph()                    # cell 2: "start over"
        with v1.get_default_graph().as_default():   # cell 3: rebuild, run with a stale handle
            x = v1.placeholder(tf.float32, [], name="x")
            y = tf.multiply(x, 2.0, name="y")
            with v1.Session() as sess:
                if use == "feed":
                    return _attempt("tensor_from_before_reset", lambda: sess.run(y, {old_x: 1.0}))
                return _attempt("tensor_from_before_reset", lambda: sess.run(old_y, {x: 1.0}))

    return _in_own_thread(session)


def tensor_from_before_reset_fix() -> Outcome:
    """Rebuild into a new ``tf.Graph`` and run a ``Session(graph=...)`` on it."""
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [], name="x")
        y = tf.multiply(x, 2.0, name="y")
    with v1.Session(graph=graph) as sess:
        value = sess.run(y, {x: 1.5})
    return Outcome("tensor_from_before_reset", names=(x.name, y.name), values=(float(value),))


# 4. reset_default_graph inside a nesting.

def reset_inside_nesting(where: str = "graph") -> Outcome:
    """Call ``reset_default_graph`` inside ``graph.as_default()`` or an open ``with Session``."""
    if where not in ("graph", "session"):
        raise ValueError(f"where must be 'graph' or 'session', got {where!r}")

    def session():
        graph = tf.Graph()
        if where == "graph":
            with graph.as_default():
                return _attempt("reset_inside_nesting", v1.reset_default_graph)
        with v1.Session(graph=graph):  # entering a session makes its graph the default
            return _attempt("reset_inside_nesting", v1.reset_default_graph)

    return _in_own_thread(session)


def reset_inside_nesting_fix() -> Outcome:
    """Instead of clearing the graph you are in, make a new one: counts = (old ops, new ops)."""
    old = tf.Graph()
    with old.as_default():
        v1.placeholder(tf.float32, [], name="x")
        fresh = tf.Graph()  # allowed anywhere, touches no other graph
    return Outcome("reset_inside_nesting", counts=(len(old.get_operations()), len(fresh.get_operations())))


# 5. A network function called twice, with and without a template.

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
    return _variable_names(graph), float(np.max(np.abs(a - b)))


def network_called_twice() -> Outcome:
    """Without a template: two calls make two sets of weights (and two different networks)."""
    names, difference = _twice(_mlp)
    return Outcome("network_called_twice", counts=(len(names),), names=names, values=(difference,))


def network_called_twice_fix() -> Outcome:
    """``make_template``: the second call reuses the first call's weights."""
    names, difference = _twice(v1.make_template("network", _mlp))
    return Outcome("network_called_twice", counts=(len(names),), names=names, values=(difference,))


# 6. Creating the template again in the same graph.

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
    return Outcome("template_created_twice", counts=(len(_variable_names(graph)),), names=scopes)


def template_created_twice_fix() -> Outcome:
    """Each run of the build in its own graph: scope ``decoder`` and one set of weights each time."""
    scopes, counts = [], []
    for _ in range(2):
        graph = tf.Graph()
        with graph.as_default():
            scopes.append(_template_cell())
        counts.append(len(_variable_names(graph)))
    return Outcome("template_created_twice", counts=tuple(counts), names=tuple(scopes))


# 7. A tf.Variable or a Keras layer inside a template.

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
        outcome = _attempt("variable_in_template", lambda: network(z))
    return dataclasses.replace(outcome, names=_variable_names(graph))


def variable_in_template_fix() -> Outcome:
    """Variables through ``get_variable`` (``layers.dense``): the second call adds none."""
    graph = tf.Graph()
    with graph.as_default():
        network = v1.make_template("network", _make_variable_net("dense"))
        z = tf.zeros([1, 2])
        network(z)
        after_first = len(_variable_names(graph))
        outcome = _attempt("variable_in_template", lambda: network(z))
    names = _variable_names(graph)
    return dataclasses.replace(outcome, counts=(after_first, len(names)), names=names)


# 8. Ops created by accident inside the training loop; finalize catches them.

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
            outcome = _attempt("ops_added_in_loop", lambda: v1.assign_add(counter, 1.0))
        value = sess.run(counter)
    return dataclasses.replace(outcome, counts=tuple(counts), values=(float(value),))


# Each pitfall with its fix, in the order of the notebook.
PITFALLS = {
    "variable_already_exists": (variable_already_exists, variable_already_exists_fix),
    "ops_pile_up": (ops_pile_up, ops_pile_up_fix),
    "tensor_from_before_reset": (tensor_from_before_reset, tensor_from_before_reset_fix),
    "reset_inside_nesting": (reset_inside_nesting, reset_inside_nesting_fix),
    "network_called_twice": (network_called_twice, network_called_twice_fix),
    "template_created_twice": (template_created_twice, template_created_twice_fix),
    "variable_in_template": (variable_in_template, variable_in_template_fix),
    "ops_added_in_loop": (ops_added_in_loop, ops_added_in_loop_fix),
}
