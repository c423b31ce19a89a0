"""Notebook 08 (the fast engine) runs, checks its loop against the classic one and measures both."""
import re

from notebook_runs import check_cells, code_cells, images, notebooks  # noqa: F401 (a fixture)

NAME = "08_fast_engine.ipynb"


def test_runs_and_prints_its_measured_table(notebooks):
    run = notebooks(NAME)
    check_cells(NAME, run)
    assert sum(images(cell) for cell in code_cells(run.nb)) >= 1, "no picture of the engine's graph"
    printed = "".join(out.get("text", "") for cell in code_cells(run.nb) for out in cell.outputs)
    assert re.search(r"after \d+ steps all \d+ variables are equal", printed)
    rows = re.findall(r"^(classic loop|while_loop)[^\n]*?\s(\d+\.\d\d)\s+(\d+)\s+(\d+\.\d\d)x$", printed, re.M)
    assert len(rows) == 4 and rows[0][3] == "1.00", printed
