"""Notebook 04's pitfalls, run from the notebook's own cells: TensorFlow's own errors, and fixes that hold.

The pitfall code lives in ``notebooks/04_reset_default_graph_pitfalls.ipynb``
and nowhere else. This test runs its code cells in order, in this process
(no Jupyter kernel; IPython's ``%`` lines left out), in a thread of their
own: the default graph, ``reset_default_graph`` and ``InteractiveSession``
act on the thread that runs them, so pytest's thread keeps its default graph
and its eager mode.

Every cell tagged ``raises-exception`` must raise the exception type and
TensorFlow's message pinned in RAISES, in the notebook's order (the
notebook's own "Expected error" line is a shorter piece of the same message);
every other cell must run, so the ``assert`` that closes each silent pitfall
(renamed ops, a second decoder, the lost seed, the wiped training, Adam's
variables missing from a checkpoint, the ops piling up) holds. If a
TensorFlow release changed one of these messages, its pin fails instead of
passing vacuously. ``test_notebooks.py`` runs the same notebook in a kernel.
"""
import re
import threading
from pathlib import Path

import nbformat
import pytest
import tensorflow as tf

v1 = tf.compat.v1
NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "04_reset_default_graph_pitfalls.ipynb"
RAISES_TAG = "raises-exception"
PROMISE = re.compile(r"\*\*Expected error:\*\* `(\w+): ([^`]+)`")

NOT_AN_ELEMENT = r"Tensor Tensor\(\"{}:0\", shape=\(\), dtype=float32\) is not an element of this graph\."
NESTED = (r"^Do not use tf\.reset_default_graph\(\) to clear nested graphs\. "
          r"If you need a cleared graph, exit the nesting and create a new graph\.$")
TEMPLATE_VARIABLE = (r"^Trainable variable created when calling a template after the first time, "
                     r"perhaps you used tf\.Variable when you meant tf\.get_variable")
NOT_FOUND_VARIABLE = (r"Could not find variable {}\. This could mean that the variable has been deleted\. "
                      r"In TF1, it can also mean the variable is uninitialized\.")
ADAM = r"(train/)?(beta[12]_power|hidden/\w+/Adam(_1)?)"  # whichever the step reads first
FINALIZED = r"^Graph is finalized and cannot be modified\.$"
EAGER_PLACEHOLDER = r"^tf\.placeholder\(\) is not compatible with eager execution\.$"

# What each raising cell of notebook 04 raises, in order: (pitfall, exception type, patterns of its message).
RAISES = [
    ("re-running a variable cell", "ValueError",
     [r"^Variable hidden/kernel already exists, disallowed\. Did you mean to set reuse=True"]),
    ("feeding a placeholder from before the reset", "TypeError",
     [r"^Cannot interpret feed_dict key as Tensor: " + NOT_AN_ELEMENT.format("x")]),
    ("fetching a tensor from before the reset", "ValueError",
     [r"cannot be interpreted as a Tensor\. \(" + NOT_AN_ELEMENT.format("y")]),
    ("building on a tensor from before the reset", "ValueError",
     [r'^Tensor\("hidden/kernel/Read/ReadVariableOp:0", shape=\(784, 128\), dtype=float32\) must be from the '
      r'same graph as Tensor\("x:0", shape=\(None, 784\), dtype=float32\) \(graphs are <[^>]+> and <[^>]+>\)\.$']),
    ("a session opened before the reset", "ValueError",
     [r"cannot be interpreted as a Tensor\. \(" + NOT_AN_ELEMENT.format("y")]),
    ("reset inside with graph.as_default()", "AssertionError", [NESTED]),
    ("reset inside with Session()", "AssertionError", [NESTED]),
    ("restore after the scope was uniquified", "NotFoundError",
     [r"^Restoring from checkpoint failed\. This is most likely due to a Variable name",
      r"Key decoder_1/dense(_\d)?/(kernel|bias) not found in checkpoint"]),
    ("reuse=True before the variables exist", "ValueError",
     [r"^Variable decoder/fc1/weights does not exist, or was not created with tf\.get_variable\(\)\. "
      r"Did you mean to set reuse=tf\.AUTO_REUSE in VarScope\?$"]),
    ("tf.Variable inside a template", "ValueError", [TEMPLATE_VARIABLE, r"<tf\.Variable 'network_1/weights:0'"]),
    # Keras numbers its layers process-wide (dense, dense_1, ...), so the suffix depends on what ran before.
    ("a Keras layer inside a template", "ValueError",
     [TEMPLATE_VARIABLE, r"<tf\.Variable 'network_1/dense(_\d+)?/kernel:0'"]),
    ("a variable run before its initializer", "FailedPreconditionError",
     [NOT_FOUND_VARIABLE.format(r"hidden/(kernel|bias)")]),
    ("an initializer made before Adam", "FailedPreconditionError", [NOT_FOUND_VARIABLE.format(ADAM)]),
    ("a Saver made before the variables", "ValueError", [r"^No variables to save$"]),
    ("resuming from a Saver made before the optimizer", "FailedPreconditionError",
     [NOT_FOUND_VARIABLE.format(r"(global_step|" + ADAM + ")")]),
    ("merge_all with an earlier run's summary", "InvalidArgumentError",
     [r"You must feed a value for placeholder tensor 'x' with dtype float and shape \[\?,4\]"]),
    ("an op made after finalize()", "RuntimeError", [FINALIZED]),
    ("an op made inside a MonitoredSession", "RuntimeError", [FINALIZED]),
    ("a placeholder built in another thread", "RuntimeError", [EAGER_PLACEHOLDER]),
    ("reset while an InteractiveSession is open", "AssertionError", [NESTED]),
    ("eval() of another graph's tensor in an InteractiveSession", "ValueError",
     [r"^Cannot use the default session to evaluate tensor: the tensor's graph is different from the "
      r"session's graph\. Pass an explicit session to `eval\(session=sess\)`\.$"]),
    ("a placeholder in eager mode", "RuntimeError", [EAGER_PLACEHOLDER]),
]


