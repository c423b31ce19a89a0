"""A worker process that draws figures, so that a training loop never waits for matplotlib.

    with Drawer() as draw:
        draw.submit(figures.reconstructions, folder, "slim", step, digits, means, sample)
        ...                                   # training goes on; closing waits for every figure

The worker is ``python -m legacy_vae.drawing``, started with the command's
own interpreter. Each job is a module-level function and its arguments
(NumPy arrays, paths, numbers), pickled down its stdin; each answer (the
function's return value, or its error) comes back up its stdout. It is a
plain subprocess, not ``multiprocessing``: that would import the caller's
``__main__`` script again in the worker, which breaks scripts without an
``if __name__ == "__main__"`` guard. The worker ignores SIGINT and SIGTERM
(Ctrl-C reaches the whole process group): it finishes what it was given and
leaves when its stdin closes, which also happens when the training process is
killed outright, so it never outlives it by more than one figure.

:class:`legacy_vae.failures.WriteError` (a full disk, a file-size limit)
comes back as itself, with its one-line message.
"""
from __future__ import annotations

import os
import pickle
import signal
import struct
import subprocess
import sys
import threading
from concurrent.futures import Future

_LENGTH = struct.Struct("!Q")


def _send(stream, message) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_LENGTH.pack(len(data)) + data)
    stream.flush()


def _receive(stream):
    """The next message, or None at the end of the stream."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    data = stream.read(length)
    if len(data) < length:
        return None
    return pickle.loads(data)


class _Done(Future):
    """A figure drawn in the caller's thread (``Drawer(inline=True)``)."""

    def __init__(self, function, args):
        super().__init__()
        try:
            self.set_result(function(*args))
        except Exception as error:  # noqa: BLE001 - raised by Drawer.check, as the worker's would be
            self.set_exception(error)


class Drawer:
    """Runs figure functions in one worker process; a context manager.

    ``submit(function, *args)`` returns a ``concurrent.futures.Future`` at
    once unless ``pending`` figures are still waiting: then it waits for one
    (a bounded queue: memory stays flat). A figure that failed is raised by
    the next :meth:`check`, :meth:`wait` or :meth:`close`. Closing waits for
    every figure given, also after Ctrl-C, SIGTERM or an error, so no figure is
    lost and no file is half written (each figure function writes atomically).
    ``inline=True`` draws in the caller's thread instead (same files).
    """

    def __init__(self, pending: int = 8, inline: bool = False):
        self.inline = inline
        self._slots = threading.BoundedSemaphore(pending)
        self._lock = threading.Lock()      # the bookkeeping below; never held while writing to the worker
        self._sending = threading.Lock()   # one job written to the worker at a time
        self._futures = []   # given, not yet checked
        self._waiting = {}   # job number -> future, answered by the worker in order
        self._jobs = 0
        self._process = self._reader = None
        if not inline:
            # The worker imports this very package, wherever it was imported from.
            root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
            self._process = subprocess.Popen([sys.executable, "-m", "legacy_vae.drawing"], env=env,
                                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            self._reader = threading.Thread(target=self._answers, name="figures-answers", daemon=True)
            self._reader.start()

    def _answers(self) -> None:
        while (message := _receive(self._process.stdout)) is not None:
            number, ok, value = message
            with self._lock:
                future = self._waiting.pop(number)
            self._slots.release()
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        with self._lock:  # the worker died: nothing more will be answered
            lost, self._waiting = list(self._waiting.values()), {}
        for future in lost:
            self._slots.release()
            future.set_exception(RuntimeError("the figure worker process ended before drawing this figure"))

    def submit(self, function, *args) -> Future:
        if self.inline:
            future = _Done(function, args)
        else:
            self._slots.acquire()
            future = Future()
            # Writing to the worker can block until it reads, and it reads only after the answer
            # reader took its last answer; the reader needs ``_lock``, so the write holds only
            # ``_sending`` (one job's bytes at a time), never ``_lock``.
            with self._sending:
                with self._lock:
                    self._jobs += 1
                    number = self._jobs
                    self._waiting[number] = future
                try:
                    _send(self._process.stdin, (number, function, args))
                except (BrokenPipeError, OSError):
                    with self._lock:
                        self._waiting.pop(number, None)
                    self._slots.release()
                    raise RuntimeError("the figure worker process has ended") from None
        with self._lock:
            self._futures.append(future)
        return future

    def check(self) -> None:
        """Raise the first error of a finished figure, if any; forget the finished ones."""
        with self._lock:
            done = [f for f in self._futures if f.done()]
            self._futures = [f for f in self._futures if not f.done()]
        for future in done:
            if future.exception() is not None:
                raise future.exception()

    def wait(self, futures=None) -> None:
        """Wait for ``futures`` (default: every figure given so far); raise the first error."""
        with self._lock:
            futures = list(self._futures if futures is None else futures)
        for future in futures:
            future.exception()  # waits
        error = next((f.exception() for f in futures if f.exception() is not None), None)
        self.check()
        if error is not None:
            raise error

    def close(self) -> None:
        """Wait for every figure, let the worker go, then raise the first failed figure's error."""
        try:
            self.wait()
        finally:
            if self._process is not None:
                self._process.stdin.close()  # the worker leaves at the end of its input
                self._process.wait()
                self._reader.join()
                self._process.stdout.close()
                self._process = None

    def __enter__(self):
        return self

    def __exit__(self, kind, error, traceback):
        if error is None:
            self.close()
            return
        try:
            self.close()
        except Exception:  # noqa: BLE001 - the error already on its way up says more
            pass


def _worker() -> None:
    """The worker's loop: a job from stdin, its answer to stdout, until stdin ends."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    jobs, answers = sys.stdin.buffer, os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed, by Python or a library, goes to stderr, never into the answers
    while (message := _receive(jobs)) is not None:
        number, function, args = message
        try:
            answer = (number, True, function(*args))
        except Exception as error:  # noqa: BLE001 - handed back to the training process
            answer = (number, False, _picklable(error))
        _send(answers, answer)


def _picklable(error: Exception) -> Exception:
    from legacy_vae.failures import WriteError

    if isinstance(error, WriteError):
        return _RemoteWriteError(error.path, error.reason, error.errno)
    try:
        pickle.loads(pickle.dumps(error))
        return error
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(error).__name__}: {error}")


class _RemoteWriteError(Exception):
    """A WriteError on its way back (pickling loses its path); it becomes one again on arrival."""

    def __reduce__(self):
        return _write_error, self.args


def _write_error(path, reason, code):
    from legacy_vae.failures import WriteError

    return WriteError(path, reason, code)


if __name__ == "__main__":
    # The module's own functions, not __main__'s copies: an answer pickles references to them.
    from legacy_vae.drawing import _worker as worker

    worker()
