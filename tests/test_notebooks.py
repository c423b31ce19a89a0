"""Every notebook is present and committed clean; each one's run is checked in its own test_notebook_NN.py.

The runs are split one file per notebook so that pytest-xdist spreads
them over the workers, and each notebook is executed once per test run
(``notebook_runs``), whichever file asks for it first.
"""
import nbformat
import pytest

# Tests that run a notebook their own way import these from here too.
from notebook_runs import NOTEBOOKS, START_UP, TEST_STEPS, code_cells, execute, kernels_path, tags  # noqa: F401

EXPECTED = [
    "00_tf1_code_on_tf2.ipynb",
    "01_post_vae.ipynb",
    "02_slim_vae.ipynb",
    "03_side_by_side.ipynb",
    "04_reset_default_graph_pitfalls.ipynb",
    "05_tf1_vs_tf2_losses.ipynb",
    "06_tf2_cvae.ipynb",
    "07_distributed_tf1.ipynb",
    "08_fast_engine.ipynb",
    "09_migrate_tf1_checkpoint.ipynb",
]


def test_all_notebooks_present():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == EXPECTED


def test_every_notebook_has_a_test_file_that_runs_it():
    tests = NOTEBOOKS.parent / "tests"
    for name in EXPECTED:
        path = tests / f"test_notebook_{name[:2]}.py"
        assert path.is_file() and f'"{name}"' in path.read_text(encoding="utf-8"), f"no {path.name} runs {name}"


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
