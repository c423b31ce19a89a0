"""Figures from NumPy arrays.

Every helper takes arrays and returns a ``matplotlib.figure.Figure`` built
without ``pyplot``: no global figure state, safe in threads and in notebooks
(which display a returned figure themselves). ``save`` writes a figure to a
temporary name and renames it, so a PNG is whole or absent.
"""
from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np

from legacy_vae.io import atomic_path


def Figure(*args, **kwargs):  # noqa: N802 - stands for matplotlib's class
    """``matplotlib.figure.Figure``, imported on first use: a training process that hands its
    figures to a worker (legacy_vae.figures) never loads matplotlib itself."""
    from matplotlib.figure import Figure as _Figure

    return _Figure(*args, **kwargs)


def _as_digits(images) -> np.ndarray:
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim == 2:
        side = int(round(math.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(f"cannot show images of shape {images.shape} as square digits")
        images = images.reshape(-1, side, side)
    if images.ndim != 3:
        raise ValueError(f"expected (N, 784), (N, 28, 28) or (N, 28, 28, 1) images, got {images.shape}")
    return images


def tile(images, cols: int | None = None) -> np.ndarray:
    """One 2-d array with the digits laid out in a grid (``cols`` per row)."""
    digits = _as_digits(images)
    n, h, w = digits.shape
    cols = cols or int(math.ceil(math.sqrt(n)))
    rows = int(math.ceil(n / cols))
    canvas = np.ones((rows * h, cols * w), dtype=np.float32)
    for i, digit in enumerate(digits):
        r, c = divmod(i, cols)
        canvas[r * h:(r + 1) * h, c * w:(c + 1) * w] = digit
    return canvas


def digit_grid(images, cols: int | None = None, title: str | None = None) -> Figure:
    """A grid of digits, e.g. samples decoded from the prior."""
    canvas = tile(images, cols)
    fig = Figure(figsize=(max(2.0, canvas.shape[1] / 50), max(2.0, canvas.shape[0] / 50) + 0.4))
    ax = fig.add_subplot()
    ax.imshow(canvas, cmap="gray", vmin=0.0, vmax=1.0)
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    fig.tight_layout()
    return fig


def reconstructions(originals, rows: dict, title: str | None = None) -> Figure:
    """Originals on the top row and one row of reconstructions per entry of ``rows``.

    ``rows`` maps a label (a model name) to its reconstructions of the same
    digits, so one helper draws both the per-model and the side-by-side figure.
    """
    originals = _as_digits(originals)
    labelled = [("input", originals)] + [(name, _as_digits(r)) for name, r in rows.items()]
    n = originals.shape[0]
    fig = Figure(figsize=(1.2 * n + 1.2, 1.25 * len(labelled) + 0.4))
    axes = fig.subplots(len(labelled), n, squeeze=False)
    for r, (name, digits) in enumerate(labelled):
        for c in range(n):
            ax = axes[r][c]
            ax.imshow(digits[c], cmap="gray", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
            if c == 0:
                ax.set_ylabel(name, rotation=0, ha="right", va="center")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def codes(codes_2d, labels, title: str | None = None) -> Figure:
    """A scatter of 2-d codes coloured by digit label."""
    codes_2d = np.asarray(codes_2d)
    if codes_2d.ndim != 2 or codes_2d.shape[1] != 2:
        raise ValueError(f"codes must have shape (N, 2), got {codes_2d.shape}")
    fig = Figure(figsize=(6, 5))
    ax = fig.add_subplot()
    points = ax.scatter(codes_2d[:, 0], codes_2d[:, 1], c=np.asarray(labels), cmap="tab10", s=2, alpha=0.6)
    fig.colorbar(points, ax=ax, ticks=range(10), label="digit")
    ax.set_xlabel("z[0]")
    ax.set_ylabel("z[1]")
    ax.set_title(title or "test codes by label")
    fig.tight_layout()
    return fig


def epoch(codes_2d, labels, samples, title: str) -> Figure:
    """One epoch of the post model: test codes by label (left) and prior samples in a row (right)."""
    fig = Figure(figsize=(9, 2.6))
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 3]})
    codes_2d = np.asarray(codes_2d)
    if codes_2d.ndim == 2 and codes_2d.shape[1] == 2:
        left.scatter(codes_2d[:, 0], codes_2d[:, 1], c=np.asarray(labels), cmap="tab10", s=1, alpha=0.5)
        left.set_xticks([])
        left.set_yticks([])
    else:
        left.set_axis_off()
        left.text(0.5, 0.5, f"{codes_2d.shape[-1]}-d codes", ha="center", va="center")
    right.imshow(tile(samples, cols=len(samples)), cmap="gray", vmin=0.0, vmax=1.0)
    right.set_axis_off()
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def stack_pngs(paths) -> bytes:
    """The PNG files in ``paths`` one under the other, as one PNG (a row per epoch)."""
    from PIL import Image

    images = [Image.open(path).convert("RGB") for path in paths]
    if not images:
        raise ValueError("stack_pngs needs at least one image")
    canvas = Image.new("RGB", (max(i.width for i in images), sum(i.height for i in images)), "white")
    top = 0
    for image in images:
        canvas.paste(image, (0, top))
        top += image.height
    buffer = io.BytesIO()
    canvas.save(buffer, format="PNG")
    return buffer.getvalue()


