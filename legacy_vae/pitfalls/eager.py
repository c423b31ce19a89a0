"""Graph-mode code in an eager TensorFlow 2 process.

TF2 runs eagerly: ``tf.compat.v1.placeholder`` has no graph to go into
unless one is entered. The TF1 answer, ``disable_eager_execution()``,
switches the whole process and must come before any tensor exists; called
later, tensors made eagerly before the switch cannot enter the new graphs.
The switch cannot be undone, so that pitfall runs in a child Python process
(``run_in_fresh_python``) and this process stays eager.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import tensorflow as tf

from legacy_vae.pitfalls.outcome import Outcome, attempt, in_own_thread

v1 = tf.compat.v1

# Runs the code read from stdin and reports, as the last stdout line, the exception it
# raised (type and message) and the float ``result`` the code left behind, if any.
_CHILD = textwrap.dedent("""
    import json, sys
    scope = {"__name__": "__main__"}
    report = {"error": None, "message": None, "result": None}
    try:
        exec(compile(sys.stdin.read(), "<fresh python>", "exec"), scope)
        report["result"] = scope.get("result")
    except Exception as error:
        report.update(error=type(error).__name__, message=str(error))
    print("\\n" + json.dumps(report))
""")

TOO_LATE = """\
import tensorflow as tf

weights = tf.Variable(tf.ones([2, 3]), name="weights")   # an earlier cell, run eagerly
tf.compat.v1.disable_eager_execution()                   # the TF1 switch, one cell too late
x = tf.compat.v1.placeholder(tf.float32, [None, 2], name="x")
y = tf.matmul(x, weights)
"""

SWITCH_FIRST = """\
import tensorflow as tf

tf.compat.v1.disable_eager_execution()                   # before any tensor exists
weights = tf.Variable(tf.ones([2, 3]), name="weights")
x = tf.compat.v1.placeholder(tf.float32, [None, 2], name="x")
y = tf.matmul(x, weights)
with tf.compat.v1.Session() as sess:
    sess.run(tf.compat.v1.global_variables_initializer())
    result = float(sess.run(y, {x: [[1.0, 2.0]]}).sum())
"""


def run_in_fresh_python(source: str, pitfall: str = "fresh_python", timeout: float = 300) -> Outcome:
    """Run ``source`` in a new Python process; its exception (or its ``result``) as an Outcome."""
    env = dict(os.environ)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    done = subprocess.run([sys.executable, "-c", _CHILD], input=source, capture_output=True, text=True,
                          env=env, timeout=timeout)
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"the child Python exited with status {done.returncode}:\n{done.stderr[-2000:]}")
    report = json.loads(lines[-1])
    values = () if report["result"] is None else (float(report["result"]),)
    return Outcome(pitfall, report["error"], report["message"], values=values)


def eager_disabled_too_late() -> Outcome:
    """``disable_eager_execution()`` after an eager variable exists, then a graph op on it."""
    return run_in_fresh_python(TOO_LATE, "eager_disabled_too_late")


def eager_disabled_too_late_fix() -> Outcome:
    """The switch as the process's first TensorFlow call: the TF1 code runs (value 9.0)."""
    return run_in_fresh_python(SWITCH_FIRST, "eager_disabled_too_late")


def placeholder_in_eager_mode() -> Outcome:
    """``tf.compat.v1.placeholder`` with no graph entered, in an eager thread."""
    return in_own_thread(lambda: attempt("placeholder_in_eager_mode",
                                         lambda: v1.placeholder(tf.float32, [None, 784], name="x")))


def placeholder_in_eager_mode_fix() -> Outcome:
    """The placeholder inside ``with tf.Graph().as_default():``; eager mode stays on outside."""
    graph = tf.Graph()
    with graph.as_default():
        x = v1.placeholder(tf.float32, [None, 784], name="x")
    return Outcome("placeholder_in_eager_mode", names=(x.name,), counts=(int(tf.executing_eagerly()),))
