"""Write small fake MNIST-format folders, for tests and offline smoke runs.

The files have the real names, headers and layout, so every loader and the
downloader (given the returned sizes and checksums) treat them like MNIST.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from legacy_vae.data.download import FileSpec
from legacy_vae.data.idx import write_idx
from legacy_vae.data.locate import IDX_NAMES


def fake_mnist_arrays(n_train: int = 20, n_test: int = 10, seed: int = 0,
                      image_shape=(28, 28)) -> dict:
    """Random uint8 images and 0..9 labels under ``load_mnist_arrays``'s keys."""
    rng = np.random.default_rng(seed)
    return {
        "train_images": rng.integers(0, 256, (n_train, *image_shape), dtype=np.uint8),
        "train_labels": rng.integers(0, 10, n_train, dtype=np.uint8),
        "test_images": rng.integers(0, 256, (n_test, *image_shape), dtype=np.uint8),
        "test_labels": rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_fake_mnist(folder: str | os.PathLike, n_train: int = 20, n_test: int = 10,
                     seed: int = 0, compress: bool = True, arrays: dict | None = None
                     ) -> dict[str, FileSpec]:
    """Write the four IDX files into ``folder``; return ``{file name: FileSpec}``.

    The result has the shape of :data:`OFFICIAL_FILES`, so it can be passed as
    ``files=`` to the downloader when the folder is served over HTTP.
    """
    arrays = arrays if arrays is not None else fake_mnist_arrays(n_train, n_test, seed)
    specs = {}
    for part, base in IDX_NAMES.items():
        path = write_idx(Path(folder) / (base + (".gz" if compress else "")), arrays[part], compress)
        data = path.read_bytes()
        specs[path.name] = FileSpec(len(data), hashlib.sha256(data).hexdigest())
    return specs
