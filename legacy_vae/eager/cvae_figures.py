"""The CVAE run's pictures, as the tutorial drew them.

- per epoch, a 4x4 grid: the same test digits encoded, reparameterized with
  fixed noise and decoded (the tutorial's ``generate_and_save_images``);
- an animated GIF of those grids, read back from the PNGs on disk (as the
  tutorial built its GIF), so a resumed run's GIF covers every epoch;
- for a 2-d code, the manifold: decoded means over a 20x20 grid of
  z = (Phi^-1(q_j), Phi^-1(q_i)), q in linspace(0.05, 0.95, 20), with the
  normal quantile Phi^-1 from ``tf.math.ndtri`` (no SciPy needed).
"""
from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import tensorflow as tf

from legacy_vae import plots

GRID_PATTERN = re.compile(r"reconstructions-step(\d+)\.png$")


def grid_path(figures: Path, step: int) -> Path:
    return figures / f"reconstructions-step{step}.png"


def save_grid(model, images, eps, figures: Path, step: int, epoch: float) -> Path:
    """Encode ``images``, decode z = mean + sigma * eps, save the 4-wide grid for ``step``."""
    mean, logvar = model.encode(tf.constant(images))
    decoded = model.decode(model.reparameterize(mean, logvar, tf.constant(eps)), apply_sigmoid=True)
    title = f"epoch {epoch:g} (step {step})"
    return plots.save(plots.digit_grid(decoded.numpy(), cols=4, title=title), grid_path(figures, step))


def grid_pngs(figures: Path) -> list[Path]:
    """The per-epoch grid PNGs in step order."""
    found = [(int(m.group(1)), p) for p in figures.glob("reconstructions-step*.png")
             if (m := GRID_PATTERN.search(p.name))]
    return [p for _, p in sorted(found)]


def save_gif(figures: Path, path: Path) -> Path | None:
    """An animated GIF of every grid PNG in ``figures`` (None if there is none yet)."""
    from PIL import Image

    frames = []
    for png in grid_pngs(figures):
        with Image.open(png) as image:
            frames.append(np.asarray(image.convert("L"), dtype=np.float32) / 255.0)
    if not frames:
        return None
    return plots.save_gif(frames, path, duration_ms=400)


def manifold_codes(n: int = 20) -> np.ndarray:
    """[n*n, 2] codes in row-major order: row i has z[1] = Phi^-1(q_i), column j z[0] = Phi^-1(q_j)."""
    quantiles = tf.math.ndtri(tf.linspace(0.05, 0.95, n)).numpy().astype(np.float32)
    zy, zx = np.meshgrid(quantiles, quantiles, indexing="ij")
    return np.stack([zx.ravel(), zy.ravel()], axis=1)


def save_manifold(model, path: Path, n: int = 20) -> Path:
    """Decoded digits over the 2-d code's normal quantiles, as one n x n picture."""
    if model.latent_dim != 2:
        raise ValueError(f"the manifold picture needs a 2-d code, this model has {model.latent_dim}")
    decoded = model.decode(tf.constant(manifold_codes(n)), apply_sigmoid=True).numpy()
    return plots.save(plots.digit_grid(decoded, cols=n, title="decoded z over normal quantiles"), path)


def save_samples(model, eps, path: Path) -> Path:
    """Decoded prior draws with fixed noise ``eps``."""
    decoded = model.sample(tf.constant(eps)).numpy()
    return plots.save(plots.digit_grid(decoded, title="samples from the prior"), path)
