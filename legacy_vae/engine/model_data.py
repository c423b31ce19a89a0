"""What the training loop feeds a graph: images per split and batches.

Binarization, per ``config.binarize``:

* ``none``: grey levels are the Bernoulli targets (the post model);
* ``static``: ``x > 0.5`` once, in NumPy, for train, validation and test;
* ``dynamic``: the graph draws a fresh ``x ~ Bernoulli(grey)`` every step
  (``x_binarized``), so training is fed grey levels; held-out sets are
  binarized once with a fixed NumPy draw, so every evaluation of a run sees
  the same images.

Batch order: the fast path reads the train DataSet's own order (legacy_vae.
graph.pipeline), the feed_dict path calls its ``next_batch``; both start from
``train_start``, the state ``read_data_sets(seed=config.seed)`` gives, as the
classic loop does. Initial weights need nothing here: the builders set the graph-level seed to
``config.seed``, so one seed gives one start.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from legacy_vae import streams
from legacy_vae.data import DataSet, binarize_dynamic, binarize_static, read_data_sets


@dataclasses.dataclass
class ModelData:
    """One model's images, binarized as it trains (see the module docstring)."""

    train_images: np.ndarray
    train_labels: np.ndarray
    train_start: dict            # DataSet state before the first batch (both input paths)
    validation_images: np.ndarray
    validation_start: dict       # DataSet state before the first shown validation digits
    test_images: np.ndarray
    test_labels: np.ndarray

    def train_set(self, state: dict | None = None) -> DataSet:
        """A DataSet over the training images at ``state`` (default: the start)."""
        dataset = DataSet(self.train_images, self.train_labels)
        dataset.set_state(self.train_start if state is None else state)
        return dataset

    def validation_set(self, batches_drawn: int, size: int) -> DataSet:
        """The validation DataSet after ``batches_drawn`` calls of ``next_batch(size)``: fresh
        digits for each figure, in the order the classic loop draws them."""
        dataset = DataSet(self.validation_images, np.zeros(len(self.validation_images)))
        dataset.set_state(self.validation_start)
        for _ in range(batches_drawn):
            dataset.next_batch(size)
        return dataset


def load_datasets(configs) -> dict:
    """``read_data_sets`` for each config (``{model: Datasets}``), read once per (data folder, seed).

    Needs no TensorFlow: legacy_vae.train reads MNIST in a thread while it imports TensorFlow."""
    cache = {}
    for config in configs:
        key = (config.data_dir, config.seed)
        if key not in cache:
            cache[key] = read_data_sets(config.data_dir, validation_size=5000, seed=config.seed)
    return {config.model: cache[(config.data_dir, config.seed)] for config in configs}


def prepare_data(config, datasets) -> ModelData:
    """``datasets`` from ``read_data_sets(..., seed=config.seed)``, left untouched."""
    train, validation, test = datasets.train, datasets.validation, datasets.test
    held_out = [validation.images, test.images]
    train_images = train.images
    if config.binarize == "static":
        train_images = binarize_static(train_images)
        held_out = [binarize_static(images) for images in held_out]
    elif config.binarize == "dynamic":
        rng = streams.rng(config.seed, streams.BINARIZE)
        held_out = [binarize_dynamic(images, rng) for images in held_out]
    return ModelData(train_images=train_images, train_labels=train.labels, train_start=train.get_state(),
                     validation_images=held_out[0], validation_start=validation.get_state(),
                     test_images=held_out[1], test_labels=test.labels)


def image_input(handles):
    """The tensor training batches are fed to.

    ``handles.x`` is what the model sees; with dynamic binarization that is
    ``x_binarized``, computed from the grey-level placeholder ``x``, which
    must be fed instead so that the graph still draws the binary pixels.
    """
    if handles.x.op.type in ("Placeholder", "PlaceholderWithDefault"):
        return handles.x
    return handles.graph.get_tensor_by_name("x:0")