def _code(cell):
    """The cell's Python: IPython's magics (%xmode, ...) left out."""
    return "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith("%"))


def _promise(nb, index):
    """(type, text) of the **Expected error:** line in the markdown cell right before cell ``index``."""
    before = nb.cells[index - 1] if index else None
    found = PROMISE.findall(before.source) if before is not None and before.cell_type == "markdown" else []
    return found[0] if len(found) == 1 else None


@pytest.fixture(scope="module")
def ran():
    """Run notebook 04's code cells in one namespace, in a thread of their own: [(index, cell, exception)]."""
    nb = nbformat.read(str(NOTEBOOK), as_version=4)
    results = []

    def run_all():
        namespace = {"__name__": "__main__"}
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                exec(compile(_code(cell), f"<notebook 04, cell {index}>", "exec"), namespace)
            except Exception as error:  # the raising cells' errors are what this test checks
                results.append((index, cell, error))
            else:
                results.append((index, cell, None))

    caller_graph = v1.get_default_graph()
    worker = threading.Thread(target=run_all, name="notebook-04")
    worker.start()
    worker.join(timeout=900)
    assert not worker.is_alive(), "notebook 04's cells did not finish in 15 minutes"
    # Nothing the notebook did reached this thread: its default graph and its eager mode.
    assert tf.executing_eagerly() and v1.get_default_graph() is caller_graph
    return nb, results


def _raising(ran):
    _, results = ran
    return [(index, cell, error) for index, cell, error in results if RAISES_TAG in cell.metadata.get("tags", [])]


def test_every_other_cell_runs_and_its_asserts_hold(ran):
    _, results = ran
    failed = [(index, cell.source.splitlines()[0], f"{type(error).__name__}: {str(error).splitlines()[0]}")
              for index, cell, error in results
              if error is not None and RAISES_TAG not in cell.metadata.get("tags", [])]
    assert not failed, failed


def test_one_pin_per_raising_cell(ran):
    assert len(_raising(ran)) == len(RAISES), [cell.source.splitlines()[0] for _, cell, _ in _raising(ran)]


@pytest.mark.parametrize("number", range(len(RAISES)), ids=[pitfall for pitfall, _, _ in RAISES])
def test_raises_tensorflows_own_error(ran, number):
    raising = _raising(ran)
    assert number < len(raising), f"notebook 04 has only {len(raising)} raising cells"
    index, cell, error = raising[number]
    _, kind, patterns = RAISES[number]
    assert error is not None, f"cell {index} ({cell.source.splitlines()[0]!r}) did not raise"
    assert type(error).__name__ == kind, (index, error)
    for pattern in patterns:
        assert re.search(pattern, str(error), re.M), (index, pattern, str(error))


def test_each_expected_error_line_is_a_piece_of_the_message(ran):
    nb, _ = ran
    for index, cell, error in _raising(ran):
        promise = _promise(nb, index)
        assert promise, f"cell {index}: no **Expected error:** line right before it"
        kind, text = promise
        pattern = ".*?".join(re.escape(part) for part in text.split("..."))
        assert type(error).__name__ == kind and re.search(pattern, str(error), re.S), (index, promise, error)


def test_the_notebook_shows_its_code_and_calls_no_pitfall_functions():
    code = "\n".join(cell.source for cell in nbformat.read(str(NOTEBOOK), as_version=4).cells
                     if cell.cell_type == "code")
    assert "legacy_vae.pitfalls" not in code and "import pitfalls" not in code
    assert "getsource" not in code
