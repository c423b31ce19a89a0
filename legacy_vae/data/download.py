"""Download the official MNIST files, verified, into a folder.

Each file is fetched from the first mirror that serves it whole: the bytes
stream into a temporary file beside the target, are counted against
Content-Length and the published size, hashed against the published SHA-256,
and only then renamed into place.  A short read, a dropped connection or a
wrong checksum leaves nothing behind.  Files the user supplies are never
checked against these sums (see :mod:`legacy_vae.data.arrays`).
"""
from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.request
from pathlib import Path
from typing import Mapping, NamedTuple, Sequence

from tqdm import tqdm

from legacy_vae.data.errors import DataError, full_path
from legacy_vae.data.locate import ENV_VAR, inspect_folder, find_idx_file
from legacy_vae.io import atomic_path

MIRRORS = (
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
)


class FileSpec(NamedTuple):
    size: int | None  # bytes; None if unknown
    sha256: str


OFFICIAL_FILES = {
    "train-images-idx3-ubyte.gz": FileSpec(
        9912422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"),
    "train-labels-idx1-ubyte.gz": FileSpec(
        28881, "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"),
    "t10k-images-idx3-ubyte.gz": FileSpec(
        1648877, "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"),
    "t10k-labels-idx1-ubyte.gz": FileSpec(
        4542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"),
}
# Keras's mnist.npz, for describe()'s informational comparison only.
KERAS_NPZ = FileSpec(11490434, "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1")

DEFAULT_TIMEOUT = 30.0
_CHUNK = 1 << 16
_NET_ERRORS = (OSError, http.client.HTTPException, ValueError)  # URLError is an OSError


class _Failed(Exception):
    """One mirror failed for one file; the reason goes into the final message."""


def _fetch(url: str, dest: Path, spec: FileSpec, timeout: float, progress: bool) -> None:
    # Network failures become _Failed (try the next mirror); an OSError while
    # writing the file is a local problem and propagates as such.
    with atomic_path(dest) as tmp:
        try:
            response = urllib.request.urlopen(url, timeout=timeout)
        except _NET_ERRORS as exc:
            raise _Failed(f"{type(exc).__name__}: {exc}") from exc
        with response:
            length = response.headers.get("Content-Length")
            length = int(length) if length and length.isdigit() else None
            if length is not None and spec.size is not None and length != spec.size:
                raise _Failed(f"server announces {length} bytes, expected {spec.size}")
            digest = hashlib.sha256()
            received = 0
            with open(tmp, "wb") as out, tqdm(
                    total=length or spec.size, unit="B", unit_scale=True, unit_divisor=1024,
                    desc=dest.name, file=sys.stderr, disable=not progress) as bar:
                while True:
                    try:
                        chunk = response.read(_CHUNK)
                    except _NET_ERRORS as exc:
                        raise _Failed(f"{type(exc).__name__} after {received} bytes: {exc}") from exc
                    if not chunk:
                        break
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
        # http.client returns a short body without complaint when the
        # connection drops, so the byte count is the only proof of a whole file.
        expected = length if length is not None else spec.size
        if expected is not None and received != expected:
            raise _Failed(f"connection ended after {received} of {expected} bytes")
        if digest.hexdigest() != spec.sha256.lower():
            raise _Failed(f"SHA-256 mismatch: got {digest.hexdigest()}, expected {spec.sha256}")


def download_file(name: str, folder: str | os.PathLike, spec: FileSpec,
                  mirrors: Sequence[str] = MIRRORS, timeout: float = DEFAULT_TIMEOUT,
                  progress: bool = True, set_names: Sequence[str] | None = None) -> Path:
    """Fetch ``name`` into ``folder`` from the first mirror that serves it intact.

    ``set_names`` (default: the official MNIST names) are the files the error
    message tells the user to copy in by hand.
    """
    dest = Path(folder) / name
    tried = []
    for mirror in mirrors:
        url = mirror if mirror.endswith("/") else mirror + "/"
        url += name
        try:
            _fetch(url, dest, spec, timeout, progress)
            return dest
        except _Failed as exc:
            tried.append(f"  {url}: {exc}")
        except OSError as exc:  # the folder itself is not writable
            raise DataError(f"cannot write {full_path(dest)} ({exc}). Choose a writable "
                            f"folder with data_dir= or {ENV_VAR}.") from exc
    raise DataError(
        f"could not download {name} to {full_path(dest)}; tried:\n" + "\n".join(tried) +
        f"\nNo file was written. Without network access, copy the files "
        f"{', '.join(set_names or OFFICIAL_FILES)} into {full_path(folder)}, or set {ENV_VAR} "
        "to a folder that has them.")


def download_mnist(data_dir: str | os.PathLike, mirrors: Sequence[str] = MIRRORS,
                   files: Mapping[str, FileSpec] | None = None,
                   timeout: float = DEFAULT_TIMEOUT, progress: bool = True) -> list[Path]:
    """Download every file of ``files`` (default: official MNIST) not yet in ``data_dir``.

    A file counts as present in its .gz or uncompressed form.  Returns the
    paths downloaded (possibly none).
    """
    files = OFFICIAL_FILES if files is None else files
    folder = Path(data_dir)
    fetched = []
    for name, spec in files.items():
        base = name[:-3] if name.endswith(".gz") else name
        if find_idx_file(folder, base) is None:
            fetched.append(download_file(name, folder, FileSpec(*spec), mirrors, timeout,
                                         progress, set_names=list(files)))
    return fetched


def ensure_mnist(data_dir: str | os.PathLike, download: bool = True, **kwargs) -> Path:
    """Make sure ``data_dir`` holds a complete set, downloading what is missing.

    Extra keyword arguments go to :func:`download_mnist`.
    """
    from legacy_vae.data.arrays import missing_files_message

    folder = Path(data_dir)
    layout = inspect_folder(folder)
    if layout.kind is None:
        if not download:
            raise DataError(missing_files_message(folder, layout.missing))
        download_mnist(folder, **kwargs)
    return folder
