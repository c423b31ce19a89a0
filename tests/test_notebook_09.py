"""Notebook 09 (a TF1 checkpoint into Keras 3) runs shrunk: the 2017 post script trains in a tf-keras
subprocess, legacy-vae convert writes the .weights.h5, Keras 3 gives the same ELBO and the parity check
passes, then names a perturbed bias."""
import re

import nbformat

from notebook_runs import NOTEBOOKS, TEST_STEPS, check_cells, check_figures, code_cells, notebooks  # noqa: F401

NAME = "09_migrate_tf1_checkpoint.ipynb"


def printed(cell):
    return "".join(out.get("text", "") for out in cell.outputs)


def test_parameters_cell_trains_one_epoch_unless_shrunk(monkeypatch, capsys):
    cell = code_cells(nbformat.read(str(NOTEBOOKS / NAME), as_version=4))[0]
    monkeypatch.delenv("LEGACY_VAE_NOTEBOOK_STEPS", raising=False)
    default = {}
    exec(cell.source, default)
    assert (default["STEPS"], default["SEED"], capsys.readouterr().out) == (600, 0, "")
    monkeypatch.setenv("LEGACY_VAE_NOTEBOOK_STEPS", TEST_STEPS)
    shrunk = {}
    exec(cell.source, shrunk)
    assert shrunk["STEPS"] == int(TEST_STEPS)
    assert "LEGACY_VAE_NOTEBOOK_STEPS" in capsys.readouterr().out


def test_runs_and_shows_the_same_elbo_and_gradients(notebooks):
    run = notebooks(NAME)
    check_cells(NAME, run)
    check_figures(NAME, run)
    text = "\n".join(printed(cell) for cell in code_cells(run.nb))
    assert f"fixed/post_2017.py, {TEST_STEPS} steps" in text
    assert "TF_USE_LEGACY_KERAS in this kernel: None" in text
    assert "14 weights; set aside: 31 (28 Adam slots, global_step, train/beta1_power, train/beta2_power)" in text
    assert re.search(r"^decoder/dense_\d+/kernel\s+<-\s+decoder/dense_2/kernel\s+\[200, 784\]$", text, re.M)
    script, converted = (float(v) for v in re.findall(
        r"ELBO  2017 script \(TF1 graph, tf-keras\): (-?\d+\.\d+)\n\s+Keras 3, converted weights:\s+(-?\d+\.\d+)",
        text)[0])
    assert abs(converted - script) <= 1e-6 * abs(script)
    # The parity table: the loss and 14 gradients ok, then the perturbed run's table naming the bias.
    assert len(re.findall(r"^\S.*\s+ok$", text, re.M)) >= 15
    perturbed = [line for line in text.splitlines() if line.startswith("decoder/dense_2/bias -> ")]
    assert len(perturbed) == 2 and perturbed[0].endswith(" ok") and "the weights differ" in perturbed[1]
    assert list(run.runs.glob("09_migrate-*/post.weights.h5"))
