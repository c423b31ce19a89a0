"""A TF1 checkpoint into a Keras 3 model, and the model's weights into a ``.weights.h5`` file.

    convert(checkpoint, model, "model.weights.h5")   # read, match, assign, write

The file is Keras 3's own format (``model.save_weights``), so
``model.load_weights(path)`` reads it in any process that builds the same
model, with or without this package. It is written under a temporary name
in the same folder and renamed into place: a failure leaves no file, or the
old one untouched, never a half-written one.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from legacy_vae.migrate import checkpoint as checkpoints
from legacy_vae.migrate.errors import MigrationError
from legacy_vae.migrate.mapping import match

SUFFIX = ".weights.h5"


@dataclass
class Conversion:
    """What was done: the pairs (Keras weight <- TF1 variable), the names skipped, the file written."""

    prefix: str
    pairs: list
    skipped: list = field(default_factory=list)
    path: str | None = None

    def table(self) -> str:
        """One line per weight: Keras path, TF1 name, shape."""
        width = max(len(p.keras_path) for p in self.pairs)
        lines = [f"{p.keras_path:<{width}}  <-  {p.tf1_name}  {list(p.variable.shape)}" for p in self.pairs]
        if self.skipped:
            from legacy_vae.migrate.checkpoint import is_slot

            slots = [name for name in self.skipped if is_slot(name)]
            rest = [name for name in self.skipped if not is_slot(name)]
            lines.append(f"skipped {len(self.skipped)} variables of the training, not the model: "
                         + ", ".join(([f"{len(slots)} optimizer slots"] if slots else []) + rest))
        return "\n".join(lines)


def assign(model, source: dict, name_map=None, auto: bool = True, allow_unused: bool = False) -> list:
    """Give ``model``'s weights the values of ``source`` {TF1 name: array}; the pairs used.

    Nothing is assigned unless every weight found its variable.
    """
    pairs = match(model, source, name_map, auto=auto, allow_unused=allow_unused)
    for pair in pairs:
        value = np.asarray(source[pair.tf1_name])
        pair.variable.assign(value.astype(pair.variable.dtype))
    return pairs


def load_checkpoint(model, path, name_map=None, auto: bool = True, allow_unused: bool = False) -> Conversion:
    """Read the TF1 checkpoint at ``path`` (a prefix or its folder) into ``model``."""
    ckpt = checkpoints.read(path)
    pairs = assign(model, ckpt.weights, name_map, auto=auto, allow_unused=allow_unused)
    return Conversion(ckpt.prefix, pairs, ckpt.skipped)


def check_target(path) -> Path:
    """``path`` if a ``.weights.h5`` file may be written there; a MigrationError naming the fix otherwise."""
    path = Path(path)
    if not path.name.endswith(SUFFIX):
        raise MigrationError([f"--to {path}: Keras 3 writes weights only to a file ending in {SUFFIX} "
                              f"(e.g. {path.with_suffix('').name}{SUFFIX})"])
    if path.is_dir():
        raise MigrationError([f"--to {path} is a folder; name the file to write, ending in {SUFFIX}"])
    return path


def save_weights(model, path) -> Path:
    """``model.save_weights`` to ``path`` under a temporary name, then renamed into place."""
    from legacy_vae.io import atomic_path

    path = check_target(path)
    with atomic_path(path) as tmp:
        keras_tmp = tmp.with_name(tmp.name + SUFFIX)  # Keras writes only to names ending in .weights.h5
        try:
            model.save_weights(keras_tmp)
            os.replace(keras_tmp, tmp)
        finally:
            if keras_tmp.exists():
                keras_tmp.unlink()
    return path


def convert(path, model, to, name_map=None, auto: bool = True, allow_unused: bool = False) -> Conversion:
    """Checkpoint ``path`` -> ``model``'s weights -> the file ``to``; nothing is written on any problem."""
    check_target(to)
    done = load_checkpoint(model, path, name_map, auto=auto, allow_unused=allow_unused)
    done.path = str(save_weights(model, to))
    return done
