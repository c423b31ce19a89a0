"""The fast input path: a ``tf.data`` iterator in graph mode, in the DataSet's own batch order.

The training images enter through a placeholder when the iterator is
initialised (never as a constant, which would copy 170 MB into the GraphDef).
The batch order is the one ``DataSet.next_batch`` would give: the iterator is
also fed the DataSet's state (its random generator, as JSON) and a generator
replays the same epoch permutations (``DataSet.epoch_orders``), so the classic
``sess.run(train_op, {x: train.next_batch(100)[0]})`` loop and this one see the
same batches. Resuming at step s needs only ``start_step = s``: the iterator
skips the first s batches (replaying permutations is cheap).
"""
from __future__ import annotations

import dataclasses
import json
from typing import Any

import numpy as np
import tensorflow as tf

from legacy_vae.data import DataSet

v1 = tf.compat.v1


def _batches(state_json, batch_size):
    """The index batches of a DataSet in state ``state_json``, one epoch's worth per item.

    Each item is an [m, batch_size] array: the epoch's permutation with the
    previous epoch's leftover in front, cut into whole batches (what
    ``next_batch`` does when an epoch ends inside a batch). Yielding whole
    batches keeps tf.data's per-element work at one element per batch.
    """
    state = json.loads(state_json.decode("utf-8") if isinstance(state_json, bytes) else state_json)
    dataset = DataSet(np.zeros((state["num_examples"], 0), np.uint8), np.zeros(state["num_examples"]))
    dataset.set_state(state)
    leftover = np.zeros(0, np.int64)
    for order in dataset.epoch_orders():
        stream = np.concatenate([leftover, order])
        whole = len(stream) // batch_size * batch_size
        leftover = stream[whole:]
        yield stream[:whole].reshape(-1, batch_size)


@dataclasses.dataclass(frozen=True)
class InputHandles:
    images: Any        # placeholder [None, 784], fed once when initialising
    order_state: Any   # placeholder: the train DataSet's get_state() as JSON
    start_step: Any    # scalar int64 placeholder: batches to skip (resume)
    initializer: Any
    next_batch: Any    # [batch_size, 784]

    def initialize(self, session, images, dataset_state: dict | None = None, start_step=0):
        """Start the batches of ``images`` in the order of a DataSet in ``dataset_state``
        (default: a new ``DataSet(images, labels, seed=0)``), skipping ``start_step`` batches."""
        if dataset_state is None:
            dataset_state = DataSet(images[:, :0], np.zeros(len(images)), seed=0).get_state()
        session.run(self.initializer, {self.images: images, self.order_state: json.dumps(dataset_state),
                                       self.start_step: int(start_step)})


def make_input(batch_size: int, prefetch: int = 4) -> InputHandles:
    """Batches of ``batch_size`` rows of the fed images, in the fed DataSet state's order."""
    images = v1.placeholder(tf.float32, [None, 784], name="train_images")
    order_state = v1.placeholder(tf.string, [], name="order_state")
    start_step = v1.placeholder(tf.int64, [], name="start_step")
    order = (tf.data.Dataset.from_generator(_batches, args=(order_state, batch_size),
                                            output_signature=tf.TensorSpec([None, batch_size], tf.int64))
             .unbatch()
             .skip(start_step))
    batches = order.map(lambda index: tf.gather(images, index)).prefetch(prefetch)
    # No tf.data autotuning: nothing here is tuned (fixed prefetch, one map),
    # and its model thread made closing the session wait (docs/performance.md).
    options = tf.data.Options()
    options.autotune.enabled = False
    batches = batches.with_options(options)
    iterator = v1.data.make_initializable_iterator(batches)
    return InputHandles(images=images, order_state=order_state, start_step=start_step,
                        initializer=iterator.initializer, next_batch=iterator.get_next(name="next_batch"))
