"""MNIST loading for legacy-vae: a safe, TensorFlow-free ``input_data``.

Replaces TF1's removed ``tensorflow.examples.tutorials.mnist.input_data``::

    from legacy_vae.data import read_data_sets
    mnist = read_data_sets(seed=0)
    x, y = mnist.train.next_batch(100)

Only NumPy (and tqdm, urllib for downloads) is used, so importing this
package is fast and has no side effects.
"""
from legacy_vae.data.arrays import load_mnist_arrays
from legacy_vae.data.binarize import binarize_dynamic, binarize_static
from legacy_vae.data.dataset import DataSet, Datasets, read_data_sets
from legacy_vae.data.describe import describe
from legacy_vae.data.download import (MIRRORS, OFFICIAL_FILES, FileSpec, download_file,
                                      download_mnist, ensure_mnist)
from legacy_vae.data.errors import DataError
from legacy_vae.data.idx import read_idx, write_idx
from legacy_vae.data.locate import ENV_VAR, locate_data_dir, resolve_data_dir
from legacy_vae.data.synthetic import fake_mnist_arrays, write_fake_mnist

__all__ = [
    "DataError", "DataSet", "Datasets", "ENV_VAR", "FileSpec", "MIRRORS", "OFFICIAL_FILES",
    "binarize_dynamic", "binarize_static", "describe", "download_file", "download_mnist",
    "ensure_mnist", "load_mnist_arrays", "locate_data_dir", "read_data_sets", "read_idx",
    "resolve_data_dir", "write_idx", "fake_mnist_arrays", "write_fake_mnist",
]
