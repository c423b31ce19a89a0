"""The downloader against a real HTTP server on 127.0.0.1 serving fake MNIST files."""
import socket
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from legacy_vae.data import (DataError, download_mnist, ensure_mnist, load_mnist_arrays,
                             read_data_sets, write_fake_mnist)

TIMEOUT = 2.0
TRAIN_IMAGES = "train-images-idx3-ubyte.gz"


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch):
    # A proxy from the environment would intercept requests to 127.0.0.1.
    for name in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                 "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)


@contextmanager
def serve(files, mode="ok"):
    """Serve ``files`` ({name: bytes}); ``mode``: ok, 404, drop (cut mid-body) or stall."""
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            name = self.path.rsplit("/", 1)[-1]
            body = files.get(name)
            if mode == "404" or body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if mode == "stall":
                release.wait(10)
                return
            self.wfile.write(body[:len(body) // 2] if mode == "drop" else body)
            self.wfile.flush()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/mnist/"
    finally:
        release.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def refusing_url():
    # A port that was free a moment ago: connecting to it is refused at once.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


@pytest.fixture
def source(tmp_path):
    """Fake MNIST files with their specs, and their bytes for serving."""
    src = tmp_path / "src"
    specs = write_fake_mnist(src, n_train=20, n_test=10, seed=11)
    return specs, {name: (src / name).read_bytes() for name in specs}


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_success_with_progress(tmp_path, source, capsys):
    specs, blobs = source
    dest = tmp_path / "dest"
    with serve(blobs) as url:
        fetched = download_mnist(dest, mirrors=[url], files=specs, timeout=TIMEOUT)
    assert sorted(p.name for p in fetched) == sorted(specs)
    assert leftovers(dest) == sorted(specs)
    for name, blob in blobs.items():
        assert (dest / name).read_bytes() == blob
    err = capsys.readouterr().err
    assert TRAIN_IMAGES in err and "100%" in err
    data = read_data_sets(dest, validation_size=5, seed=0, download=False)
    assert (data.train.num_examples, data.validation.num_examples, data.test.num_examples) == (15, 5, 10)
    np.testing.assert_array_equal(load_mnist_arrays(dest)["test_labels"],
                                  load_mnist_arrays(tmp_path / "src")["test_labels"])


def test_only_missing_files_downloaded(tmp_path, source):
    specs, blobs = source
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / TRAIN_IMAGES).write_bytes(blobs[TRAIN_IMAGES])
    with serve(blobs) as url:
        fetched = download_mnist(dest, mirrors=[url], files=specs, timeout=TIMEOUT, progress=False)
    assert TRAIN_IMAGES not in {p.name for p in fetched} and len(fetched) == 3


def test_checksum_mismatch_leaves_nothing(tmp_path, source):
    specs, blobs = source
    bad = bytearray(blobs[TRAIN_IMAGES])
    bad[len(bad) // 2] ^= 0xFF
    blobs = {**blobs, TRAIN_IMAGES: bytes(bad)}
    dest = tmp_path / "dest"
    with serve(blobs) as url, pytest.raises(DataError, match="SHA-256 mismatch") as info:
        download_mnist(dest, mirrors=[url], files=specs, timeout=TIMEOUT, progress=False)
    assert str(dest / TRAIN_IMAGES) in str(info.value)
    assert not any(name.startswith(".") or "train-images" in name for name in leftovers(dest))


def test_dropped_connection_leaves_nothing(tmp_path, source):
    specs, blobs = source
    dest = tmp_path / "dest"
    with serve(blobs, mode="drop") as url, pytest.raises(DataError) as info:
        download_mnist(dest, mirrors=[url], files=specs, timeout=TIMEOUT, progress=False)
    assert "connection ended after" in str(info.value)
    assert leftovers(dest) == []


def test_stalled_server_times_out(tmp_path, source):
    specs, blobs = source
    dest = tmp_path / "dest"
    with serve(blobs, mode="stall") as url, pytest.raises(DataError, match="timed out"):
        download_mnist(dest, mirrors=[url], files=specs, timeout=0.3, progress=False)
    assert leftovers(dest) == []


@pytest.mark.parametrize("first", ["404", "refused"])
def test_falls_back_to_second_mirror(tmp_path, source, first):
    specs, blobs = source
    dest = tmp_path / "dest"
    with serve(blobs) as good, serve(blobs, mode="404") as missing:
        mirrors = [missing if first == "404" else refusing_url(), good]
        ensure_mnist(dest, mirrors=mirrors, files=specs, timeout=TIMEOUT, progress=False)
    assert leftovers(dest) == sorted(specs)


def test_all_mirrors_fail(tmp_path, source):
    specs, blobs = source
    dest = tmp_path / "dest"
    with serve(blobs, mode="404") as missing:
        mirrors = [missing, refusing_url()]
        with pytest.raises(DataError) as info:
            ensure_mnist(dest, mirrors=mirrors, files=specs, timeout=TIMEOUT, progress=False)
    message = str(info.value)
    for mirror in mirrors:
        assert mirror + TRAIN_IMAGES in message
    assert "404" in message
    assert str(dest) in message and "LEGACY_VAE_DATA" in message
    assert "t10k-labels-idx1-ubyte.gz" in message  # names the files to put there
    assert leftovers(dest) == []


def test_no_download_when_disallowed(tmp_path):
    with pytest.raises(DataError, match="LEGACY_VAE_DATA") as info:
        read_data_sets(tmp_path / "empty", download=False)
    assert str(tmp_path / "empty") in str(info.value)
    assert "train-images-idx3-ubyte" in str(info.value)
