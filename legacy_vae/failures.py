"""Failures at run time, and SIGINT / SIGTERM, as the ``legacy-vae`` command reports them.

Exit statuses of the command (also in the README and ``legacy-vae --help``)::

    0    done
    1    failed at run time: data, a NaN or infinite loss, a full disk or a
         file-size limit, a broken or busy run folder
    2    usage error: a bad option or value, a folder that is not a run
    130  interrupted by Ctrl-C (SIGINT); a checkpoint was saved
    143  terminated by SIGTERM (e.g. ``timeout``, a batch scheduler); handled
         like Ctrl-C

:class:`RunError` is the run-time failure the user can act on; its message
is one line that names the problem and the fix. :class:`Terminated` is a
``KeyboardInterrupt``, so every place that saves a checkpoint on Ctrl-C does
the same on SIGTERM.
"""
from __future__ import annotations

import contextlib
import errno
import os
import signal
import sys
import threading
import traceback

EXIT_STATUSES = (
    (0, "done"),
    (1, "failed at run time (data, NaN loss, full disk, broken or busy run folder)"),
    (2, "usage error (bad option or value, a folder that is not a run)"),
    (130, "interrupted by Ctrl-C; a checkpoint was saved"),
    (143, "terminated by SIGTERM; handled like Ctrl-C"),
)


class RunError(Exception):
    """A failure at run time (exit status 1); the message says what failed and what to do."""


class RunFolderError(RunError):
    """The run folder cannot be used: no intact checkpoint, or another command is using it."""


class WriteError(RunError, OSError):
    """A file of the run could not be written (full disk, file-size limit, permissions).

    An OSError too, so code that handles a failed write as an OSError still does.
    ``resume`` (set by whoever knows the run folder) adds the command that continues the run.
    """

    def __init__(self, path, reason: str, code: int | None = None):
        OSError.__init__(self, code, reason, os.fspath(path))  # code: the errno, when the OS gave one
        self.path, self.reason, self.resume = os.fspath(path), reason, None

    def __str__(self):
        denied = self.errno in (errno.EACCES, errno.EPERM, errno.EROFS) or "ermission" in self.reason
        fix = "make it writable" if denied else "free some space or raise the file-size limit"
        if self.resume is not None:
            return (f"could not write {self.path}: {self.reason}; {fix}, then resume with "
                    f"'legacy-vae train --resume {self.resume}' (the checkpoints already written are intact)")
        return f"could not write {self.path}: {self.reason}; {fix} and run the command again"


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived; raised in the main thread like Ctrl-C's KeyboardInterrupt."""


def _raise_terminated(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_interrupt():
    """Within the block, SIGINT raises KeyboardInterrupt and SIGTERM :class:`Terminated` in the main thread.

    SIGINT is installed here too, not left to Python's start-up: Python sets
    its KeyboardInterrupt handler only when SIGINT is not ignored when it
    starts, and an ignored signal stays ignored across exec. A command
    started in the background by a script (the shell ignores SIGINT for
    it), or by any parent that ignored SIGINT, would otherwise train on
    through Ctrl-C. The previous handlers come back afterwards (``cli.main``
    may run inside another program, e.g. a test). Outside the main thread
    nothing changes.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    previous_term = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous_term)
        # None: a handler not set from Python (cannot be put back); the default is the closest.
        signal.signal(signal.SIGINT, signal.SIG_DFL if previous_int is None else previous_int)


def write_error(path, error: BaseException) -> WriteError:
    """A :class:`WriteError` for ``path`` from an OSError or a TensorFlow error (kept as it is if one)."""
    if isinstance(error, WriteError):
        return error
    return WriteError(path, reason(error), getattr(error, "errno", None))


def reason(error: BaseException) -> str:
    """The operating system's reason in ``error`` ("No space left on device"), else its first line."""
    if getattr(error, "strerror", None):
        return error.strerror
    lines = [line.strip() for line in str(getattr(error, "message", error)).splitlines() if line.strip()]
    # TensorFlow writes "<file>; <reason>" after lines about the graph node.
    for line in lines:
        if "; " in line and not line.startswith(("Node:", "Detected at")):
            return line.rsplit("; ", 1)[1]
    return lines[0] if lines else type(error).__name__


def report(error: BaseException, prog: str, verbose: bool = False) -> int:
    """Write the one line that ``error`` deserves to stderr and return the exit status.

    Errors that are no known failure (bugs) are raised again, traceback and all.
    ``verbose`` writes the traceback before the line.
    """
    from legacy_vae.data import DataError

    if isinstance(error, KeyboardInterrupt):
        terminated = isinstance(error, Terminated)
        sys.stderr.write(f"{prog}: {'terminated (SIGTERM)' if terminated else 'interrupted'}\n")
        return 143 if terminated else 130
    if isinstance(error, DataError):
        status, line = 1, str(error)  # its message names the file and the fix already
    elif isinstance(error, (RunError, ArithmeticError, OSError)):
        status, line = 1, f"error: {error}"  # NaN, full disk, a broken or busy run folder
    elif isinstance(error, ValueError):
        status, line = 2, f"error: {error}"  # config validation and other bad values
    elif _is_tensorflow_error(error):
        status, line = 1, f"error: TensorFlow failed: {reason(error)} (--verbose shows where)"
    else:
        raise error
    if verbose:
        traceback.print_exception(error)
    sys.stderr.write(f"{prog}: {line}\n")
    return status


def _is_tensorflow_error(error: BaseException) -> bool:
    # Without importing TensorFlow: commands such as `data` never load it.
    errors = sys.modules.get("tensorflow.python.framework.errors_impl")
    return errors is not None and isinstance(error, errors.OpError)
