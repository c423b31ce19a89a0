"""The fast input path: a ``tf.data`` iterator in graph mode, in the DataSet's own batch order.

The training images enter through a placeholder when the iterator is
initialised (never as a constant, which would copy 170 MB into the GraphDef),
and so does the batch order: the rows of indices that ``DataSet.next_batch``
would take from step ``start_step`` to ``end_step``, computed in NumPy from
the DataSet's state by replaying its epoch permutations
(``DataSet.epoch_orders``). So the classic ``sess.run(train_op, {x:
train.next_batch(100)[0]})`` loop and this one see the same batches, and a
resumed run at step s needs only ``start_step = s``.

The order is an int32 array of ``end_step - start_step`` rows of
``batch_size`` (8 MB for the Slim model's 20,000 steps). A
``Dataset.from_generator`` yielding the same rows made the faithful post
loop half as fast (docs/performance.md): it runs Python inside the input
pipeline; a fed array does not.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import tensorflow as tf

from legacy_vae.data import DataSet

v1 = tf.compat.v1


def batch_order(dataset_state: dict, batch_size: int, start_step: int, end_step: int) -> np.ndarray:
    """[end_step - start_step, batch_size] int32: the indices of ``next_batch(batch_size)``
    at steps ``start_step`` .. ``end_step - 1`` of a DataSet in ``dataset_state``.

    Each epoch's permutation follows the previous one's leftover, cut into
    whole batches (what ``next_batch`` does when an epoch ends inside a batch).
    """
    if not 0 <= start_step <= end_step:
        raise ValueError(f"need 0 <= start_step <= end_step, got {start_step} and {end_step}")
    n = int(dataset_state["num_examples"])
    dataset = DataSet(np.zeros((n, 0), np.uint8), np.zeros(n))
    dataset.set_state(dataset_state)
    rows, taken, leftover = [], 0, np.zeros(0, np.int64)
    for order in dataset.epoch_orders():
        if taken >= end_step:
            break
        stream = np.concatenate([leftover, order])
        whole = len(stream) // batch_size * batch_size
        leftover = stream[whole:]
        epoch = stream[:whole].reshape(-1, batch_size)
        low, high = max(start_step - taken, 0), min(end_step - taken, len(epoch))
        if low < high:
            rows.append(epoch[low:high])
        taken += len(epoch)
    return np.concatenate(rows).astype(np.int32) if rows else np.zeros((0, batch_size), np.int32)


@dataclasses.dataclass(frozen=True)
class InputHandles:
    images: Any        # placeholder [None, 784], fed once when initialising
    order: Any         # placeholder [None, batch_size] int32: the batches' indices, in training order
    initializer: Any
    next_batch: Any    # [batch_size, 784]

    def initialize(self, session, images, dataset_state: dict | None = None, start_step=0, *, end_step):
        """Start the batches of ``images`` for steps ``start_step`` .. ``end_step - 1``, in the
        order of a DataSet in ``dataset_state`` (default: a new ``DataSet(images, labels, seed=0)``);
        asking for a batch past ``end_step`` raises ``OutOfRangeError``."""
        if dataset_state is None:
            dataset_state = DataSet(images[:, :0], np.zeros(len(images)), seed=0).get_state()
        batch_size = self.order.shape[1]
        session.run(self.initializer, {self.images: images,
                                       self.order: batch_order(dataset_state, batch_size, start_step, end_step)})


def make_input(batch_size: int, prefetch: int = 4) -> InputHandles:
    """Batches of ``batch_size`` rows of the fed images, in the fed order."""
    images = v1.placeholder(tf.float32, [None, 784], name="train_images")
    order = v1.placeholder(tf.int32, [None, batch_size], name="batch_order")
    batches = (tf.data.Dataset.from_tensor_slices(order)
               .map(lambda index: tf.gather(images, index))
               .prefetch(prefetch))
    # No tf.data autotuning: nothing here is tuned (fixed prefetch, one map),
    # and its model thread made closing the session wait (docs/performance.md).
    options = tf.data.Options()
    options.autotune.enabled = False
    batches = batches.with_options(options)
    iterator = v1.data.make_initializable_iterator(batches)
    return InputHandles(images=images, order=order, initializer=iterator.initializer,
                        next_batch=iterator.get_next(name="next_batch"))