def gif_from_pngs(paths, path: str | Path, duration_ms: int = 700) -> Path:
    """An animated GIF whose frames are the PNG files in ``paths``."""
    from PIL import Image

    frames = [Image.open(p).convert("RGB") for p in paths]
    if not frames:
        raise ValueError("gif_from_pngs needs at least one frame")
    path = Path(path)
    with atomic_path(path) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:], duration=duration_ms, loop=0)
    return path


def curves(series: dict, ylabel: str = "ELBO (nats per image)", title: str | None = None) -> Figure:
    """Lines of (steps, values), one per label: loss or ELBO curves of several models."""
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    for label, (steps, values) in series.items():
        ax.plot(np.asarray(steps), np.asarray(values), label=label)
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return fig


def loss_curves(metrics_by_model: dict) -> Figure:
    """Validation ELBO and train ELBO (= -train loss, the mean over each record's window) per model,
    from each model's metrics.jsonl records."""
    from legacy_vae import runs

    lines = {}
    for model, records in metrics_by_model.items():
        lines[f"{model} validation"] = runs.series(records, "validation")
        lines[f"{model} train (-loss)"] = runs.series(records, "train")
    return curves(lines, ylabel="ELBO (nats per image)", title="training curves")


def side_by_side(shown: dict, step: int) -> Figure:
    """The same validation digits and every model's reconstructions of them.

    ``shown`` maps a model to its (inputs, reconstructions); a model whose
    inputs differ from the first model's (e.g. the binarized digits the Slim
    model sees) gets its own input row.
    """
    first, rows, title = side_by_side_rows(shown, step)
    return reconstructions(first, rows, title=title)


def side_by_side_rows(shown: dict, step: int):
    """(originals, rows, title) of :func:`side_by_side`, for :func:`reconstructions`."""
    models = list(shown)
    first = shown[models[0]][0]
    rows = {}
    for name in models:
        inputs, recons = shown[name]
        if not (inputs.shape == first.shape and (inputs == first).all()):
            rows[f"{name} input"] = inputs
        rows[name] = recons
    return first, rows, f"the same validation digits, step {step}"


def to_png_bytes(fig: Figure, dpi: int = 100) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def save(fig: Figure, path: str | Path, dpi: int = 100) -> Path:
    """Write ``fig`` as a PNG, atomically."""
    path = Path(path)
    data = to_png_bytes(fig, dpi)
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return path


def save_gif(frames, path: str | Path, duration_ms: int = 500) -> Path:
    """An animated GIF from 2-d arrays in [0, 1] (e.g. ``tile`` of each epoch's grid)."""
    from PIL import Image

    frames = [Image.fromarray((np.clip(np.asarray(f), 0, 1) * 255).astype(np.uint8)) for f in frames]
    if not frames:
        raise ValueError("save_gif needs at least one frame")
    path = Path(path)
    with atomic_path(path) as tmp:
        frames[0].save(tmp, format="GIF", save_all=True, append_images=frames[1:],
                       duration=duration_ms, loop=0)
    return path
