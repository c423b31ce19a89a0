"""The graph loop's Saver: a failed checkpoint write is one line naming the checkpoint."""
from __future__ import annotations

import numbers

import tensorflow as tf

from legacy_vae.failures import write_error

v1 = tf.compat.v1


class Saver(v1.train.Saver):
    """``tf.compat.v1.train.Saver`` whose failed saves raise failures.WriteError.

    A failed save (full disk, file-size limit) raises failures.WriteError
    naming the checkpoint. TensorFlow writes each file under a temporary name
    and renames it, and the state file last, so the previous checkpoints
    stay whole and the state file names only whole checkpoints.
    """

    def save(self, sess, save_path, global_step=None, *args, **kwargs):
        try:
            return super().save(sess, save_path, global_step, *args, **kwargs)
        except (tf.errors.OpError, OSError) as error:
            name = f"{save_path}-{int(global_step)}" if isinstance(global_step, numbers.Integral) else save_path
            raise write_error(name, error) from error
