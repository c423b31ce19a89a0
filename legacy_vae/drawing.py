"""Worker processes that draw figures, so that a training loop never waits for matplotlib.

    with Drawer() as draw:
        draw.submit(figures.reconstructions, folder, "slim", step, digits, means, sample)
        ...                                   # training goes on; closing waits for every figure

Each worker is ``python -m legacy_vae.drawing``, started with the command's
own interpreter (two by default: a look's figures are drawn at once, and the
end of a run waits half as long). Each job is a module-level function and its
arguments (NumPy arrays, paths, numbers), pickled down a worker's stdin; each
answer (the function's return value, or its error) comes back up its stdout.
A thread in the worker takes jobs off the pipe as they come, so giving one
never waits for a figure being drawn. It is a plain subprocess, not
``multiprocessing``: that would import the caller's ``__main__`` script again
in the worker, which breaks scripts without an ``if __name__ == "__main__"``
guard. A worker ignores SIGINT and SIGTERM (Ctrl-C reaches the whole process
group): it finishes what it was given and leaves when its stdin closes; when
the training process is killed outright, its next answer finds no reader and
it leaves then, so it never outlives the training process by more than one
figure.

:class:`legacy_vae.failures.WriteError` (a full disk, a file-size limit)
comes back as itself, with its one-line message.
"""
from __future__ import annotations

import os
import pickle
import queue
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


def _receive_bytes(stream):
    """The next message, still pickled, or None at the end of the stream."""
    head = stream.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        return None
    (length,) = _LENGTH.unpack(head)
    data = stream.read(length)
    return data if len(data) == length else None


def _receive(stream):
    """The next message, or None at the end of the stream."""
    data = _receive_bytes(stream)
    return None if data is None else pickle.loads(data)


class _Done(Future):
    """A figure drawn in the caller's thread (``Drawer(inline=True)``)."""

    def __init__(self, function, args):
        super().__init__()
        try:
            self.set_result(function(*args))
        except Exception as error:  # noqa: BLE001 - raised by Drawer.check, as the worker's would be
            self.set_exception(error)


class _Worker:
    """One ``python -m legacy_vae.drawing`` process and the thread that reads its answers."""

    def __init__(self, index: int, env: dict, answers):
        self.index = index
        self.sending = threading.Lock()  # one job's bytes at a time into its stdin
        self.jobs = 0                    # given, not yet answered (the Drawer's lock guards it)
        self.process = subprocess.Popen([sys.executable, "-m", "legacy_vae.drawing"], env=env,
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.reader = threading.Thread(target=answers, args=(self,), name=f"figures-answers-{index}", daemon=True)
        self.reader.start()

    def close(self) -> None:
        self.process.stdin.close()  # the worker leaves at the end of its input
        self.process.wait()
        self.reader.join()
        self.process.stdout.close()


class Drawer:
    """Runs figure functions in worker processes; a context manager.

    ``submit(function, *args)`` returns a ``concurrent.futures.Future`` at
    once unless ``pending`` figures are still waiting: then it waits for one
    (a bounded queue: memory stays flat). Each job goes to the worker with
    the fewest jobs waiting, so figures given together (a look's
    reconstructions and epoch figure) are drawn at once on two cores; a
    figure that needs others on disk first waits for their futures before
    it is given (legacy_vae.engine.monitor gathers the epochs so). A figure
    that failed is raised by the next :meth:`check`, :meth:`wait` or
    :meth:`close`. Closing waits for every figure given, also after Ctrl-C,
    SIGTERM or an error, so no figure is lost and no file is half written
    (each figure function writes atomically). ``inline=True`` draws in the
    caller's thread instead (same files).
    """

    def __init__(self, pending: int = 8, inline: bool = False, workers: int = 2):
        self.inline = inline
        self._slots = threading.BoundedSemaphore(pending)
        self._lock = threading.Lock()  # the bookkeeping below; never held while writing to a worker
        self._futures = []   # given, not yet checked
        self._waiting = {}   # job number -> (future, worker)
        self._jobs = 0
        self._workers = []
        if not inline:
            # The worker imports this very package, wherever it was imported from.
            root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
            env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
            try:
                for index in range(workers):
                    self._workers.append(_Worker(index, env, self._answers))
            except BaseException:
                self._close_workers()
                raise

    def _answers(self, worker: _Worker) -> None:
        while (message := _receive(worker.process.stdout)) is not None:
            number, ok, value = message
            with self._lock:
                future, _ = self._waiting.pop(number)
                worker.jobs -= 1
            self._slots.release()
            if ok:
                future.set_result(value)
            else:
                future.set_exception(value)
        with self._lock:  # the worker died: nothing more will come from it
            lost = [number for number, (_, owner) in self._waiting.items() if owner is worker]
            lost = [self._waiting.pop(number)[0] for number in lost]
            worker.jobs = 0
        for future in lost:
            self._slots.release()
            future.set_exception(RuntimeError("the figure worker process ended before drawing this figure"))

    def submit(self, function, *args) -> Future:
        if self.inline:
            future = _Done(function, args)
        else:
            self._slots.acquire()
            future = Future()
            with self._lock:
                worker = min(self._workers, key=lambda w: w.jobs)
                worker.jobs += 1
                self._jobs += 1
                number = self._jobs
                self._waiting[number] = (future, worker)
            # Writing to a worker can block until it reads; its answer reader needs ``_lock``,
            # so the write holds only that worker's ``sending`` lock, never ``_lock``.
            with worker.sending:
                try:
                    _send(worker.process.stdin, (number, function, args))
                except (BrokenPipeError, OSError):
                    with self._lock:
                        if self._waiting.pop(number, None) is not None:
                            worker.jobs -= 1
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
        """Wait for every figure, let the workers go, then raise the first failed figure's error."""
        try:
            self.wait()
        finally:
            self._close_workers()

    def _close_workers(self) -> None:
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()

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


def _read_jobs(stream, jobs: queue.SimpleQueue) -> None:
    # Take each job off the pipe as soon as it arrives, so that a training thread's write never
    # waits for a figure being drawn (the Drawer's semaphore bounds how many wait here).
    while (data := _receive_bytes(stream)) is not None:
        jobs.put(data)
    jobs.put(None)


def _worker() -> None:
    """The worker's loop: a job from stdin, its answer to stdout, until stdin ends.

    An answer that cannot be sent means the training process is gone (killed
    outright): the worker leaves then, after the figure in hand.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything printed, by Python or a library, goes to stderr, never into the answers
    jobs = queue.SimpleQueue()
    threading.Thread(target=_read_jobs, args=(sys.stdin.buffer, jobs), daemon=True).start()
    _warm_up()

    while (data := jobs.get()) is not None:
        number, function, args = pickle.loads(data)
        try:
            answer = (number, True, function(*args))
        except Exception as error:  # noqa: BLE001 - handed back to the training process
            answer = (number, False, _picklable(error))
        try:
            _send(answers, answer)
        except BrokenPipeError:
            return


def _warm_up() -> None:
    # Load matplotlib, its fonts and the PNG encoder now, while the training process starts up
    # (about 0.6 s), rather than in the first figure, which a checkpoint waits for.
    import numpy as np

    from legacy_vae import plots

    plots.to_png_bytes(plots.digit_grid(np.zeros((1, 784)), cols=1, title="warm-up"))


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
    sys.stderr.flush()
    # Every answer is sent and every figure written: skip the interpreter's teardown of
    # matplotlib (about 0.3 s, which the Drawer's close would wait for).
    os._exit(0)
