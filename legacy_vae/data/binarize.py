"""Turn grey MNIST images into the 0/1 images Bernoulli-decoder VAEs model.

Static binarization (a fixed threshold) is what the Slim notebook and the TF2
tutorial use; dynamic binarization draws a fresh Bernoulli sample per call,
treating each pixel intensity as a probability.
"""
from __future__ import annotations

import numpy as np


def _unit(images) -> np.ndarray:
    images = np.asarray(images)
    # uint8 images (dtype=np.uint8 in read_data_sets) hold 0..255.
    return images / np.float32(255) if images.dtype == np.uint8 else images


def binarize_static(images, threshold: float = 0.5) -> np.ndarray:
    """float32 images with 1 where the intensity is above ``threshold``, else 0."""
    return (_unit(images) > threshold).astype(np.float32)


def binarize_dynamic(images, rng: np.random.Generator) -> np.ndarray:
    """float32 Bernoulli sample with P(pixel = 1) = intensity, fresh on each call."""
    if not isinstance(rng, np.random.Generator):
        raise TypeError("rng must be a numpy.random.Generator (e.g. np.random.default_rng(seed))")
    images = _unit(images)
    return (rng.random(images.shape, dtype=np.float32) < images).astype(np.float32)
