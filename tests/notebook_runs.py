"""Each notebook executed once per test run, shared by every test that needs it.

``executed(name)`` (the session fixture ``notebooks``) runs a notebook top to
bottom in a fresh kernel and returns it with its outputs, its run folders
and its time. The executed notebook is kept in a folder that all xdist
workers of this run share (the parent of the workers' base temp folders),
under a per-notebook ``flock``: the first worker to ask runs it, a second
one waits for it and reads the result, so ``test_notebooks_html.py`` reuses
the notebooks that the ``test_notebook_*.py`` files ran. One test file per
notebook lets pytest-xdist spread them over the workers.

The kernel is this interpreter (``sys.executable``) through a kernelspec
written to a temporary folder, so a fresh CI virtualenv runs the notebooks
against the package it just installed. ``LEGACY_VAE_NOTEBOOK_STEPS`` shrinks
the training runs (``LEGACY_VAE_NOTEBOOK_TEST_IMAGES`` the CVAE's test set);
the notebooks run in a temporary working directory and write their run
folders under ``LEGACY_VAE_NOTEBOOK_OUT``.

Cells tagged ``raises-exception`` are expected to raise (nbclient records
the error and goes on). The markdown cell right before each one promises the
error in a line ``**Expected error:** `Type: text` `` (``...`` in the text
stands for anything); :func:`check_cells` checks that the cell raised exactly
that type with a message containing that text, in a few lines (``%xmode
Minimal``), and that no other cell raised. No cell may show TensorFlow's C++
start-up lines (START_UP): the kernel runs without TF_CPP_MIN_LOG_LEVEL, as a
learner's would, and the notebooks keep them out themselves.
"""
from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO_ROOT / "notebooks"
RAISES = "raises-exception"
TEST_STEPS = "40"  # 01 and 02 look 20 times whatever the steps: every 2 steps here
TEST_IMAGES = "1000"  # notebook 06 evaluates the CVAE on this many test digits
KERNEL_NAME = "legacy-vae-test"
PROMISE = re.compile(r"\*\*Expected error:\*\* `(\w+): ([^`]+)`")
SHOWN_LINES = 12  # an expected error, as the learner sees it: type and message, no traceback
START_UP = ("absl::InitializeLog", "cudart_stub", "cpu_feature_guard", "failed call to cuInit")


@dataclasses.dataclass(frozen=True)
class Executed:
    nb: object        # the executed notebook (nbformat node)
    runs: Path        # its LEGACY_VAE_NOTEBOOK_OUT
    seconds: float    # time to execute it
    repo_runs_added: list  # what it wrote into notebooks/runs (must stay empty)


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def parameters(name: str, steps: str = TEST_STEPS) -> dict:
    """The names the notebook's parameters cell defines when it runs with ``steps``."""
    nb = nbformat.read(str(NOTEBOOKS / name), as_version=4)
    found = {}
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(None):
        patch.setenv("LEGACY_VAE_NOTEBOOK_STEPS", steps)
        exec(code_cells(nb)[0].source, found)
    return found


def _shared_root(tmp_path_factory, worker_id: str) -> Path:
    base = tmp_path_factory.getbasetemp()
    # Workers' base folders are popen-gw0, popen-gw1, ... inside the run's folder.
    return base if worker_id == "master" else base.parent


def _kernelspec(folder: Path) -> Path:
    spec_dir = folder / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    (spec_dir / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"legacy-vae tests ({sys.executable})", "language": "python"}), encoding="utf-8")
    return folder


def execute(path, workdir):
    """The notebook at ``path`` executed in a fresh KERNEL_NAME kernel (JUPYTER_PATH must hold its spec)."""
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=600, startup_timeout=120,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return nb


@pytest.fixture(scope="session")
def kernels_path(tmp_path_factory):
    """A JUPYTER_PATH folder whose kernelspec KERNEL_NAME starts ipykernel with this interpreter."""
    return _kernelspec(tmp_path_factory.mktemp("jupyter"))


def _execute(name: str, folder: Path, mnist_dir: Path) -> Executed:
    workdir, runs = folder / "workdir", folder / "runs"
    workdir.mkdir(parents=True, exist_ok=True)
    repo_runs = NOTEBOOKS / "runs"  # where a person's runs go (gitignored); the test must not add any
    before = set(repo_runs.iterdir()) if repo_runs.is_dir() else set()
    with pytest.MonkeyPatch.context() as patch:
        # The kernel inherits this environment: the kernelspec, shrunk runs, the data, quiet TF.
        patch.setenv("JUPYTER_PATH", str(_kernelspec(folder / "jupyter")))
        patch.setenv("LEGACY_VAE_NOTEBOOK_STEPS", TEST_STEPS)
        patch.setenv("LEGACY_VAE_NOTEBOOK_TEST_IMAGES", TEST_IMAGES)
        patch.setenv("LEGACY_VAE_NOTEBOOK_OUT", str(runs))
        patch.setenv("LEGACY_VAE_DATA", str(mnist_dir))
        patch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # the notebooks must keep TF quiet themselves
        patch.setenv("MPLBACKEND", "Agg")
        started = time.perf_counter()
        nb = execute(NOTEBOOKS / name, workdir)
        seconds = time.perf_counter() - started
    after = set(repo_runs.iterdir()) if repo_runs.is_dir() else set()
    return Executed(nb, runs, seconds, sorted(str(p) for p in after - before))


