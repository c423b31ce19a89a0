"""Helpers for tests that run ``legacy-vae`` as a user does: a subprocess, with a timeout, killed in the end."""
import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

# Small post runs: a checkpoint, a validation and a figure every 20 steps.
POST = ["--model", "post", "--checkpoint-every", "20", "--visualize-every", "20", "--no-progress"]
# TensorFlow's C++ start-up lines ("W0000 ...", "E0000 ... cuInit", absl's notice); everything else is ours.
_TF_LOG = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|[IWEF]\d{4} )")


def command(*args):
    return [sys.executable, "-m", "legacy_vae", *map(str, args)]


def env():
    return dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")


def run(*args, cwd, timeout=300, **popen):
    """Run ``legacy-vae ARGS`` to the end; the CompletedProcess (text output)."""
    return subprocess.run(command(*args), cwd=cwd, env=env(), capture_output=True, text=True,
                          timeout=timeout, **popen)


def start(*args, cwd, **popen):
    """Start ``legacy-vae ARGS``; the caller ends it with :func:`stop` in a ``finally``."""
    return subprocess.Popen(command(*args), cwd=cwd, env=env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **popen)


@contextlib.contextmanager
def started(*args, cwd, **popen):
    """``with started(ARGS, cwd=...) as process``: :func:`start`, then :func:`stop` whatever happens."""
    process = start(*args, cwd=cwd, **popen)
    try:
        yield process
    finally:
        stop(process)


def ignoring_sigint():
    """``preexec_fn`` that starts the child with SIGINT ignored, as a shell does for a background job."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def finish(process, timeout=300):
    """(stdout, stderr) of ``process``; killed if it is still running after ``timeout`` seconds."""
    try:
        return process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        return process.communicate()


def stop(process):
    """Kill ``process`` if it still runs and collect its output (for a ``finally``)."""
    if process.poll() is None:
        process.kill()
    return finish(process)


def wait_for(condition, process, what, timeout=600):
    """Poll ``condition()`` until true; fail if ``process`` ends first or ``timeout`` passes.

    The timeout only bounds a run that never gets there: on a loaded two-core machine a
    command may need minutes to import TensorFlow and reach its first checkpoint."""
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            raise AssertionError(f"the command ended before {what}: {finish(process)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"no {what} after {timeout} s")
        time.sleep(0.05)


def our_lines(stderr: str) -> list:
    """The lines of ``stderr`` that legacy-vae wrote (TensorFlow's C++ start-up lines left out)."""
    return [line for line in stderr.splitlines() if line.strip() and not _TF_LOG.match(line)]


def text_files(folder: Path):
    """Every file under ``folder`` that reads as UTF-8 text (checkpoint state, JSON, JSONL)."""
    for path in sorted(Path(folder).rglob("*")):
        if path.is_file():
            try:
                yield path, path.read_text(encoding="utf-8")
            except UnicodeDecodeError:
                continue
