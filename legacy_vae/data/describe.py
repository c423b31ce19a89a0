"""A short human report on the MNIST folder, for ``legacy-vae data``.

Official checksums are shown for information only: a local copy whose bytes
differ (another gzip stream, another image order) is still valid when its IDX
headers and sizes are.
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from legacy_vae.data.arrays import load_mnist_arrays, source_files
from legacy_vae.data.download import KERAS_NPZ, OFFICIAL_FILES, ensure_mnist
from legacy_vae.data.errors import full_path
from legacy_vae.data.locate import (NPZ_NAME, SOURCE_ARGUMENT, SOURCE_CACHE, SOURCE_ENV,
                                    SOURCE_REPO, inspect_folder, locate_data_dir)

_SOURCES = {
    SOURCE_ARGUMENT: "the data_dir argument",
    SOURCE_ENV: "the LEGACY_VAE_DATA environment variable",
    SOURCE_REPO: "the repository's data/ folder",
    SOURCE_CACHE: "the user cache folder",
}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _verdict(path: Path, sha: str) -> str:
    official = KERAS_NPZ if path.name == NPZ_NAME else OFFICIAL_FILES.get(path.name)
    if official is None:
        return "no official checksum for this form (uncompressed)"
    if sha == official.sha256:
        return "matches the official file"
    return "differs from the official file (accepted: checked by its headers and sizes)"


def describe(data_dir: str | os.PathLike | None = None, download: bool = True) -> str:
    """Locate (downloading if allowed), load and validate MNIST; return a report."""
    folder, source = locate_data_dir(data_dir)
    before = inspect_folder(folder).kind
    ensure_mnist(folder, download=download)
    arrays = load_mnist_arrays(folder)
    layout = inspect_folder(folder).kind

    lines = [f"MNIST folder: {full_path(folder)}",
             f"  chosen by {_SOURCES[source]}"
             + ("" if before else "; missing files were downloaded now"),
             f"  layout: {'four IDX files' if layout == 'idx' else 'Keras ' + NPZ_NAME}",
             "files:"]
    for path in source_files(folder):
        sha = _sha256(path)
        lines.append(f"  {path.name}: {path.stat().st_size:,} bytes, sha256 {sha}")
        lines.append(f"    {_verdict(path, sha)}")

    n_train, n_test = len(arrays["train_images"]), len(arrays["test_images"])
    lines.append(f"train: {n_train} examples"
                 + (f" (read_data_sets: {n_train - 5000} train + 5000 validation)"
                    if n_train >= 5000 else ""))
    lines.append(f"test: {n_test} examples")
    images = (arrays["train_images"], arrays["test_images"])
    labels = np.concatenate((arrays["train_labels"], arrays["test_labels"]))
    rows, cols = images[0].shape[1:]
    lines.append(f"image shape: {rows}x{cols}, uint8")
    lines.append(f"pixel range: {min(int(i.min()) for i in images)}.."
                 f"{max(int(i.max()) for i in images)} (read_data_sets scales to [0, 1])")
    lines.append(f"label range: {int(labels.min())}..{int(labels.max())} "
                 f"({len(np.unique(labels))} classes)")
    return "\n".join(lines)
