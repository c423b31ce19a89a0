"""Atomic writes: whole or absent, with ordinary permissions."""
import os
import stat

import pytest

from legacy_vae.io import atomic_path, atomic_write_text


def test_atomic_write_creates_file_with_umask_permissions(tmp_path):
    target = tmp_path / "sub" / "a.txt"
    atomic_write_text(target, "hello")
    assert target.read_text() == "hello"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~mask


def test_failure_leaves_neither_target_nor_temporary(tmp_path):
    target = tmp_path / "b.bin"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("interrupted")
    assert list(tmp_path.iterdir()) == []


def test_existing_file_is_replaced_only_when_whole(tmp_path):
    target = tmp_path / "c.txt"
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_path(target) as tmp:
            tmp.write_text("new but unfinished")
            raise KeyboardInterrupt
    assert target.read_text() == "old"
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
