"""Shared pytest fixtures."""
import os
import shutil
from pathlib import Path

import pytest

from skips import IN_CI

REPO_ROOT = Path(__file__).resolve().parents[1]

# One intra-op thread for every kernel the tests run (read when TensorFlow starts;
# subprocesses inherit it). With two, Eigen may split one matmul's sum differently
# from run to run under load (seen: the classic and fast loops 3e-4 apart after
# 600 post steps, once in several runs), and the bit-identical tests would flake.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI, any skip (a plain pytest.skip, a skipif, an importorskip) turns into a failure."""
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (CI={os.environ['CI']}), where nothing may be skipped: {reason}"


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


def shared_run(tmp_path_factory, name: str, train) -> Path:
    """A run that several test files use, trained once per pytest run even with xdist workers.

    xdist's pattern for session fixtures that must run once: the first worker to take the lock
    trains into a folder beside every worker's own temporary folder (``train(cwd)`` returns the
    run folder); the others wait on the lock and find it done. Without xdist it is an ordinary
    session fixture. Tests only read these runs.
    """
    import fcntl

    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    cwd, done = shared / f"shared-{name}", shared / f"shared-{name}.done"
    with open(shared / f"shared-{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes, even if training fails
        if not done.exists():
            if cwd.exists():
                shutil.rmtree(cwd)  # a worker that failed half-way
            cwd.mkdir()
            done.write_text(str(train(cwd)))
    return Path(done.read_text())


@pytest.fixture(scope="session")
def post_reference(tmp_path_factory, mnist_dir) -> Path:
    """200 uninterrupted steps of post through the CLI: what every interrupted run must end with."""
    from cli_runs import POST, run

    def train(cwd):
        done = run("train", *POST, "--steps", 200, "--data-dir", mnist_dir, "--out", "run", cwd=cwd)
        assert done.returncode == 0, done.stderr
        return cwd / "run"
    return shared_run(tmp_path_factory, "post-reference", train)


@pytest.fixture(scope="session")
def post_at_100(tmp_path_factory, mnist_dir) -> Path:
    """The same run stopped after its first 100 steps (written with an absolute --out); tests copy it.
    One per worker, not shared: test_run_relocate moves it away for a while."""
    from cli_runs import POST, run

    cwd = tmp_path_factory.mktemp("at100")
    done = run("train", *POST, "--steps", 100, "--data-dir", mnist_dir, "--out", cwd / "run", cwd=cwd)
    assert done.returncode == 0, done.stderr
    return cwd / "run"


@pytest.fixture
def command(capsys, monkeypatch):
    """``command(*args, cwd=...)``: ``legacy-vae ARGS`` in this process (``cli.main``), as
    ``(status, stdout, stderr)``; no new process importing TensorFlow for one refused argument.
    The environment variables and working folder it changes are put back afterwards."""
    from legacy_vae import cli

    def run(*args, cwd):
        monkeypatch.chdir(cwd)
        for name in ("TF_CPP_MIN_LOG_LEVEL", "TF_OVERRIDE_GLOBAL_THREADPOOL"):
            monkeypatch.setenv(name, os.environ.get(name, "1"))  # cli.main sets them: put back on teardown
        capsys.readouterr()
        try:
            status = cli.main([str(arg) for arg in args])
        except SystemExit as done:
            status = done.code
        out, err = capsys.readouterr()
        return status, out, err
    return run
