"""One command at a time in a run folder: an advisory lock held while training.

``legacy-vae train`` (a new run or ``--resume``) takes an exclusive
``flock`` on the run folder and on each model folder in it, without
waiting, and keeps it until it ends. A second command that would write the
same folder then stops at once with one line, before it has written
anything. The lock is on the folders themselves, so it leaves no file
behind, and the kernel drops it when the process ends in any way (also on
SIGKILL), so a killed run never blocks the next one. ``legacy-vae evaluate``
takes no lock: it only reads checkpoints and writes its own evaluation.json.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import sys
from pathlib import Path

from legacy_vae.failures import RunFolderError


@contextlib.contextmanager
def hold(folders):
    """Hold the lock on every folder of ``folders`` (existing folders) for the ``with`` block.

    Raises RunFolderError if another process holds one of them.
    """
    opened = []
    try:
        for folder in sorted({os.path.realpath(f) for f in folders}):
            fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            opened.append(fd)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise RunFolderError(
                        f"{_shown(folder, folders)} is in use by another legacy-vae command (a training still "
                        f"running?); wait for it to end, or stop it (Ctrl-C or SIGTERM: both save a checkpoint), "
                        f"then run this again") from None
                # E.g. a network file system without flock: go on, but say that nothing guards the folder.
                sys.stderr.write(f"legacy-vae: cannot lock {folder} ({error.strerror}); make sure no other "
                                 f"command uses it at the same time\n")
        yield
    finally:
        for fd in opened:
            os.close(fd)  # closing the descriptor releases its lock


def _shown(real: str, folders) -> str:
    # Name the folder as the user gave it, not its resolved path.
    for folder in folders:
        if os.path.realpath(folder) == real:
            return str(Path(folder))
    return real
