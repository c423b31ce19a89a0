"""One clear error for images that the models cannot take as they are.

The graph models' placeholders and the evaluation functions take float
images of shape (N, 784) with pixels in [0, 1]. TensorFlow itself accepts
uint8 0..255 (or any float) without a word and trains or scores nonsense,
so the public entry points call :func:`model_images` first: its error names
the expected range, dtype and shape, what it got, and the fix (most often
"divide by 255").
"""
from __future__ import annotations

import numpy as np

EXPECTED = "images of shape (N, 784), a float dtype (float32) and pixels in [0, 1]"


def _pixels(images: np.ndarray) -> tuple[float, float] | None:
    if images.size == 0 or images.dtype.kind not in "biuf":
        return None
    return float(np.min(images)), float(np.max(images))


def _describe(images: np.ndarray, pixels) -> str:
    got = f"got shape {images.shape}, dtype {images.dtype}"
    if pixels is not None:
        got += f", pixels in [{pixels[0]:g}, {pixels[1]:g}]"
    return got


def _range_fix(images: np.ndarray, pixels) -> str:
    low, high = pixels
    if not (np.isfinite(low) and np.isfinite(high)):
        return "Some pixels are NaN or infinite: find where they came from."
    if low >= 0 and high <= 255:
        return ("These look like 0..255 bytes: divide by 255, e.g. "
                "images.astype(np.float32) / 255.")
    return "Rescale them to [0, 1], e.g. (images - images.min()) / (images.max() - images.min())."


def model_images(images, where: str) -> np.ndarray:
    """``images`` as an array if they are float (N, 784) in [0, 1]; else a ValueError from ``where``."""
    images = np.asarray(images)
    pixels = _pixels(images)
    fix = None
    if images.ndim != 2 or images.shape[1] != 784:
        fix = "Give one row of 784 pixels per image."
        if images.ndim >= 2 and int(np.prod(images.shape[1:])) == 784:
            fix = f"Flatten it first: images.reshape(-1, 784) turns {images.shape} into (N, 784)."
        elif images.shape == (784,):
            fix = "One image needs a batch axis: images.reshape(1, 784)."
    elif images.dtype.kind not in "f":
        if pixels is not None and pixels[0] >= 0 and pixels[1] <= 1:
            fix = "Convert it: images.astype(np.float32)."
        elif pixels is not None:
            fix = _range_fix(images, pixels)
        else:
            fix = "Give a numeric array of floats."
    elif pixels is not None and not (pixels[0] >= 0 and pixels[1] <= 1):
        fix = _range_fix(images, pixels)
    if fix is None:
        return images
    raise ValueError(f"{where} expects {EXPECTED}; {_describe(images, pixels)}. {fix}")


def unit_range(images: np.ndarray, where: str) -> None:
    """For float arrays of any shape (a DataSet's images): pixels must be finite and in [0, 1].

    uint8 arrays are left alone: they hold raw 0..255 as ``read_data_sets(dtype=np.uint8)``
    keeps them, like TF1's ``input_data``.
    """
    if images.dtype.kind != "f":
        return
    pixels = _pixels(images)
    if pixels is not None and not (pixels[0] >= 0 and pixels[1] <= 1):
        raise ValueError(f"{where} expects float images with pixels in [0, 1] (or raw uint8 0..255); "
                         f"{_describe(images, pixels)}. {_range_fix(images, pixels)}")
