"""Reading a TF1 checkpoint without its graph: names, shapes and values.

``tf.train.load_checkpoint`` reads a name-based checkpoint (what
``tf.compat.v1.train.Saver`` writes: ``PREFIX.index`` and
``PREFIX.data-*-of-*``) straight from disk; no graph, no session, no
tf-keras. A checkpoint holds more than the model: the optimizer's slots
(Adam's ``.../Adam`` and ``.../Adam_1`` beside every weight, its
``beta1_power`` and ``beta2_power``; Momentum's, RMSProp's, Adagrad's...)
and the ``global_step`` counter. A Keras model has no use for those, so they
are set aside here and listed, never matched.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from legacy_vae.migrate.errors import MigrationError

# The last part of a variable's name that marks an optimizer slot, or a whole name that is bookkeeping.
_SLOT = re.compile(r"/(Adam|Adam_1|Momentum|RMSProp|RMSProp_1|Adagrad|Adadelta|Adadelta_1|Ftrl|Ftrl_1|"
                   r"ExponentialMovingAverage)$")
_BOOKKEEPING = re.compile(r"(^|/)(global_step|beta1_power|beta2_power|_CHECKPOINTABLE_OBJECT_GRAPH)$")


def is_slot(name: str) -> bool:
    """True for an optimizer's slot variable (``.../Adam``, ``.../Adam_1``, ``.../Momentum``, ...)."""
    return bool(_SLOT.search(name))


def is_skipped(name: str) -> bool:
    """True for an optimizer slot or the global step: state of the training, not of the model."""
    return bool(_SLOT.search(name) or _BOOKKEEPING.search(name))


@dataclass
class Checkpoint:
    """The model's variables of one checkpoint ({name: array}) and the names set aside."""

    prefix: str
    weights: dict = field(default_factory=dict)
    skipped: list = field(default_factory=list)


def resolve(path) -> str:
    """The checkpoint prefix that ``path`` names: a prefix itself, a run folder of this package
    (its newest intact checkpoint), or a folder holding a checkpoint (its ``checkpoint`` file's
    latest, else the newest ``*.index``).
    """
    text = os.fspath(path)
    if os.path.isfile(text + ".index"):
        return text
    if text.endswith(".index") and os.path.isfile(text):
        return text[:-len(".index")]
    data = re.match(r"^(.*)\.data-\d+-of-\d+$", text)
    if data and os.path.isfile(text):
        return data.group(1)
    if os.path.isdir(text) and os.path.isdir(os.path.join(text, "checkpoints")):
        from legacy_vae.checkpoints import newest_intact

        prefix = newest_intact(os.path.join(text, "checkpoints")).prefix  # by file name: the run may have moved
        if prefix is None:
            raise MigrationError([f"{os.path.join(text, 'checkpoints')} has no checkpoint yet; train the run first"])
        return prefix
    if os.path.isdir(text):
        import tensorflow as tf

        latest = tf.train.latest_checkpoint(text)
        if latest and os.path.isfile(latest + ".index"):
            return latest
        found = sorted(Path(text).glob("*.index"), key=lambda p: p.stat().st_mtime)
        if found:
            return str(found[-1])[:-len(".index")]
        raise MigrationError([f"{text} is a folder with no TF1 checkpoint in it (no 'checkpoint' file and "
                              f"no PREFIX.index); pass the checkpoint's prefix, e.g. {text}/model.ckpt"])
    if not os.path.exists(text) and not list(Path(text).parent.glob(Path(text).name + ".*")):
        raise MigrationError([f"{text}: no such file or checkpoint (a TF1 checkpoint is named by its prefix, "
                              f"e.g. model.ckpt-600 for model.ckpt-600.index and model.ckpt-600.data-*)"])
    raise MigrationError([f"{text} is not a TF1 checkpoint: there is no {text}.index beside it; pass the "
                          f"prefix that a tf.compat.v1.train.Saver wrote (model.ckpt, model.ckpt-600)"])


def read(path) -> Checkpoint:
    """Every variable of the checkpoint at ``path`` (prefix or folder), optimizer slots set aside.

    A file that is not a checkpoint, or one that is truncated or corrupt,
    raises :class:`MigrationError` naming it.
    """
    import tensorflow as tf

    prefix = resolve(path)
    try:
        reader = tf.train.load_checkpoint(prefix)
        shapes = reader.get_variable_to_shape_map()
        checkpoint = Checkpoint(prefix)
        for name in sorted(shapes):
            if is_skipped(name):
                checkpoint.skipped.append(name)
            else:
                checkpoint.weights[name] = np.asarray(reader.get_tensor(name))
    except (tf.errors.OpError, OSError, ValueError, IndexError) as error:
        first = next((line.strip() for line in str(error).splitlines() if line.strip()), type(error).__name__)
        raise MigrationError([f"{prefix} cannot be read as a TF1 checkpoint ({first[:200]}); is it a "
                              f"Saver's checkpoint, whole (both the .index and the .data files)?"]) from None
    if not checkpoint.weights:
        raise MigrationError([f"{prefix} holds no model variables (only {checkpoint.skipped or 'nothing'})"])
    return checkpoint
