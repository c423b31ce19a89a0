"""Each graph-mode pitfall raises TensorFlow's own error (or grows the graph), and each fix avoids it.

The patterns are TensorFlow's messages: if a TensorFlow release stopped
raising one of them, the matching test fails instead of passing vacuously.
"""
import math
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
NOT_FOUND_VARIABLE = (r"Could not find variable {}\. This could mean that the variable has been deleted\. "
                      r"In TF1, it can also mean the variable is uninitialized\.")


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


def test_reset_at_the_top_of_the_cell_lets_it_run_again():
    fixed = pitfalls.reset_at_top_of_cell("slim", runs=3)
    assert not fixed.raised
    assert fixed.counts == (2, 2, 2)
    assert fixed.names == ("hidden/weights:0", "hidden/biases:0")
    assert fixed.values == (1.0, 1.0)  # every run got a new default graph


def test_session_opened_before_reset():
    bad = pitfalls.session_from_before_reset()
    assert_error(bad, "ValueError", r"cannot be interpreted as a Tensor\. \(" + NOT_AN_ELEMENT.format("y"))
    assert pitfalls.session_from_before_reset_fix().values == (6.0,)


def test_graph_seed_lost_after_reset():
    bad = pitfalls.seed_lost_after_reset(runs=2, seed=0)
    assert bad.names == ("None", "None")  # the reset graphs have no seed
    assert bad.values[0] != bad.values[1]  # so the initial weights differ run to run

    fixed = pitfalls.seed_lost_after_reset_fix(runs=2, seed=0)
    assert fixed.names == ("0", "0")
    assert fixed.values[0] == fixed.values[1]


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


def test_restore_after_the_scope_was_uniquified():
    bad = pitfalls.restore_after_uniquified_scope()
    assert bad.names == ("decoder_1",)
    assert_error(bad, "NotFoundError",
                 r"^Restoring from checkpoint failed\. This is most likely due to a Variable name")
    assert re.search(r"Key decoder_1/dense(_\d)?/(kernel|bias) not found in checkpoint", bad.message), bad.message

    fixed = pitfalls.restore_after_uniquified_scope_fix()
    assert not fixed.raised
    assert fixed.names == ("decoder",)
    assert fixed.values[0] == fixed.values[1]  # the restored weight is the saved one


def test_reuse_true_before_the_variable_exists():
    bad = pitfalls.reuse_missing_variable()
    assert_error(bad, "ValueError", r"^Variable decoder/fc1/weights does not exist, or was not created with "
                                    r"tf\.get_variable\(\)\. Did you mean to set reuse=tf\.AUTO_REUSE in VarScope\?$")
    assert bad.names == ()

    fixed = pitfalls.reuse_missing_variable_fix()
    assert not fixed.raised
    assert fixed.counts == (4, 4)


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


def test_running_a_variable_before_its_initializer():
    bad = pitfalls.uninitialized_variable()
    assert_error(bad, "FailedPreconditionError", NOT_FOUND_VARIABLE.format(r"hidden/(kernel|bias)"))
    fixed = pitfalls.uninitialized_variable_fix()
    assert not fixed.raised and math.isfinite(fixed.values[0])


def test_initializer_built_before_adam():
    bad = pitfalls.init_before_optimizer()
    slots = r"(train/beta[12]_power|hidden/\w+/Adam(_1)?)"  # whichever the step reads first
    assert_error(bad, "FailedPreconditionError", NOT_FOUND_VARIABLE.format(slots))
    assert set(bad.names) == {"train/beta1_power:0", "train/beta2_power:0", "hidden/kernel/Adam:0",
                              "hidden/kernel/Adam_1:0", "hidden/bias/Adam:0", "hidden/bias/Adam_1:0"}

    fixed = pitfalls.init_before_optimizer_fix()
    assert not fixed.raised
    assert fixed.names == ()


def test_merge_all_picks_up_stale_summaries():
    bad = pitfalls.stale_summaries(runs=2)
    assert bad.names == ("train_loss", "train_loss_1")
    assert_error(bad, "InvalidArgumentError",
                 r"You must feed a value for placeholder tensor 'x' with dtype float and shape \[\?,4\]")

    fixed = pitfalls.stale_summaries_fix(runs=2)
    assert not fixed.raised
    assert fixed.names == ("train_loss",)


def test_monitored_session_finalizes_the_graph():
    bad = pitfalls.monitored_session_finalizes()
    assert_error(bad, "RuntimeError", FINALIZED)
    assert bad.counts == (1,)

    fixed = pitfalls.monitored_session_finalizes_fix()
    assert not fixed.raised
    assert fixed.values == (1.0, 2.0)


def test_placeholder_in_eager_mode():
    bad = pitfalls.placeholder_in_eager_mode()
    assert_error(bad, "RuntimeError", r"^tf\.placeholder\(\) is not compatible with eager execution\.$")
    fixed = pitfalls.placeholder_in_eager_mode_fix()
    assert fixed.names == ("x:0",) and fixed.counts == (1,)


def test_disable_eager_execution_too_late_in_a_child_process():
    bad = pitfalls.eager_disabled_too_late()
    assert_error(bad, "RuntimeError", r"Attempting to capture an EagerTensor without building a function\.$")
    fixed = pitfalls.eager_disabled_too_late_fix()
    assert not fixed.raised
    assert fixed.values == (9.0,)


def test_a_crashing_child_process_is_reported():
    with pytest.raises(RuntimeError, match="child Python exited with status 3"):
        pitfalls.run_in_fresh_python("import os\nos._exit(3)")


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="use must be 'feed' or 'fetch'"):
        pitfalls.tensor_from_before_reset("both")
    with pytest.raises(ValueError, match="where must be 'graph' or 'session'"):
        pitfalls.reset_inside_nesting("cell")
    with pytest.raises(ValueError, match="kind must be 'dense'"):
        pitfalls.variable_already_exists("keras")


def test_every_pitfall_has_a_fix():
    assert len(pitfalls.PITFALLS) == 18
    for name, (bad, fix) in pitfalls.PITFALLS.items():
        assert bad.__name__ == name
        assert fix.__name__ == name + "_fix"
