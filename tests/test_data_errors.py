"""Damaged or foreign files raise DataError naming the file and the fix."""
import gzip

import numpy as np
import pytest

from legacy_vae.data import DataError, load_mnist_arrays, read_data_sets, write_fake_mnist, write_idx
from legacy_vae.data.synthetic import fake_mnist_arrays

TRAIN_IMAGES = "train-images-idx3-ubyte.gz"


def load_error(folder, *phrases):
    """Load ``folder``, expect DataError, return its message after the common checks."""
    with pytest.raises(DataError) as info:
        read_data_sets(folder, validation_size=5, download=False)
    message = str(info.value)
    for phrase in phrases:
        assert phrase in message, message
    return message


def test_truncated_gzip(tmp_path):
    write_fake_mnist(tmp_path)
    path = tmp_path / TRAIN_IMAGES
    path.write_bytes(path.read_bytes()[:len(path.read_bytes()) // 2])
    load_error(tmp_path, str(path), "truncated or corrupt", "Delete")


def test_corrupt_gzip_crc(tmp_path):
    write_fake_mnist(tmp_path)
    path = tmp_path / TRAIN_IMAGES
    data = bytearray(path.read_bytes())
    data[-8] ^= 0xFF  # the CRC32 in the gzip trailer
    path.write_bytes(bytes(data))
    load_error(tmp_path, str(path), "truncated or corrupt")


def test_corrupt_gzip_stream(tmp_path):
    write_fake_mnist(tmp_path)
    path = tmp_path / TRAIN_IMAGES
    data = bytearray(path.read_bytes())
    for i in range(len(data) // 3, len(data) // 3 + 16):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    load_error(tmp_path, str(path))


def test_wrong_magic(tmp_path):
    arrays = fake_mnist_arrays()
    write_fake_mnist(tmp_path, arrays=arrays)
    # A labels file where the images should be.
    write_idx(tmp_path / TRAIN_IMAGES, arrays["train_labels"])
    load_error(tmp_path, str(tmp_path / TRAIN_IMAGES), "0x00000801", "0x00000803")


def test_not_idx_at_all(tmp_path):
    write_fake_mnist(tmp_path)
    with gzip.open(tmp_path / TRAIN_IMAGES, "wb") as f:
        f.write(b"<html>not found</html>")
    load_error(tmp_path, str(tmp_path / TRAIN_IMAGES), "magic number")


def test_count_mismatch(tmp_path):
    arrays = fake_mnist_arrays(20, 10)
    arrays["train_labels"] = arrays["train_labels"][:19]
    write_fake_mnist(tmp_path, arrays=arrays)
    load_error(tmp_path, str(tmp_path / TRAIN_IMAGES), "20 images", "19 labels",
               str(tmp_path / "train-labels-idx1-ubyte.gz"))


def test_not_28x28(tmp_path):
    write_fake_mnist(tmp_path, arrays={**fake_mnist_arrays(), **{
        k: v for k, v in fake_mnist_arrays(image_shape=(32, 32)).items() if k.endswith("images")}})
    load_error(tmp_path, str(tmp_path / TRAIN_IMAGES), "32x32", "28x28")


def test_truncated_raw_file(tmp_path):
    write_fake_mnist(tmp_path, compress=False)
    path = tmp_path / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    load_error(tmp_path, str(path), "truncated", "header promises")


def test_raw_file_with_trailing_data(tmp_path):
    write_fake_mnist(tmp_path, compress=False)
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes() + b"\0")
    load_error(tmp_path, str(path), "more data")


def test_raw_file_cut_in_header(tmp_path):
    write_fake_mnist(tmp_path, compress=False)
    path = tmp_path / "t10k-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:6])
    load_error(tmp_path, str(path), "truncated")


def test_label_out_of_range(tmp_path):
    arrays = fake_mnist_arrays()
    arrays["test_labels"][0] = 10
    write_fake_mnist(tmp_path, arrays=arrays)
    load_error(tmp_path, str(tmp_path / "t10k-labels-idx1-ubyte.gz"), "0..9")


def test_corrupt_npz(tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(DataError, match="truncated or corrupt") as info:
        load_mnist_arrays(tmp_path)
    assert str(tmp_path / "mnist.npz") in str(info.value)


def test_npz_wrong_dtype(tmp_path):
    arrays = fake_mnist_arrays()
    np.savez(tmp_path / "mnist.npz", x_train=arrays["train_images"].astype(np.float32),
             y_train=arrays["train_labels"], x_test=arrays["test_images"],
             y_test=arrays["test_labels"])
    with pytest.raises(DataError, match="uint8"):
        load_mnist_arrays(tmp_path)


def test_incomplete_folder_lists_missing_files(tmp_path):
    write_fake_mnist(tmp_path)
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    message = load_error(tmp_path, str(tmp_path), "t10k-labels-idx1-ubyte", "LEGACY_VAE_DATA")
    assert "train-images-idx3-ubyte," not in message.split("missing")[1].split("(")[0]
