"""The seeds' figures, written into a run folder's ``figures/`` by both training loops.

* post, at each epoch start (every ``visualize_every`` steps from step 0): the
  test codes coloured by label and the prior samples, one PNG per epoch
  (``epoch-step<N>.png``), gathered into ``epochs.png`` (a row per epoch, as
  the post showed its first epochs) and ``epochs.gif``;
* every model, every ``visualize_every`` steps from step 0: fresh validation
  digits, their reconstructions (Bernoulli means) and a Bernoulli sample of
  them (``reconstructions-step<N>.png``; the Slim notebook showed the digits
  beside ``x_dist.sample()``).

Both loops call these with the same arrays at the same steps, so a classic
run and a fast run write the same pictures. Each file is written atomically.
"""
from __future__ import annotations

import re
from pathlib import Path

from legacy_vae import plots
from legacy_vae.io import atomic_write_bytes

_EPOCH = re.compile(r"epoch-step(\d+)\.png$")


def epoch(figures: Path, model: str, step: int, codes, labels, samples, test_elbo: float) -> bytes:
    """Write this epoch's PNG and refresh ``epochs.png`` / ``epochs.gif``; return the PNG."""
    figures = Path(figures)
    png = plots.to_png_bytes(plots.epoch(
        codes, labels, samples, f"{model}, step {step}: test ELBO {test_elbo:.2f}"), dpi=80)
    atomic_write_bytes(figures / f"epoch-step{step}.png", png)
    frames = sorted((int(m.group(1)), p) for p in figures.glob("epoch-step*.png") if (m := _EPOCH.search(p.name)))
    paths = [p for _, p in frames]
    atomic_write_bytes(figures / "epochs.png", plots.stack_pngs(paths))
    plots.gif_from_pngs(paths, figures / "epochs.gif")
    return png


def reconstructions(figures: Path, model: str, step: int, digits, means, sample) -> bytes:
    """Write ``reconstructions-step<step>.png``: digits, Bernoulli means, a Bernoulli sample."""
    png = plots.to_png_bytes(plots.reconstructions(
        digits, {"mean": means, "sample": sample}, title=f"{model}: validation digits, step {step}"))
    atomic_write_bytes(Path(figures) / f"reconstructions-step{step}.png", png)
    return png
