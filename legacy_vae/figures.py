"""The seeds' figures, written into a run folder's ``figures/`` by both training loops.

* post, at each epoch start (every ``visualize_every`` steps from step 0): the
  test codes coloured by label and the prior samples, one PNG per epoch
  (``epoch-step<N>.png``); at the end of a run (also a stopped or resumed
  one) they are gathered from the disk into ``epochs.png`` (a row per epoch,
  as the post showed its first epochs) and ``epochs.gif`` (:func:`epochs`);
* every model, every ``visualize_every`` steps from step 0: fresh validation
  digits, their reconstructions (Bernoulli means) and a Bernoulli sample of
  them (``reconstructions-step<N>.png``; the Slim notebook showed the digits
  beside ``x_dist.sample()``).

Both loops call these with the same arrays at the same steps, so a classic
run and a fast run write the same pictures. Each file is written atomically.

Drawing a figure (matplotlib layout, PNG encoding) takes a good part of a
second; the training loops hand the arrays to a :class:`Drawer`, which runs
these same functions in a worker process, so training never waits for a
figure. Its queue is bounded (memory stays flat) and closing it waits for
the last figure; a failed write comes back as the worker raised it.
"""
from __future__ import annotations

import math
import re
import signal
import threading
from pathlib import Path

from legacy_vae import plots
from legacy_vae.io import atomic_write_bytes

_EPOCH = re.compile(r"epoch-step(\d+)\.png$")


def epoch(figures: Path, model: str, step: int, codes, labels, samples, test_elbo: float,
          gather: bool = True) -> bytes:
    """Write this epoch's PNG, ``epoch-step<step>.png``; return it.

    ``gather``: also refresh ``epochs.png`` and ``epochs.gif`` (:func:`epochs`), for a loop that
    shows them as it goes; the package's loops pass False and gather once, at the end.
    """
    png = plots.to_png_bytes(plots.epoch(
        codes, labels, samples, f"{model}, step {step}: test ELBO {test_elbo:.2f}"), dpi=80)
    atomic_write_bytes(Path(figures) / f"epoch-step{step}.png", png)
    if gather:
        epochs(figures)
    return png


def epochs(figures: Path) -> int:
    """Gather the ``epoch-step<N>.png`` on disk, by step, into ``epochs.png`` and ``epochs.gif``;
    return how many (none: nothing is written)."""
    figures = Path(figures)
    frames = sorted((int(m.group(1)), p) for p in figures.glob("epoch-step*.png") if (m := _EPOCH.search(p.name)))
    paths = [p for _, p in frames]
    if paths:
        atomic_write_bytes(figures / "epochs.png", plots.stack_pngs(paths))
        plots.gif_from_pngs(paths, figures / "epochs.gif")
    return len(paths)


def reconstructions(figures: Path, model: str, step: int, digits, means, sample) -> bytes:
    """Write ``reconstructions-step<step>.png``: digits, Bernoulli means, a Bernoulli sample."""
    png = plots.to_png_bytes(plots.reconstructions(
        digits, {"mean": means, "sample": sample}, title=f"{model}: validation digits, step {step}"))
    atomic_write_bytes(Path(figures) / f"reconstructions-step{step}.png", png)
    return png


def prior_samples(figures: Path, model: str, step: int, samples) -> bytes:
    """Write ``prior_samples.png``, the samples in a square-ish grid; return it."""
    png = plots.to_png_bytes(plots.digit_grid(
        samples, cols=math.ceil(math.sqrt(len(samples))), title=f"{model}: samples from the prior, step {step}"))
    atomic_write_bytes(Path(figures) / "prior_samples.png", png)
    return png


def side_by_side(figures: Path, step: int, shown: dict) -> None:
    """Write ``side_by_side-step<step>.png``: the same digits and every model's reconstructions."""
    plots.save(plots.side_by_side(shown, step), Path(figures) / f"side_by_side-step{step}.png")


def save(figure_function, path: Path, *args) -> None:
    """Write the figure ``figure_function(*args)`` (a function of legacy_vae.plots) to ``path``."""
    plots.save(figure_function(*args), path)


class _Done:
    """The result of a figure drawn in the caller's thread (Drawer(inline=True))."""

    def __init__(self, function, args):
        self._error = None
        try:
            self._value = function(*args)
        except Exception as error:  # noqa: BLE001 - kept, and raised by Drawer.check like the worker's
            self._error = error

    def done(self):
        return True

    def exception(self):
        return self._error

    def result(self):
        if self._error is not None:
            raise self._error
        return self._value


def _quiet_worker():
    # Ctrl-C reaches the whole process group and `kill` may too: the worker finishes the
    # figures it was given and leaves when the training process closes it (or dies).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _ready():
    return True


class _WriteFailed(Exception):
    """failures.WriteError on its way back from the worker (an OSError subclass with a path
    does not survive pickling); ``args``: (path, reason, errno)."""


def _call(function, *args):
    from legacy_vae.failures import WriteError

    try:
        return function(*args)
    except WriteError as error:
        raise _WriteFailed(error.path, error.reason, error.errno) from None


def _error(future):
    """The exception of a finished figure, as the training process raises it."""
    error = future.exception()
    if isinstance(error, _WriteFailed):
        from legacy_vae.failures import WriteError

        return WriteError(*error.args)
    return error


class Drawer:
    """Runs the figure functions above in one worker process; a context manager.

    ``submit(function, *args)`` returns a future at once unless ``pending``
    figures are still waiting, then it waits for one (a bounded queue). A
    figure that failed (e.g. failures.WriteError on a full disk) is raised
    by the next :meth:`check`, :meth:`wait` or the close. Closing waits for
    every figure given, also after Ctrl-C, SIGTERM or an error, so no figure
    is lost and no file is half written. ``inline=True`` draws in the
    caller's thread instead (same files; tests compare the two).
    """

    def __init__(self, pending: int = 8, inline: bool = False):
        self.inline = inline
        self._slots = threading.BoundedSemaphore(pending)
        self._futures = []
        self._lock = threading.Lock()
        self._pool = None
        if not inline:
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            # spawn: a fresh interpreter, never a fork of a process running TensorFlow's threads.
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_quiet_worker)
            self._pool.submit(_ready)  # start it now: it imports matplotlib while TensorFlow loads

    def submit(self, function, *args):
        if self.inline:
            future = _Done(function, args)
        else:
            self._slots.acquire()
            try:
                future = self._pool.submit(_call, function, *args)
            except BaseException:
                self._slots.release()
                raise
            future.add_done_callback(lambda _: self._slots.release())
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
                raise _error(future)

    def wait(self, futures=None) -> None:
        """Wait for ``futures`` (default: every figure given so far), then :meth:`check`."""
        with self._lock:
            futures = list(self._futures if futures is None else futures)
        for future in futures:
            if not self.inline:
                from concurrent.futures import wait

                wait([future])
        error = next((_error(f) for f in futures if f.exception() is not None), None)
        self.check()
        if error is not None:
            raise error

    def close(self) -> None:
        """Wait for every figure, stop the worker, then raise the first failed figure's error."""
        try:
            self.wait()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None

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
