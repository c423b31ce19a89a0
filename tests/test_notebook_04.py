"""Notebook 04 raises each pitfall it promises, with TensorFlow's own messages."""
from notebook_runs import RAISES, check_cells, code_cells, notebooks, tags  # noqa: F401 (a fixture)

NAME = "04_reset_default_graph_pitfalls.ipynb"


def test_runs(notebooks):
    run = notebooks(NAME)
    check_cells(NAME, run)
    raised = [cell for cell in code_cells(run.nb) if RAISES in tags(cell)]
    assert len(raised) >= 16, f"{NAME} should raise at least once per pitfall, raised {len(raised)} times"
