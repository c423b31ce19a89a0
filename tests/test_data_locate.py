"""Which folder the loaders use, and the describe() report."""
import os
from pathlib import Path

import pytest

from legacy_vae.data import describe, locate_data_dir, resolve_data_dir, write_fake_mnist
from legacy_vae.data import locate

REPO_ROOT = Path(__file__).resolve().parents[1]


def test_argument_beats_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("LEGACY_VAE_DATA", str(tmp_path / "env"))
    assert locate_data_dir(tmp_path / "arg") == (tmp_path / "arg", "argument")
    assert locate_data_dir() == (tmp_path / "env", "LEGACY_VAE_DATA")


def test_repository_data_folder(monkeypatch):
    monkeypatch.delenv("LEGACY_VAE_DATA", raising=False)
    if not (REPO_ROOT / "data").is_dir():
        pytest.fail("the repository's data/ folder is missing")
    assert locate_data_dir() == (REPO_ROOT / "data", "repo data/")


def test_cache_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("LEGACY_VAE_DATA", raising=False)
    monkeypatch.setattr(locate, "_repo_data_dir", lambda: None)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert resolve_data_dir() == tmp_path / "legacy-vae" / "mnist"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert resolve_data_dir() == tmp_path / "home" / ".cache" / "legacy-vae" / "mnist"


def test_describe_real_copy(mnist_dir):
    report = describe(mnist_dir, download=False)
    # The folder as given, made absolute, or with links resolved (both name the same place).
    spellings = {str(mnist_dir), str(mnist_dir.resolve()), os.path.normpath(os.path.abspath(mnist_dir))}
    assert any(spelling in report for spelling in spellings), report.splitlines()[0]
    assert "60000" in report and "10000" in report and "55000" in report
    lines = report.splitlines()
    train_images = next(i for i, line in enumerate(lines) if "train-images-idx3-ubyte.gz" in line)
    assert "differs from the official file" in lines[train_images + 1]
    test_labels = next(i for i, line in enumerate(lines) if "t10k-labels-idx1-ubyte.gz" in line)
    assert "matches the official file" in lines[test_labels + 1]
    assert "28x28" in report and "0..255" in report and "0..9" in report


def test_describe_names_environment_source(monkeypatch, tmp_path):
    write_fake_mnist(tmp_path, n_train=20, n_test=10)
    monkeypatch.setenv("LEGACY_VAE_DATA", str(tmp_path))
    report = describe(download=False)
    assert "LEGACY_VAE_DATA" in report and str(tmp_path) in report
    assert "train: 20 examples" in report and "test: 10 examples" in report
