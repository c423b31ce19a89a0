"""What a pitfall (or its fix) did, and the helpers every pitfall module shares."""
from __future__ import annotations

import dataclasses
import threading
import warnings

import tensorflow as tf

from legacy_vae.models import layers

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
        """The line that says what went wrong.

        Graph execution errors open with "Graph execution error:" and the node,
        then give the reason on the first line that is not about where; other
        messages say it on their first line.
        """
        lines = [line for line in (self.message or "").splitlines() if line.strip()]
        for line in lines:
            if not line.startswith(("Graph execution error", "Detected at node", "    File ", "Node: ",
                                    "Restoring from checkpoint failed")):
                return line.strip()
        return lines[0] if lines else ""


def attempt(pitfall, action, **found) -> Outcome:
    """Run ``action`` and record the exception it raises, if any, with ``found``."""
    try:
        action()
    except Exception as error:  # the point is to record whichever error TensorFlow raises
        return Outcome(pitfall, type(error).__name__, str(error), **found)
    return Outcome(pitfall, **found)


def in_own_thread(function):
    """Run ``function`` in a new thread, whose default-graph stack starts empty.

    The default graph (and the global graph that ``reset_default_graph``
    replaces) belong to the thread, so a pitfall that resets it leaves the
    caller's default graph, and its eager mode, as they were.
    """
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


def variable_names(graph) -> tuple:
    return tuple(v.name for v in graph.get_collection(v1.GraphKeys.GLOBAL_VARIABLES))


def hidden_layer(kind, x):
    """A layer named ``hidden``, built the way the package's two models build theirs."""
    if kind == "dense":
        return layers.dense(x, 3, tf.nn.relu, name="hidden")
    if kind == "slim":
        import tf_slim as slim

        with warnings.catch_warnings():
            # tf_slim 1.1.0 trips Keras' "layer.apply is deprecated" on every call.
            warnings.filterwarnings("ignore", message=r"`layer\.apply` is deprecated")
            return slim.fully_connected(x, 3, scope="hidden")
    raise ValueError(f"kind must be 'dense' (get_variable) or 'slim', got {kind!r}")
