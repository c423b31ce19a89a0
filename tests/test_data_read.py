"""read_data_sets and the readers on the real MNIST copy and on small fakes."""
import numpy as np
import pytest

from legacy_vae.data import (DataError, load_mnist_arrays, read_data_sets, read_idx,
                             write_fake_mnist, write_idx)
from legacy_vae.data.synthetic import fake_mnist_arrays


@pytest.fixture(scope="module")
def mnist(mnist_dir):
    return read_data_sets(mnist_dir, seed=0, download=False)


@pytest.fixture(scope="module")
def raw(mnist_dir):
    # Read independently of read_data_sets, straight from the IDX files.
    return {name: read_idx(mnist_dir / f"{name}-idx{3 if 'images' in name else 1}-ubyte.gz")
            for name in ("train-images", "train-labels", "t10k-images", "t10k-labels")}


def test_split_sizes(mnist):
    assert mnist.train.num_examples == 55000
    assert mnist.validation.num_examples == 5000
    assert mnist.test.num_examples == 10000
    assert mnist.train.images.shape == (55000, 784)
    assert mnist.test.labels.shape == (10000,)


def test_images_float_unit_range(mnist):
    for split in mnist:
        assert split.images.dtype == np.float32
        assert split.images.min() == 0.0 and split.images.max() == 1.0


def test_labels_int_digits(mnist):
    for split in mnist:
        assert split.labels.dtype == np.int64
        assert set(np.unique(split.labels)) == set(range(10))


def test_raw_idx_headers(raw):
    assert raw["train-images"].shape == (60000, 28, 28) and raw["train-images"].dtype == np.uint8
    assert raw["train-labels"].shape == (60000,)
    assert raw["t10k-images"].shape == (10000, 28, 28)
    assert raw["t10k-labels"].shape == (10000,)


def test_validation_is_first_5000_training_images(mnist, raw):
    expected = raw["train-images"][:5000].reshape(5000, 784) / np.float32(255)
    np.testing.assert_array_equal(mnist.validation.images, expected)
    np.testing.assert_array_equal(mnist.validation.labels, raw["train-labels"][:5000])
    np.testing.assert_array_equal(mnist.train.labels, raw["train-labels"][5000:])
    np.testing.assert_array_equal(mnist.train.images[:3],
                                  raw["train-images"][5000:5003].reshape(3, 784) / np.float32(255))
    np.testing.assert_array_equal(mnist.test.labels, raw["t10k-labels"])


def test_one_hot_and_unflattened(mnist_dir, raw):
    data = read_data_sets(mnist_dir, one_hot=True, reshape=False, seed=0, download=False)
    assert data.train.images.shape == (55000, 28, 28, 1)
    assert data.test.images.shape == (10000, 28, 28, 1)
    for split in data:
        assert split.labels.shape == (split.num_examples, 10)
        np.testing.assert_array_equal(split.labels.sum(axis=1), 1.0)
    np.testing.assert_array_equal(data.test.labels.argmax(axis=1), raw["t10k-labels"])


def test_uint8_dtype_keeps_raw_values(tmp_path):
    arrays = fake_mnist_arrays(20, 10, seed=3)
    write_fake_mnist(tmp_path, arrays=arrays)
    data = read_data_sets(tmp_path, validation_size=5, dtype=np.uint8, download=False)
    assert data.validation.images.dtype == np.uint8
    np.testing.assert_array_equal(data.validation.images,
                                  arrays["train_images"][:5].reshape(5, 784))


def test_validation_size_is_checked(tmp_path):
    write_fake_mnist(tmp_path, n_train=20)
    for bad in (-1, 21):
        with pytest.raises(ValueError, match="validation_size"):
            read_data_sets(tmp_path, validation_size=bad, download=False)
    data = read_data_sets(tmp_path, validation_size=0, download=False)
    assert data.validation.num_examples == 0 and data.train.num_examples == 20


def test_raw_idx_files_and_gzip_detected_by_content(tmp_path):
    arrays = fake_mnist_arrays(12, 6, seed=1)
    write_fake_mnist(tmp_path / "raw", arrays=arrays, compress=False)
    loaded = load_mnist_arrays(tmp_path / "raw")
    for key in arrays:
        np.testing.assert_array_equal(loaded[key], arrays[key])
    # A gzip file under a name without .gz is still read as gzip.
    write_idx(tmp_path / "named-raw", arrays["test_labels"], compress=True)
    np.testing.assert_array_equal(read_idx(tmp_path / "named-raw"), arrays["test_labels"])


def test_keras_npz_layout(tmp_path):
    arrays = fake_mnist_arrays(15, 7, seed=2)
    np.savez(tmp_path / "mnist.npz", x_train=arrays["train_images"], y_train=arrays["train_labels"],
             x_test=arrays["test_images"], y_test=arrays["test_labels"])
    loaded = load_mnist_arrays(tmp_path)
    for key in arrays:
        np.testing.assert_array_equal(loaded[key], arrays[key])
    data = read_data_sets(tmp_path, validation_size=5, download=False)
    assert (data.train.num_examples, data.validation.num_examples, data.test.num_examples) == (10, 5, 7)


def test_keras_npz_missing_key(tmp_path):
    arrays = fake_mnist_arrays(5, 5)
    np.savez(tmp_path / "mnist.npz", x_train=arrays["train_images"])
    with pytest.raises(DataError, match="y_train") as info:
        load_mnist_arrays(tmp_path)
    assert str(tmp_path / "mnist.npz") in str(info.value)


def test_import_is_light():
    import subprocess
    import sys
    code = "import sys, legacy_vae.data; assert 'tensorflow' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
