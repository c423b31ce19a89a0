"""The checkpoints of a run folder: found by file name, checked before use.

A run folder's ``checkpoints/`` holds TensorFlow checkpoints,
``<name>-<step>.index`` with ``<name>-<step>.data-<i>-of-<n>`` (``model.ckpt``
for the graph models, ``ckpt`` for the CVAE), and TensorFlow's ``checkpoint``
state file. Training writes that state file with paths relative to the
folder, but folders written before it did hold absolute paths, which point
at wherever the run was first written. So the state file is never trusted:
:func:`listing` finds the checkpoints by their file names, and
:func:`newest_intact` reads the newest one whole (every tensor, which checks
every size and checksum) before it is used, falling back to older ones.
Nothing here writes except :func:`write_state` and :func:`remove_leftovers`,
which resume calls while it holds the run folder's lock.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from legacy_vae.failures import RunFolderError
from legacy_vae.io import atomic_write_text

STATE_FILE = "checkpoint"
_INDEX = re.compile(r"^([\w.\-]+)-(\d+)\.index$")
_STATE_LINE = re.compile(r'^\s*(model_checkpoint_path|all_model_checkpoint_paths)\s*:\s*"(.*)"\s*$')


def listing(folder) -> list[tuple[int, str]]:
    """``(step, prefix)`` of every checkpoint in ``folder`` that has an index file, oldest first."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _INDEX.match(path.name)
        if match:
            found.append((int(match.group(2)), str(folder / f"{match.group(1)}-{match.group(2)}")))
    return sorted(found)


def problem(prefix: str) -> str | None:
    """What is wrong with the checkpoint ``prefix`` (one phrase naming the file), or None if it reads whole."""
    import tensorflow as tf

    index = prefix + ".index"
    if not os.path.isfile(index):
        return f"{index} is missing"
    data = sorted(Path(prefix).parent.glob(Path(prefix).name + ".data-*-of-*"))
    shards = {int(m.group(1)) for m in (re.search(r"-of-(\d+)$", p.name) for p in data) if m}
    expected = [f"{prefix}.data-{i:05d}-of-{n:05d}" for n in shards for i in range(n)]
    missing = [name for name in expected if not os.path.isfile(name)] if data else [f"{prefix}.data-00000-of-00001"]
    if missing:
        return f"{missing[0]} is missing"
    try:
        reader = tf.train.load_checkpoint(prefix)
        names = list(reader.get_variable_to_shape_map())
    except (tf.errors.OpError, OSError, ValueError) as error:
        return f"{index} cannot be read ({_short(error)})"
    what = data[0] if len(data) == 1 else f"{prefix}.data-*"
    try:
        for name in names:
            reader.get_tensor(name)
    except (IndexError, tf.errors.OutOfRangeError):
        # The reader raises IndexError for "Read less bytes than requested".
        return f"{what} is truncated"
    except (tf.errors.OpError, OSError, ValueError) as error:
        if "Checksum does not match" in str(error):
            return f"{what} is corrupt (a checksum does not match)"
        return f"{what} cannot be read ({_short(error)})"
    return None


def _short(error) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0][:200] if lines else type(error).__name__


@dataclass
class Choice:
    """The checkpoint to use (``prefix`` None: there is none) and the newer ones skipped, with why."""

    prefix: str | None
    step: int
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def notices(self, what: str) -> list[str]:
        """One line per skipped checkpoint; ``what`` says what happens instead ("resuming from")."""
        target = f"{what} {Path(self.prefix).name} (step {self.step})" if self.prefix else ""
        return [f"checkpoint {Path(prefix).name} is unusable: {reason}" + (f"; {target}" if target else "")
                for prefix, reason in self.skipped]


def newest_intact(folder, check=None) -> Choice:
    """The newest checkpoint of ``folder`` that reads whole, and the newer broken ones.

    ``check(step)`` may find more wrong with a checkpoint that reads whole
    (a phrase naming the file, or None; the graph loop's ``state-<step>.json``). Raises RunFolderError if the
    folder has checkpoints but none is usable; with no checkpoint at all
    the choice has ``prefix`` None and step 0.
    """
    found = listing(folder)
    skipped = []
    for step, prefix in reversed(found):
        reason = problem(prefix)
        if reason is None and check is not None:
            reason = check(step)
        if reason is None:
            return Choice(prefix, step, skipped)
        skipped.append((prefix, reason))
    if skipped:
        newest, reason = skipped[0]
        older = f"and so are the {len(skipped) - 1} older ones" if len(skipped) > 1 else "and there is no older one"
        raise RunFolderError(f"no usable checkpoint in {folder}: the newest, {Path(newest).name}, is unusable "
                             f"({reason}), {older}; start a new run with --out, or move {folder} aside "
                             f"to train this run again from step 0")
    return Choice(None, 0, [])


def stale_state(folder) -> str | None:
    """A notice if ``folder``'s state file names checkpoints by absolute path (an older legacy-vae), else None."""
    path = Path(folder) / STATE_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    named = [m.group(2) for m in map(_STATE_LINE.match, lines) if m]
    absolute = [p for p in named if os.path.isabs(p)]
    if not absolute:
        return None
    where = os.path.dirname(absolute[0])
    here = os.path.realpath(folder)
    moved = os.path.realpath(where) != here if os.path.exists(where) else True
    return (f"{path} names checkpoints by absolute path"
            + (f" in {where} (the run folder was moved or copied)" if moved else "")
            + "; using the checkpoints in this folder by file name")


def write_state(folder, chosen: str | None, kept) -> None:
    """Rewrite ``folder``'s state file: ``chosen`` is the latest, ``kept`` (prefixes, oldest first) all; relative."""
    folder = Path(folder)
    if chosen is None:
        (folder / STATE_FILE).unlink(missing_ok=True)
        return
    lines = [f'model_checkpoint_path: "{Path(chosen).name}"']
    lines += [f'all_model_checkpoint_paths: "{Path(p).name}"' for p in kept]
    atomic_write_text(folder / STATE_FILE, "\n".join(lines) + "\n")


def remove_leftovers(folder) -> list[str]:
    """Delete what interrupted checkpoint writes leave (``*.tempstate*`` files, ``*_temp`` folders); their names."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    for path in sorted(folder.iterdir()):
        if ".tempstate" in path.name and path.is_file():
            path.unlink(missing_ok=True)
        elif path.name.endswith("_temp") and path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            continue
        removed.append(path.name)
    return removed


def relative(path, root) -> str:
    """``path`` relative to the folder ``root`` (``path`` may be relative to the working directory)."""
    return os.path.relpath(os.path.abspath(path), os.path.abspath(root))
