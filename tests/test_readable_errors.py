"""Graph execution errors: short in %xmode Minimal, whole otherwise, and the exception untouched."""
import numpy as np
import pytest
import tensorflow as tf

from legacy_vae import readable_errors
from legacy_vae.models import layers

v1 = tf.compat.v1

# A cell that runs a variable before its initializer: TensorFlow's message carries the build stack.
UNINITIALIZED_CELL = """
import tensorflow as tf
graph = tf.Graph()
with graph.as_default():
    kernel = tf.compat.v1.get_variable("kernel", [2, 3])
with tf.compat.v1.Session(graph=graph) as sess:
    sess.run(kernel)
"""


def _uninitialized_message():
    """TensorFlow's message for a layer run before its initializer (notebook 04, section 5)."""
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 4], name="x")
        loss = tf.reduce_sum(layers.dense(x, 3, tf.nn.relu, name="hidden"))
    with v1.Session(graph=graph) as sess, pytest.raises(tf.errors.FailedPreconditionError) as raised:
        sess.run(loss, {x: np.ones((2, 4), np.float32)})
    return str(raised.value)


def test_shorten_keeps_the_reason_and_drops_the_frames():
    message = _uninitialized_message()
    assert message.count('File "') > 5  # what there is to shorten

    short = readable_errors.shorten(message)
    assert 'File "' not in short and "Original stack trace" not in short
    assert short.startswith("Graph execution error:\n\nDetected at node 'hidden/")
    assert "Could not find variable hidden/" in short
    dropped = message.count('File "')
    assert short.endswith(f"({dropped} lines of the stack where the op was built left out; "
                          "%xmode Context shows them)")


def test_a_message_without_frames_is_left_alone():
    text = "Graph is finalized and cannot be modified."
    assert readable_errors.shorten(text) == text


def test_install_outside_ipython_does_nothing():
    assert readable_errors.install() is False


@pytest.fixture
def shell():
    from IPython.core.interactiveshell import InteractiveShell

    yield InteractiveShell.instance()
    InteractiveShell.clear_instance()


def test_in_ipython_minimal_mode_is_short_and_context_mode_whole(shell, capsys):
    assert readable_errors.install(shell)
    shell.run_line_magic("xmode", "Minimal")
    capsys.readouterr()  # the magic's own "Exception reporting mode" line
    result = shell.run_cell(UNINITIALIZED_CELL)
    shown = capsys.readouterr().out
    assert isinstance(result.error_in_exec, tf.errors.FailedPreconditionError)
    assert shown.splitlines()[0] == "FailedPreconditionError: Graph execution error:"
    assert "Could not find variable kernel" in shown
    assert 'File "' not in shown and "left out; %xmode Context shows them" in shown
    assert 'File "' in str(result.error_in_exec)  # the exception keeps TensorFlow's whole message

    shell.run_line_magic("xmode", "Context")
    shell.run_cell(UNINITIALIZED_CELL)
    assert 'File "' in capsys.readouterr().out