@pytest.fixture(scope="session")
def notebooks(tmp_path_factory, worker_id, mnist_dir):
    """``notebooks(name) -> Executed``: the notebook run once in this test run, by whichever worker asked first."""
    root = _shared_root(tmp_path_factory, worker_id) / "executed-notebooks"
    root.mkdir(exist_ok=True)

    def executed(name: str) -> Executed:
        assert (NOTEBOOKS / name).is_file(), f"{name} is missing from notebooks/"
        folder = root / Path(name).stem
        done = root / f"{name}.json"
        with open(root / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another worker running it: wait for its result
            if not done.exists():
                folder.mkdir(exist_ok=True)
                result = _execute(name, folder, mnist_dir)
                nbformat.write(result.nb, str(folder / name))
                record = {"seconds": result.seconds, "repo_runs_added": result.repo_runs_added}
                tmp = done.with_suffix(".tmp")
                tmp.write_text(json.dumps(record), encoding="utf-8")
                tmp.replace(done)
        record = json.loads(done.read_text(encoding="utf-8"))
        return Executed(nbformat.read(str(folder / name), as_version=4), folder / "runs", record["seconds"],
                        record["repo_runs_added"])

    return executed


def promised_error(nb, cell):
    """(exception type, message pattern) promised by the markdown cell right before ``cell``, or None."""
    index = next(i for i, other in enumerate(nb.cells) if other is cell)
    before = nb.cells[index - 1] if index else None
    found = PROMISE.findall(before.source) if before is not None and before.cell_type == "markdown" else []
    if len(found) != 1:
        return None
    kind, text = found[0]
    return kind, ".*?".join(re.escape(part) for part in text.split("..."))


def check_cells(name: str, run: Executed) -> None:
    """Every cell ran as promised (see the module docstring); nothing went into the repository."""
    nb = run.nb
    for index, cell in enumerate(code_cells(nb)):
        errors = [out for out in cell.outputs if out.output_type == "error"]
        source = cell.source.splitlines()[0] if cell.source else ""
        if RAISES in tags(cell):
            promise = promised_error(nb, cell)
            assert promise, (f"{name} cell {index} ({source!r}) is tagged {RAISES}: the markdown cell "
                             "right before it must promise one error, **Expected error:** `Type: text`")
            assert errors, f"{name} cell {index} ({source!r}) is tagged {RAISES} but did not raise"
            kind, pattern = promise
            assert errors[0].ename == kind and re.search(pattern, errors[0].evalue, re.S), (
                f"{name} cell {index} ({source!r}) promised {kind}: /{pattern}/, "
                f"raised {errors[0].ename}: {errors[0].evalue}")
            shown = "\n".join(errors[0].traceback).splitlines()
            assert len(shown) <= SHOWN_LINES, (f"{name} cell {index} ({source!r}) shows {len(shown)} lines "
                                               "for its error: %xmode Minimal shows type and message")
        else:
            assert not errors, (f"{name} cell {index} ({source!r}) raised "
                                f"{errors[0].ename}: {errors[0].evalue}")
    printed = "".join(out.get("text", "") for cell in code_cells(nb) for out in cell.outputs)
    shown = [line for line in printed.splitlines() if any(marker in line for marker in START_UP)]
    assert not shown, f"{name} shows TensorFlow's start-up lines: {shown}"
    assert not run.repo_runs_added, f"{name} wrote {run.repo_runs_added} into the repository"


def images(cell) -> int:
    return sum("image/png" in out.get("data", {}) for out in cell.outputs)


def check_figures(name: str, run: Executed) -> None:
    """The notebook drew at least one figure and wrote a run folder."""
    assert sum(images(cell) for cell in code_cells(run.nb)), f"{name} drew no figure"
    assert run.runs.is_dir() and any(run.runs.iterdir()), f"{name} wrote no run folder under LEGACY_VAE_NOTEBOOK_OUT"


def looks(name: str) -> list:
    """The steps at which the classic loop of 01 or 02 looks at the model, from its parameters cell."""
    found = parameters(name)
    steps, every = found["STEPS"], found["VISUALIZE_EVERY"]
    return sorted(set(range(0, steps, every)) | {steps})


def check_cadence(name: str, run: Executed, line: re.Pattern, look_number, png: str) -> set:
    """The loop cell prints ``line`` and then shows one figure at every look, 21 of them (20 and one
    after the last step, whatever the steps), and the run folder has ``png`` (a format with ``step``)
    for each; returns the names of the files in the run's figures/.

    ``look_number(i, step)`` is the number the printed line carries at the ``i``-th look.
    """
    expected = looks(name)
    assert len(expected) == 21, f"{name} looks at {expected}: the seeds looked 20 times and once after the end"
    loops = [cell for cell in code_cells(run.nb)
             if any(line.search(out.get("text", "")) for out in cell.outputs)]
    assert len(loops) == 1, f"{name}: expected one cell printing {line.pattern!r}, found {len(loops)}"
    sequence = []
    for out in loops[0].outputs:
        if out.output_type == "stream":
            sequence += [int(n) for n in line.findall(out.text)]
        elif "image/png" in out.get("data", {}):
            sequence.append("figure")
    wanted = [part for i, step in enumerate(expected) for part in (look_number(i, step), "figure")]
    assert sequence == wanted, f"{name}: the loop printed and showed {sequence}, expected {wanted}"
    written = {p.name for p in run.runs.glob("*/figures/*")}
    missing = {png.format(step=step) for step in expected} - written
    assert not missing, f"{name}: the run folder lacks {sorted(missing)}"
    return written
