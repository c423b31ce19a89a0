"""Atomic file writes: a file appears whole under its final name or not at all.

A write that fails in the operating system (a full disk, a file-size limit,
no permission) raises :class:`legacy_vae.failures.WriteError`, an OSError
whose one-line message names the file that could not be written.
"""
from __future__ import annotations

import functools
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from legacy_vae.failures import write_error


@contextmanager
def atomic_path(path: str | Path):
    """Yield a temporary path beside ``path``; rename it into place on success.

    The temporary file lives in the same folder so that ``os.replace`` is a
    rename on one file system, never a copy that could be interrupted.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
        os.close(fd)
        # mkstemp makes the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
    except OSError as error:
        raise write_error(path, error) from error
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException as error:
        if os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(error, OSError):
            raise write_error(path, error) from error
        raise


@functools.lru_cache(maxsize=None)
def _umask() -> int:
    # Reading the umask means setting it; do it once, not from every writer thread.
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))
