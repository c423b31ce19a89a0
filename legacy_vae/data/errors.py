"""The one exception type of :mod:`legacy_vae.data`.

Every failure a user can fix (missing files, a broken download, a damaged or
foreign file) is a :class:`DataError` whose message names the file by its full
path and says what to do, so callers can catch one type and show the message.
"""
from __future__ import annotations

import os
from pathlib import Path


class DataError(Exception):
    """MNIST files are missing, could not be downloaded, or are not valid."""


def full_path(path: str | Path) -> str:
    # Absolute but not symlink-resolved: the user should recognise the path
    # they gave, not an internal link target.
    return os.path.abspath(os.fspath(path))
