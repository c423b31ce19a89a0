"""Shared pytest fixtures."""
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The real MNIST folder: $LEGACY_VAE_DATA (relative to the repo root) or ../shared/mnist."""
    raw = os.environ.get("LEGACY_VAE_DATA")
    path = Path(raw).expanduser() if raw else REPO_ROOT.parent / "shared" / "mnist"
    if not path.is_absolute():
        path = REPO_ROOT / path
    if not path.is_dir():
        pytest.fail(f"MNIST folder {path} does not exist: put the four MNIST files there "
                    "or set LEGACY_VAE_DATA to a folder that has them.")
    return path
