"""Find the MNIST folder and the files in it.

The folder is, in order: the ``data_dir`` argument, the ``LEGACY_VAE_DATA``
environment variable, the repository's ``data/`` folder when running from a
source checkout, or a per-user cache folder.  Inside it, either the four IDX
files (gzip or raw) or a Keras-layout ``mnist.npz`` make a complete set.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

ENV_VAR = "LEGACY_VAE_DATA"

# The four parts of an MNIST-format folder under their distribution names
# (Fashion-MNIST reuses them); the ".gz" form or the raw form may be present.
IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
NPZ_NAME = "mnist.npz"

SOURCE_ARGUMENT = "argument"
SOURCE_ENV = ENV_VAR
SOURCE_REPO = "repo data/"
SOURCE_CACHE = "cache"


def _repo_data_dir() -> Path | None:
    import legacy_vae

    root = Path(legacy_vae.__file__).resolve().parents[1]
    # setup.py beside the package means a source checkout, not site-packages,
    # where a data/ folder would belong to someone else.
    if (root / "setup.py").is_file() and (root / "data").is_dir():
        return root / "data"
    return None


def _cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "legacy-vae" / "mnist"


def locate_data_dir(data_dir: str | os.PathLike | None = None) -> tuple[Path, str]:
    """Return ``(folder, source)``; ``source`` says which rule chose it."""
    if data_dir is not None and os.fspath(data_dir) != "":
        return Path(data_dir).expanduser(), SOURCE_ARGUMENT
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser(), SOURCE_ENV
    repo = _repo_data_dir()
    if repo is not None:
        return repo, SOURCE_REPO
    return _cache_dir(), SOURCE_CACHE


def resolve_data_dir(data_dir: str | os.PathLike | None = None) -> Path:
    """Return the MNIST folder to use (see the module docstring for the order)."""
    return locate_data_dir(data_dir)[0]


class Layout(NamedTuple):
    """What a folder holds: ``kind`` is "idx", "npz" or None (incomplete)."""

    kind: str | None
    files: dict  # part name -> Path ("npz" -> Path for the npz layout)
    missing: list  # IDX base names with neither a .gz nor a raw file


def find_idx_file(folder: Path, base: str) -> Path | None:
    # Prefer the .gz: it is what downloads produce and what the official
    # checksums describe.
    for name in (base + ".gz", base):
        if (folder / name).is_file():
            return folder / name
    return None


def inspect_folder(folder: str | os.PathLike) -> Layout:
    """Say whether ``folder`` holds a complete IDX set, an npz, or neither."""
    folder = Path(folder)
    found = {part: find_idx_file(folder, base) for part, base in IDX_NAMES.items()}
    missing = [IDX_NAMES[part] for part, path in found.items() if path is None]
    if not missing:
        return Layout("idx", found, [])
    if (folder / NPZ_NAME).is_file():
        return Layout("npz", {"npz": folder / NPZ_NAME}, [])
    return Layout(None, {k: v for k, v in found.items() if v is not None}, missing)
