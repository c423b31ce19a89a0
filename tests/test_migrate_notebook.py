"""Notebook 09 (a TF1 checkpoint into Keras 3) runs top to bottom, shrunk, the way test_notebooks.py runs
the others: a fresh kernel on this interpreter, LEGACY_VAE_NOTEBOOK_STEPS, a scratch folder, TensorFlow's
start-up lines kept out by the notebook itself."""
import re

import nbformat

from test_notebooks import NOTEBOOKS, START_UP, TEST_STEPS, code_cells, execute, kernels_path  # noqa: F401

NAME = "09_migrate_tf1_checkpoint.ipynb"


def printed(cell):
    return "".join(out.get("text", "") for out in cell.outputs)


def test_committed_clean_with_a_parameters_cell():
    nb = nbformat.read(str(NOTEBOOKS / NAME), as_version=4)
    nbformat.validate(nb)
    assert all(not cell.outputs and cell.execution_count is None for cell in code_cells(nb))
    assert "parameters" in code_cells(nb)[0].metadata.get("tags", [])


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


def test_notebook_09_runs_and_shows_the_same_elbo_and_gradients(tmp_path, mnist_dir, kernels_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_PATH", str(kernels_path))
    monkeypatch.setenv("LEGACY_VAE_NOTEBOOK_STEPS", TEST_STEPS)
    monkeypatch.setenv("LEGACY_VAE_NOTEBOOK_OUT", str(tmp_path / "runs"))
    monkeypatch.setenv("LEGACY_VAE_DATA", str(mnist_dir))
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.delenv("TF_USE_LEGACY_KERAS", raising=False)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = execute(NOTEBOOKS / NAME, tmp_path)
    cells = code_cells(nb)
    errors = [(i, out.ename, out.evalue) for i, cell in enumerate(cells) for out in cell.outputs
              if out.output_type == "error"]
    assert not errors, errors
    text = "\n".join(printed(cell) for cell in cells)
    assert not [line for line in text.splitlines() if any(marker in line for marker in START_UP)]
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
    assert any("image/png" in out.get("data", {}) for cell in cells for out in cell.outputs)
    assert list((tmp_path / "runs").glob("09_migrate-*/post.weights.h5"))
