"""Every notebook runs top to bottom in a fresh kernel, and is committed clean.

The kernel is this interpreter (``sys.executable``) through a kernelspec
written to a temporary folder, so a fresh CI virtualenv runs the notebooks
against the package it just installed, whatever kernels the machine has.
``LEGACY_VAE_NOTEBOOK_STEPS`` shrinks the training runs (and
``LEGACY_VAE_NOTEBOOK_TEST_IMAGES`` the CVAE's test set); the notebooks run
with a temporary working directory and write their run folders there.

Cells tagged ``raises-exception`` are expected to raise (nbclient records
the error and goes on). The markdown cell right before each one promises the
error in a line ``**Expected error:** `Type: text` `` (``...`` in the text
stands for anything); the test checks that the cell raised exactly that type
with a message containing that text, in a few lines (``%xmode Minimal``), and
that no other cell raised. No cell may show TensorFlow's C++ start-up lines
(START_UP): the kernel runs without TF_CPP_MIN_LOG_LEVEL, as a learner's
would, and the notebooks keep them out themselves.
"""
import json
import re
import sys
from pathlib import Path

import nbformat
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = REPO_ROOT / "notebooks"
EXPECTED = [
    "00_tf1_code_on_tf2.ipynb",
    "01_post_vae.ipynb",
    "02_slim_vae.ipynb",
    "03_side_by_side.ipynb",
    "04_reset_default_graph_pitfalls.ipynb",
    "05_tf1_vs_tf2_losses.ipynb",
    "06_tf2_cvae.ipynb",
    "07_distributed_tf1.ipynb",
    "09_migrate_tf1_checkpoint.ipynb",
]
RAISES = "raises-exception"
PLOTTING = set(EXPECTED) - {"04_reset_default_graph_pitfalls.ipynb"}
TEST_STEPS = "30"
TEST_IMAGES = "1000"  # notebook 06 evaluates the CVAE on this many test digits
KERNEL_NAME = "legacy-vae-test"
PROMISE = re.compile(r"\*\*Expected error:\*\* `(\w+): ([^`]+)`")
SHOWN_LINES = 12  # an expected error, as the learner sees it: type and message, no traceback
START_UP = ("absl::InitializeLog", "cudart_stub", "cpu_feature_guard", "failed call to cuInit")


def code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def tags(cell):
    return set(cell.get("metadata", {}).get("tags", []))


def promised_error(nb, cell):
    """(exception type, message pattern) promised by the markdown cell right before ``cell``, or None."""
    index = next(i for i, other in enumerate(nb.cells) if other is cell)
    before = nb.cells[index - 1] if index else None
    found = PROMISE.findall(before.source) if before is not None and before.cell_type == "markdown" else []
    if len(found) != 1:
        return None
    kind, text = found[0]
    return kind, ".*?".join(re.escape(part) for part in text.split("..."))


def test_all_notebooks_present():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, cell in enumerate(code_cells(nb)) if cell.outputs or cell.execution_count is not None]
    assert not dirty, (f"{path.name}: code cells {dirty} have outputs or execution counts; "
                       "clear them before committing (e.g. jupyter nbconvert --clear-output --inplace)")


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.name)
def test_starts_with_parameters_cell(path):
    nb = nbformat.read(str(path), as_version=4)
    first = code_cells(nb)[0]
    assert "parameters" in tags(first), f"{path.name}: the first code cell must be tagged 'parameters'"


@pytest.fixture(scope="session")
def kernels_path(tmp_path_factory):
    """A JUPYTER_PATH folder whose kernelspec KERNEL_NAME starts ipykernel with this interpreter."""
    folder = tmp_path_factory.mktemp("jupyter")
    spec_dir = folder / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True)
    spec = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"legacy-vae tests ({sys.executable})",
        "language": "python",
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec), encoding="utf-8")
    return folder


def execute(path, workdir):
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    client = NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=600, startup_timeout=120,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute()
    return nb


@pytest.mark.parametrize("name", EXPECTED)
def test_notebook_runs(name, tmp_path, mnist_dir, kernels_path, monkeypatch):
    path = NOTEBOOKS / name
    assert path.is_file(), f"{name} is missing from notebooks/"
    # The kernel inherits this environment: the kernelspec, shrunk runs, the data, quiet TF.
    monkeypatch.setenv("JUPYTER_PATH", str(kernels_path))
    monkeypatch.setenv("LEGACY_VAE_NOTEBOOK_STEPS", TEST_STEPS)
    monkeypatch.setenv("LEGACY_VAE_NOTEBOOK_TEST_IMAGES", TEST_IMAGES)
    monkeypatch.setenv("LEGACY_VAE_NOTEBOOK_OUT", str(tmp_path / "runs"))
    monkeypatch.setenv("LEGACY_VAE_DATA", str(mnist_dir))
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # the notebooks must keep TF quiet themselves
    monkeypatch.setenv("MPLBACKEND", "Agg")
    repo_runs = NOTEBOOKS / "runs"  # where a person's runs go (gitignored); the test must not add any
    before = set(repo_runs.iterdir()) if repo_runs.is_dir() else set()
    nb = execute(path, tmp_path)

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
    after = set(repo_runs.iterdir()) if repo_runs.is_dir() else set()
    assert after == before, f"{name} wrote {sorted(after - before)} into the repository"
    if name in PLOTTING:
        images = [out for cell in code_cells(nb) for out in cell.outputs if "image/png" in out.get("data", {})]
        assert images, f"{name} drew no figure"
        assert any((tmp_path / "runs").iterdir()), f"{name} wrote no run folder under LEGACY_VAE_NOTEBOOK_OUT"
    else:
        raised = [cell for cell in code_cells(nb) if RAISES in tags(cell)]
        assert len(raised) >= 16, f"{name} should raise at least once per pitfall, raised {len(raised)} times"
