"""Notebook 03_side_by_side.ipynb runs top to bottom as promised, draws its figures and writes a run folder."""
from notebook_runs import check_cells, check_figures, notebooks  # noqa: F401 (a fixture)

NAME = "03_side_by_side.ipynb"


def test_runs(notebooks):
    run = notebooks(NAME)
    check_cells(NAME, run)
    check_figures(NAME, run)
