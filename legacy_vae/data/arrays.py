"""Load the four raw MNIST arrays from a folder and check they fit together.

Any MNIST-format folder works (Fashion-MNIST too): sizes are read from the
files, not hard-coded, but images must be 28x28, labels 0..9, and each split's
image and label counts must agree.
"""
from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np

from legacy_vae.data.errors import DataError, full_path
from legacy_vae.data.idx import IMAGES_MAGIC, LABELS_MAGIC, read_idx
from legacy_vae.data.locate import IDX_NAMES, NPZ_NAME, inspect_folder, resolve_data_dir

IMAGE_SHAPE = (28, 28)
NUM_CLASSES = 10
NPZ_KEYS = {"train_images": "x_train", "train_labels": "y_train",
            "test_images": "x_test", "test_labels": "y_test"}


def missing_files_message(folder: Path, missing) -> str:
    return (
        f"MNIST files not found in {full_path(folder)}: missing "
        f"{', '.join(missing)} (each as .gz or uncompressed). Put the four files "
        f"{', '.join(n + '.gz' for n in IDX_NAMES.values())} (or a Keras "
        f"{NPZ_NAME}) in that folder, set LEGACY_VAE_DATA to a folder that has "
        "them, or allow downloading (download=True in Python; without --no-download on the command line).")


def _check_split(images: np.ndarray, labels: np.ndarray, images_path, labels_path) -> None:
    if images.ndim != 3 or images.shape[1:] != IMAGE_SHAPE:
        found = "x".join(map(str, images.shape[1:])) if images.ndim == 3 else f"shape {images.shape}"
        raise DataError(
            f"{full_path(images_path)} holds {found} images, but MNIST-format "
            "images are 28x28. This loader reads MNIST and Fashion-MNIST only; "
            "use the 28x28 files.")
    if labels.ndim != 1:
        raise DataError(f"{full_path(labels_path)} holds labels of shape {labels.shape}; "
                        "expected one label per image. Replace it with a good copy.")
    if len(images) != len(labels):
        raise DataError(
            f"{full_path(images_path)} has {len(images)} images but "
            f"{full_path(labels_path)} has {len(labels)} labels; they must agree. "
            "The two files come from different datasets or one is damaged: copy "
            "a matching pair again.")
    if labels.size and labels.max() >= NUM_CLASSES:
        raise DataError(f"{full_path(labels_path)} has label {int(labels.max())}; "
                        f"MNIST labels are 0..{NUM_CLASSES - 1}. Replace it with a good copy.")


def _load_npz(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as npz:
            absent = [key for key in NPZ_KEYS.values() if key not in npz.files]
            if absent:
                raise DataError(f"{full_path(path)} lacks the Keras MNIST arrays "
                                f"{', '.join(absent)}. Replace it with Keras's mnist.npz.")
            arrays = {part: npz[key] for part, key in NPZ_KEYS.items()}
    except DataError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise DataError(f"{full_path(path)} is truncated or corrupt and cannot be read "
                        f"({type(exc).__name__}: {exc}). Delete it and copy it again.") from exc
    for part, array in arrays.items():
        if array.dtype != np.uint8:
            raise DataError(f"{full_path(path)} stores {NPZ_KEYS[part]} as {array.dtype}; "
                            "expected uint8 as in Keras's mnist.npz. Replace the file.")
    return arrays


def load_mnist_arrays(data_dir: str | os.PathLike | None = None) -> dict:
    """Return ``train_images``, ``train_labels``, ``test_images``, ``test_labels``.

    Images are uint8 ``(N, 28, 28)``, labels uint8 ``(N,)``, exactly as
    stored.  Reads the four IDX files if all are present, else ``mnist.npz``;
    never downloads (see :func:`legacy_vae.data.read_data_sets`).
    """
    folder = resolve_data_dir(data_dir)
    layout = inspect_folder(folder)
    if layout.kind is None:
        raise DataError(missing_files_message(folder, layout.missing))
    if layout.kind == "npz":
        arrays = _load_npz(layout.files["npz"])
        paths = dict.fromkeys(NPZ_KEYS, layout.files["npz"])
    else:
        paths = layout.files
        arrays = {part: read_idx(path, IMAGES_MAGIC if part.endswith("images") else LABELS_MAGIC)
                  for part, path in paths.items()}
    for split in ("train", "test"):
        _check_split(arrays[f"{split}_images"], arrays[f"{split}_labels"],
                     paths[f"{split}_images"], paths[f"{split}_labels"])
    return arrays


def source_files(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """The files :func:`load_mnist_arrays` would read from the folder."""
    layout = inspect_folder(resolve_data_dir(data_dir))
    return sorted(set(layout.files.values())) if layout.kind else []
