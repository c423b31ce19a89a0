"""Each graph-mode pitfall raises TensorFlow's own error (or grows the graph), and each fix avoids it.

The patterns are TensorFlow's messages: if a TensorFlow release stopped
raising one of them, the matching test fails instead of passing vacuously.
"""
import re

import pytest
import tensorflow as tf

from legacy_vae import pitfalls

v1 = tf.compat.v1

ALREADY_EXISTS = r"^Variable hidden/{} already exists, disallowed\. Did you mean to set reuse=True"
NOT_AN_ELEMENT = r"Tensor Tensor\(\"{}:0\", shape=\(\), dtype=float32\) is not an element of this graph\."
NESTED = (r"^Do not use tf\.reset_default_graph\(\) to clear nested graphs\. "
          r"If you need a cleared graph, exit the nesting and create a new graph\.$")
TEMPLATE_VARIABLE = r"^Trainable variable created when calling a template after the first time"
FINALIZED = r"^Graph is finalized and cannot be modified\.$"


def assert_error(outcome, error, pattern):
    assert outcome.error == error, outcome
    assert re.search(pattern, outcome.message), outcome.message


@pytest.fixture(autouse=True)
def caller_state_untouched():
    """No pitfall may leave the caller's thread out of eager mode or swap its default graph."""
    graph = v1.get_default_graph()
    ops = len(graph.get_operations())
    yield
    assert tf.executing_eagerly()
    assert v1.get_default_graph() is graph
    assert len(graph.get_operations()) == ops
    assert float(tf.reduce_sum(tf.ones([2, 2]))) == 4.0  # eager still computes


@pytest.mark.parametrize("kind, variable", [("dense", "kernel"), ("slim", "weights")])
def test_rerunning_a_variable_cell(kind, variable):
    bad = pitfalls.variable_already_exists(kind)
    assert_error(bad, "ValueError", ALREADY_EXISTS.format(variable))
    assert len(bad.names) == 2  # the first run's variables, and no more

    fixed = pitfalls.variable_already_exists_fix(kind)
    assert not fixed.raised
    assert fixed.counts == (2, 2)
    assert fixed.names == bad.names


def test_unnamed_ops_pile_up():
    bad = pitfalls.ops_pile_up(runs=3)
    assert bad.names == ("x", "x_1", "x_2")
    assert bad.counts == (4, 8, 12)

    fixed = pitfalls.ops_pile_up_fix(runs=3)
    assert fixed.names == ("x", "x", "x")
    assert fixed.counts == (4, 4, 4)


def test_feeding_a_placeholder_from_before_reset():
    bad = pitfalls.tensor_from_before_reset("feed")
    assert_error(bad, "TypeError", r"^Cannot interpret feed_dict key as Tensor: " + NOT_AN_ELEMENT.format("x"))


def test_fetching_a_tensor_from_before_reset():
    bad = pitfalls.tensor_from_before_reset("fetch")
    assert_error(bad, "ValueError", r"cannot be interpreted as a Tensor\. \(" + NOT_AN_ELEMENT.format("y"))


def test_fresh_graph_with_its_own_session_runs():
    fixed = pitfalls.tensor_from_before_reset_fix()
    assert not fixed.raised
    assert fixed.values == (3.0,)
    assert fixed.names == ("x:0", "y:0")


@pytest.mark.parametrize("where", ["graph", "session"])
def test_reset_inside_a_nesting(where):
    assert_error(pitfalls.reset_inside_nesting(where), "AssertionError", NESTED)


def test_new_graph_instead_of_reset():
    fixed = pitfalls.reset_inside_nesting_fix()
    assert not fixed.raised
    assert fixed.counts == (1, 0)


def test_network_twice_without_and_with_template():
    bad = pitfalls.network_called_twice()
    assert bad.counts == (8,)
    assert {n.split("/")[0] for n in bad.names} == {"dense", "dense_1", "dense_2", "dense_3"}
    assert bad.values[0] > 1e-3  # two different networks give different outputs

    fixed = pitfalls.network_called_twice_fix()
    assert fixed.counts == (4,)
    assert all(n.startswith("network/") for n in fixed.names)
    assert fixed.values == (0.0,)


def test_template_created_twice_gets_a_fresh_scope():
    bad = pitfalls.template_created_twice()
    assert bad.names == ("decoder", "decoder_1")
    assert bad.counts == (12,)  # two full sets of the decoder's 6 variables

    fixed = pitfalls.template_created_twice_fix()
    assert fixed.names == ("decoder", "decoder")
    assert fixed.counts == (6, 6)


# Keras numbers its layers process-wide (dense, dense_1, ...), so the suffix depends on what ran before.
@pytest.mark.parametrize("kind, created", [("variable", r"network_1/weights:0"),
                                           ("keras", r"network_1/dense(_\d+)?/kernel:0")])
def test_variable_or_keras_layer_inside_template(kind, created):
    bad = pitfalls.variable_in_template(kind)
    assert_error(bad, "ValueError", TEMPLATE_VARIABLE)
    assert re.search(f"<tf.Variable '{created}'", bad.headline), bad.headline
    assert any(re.fullmatch(created, name) for name in bad.names), bad.names


def test_get_variable_inside_template_is_reused():
    fixed = pitfalls.variable_in_template_fix()
    assert not fixed.raised
    assert fixed.counts == (2, 2)


def test_ops_created_in_loop_grow_the_graph():
    bad = pitfalls.ops_added_in_loop(steps=3)
    assert not bad.raised
    assert bad.counts[1] - bad.counts[0] == bad.counts[2] - bad.counts[1] > 0
    assert bad.values == (3.0,)


def test_finalize_turns_op_creation_into_an_error():
    fixed = pitfalls.ops_added_in_loop_fix(steps=3)
    assert_error(fixed, "RuntimeError", FINALIZED)
    assert len(set(fixed.counts)) == 1
    assert fixed.values == (3.0,)  # the loop itself still ran, three increments


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="use must be 'feed' or 'fetch'"):
        pitfalls.tensor_from_before_reset("both")
    with pytest.raises(ValueError, match="where must be 'graph' or 'session'"):
        pitfalls.reset_inside_nesting("cell")
    with pytest.raises(ValueError, match="kind must be 'dense'"):
        pitfalls.variable_already_exists("keras")


def test_every_pitfall_has_a_fix():
    for name, (bad, fix) in pitfalls.PITFALLS.items():
        assert bad.__name__ == name
        assert fix.__name__ == name + "_fix"
