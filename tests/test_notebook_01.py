"""Notebook 01 (the post) runs, and its classic loop shows what the post showed at every epoch start."""
import re

from notebook_runs import check_cadence, check_cells, check_figures, notebooks  # noqa: F401 (a fixture)

NAME = "01_post_vae.ipynb"


def test_runs_and_shows_every_epoch(notebooks):
    run = notebooks(NAME)
    check_cells(NAME, run)
    check_figures(NAME, run)
    # At every look "Epoch N elbo ...", then that epoch start's codes and prior samples; in the run
    # folder each look's PNG, all of them stacked, and the GIF.
    written = check_cadence(NAME, run, re.compile(r"^Epoch (\d+) elbo ", re.M), lambda i, step: i,
                            "epoch-step{step}.png")
    assert {"epochs.png", "epochs.gif"} <= written
