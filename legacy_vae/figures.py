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

Drawing a figure (matplotlib layout, PNG encoding) takes 0.1 to 0.3 s of
CPU. The reconstruction and side-by-side figures are drawn into the figure
of the same layout kept from the last time (legacy_vae.redraw: the same
PNG bytes for less than half the CPU); the training loops hand the arrays to a ``Drawer``
(legacy_vae.drawing), which runs these same functions in worker processes,
so training never waits for a figure. Its queue is bounded (memory stays
flat) and closing it waits for the last figure; a failed write comes back
as the worker raised it.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

from legacy_vae import plots
from legacy_vae.drawing import Drawer  # noqa: F401 - the loops' figures.Drawer
from legacy_vae.io import atomic_write_bytes
from legacy_vae.redraw import Redrawer

_REDRAW = Redrawer()  # a cache of matplotlib figures, no state a caller can see: same bytes as new ones

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


def epochs(figures: Path, kinds=("png", "gif")) -> int:
    """Gather the ``epoch-step<N>.png`` on disk, by step, into ``epochs.png`` and ``epochs.gif``
    (``kinds``: one of them only, so two workers can write one each); return how many
    (none: nothing is written)."""
    figures = Path(figures)
    frames = sorted((int(m.group(1)), p) for p in figures.glob("epoch-step*.png") if (m := _EPOCH.search(p.name)))
    paths = [p for _, p in frames]
    if paths and "png" in kinds:
        atomic_write_bytes(figures / "epochs.png", plots.stack_pngs(paths))
    if paths and "gif" in kinds:
        plots.gif_from_pngs(paths, figures / "epochs.gif")
    return len(paths)


def reconstructions(figures: Path, model: str, step: int, digits, means, sample) -> bytes:
    """Write ``reconstructions-step<step>.png``: digits, Bernoulli means, a Bernoulli sample."""
    png = _REDRAW.reconstructions(digits, {"mean": means, "sample": sample},
                                  title=f"{model}: validation digits, step {step}")
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
    atomic_write_bytes(Path(figures) / f"side_by_side-step{step}.png", _REDRAW.side_by_side(shown, step))


def save(figure_function, path: Path, *args) -> None:
    """Write the figure ``figure_function(*args)`` (a function of legacy_vae.plots) to ``path``."""
    plots.save(figure_function(*args), path)
