"""Notebook 02 (Slim) runs, and its loop prints "Iteration N:" and shows the digits at every look."""
import re

from notebook_runs import check_cadence, check_cells, check_figures, notebooks  # noqa: F401 (a fixture)

NAME = "02_slim_vae.ipynb"


def test_runs_and_shows_every_look(notebooks):
    run = notebooks(NAME)
    check_cells(NAME, run)
    check_figures(NAME, run)
    # Every 1,000 of 20,000 iterations in the course notebook, every STEPS // 20 when shrunk:
    # "Iteration N:", then the five digits, their means and a sample, also written to the run folder.
    check_cadence(NAME, run, re.compile(r"^Iteration (\d+):$", re.M), lambda i, step: step,
                  "reconstructions-step{step}.png")
