"""Read and write IDX files, the format MNIST and Fashion-MNIST ship in.

An IDX file is a 4-byte magic number (two zero bytes, a dtype code, the number
of dimensions), one big-endian uint32 per dimension, then the raw row-major
payload.  Files may be gzip-compressed; compression is recognised by the gzip
magic bytes, never by the file name, because people rename files.
"""
from __future__ import annotations

import contextlib
import gzip
import io
import struct
import zlib
from pathlib import Path

import numpy as np

from legacy_vae.data.errors import DataError, full_path
from legacy_vae.io import atomic_path

GZIP_MAGIC = b"\x1f\x8b"
UINT8_CODE = 0x08
IMAGES_MAGIC = 0x00000803  # uint8, 3 dimensions (count, rows, cols)
LABELS_MAGIC = 0x00000801  # uint8, 1 dimension (count)

_READ_ERRORS = (EOFError, OSError, zlib.error)


def is_gzip(path: str | Path) -> bool:
    with open(path, "rb") as f:
        return f.read(2) == GZIP_MAGIC


@contextlib.contextmanager
def _gunzipped(path):
    # The whole file inflated in one call, during which zlib lets other threads run (the
    # command reads MNIST in a thread while it imports TensorFlow); gzip.open's stream of
    # small reads would take the GIL back a thousand times. A transient copy of 47 MB.
    with open(path, "rb") as raw:
        yield io.BytesIO(gzip.decompress(raw.read()))


def _fix_hint(path: str | Path) -> str:
    return (f"Delete {full_path(path)} and download it again (or copy it again "
            "from a good source).")


def _read_exact(f, n: int, path, what: str) -> bytes:
    data = f.read(n)
    if len(data) != n:
        raise DataError(
            f"{full_path(path)} is truncated: it ends inside the IDX {what} "
            f"({len(data)} of {n} bytes). {_fix_hint(path)}")
    return data


def _read_payload(f, out: np.ndarray, path) -> None:
    # readinto straight into the result avoids holding the file twice in
    # memory (47 MB for the MNIST training images).
    view = memoryview(out).cast("B")
    filled = 0
    while filled < len(view):
        n = f.readinto(view[filled:])
        if not n:
            raise DataError(
                f"{full_path(path)} is truncated: its IDX header promises "
                f"{len(view)} bytes of data but the file holds only {filled}. "
                f"{_fix_hint(path)}")
        filled += n
    if f.read(1):
        raise DataError(
            f"{full_path(path)} has more data than its IDX header describes "
            f"({len(view)} bytes expected); it is not a valid IDX file. "
            f"{_fix_hint(path)}")


def read_idx(path: str | Path, expected_magic: int | None = None) -> np.ndarray:
    """Return the uint8 array stored in the IDX file ``path`` (gzip or raw).

    ``expected_magic`` (e.g. :data:`IMAGES_MAGIC`) makes a file of the wrong
    kind an error.  Raises :class:`DataError` for anything that is not a
    complete, well-formed uint8 IDX file.
    """
    path = Path(path)
    try:
        with _gunzipped(path) if is_gzip(path) else open(path, "rb") as f:
            head = _read_exact(f, 4, path, "magic number")
            magic = struct.unpack(">I", head)[0]
            if expected_magic is not None and magic != expected_magic:
                raise DataError(
                    f"{full_path(path)} is not the expected IDX file: magic "
                    f"number 0x{magic:08X}, expected 0x{expected_magic:08X} "
                    f"(uint8, {expected_magic & 0xFF} dimensions). Check that "
                    "the file is the one its name says (images vs labels) and "
                    "not damaged; replace it with a good copy.")
            if head[:2] != b"\0\0" or head[2] != UINT8_CODE or head[3] == 0:
                raise DataError(
                    f"{full_path(path)} is not a uint8 IDX file (magic number "
                    f"0x{magic:08X}; expected 0x000008NN). Replace it with a "
                    "good copy of the MNIST-format file.")
            ndim = head[3]
            dims = struct.unpack(f">{ndim}I", _read_exact(f, 4 * ndim, path, "dimensions"))
            out = np.empty(dims, dtype=np.uint8)
            _read_payload(f, out, path)
            return out
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{full_path(path)} does not exist. Put the file there "
                        "or point LEGACY_VAE_DATA at a folder that has it.") from None
    except (PermissionError, IsADirectoryError) as exc:
        raise DataError(f"{full_path(path)} cannot be read ({exc.strerror}). Fix its "
                        "permissions or point LEGACY_VAE_DATA elsewhere.") from exc
    except _READ_ERRORS as exc:
        # gzip reports damage as EOFError (cut short), BadGzipFile/OSError
        # (bad header or CRC) or zlib.error (corrupt stream).
        raise DataError(
            f"{full_path(path)} is truncated or corrupt and cannot be read "
            f"({type(exc).__name__}: {exc}). {_fix_hint(path)}") from exc


def write_idx(path: str | Path, array: np.ndarray, compress: bool = True) -> Path:
    """Write a uint8 ``array`` as an IDX file, gzip-compressed by default.

    Used by the tests and handy for building small MNIST-format folders.  The
    file appears atomically.
    """
    array = np.ascontiguousarray(array)
    if array.dtype != np.uint8 or not 1 <= array.ndim <= 255:
        raise ValueError("write_idx writes uint8 arrays with 1 to 255 dimensions")
    header = bytes([0, 0, UINT8_CODE, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    with atomic_path(path) as tmp, open(tmp, "wb") as raw:
        # No stored name and mtime=0 keep the gzip bytes (and so their
        # checksum) reproducible.
        f = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) if compress else raw
        f.write(header)
        f.write(array.tobytes())
        if compress:
            f.close()
    return Path(path)
