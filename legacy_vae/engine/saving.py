"""Checkpoints of the graph loop: what to restore, and a Saver that reports failed writes.

A checkpoint the loop can continue from has its ``.index``, its data file,
both readable whole, and its loop state ``state-<step>.json`` beside it
(legacy_vae.engine.checkpointing.LoopStateListener writes that before the checkpoint
itself, so a complete checkpoint always has one). :func:`restore_point`
picks the newest such checkpoint by file name (legacy_vae.checkpoints),
never by the paths in TensorFlow's state file.
"""
from __future__ import annotations

import numbers
import sys

import tensorflow as tf

from legacy_vae import checkpoints, runs
from legacy_vae.failures import write_error

v1 = tf.compat.v1


class Saver(v1.train.Saver):
    """``tf.compat.v1.train.Saver`` with relative paths in its state file and one-line write errors.

    A failed save (full disk, file-size limit) raises failures.WriteError
    naming the checkpoint. TensorFlow writes each file under a temporary name
    and renames it, and the state file last, so the previous checkpoints
    stay whole and the state file names only whole checkpoints.
    """

    def __init__(self, **kwargs):
        super().__init__(save_relative_paths=True, **kwargs)

    def save(self, sess, save_path, global_step=None, *args, **kwargs):
        try:
            return super().save(sess, save_path, global_step, *args, **kwargs)
        except (tf.errors.OpError, OSError) as error:
            name = f"{save_path}-{int(global_step)}" if isinstance(global_step, numbers.Integral) else save_path
            raise write_error(name, error) from error


def _state_problem(folder: runs.ModelFolder, step: int) -> str | None:
    path = folder.state_file(step)
    try:
        runs.read_json(path)
    except FileNotFoundError:
        return f"{path} is missing"
    except (OSError, ValueError) as error:  # JSONDecodeError is a ValueError
        return f"{path} cannot be read ({error})"
    return None


def restore_point(folder: runs.ModelFolder, resume: bool) -> dict:
    """Where the loop starts: ``step``, ``train_seconds``, ``dataset`` (feed_dict batch order),
    ``prefix`` (the checkpoint to restore, None for a fresh start), ``kept`` (the checkpoints
    up to it, oldest first, for the Saver's rotation) and ``choice`` (legacy_vae.checkpoints.Choice).
    """
    fresh = {"step": 0, "train_seconds": 0.0, "dataset": None, "prefix": None, "kept": [],
             "choice": checkpoints.Choice(None, 0)}
    if not resume:
        return fresh
    choice = checkpoints.newest_intact(folder.checkpoints, check=lambda step: _state_problem(folder, step))
    if choice.prefix is None:
        return fresh
    state = runs.read_json(folder.state_file(choice.step))
    kept = [prefix for step, prefix in checkpoints.listing(folder.checkpoints) if step <= choice.step]
    return {**fresh, **state, "step": choice.step, "prefix": choice.prefix, "kept": kept, "choice": choice}


def prepare_resume(folder: runs.ModelFolder, point: dict, model: str) -> None:
    """Say what resuming skips or fixes (one line each on stderr, prefixed with ``model``),
    then tidy the checkpoints folder: no leftovers of interrupted writes, and a state file
    that names the chosen checkpoint by relative path. The caller holds the folder's lock.
    """
    notices = point["choice"].notices("resuming from")
    stale = checkpoints.stale_state(folder.checkpoints)
    if stale:
        notices.append(stale + "; rewritten with relative paths")
    removed = checkpoints.remove_leftovers(folder.checkpoints)
    if removed:
        notices.append(f"removed {len(removed)} partial file(s) of an interrupted checkpoint write "
                       f"from {folder.checkpoints}")
    for line in notices:
        sys.stderr.write(f"{model}: {line}\n")
    checkpoints.write_state(folder.checkpoints, point["prefix"], point["kept"])
