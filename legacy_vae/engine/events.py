"""The TensorBoard events writer of the training loop, with one-line errors on a full disk.

TF1's ``FileWriter`` writes from a background thread; when a write fails
(full disk, file-size limit) that thread logs an error, dies with a
traceback, and the next ``add_summary`` or ``flush`` in the training thread
raises the same error again. :class:`EventsWriter` turns that second raise
into failures.WriteError naming the events file, and the thread's own log
line and traceback are dropped, since the training thread reports them.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import weakref

import tensorflow as tf

from legacy_vae.failures import write_error

v1 = tf.compat.v1


class EventsWriter(v1.summary.FileWriter):
    """``tf.compat.v1.summary.FileWriter`` whose failed writes raise failures.WriteError."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        worker = getattr(self.event_writer, "_worker", None)  # TF's writer thread, if it still has one
        if worker is not None:
            _our_threads.add(worker)

    def add_event(self, event):
        with self._named():
            super().add_event(event)

    def flush(self):
        with self._named():
            super().flush()

    def close(self):
        with self._named():
            super().close()

    @contextlib.contextmanager
    def _named(self):
        try:
            yield
        except _WRITE_ERRORS as error:
            # TensorFlow's message starts "<events file>; <reason>".
            first = (str(error).splitlines() or [""])[0]
            raise write_error(first.rsplit("; ", 1)[0] if "; " in first else self.get_logdir(), error) from error


# IndexError: how TensorFlow's writer raises OutOfRange, e.g. for a file-size limit.
_WRITE_ERRORS = (tf.errors.OpError, OSError, IndexError)
_our_threads: weakref.WeakSet = weakref.WeakSet()


def _quiet_writer_thread(args):
    if args.thread in _our_threads and isinstance(args.exc_value, _WRITE_ERRORS):
        return  # EventsWriter raises it again in the training thread, as one line
    _previous_hook(args)


class _DropWriterThreadError(logging.Filter):
    def filter(self, record):
        return threading.current_thread() not in _our_threads


_previous_hook = threading.excepthook
threading.excepthook = _quiet_writer_thread
tf.get_logger().addFilter(_DropWriterThreadError())
