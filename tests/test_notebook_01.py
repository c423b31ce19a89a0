"""Notebook 01 (the post) runs, and its classic loop shows what the post showed at every epoch start."""
import re

from notebook_runs import check_cadence, check_cells, check_figures, looks, notebooks  # noqa: F401 (a fixture)

NAME = "01_post_vae.ipynb"


def test_runs_and_shows_every_epoch(notebooks):
    run = notebooks(NAME)
    check_cells(NAME, run)
    check_figures(NAME, run)
    # At every look: "Epoch N elbo ..." and then the codes and prior samples of that epoch start.
    check_cadence(NAME, run, re.compile(r"^Epoch (\d+) elbo ", re.M), lambda i, step: i)
    written = {p.name for p in run.runs.glob("*/figures/*")}
    wanted = {f"epoch-step{step}.png" for step in looks(NAME)} | {"epochs.png", "epochs.gif"}
    assert wanted <= written, f"the run folder lacks {sorted(wanted - written)}"
    assert len(looks(NAME)) == 21  # 20 epoch starts and one look after the last step, as shrunk
