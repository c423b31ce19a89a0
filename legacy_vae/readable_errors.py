"""Graph execution errors in a notebook, shown the way a learner should read them first.

When a session fails, TensorFlow's message names the op and says what went
wrong, and it also lists the Python stack at which that op was *built*,
twice ("Detected at node ... defined at" and "Original stack trace for ...").
In a notebook that stack is mostly the kernel's own frames: some 50 lines
around the one line that matters. After :func:`install`, IPython's ``%xmode
Minimal`` (the exception type and its message, no traceback) also leaves
those frame lines out of what the cell shows, and says how many it left out.
The exception itself is untouched: its message, what ``except`` catches and
what a notebook's error output records as ``evalue``, is TensorFlow's own.
Every other ``%xmode`` (``Context``, ``Verbose``, ...) shows the full
traceback and the full message as usual.
"""
from __future__ import annotations

import re

FRAME = re.compile(r'^\s+File ".*", line \d+, in ')
DEFINED_AT = re.compile(r"^(Detected at node '[^']*') defined at \(most recent call last\):$")


def shorten(message: str) -> str:
    """``message`` without stack-frame lines (and their headers), with a note of how many went."""
    kept, dropped = [], 0
    for line in message.splitlines():
        if FRAME.match(line):
            dropped += 1
        elif line.startswith("Original stack trace for "):
            continue
        elif not (line == "" and kept and kept[-1] == ""):  # one blank line where frames were
            kept.append(DEFINED_AT.sub(r"\1", line))
    while kept and not kept[-1].strip():
        kept.pop()
    if dropped:
        kept.append(f"({dropped} lines of the stack where the op was built left out; "
                    "%xmode Context shows them)")
    return "\n".join(kept)


def _show(shell, etype, value, tb, tb_offset=None):
    """IPython's handler for TensorFlow's OpError: short in Minimal mode, the usual traceback otherwise."""
    if shell.InteractiveTB.mode == "Minimal":
        stb = [f"{etype.__name__}: {shorten(str(value))}"]
    else:
        stb = shell.InteractiveTB.structured_traceback(etype, value, tb, tb_offset=tb_offset)
    shell._showtraceback(etype, value, stb)  # sends the error output: ename, the full evalue, stb
    return stb


def install(shell=None) -> bool:
    """Show TensorFlow's graph execution errors through :func:`shorten` in ``shell`` (default: the
    running IPython). Returns False outside IPython, where there is nothing to install."""
    if shell is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return False
        shell = get_ipython()
    if shell is None:
        return False
    import tensorflow as tf

    shell.set_custom_exc((tf.errors.OpError,), _show)
    return True
