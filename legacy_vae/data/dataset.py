"""``DataSet`` and ``read_data_sets``: the TF1 ``input_data`` API without TensorFlow.

Batching follows the classic ``tensorflow.examples.tutorials.mnist`` rules:
the order is shuffled when the first epoch starts and whenever a new epoch
starts, and a batch that crosses the end of an epoch is the rest of that epoch
followed by the head of the next, so every batch has the requested size and
every example is seen once per epoch.  Unlike the classic, randomness comes
only from the DataSet's own ``np.random.Generator`` (never NumPy's global
state), and the batch order can be saved and restored with
``get_state``/``set_state``.
"""
from __future__ import annotations

import copy
import numbers
import os
from typing import NamedTuple

import numpy as np

from legacy_vae.data.arrays import NUM_CLASSES, load_mnist_arrays
from legacy_vae.data.checks import unit_range
from legacy_vae.data.download import ensure_mnist
from legacy_vae.data.locate import resolve_data_dir

_STATE_VERSION = 1


def _jsonable(value):
    # Bit generator states are dicts of ints, except MT19937's key array.
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    return value


class DataSet:
    """Images and labels with classic ``next_batch`` semantics.

    ``seed`` is anything ``np.random.default_rng`` accepts (None, an int, a
    ``SeedSequence`` or a ``Generator``).
    """

    def __init__(self, images, labels, seed=None):
        images, labels = np.asarray(images), np.asarray(labels)
        if len(images) != len(labels):
            raise ValueError(f"images and labels differ in length: {len(images)} != {len(labels)}")
        unit_range(images, "DataSet")  # float pixels in [0, 1]; uint8 stays raw 0..255
        self._images = images
        self._labels = labels
        self._num_examples = len(images)
        self._rng = np.random.default_rng(seed)
        self._perm = None  # order of the current epoch; None = stored order
        self._index_in_epoch = 0
        self._epochs_completed = 0

    @property
    def images(self) -> np.ndarray:
        """All images in stored order (batches are drawn through a permutation)."""
        return self._images

    @property
    def labels(self) -> np.ndarray:
        return self._labels

    @property
    def num_examples(self) -> int:
        return self._num_examples

    @property
    def epochs_completed(self) -> int:
        return self._epochs_completed

    @property
    def index_in_epoch(self) -> int:
        return self._index_in_epoch

    def _order(self) -> np.ndarray:
        return np.arange(self._num_examples) if self._perm is None else self._perm

    def next_batch(self, batch_size: int, shuffle: bool = True):
        """Return the next ``(images, labels)`` batch of exactly ``batch_size``."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral):
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        batch_size = int(batch_size)
        if not 0 < batch_size <= self._num_examples:
            raise ValueError(f"batch_size must be between 1 and num_examples "
                             f"({self._num_examples}), got {batch_size}")
        n = self._num_examples
        start = self._index_in_epoch
        if self._epochs_completed == 0 and start == 0 and shuffle:
            self._perm = self._rng.permutation(n)
        if start + batch_size > n:
            # Epoch ends inside this batch: take its rest, then start the
            # next (reshuffled) epoch and fill up from its head.
            self._epochs_completed += 1
            rest = self._order()[start:n]
            if shuffle:
                self._perm = self._rng.permutation(n)
            end = batch_size - (n - start)
            self._index_in_epoch = end
            index = np.concatenate((rest, self._order()[:end]))
        else:
            self._index_in_epoch = start + batch_size
            index = self._order()[start:start + batch_size]
        return self._images[index], self._labels[index]

    def epoch_orders(self):
        """Yield, forever, the index order of each epoch that ``next_batch`` will use from here.

        Only from the start of an epoch (a new DataSet, or one restored to
        such a state); this DataSet is left untouched. Cut into consecutive
        slices of ``batch_size``, the stream gives exactly the batches of
        ``next_batch(batch_size)``, the tail of one epoch joining the head of
        the next: the fast engine's tf.data input reads its batches this way.
        """
        if self._index_in_epoch not in (0, self._num_examples) or (self._perm is not None
                                                                    and self._index_in_epoch == 0):
            raise ValueError("epoch_orders needs a DataSet at the start of an epoch")
        rng = np.random.Generator(copy.deepcopy(self._rng.bit_generator))
        while True:
            yield rng.permutation(self._num_examples)

    def get_state(self) -> dict:
        """A JSON-serialisable snapshot of the batch order (not of the data)."""
        return {
            "version": _STATE_VERSION,
            "num_examples": self._num_examples,
            "index_in_epoch": self._index_in_epoch,
            "epochs_completed": self._epochs_completed,
            "permutation": None if self._perm is None else self._perm.tolist(),
            "bit_generator": _jsonable(copy.deepcopy(self._rng.bit_generator.state)),
        }

    def set_state(self, state: dict) -> None:
        """Restore a :meth:`get_state` snapshot; the batches then continue identically."""
        if state.get("version") != _STATE_VERSION:
            raise ValueError(f"unsupported DataSet state version {state.get('version')!r}")
        n = self._num_examples
        if state["num_examples"] != n:
            raise ValueError(f"state is for {state['num_examples']} examples, this DataSet has {n}")
        index, epochs = int(state["index_in_epoch"]), int(state["epochs_completed"])
        if not 0 <= index <= n or epochs < 0:
            raise ValueError(f"invalid position in state: index {index}, epochs {epochs}")
        perm = state["permutation"]
        if perm is not None:
            perm = np.asarray(perm, dtype=np.int64)
            if perm.shape != (n,) or not np.array_equal(np.sort(perm), np.arange(n)):
                raise ValueError("state permutation is not a permutation of the examples")
        bit_state = copy.deepcopy(state["bit_generator"])
        bit_generator = getattr(np.random, bit_state["bit_generator"])()
        bit_generator.state = bit_state
        # Assign only once everything is valid, so a bad state changes nothing.
        self._rng = np.random.Generator(bit_generator)
        self._perm, self._index_in_epoch, self._epochs_completed = perm, index, epochs


class Datasets(NamedTuple):
    train: DataSet
    validation: DataSet
    test: DataSet


def _images(raw: np.ndarray, dtype: np.dtype, reshape: bool) -> np.ndarray:
    images = raw.reshape(len(raw), -1) if reshape else raw[..., np.newaxis]
    if dtype == np.uint8:
        return images  # the classic kept raw 0..255 values for uint8
    out = images.astype(dtype)
    np.divide(out, 255, out=out)
    return out


def _labels(raw: np.ndarray, one_hot: bool) -> np.ndarray:
    labels = raw.astype(np.int64)
    return np.eye(NUM_CLASSES, dtype=np.float32)[labels] if one_hot else labels


def read_data_sets(data_dir: str | os.PathLike | None = None, one_hot: bool = False,
                   validation_size: int = 5000, seed=None, dtype=np.float32,
                   reshape: bool = True, download: bool = True) -> Datasets:
    """Load MNIST as ``Datasets(train, validation, test)``, like TF1's ``input_data``.

    The first ``validation_size`` training examples form the validation split.
    Images are ``dtype`` in [0, 1] (raw 0..255 if ``dtype`` is uint8), shaped
    ``(N, 784)``, or ``(N, 28, 28, 1)`` with ``reshape=False``; labels are
    int64 ``(N,)``, or float32 one-hot ``(N, 10)``.  Each split gets its own
    generator derived from ``seed`` (None: unpredictable).  Missing files are
    downloaded into the folder chosen by :func:`resolve_data_dir` unless
    ``download`` is false.
    """
    dtype = np.dtype(dtype)
    if dtype != np.uint8 and dtype.kind != "f":
        raise TypeError(f"dtype must be uint8 or a floating type, got {dtype}")
    if isinstance(validation_size, bool) or not isinstance(validation_size, numbers.Integral):
        raise ValueError(f"validation_size must be an integer, got {validation_size!r}")
    if validation_size < 0:
        raise ValueError(f"validation_size must be between 0 and the number of "
                         f"training examples, got {validation_size}")
    seeds = seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)
    train_seed, validation_seed, test_seed = seeds.spawn(3)

    arrays = load_mnist_arrays(ensure_mnist(resolve_data_dir(data_dir), download=download))
    n_train = len(arrays["train_images"])
    if validation_size > n_train:
        raise ValueError(f"validation_size must be between 0 and {n_train} (the number "
                         f"of training examples), got {validation_size}")

    train_images = _images(arrays["train_images"], dtype, reshape)
    train_labels = _labels(arrays["train_labels"], one_hot)
    return Datasets(
        train=DataSet(train_images[validation_size:], train_labels[validation_size:], train_seed),
        validation=DataSet(train_images[:validation_size], train_labels[:validation_size],
                           validation_seed),
        test=DataSet(_images(arrays["test_images"], dtype, reshape),
                     _labels(arrays["test_labels"], one_hot), test_seed),
    )
