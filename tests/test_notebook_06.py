"""Notebook 06 (the TF2 tutorial's CVAE) runs, and saves the tutorial's 4x4 grid at every epoch."""
import math

from notebook_runs import check_cells, check_figures, notebooks, parameters  # noqa: F401 (a fixture)

NAME = "06_tf2_cvae.ipynb"


def test_runs_and_saves_a_grid_per_epoch(notebooks):
    run = notebooks(NAME)
    check_cells(NAME, run)
    check_figures(NAME, run)
    found = parameters(NAME)
    epochs = math.ceil(found["STEPS"] / found["STEPS_PER_EPOCH"])
    written = {p.name for p in run.runs.glob("*/figures/image_at_epoch_*.png")}
    # The untrained model's grid, then one after every epoch, as generate_and_save_images wrote them.
    assert written == {f"image_at_epoch_{epoch:04d}.png" for epoch in range(epochs + 1)}, sorted(written)
