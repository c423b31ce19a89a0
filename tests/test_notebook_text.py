"""What every notebook tells besides its code: where it comes from, what changed since, what to take away.

Every notebook ends with a Summary, three exercises and its sources (links
to the documents it rebuilds); those that rebuild a seed's code have a table
from the seed's TF1 calls to today's. The notebooks that train do so for the
seeds' step counts unless LEGACY_VAE_NOTEBOOK_STEPS says otherwise, and then
say so. Cheap checks, no kernel: the parameters cell is run on its own.
"""
import re
from pathlib import Path

import nbformat
import pytest

from legacy_vae.config import defaults

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
POST = "https://danijar.com/building-variational-auto-encoders-in-tensorflow/"
TUTORIAL = "https://www.tensorflow.org/tutorials/generative/cvae"
KINGMA = "https://arxiv.org/abs/1312.6114"
BURDA = "https://arxiv.org/abs/1509.00519"
COURSE = "course notebook"
UPGRADE = "https://www.tensorflow.org/guide/migrate/upgrade"
# What each notebook must name: its sources, and the seed calls its table translates.
MUST_NAME = {
    "00_tf1_code_on_tf2.ipynb": [POST, COURSE, UPGRADE, "`tf_upgrade_v2`", "`--mode SAFETY`",
                                 "`tf.contrib.distributions`", "`tfp.distributions`",
                                 "`import tf_slim as slim`", "`from legacy_vae import data as input_data`",
                                 "`tf.compat.v1.disable_eager_execution()`", "`TF_USE_LEGACY_KERAS=1`"],
    "01_post_vae.ipynb": [POST, KINGMA, BURDA, "`tfd.MultivariateNormalDiag(loc, scale)`",
                          "`tf.layers.dense(x, 200, tf.nn.relu)`", "`code = posterior.sample()`",
                          "`code = loc + scale * eps`", "`tfd.Independent(tfd.Bernoulli(logits), 2)`",
                          "`tfd.kl_divergence`", "`input_data.read_data_sets",
                          "`legacy_vae.data.read_data_sets()`", "a `tf.Graph()` of its own"],
    "02_slim_vae.ipynb": [COURSE, KINGMA, BURDA, "`slim = tf.contrib.slim`", "`import tf_slim as slim`",
                          "`input_data.read_data_sets", "`tf.reset_default_graph()` at the top of the model cell",
                          "a `tf.Graph()` of its own"],
    "03_side_by_side.ipynb": [POST, COURSE, KINGMA, BURDA],
    "04_reset_default_graph_pitfalls.ipynb": [POST, COURSE, "`tf.reset_default_graph()` at the top of the model cell",
                                              "a graph of its own per build"],
    "05_tf1_vs_tf2_losses.ipynb": [KINGMA, TUTORIAL, POST, "`tfd.kl_divergence(posterior, prior)`"],
    "06_tf2_cvae.ipynb": [TUTORIAL, KINGMA, BURDA, "`tf.keras.datasets.mnist.load_data()`"],
    "07_distributed_tf1.ipynb": [POST, "`replica_device_setter`", "`MonitoredTrainingSession`",
                                 "`SyncReplicasOptimizer`"],
    "08_fast_engine.ipynb": [POST, "`tf.compat.v1.while_loop`", "`tf.data`", "`inter_op_parallelism_threads`"],
    "09_migrate_tf1_checkpoint.ipynb": [POST, UPGRADE, "`legacy-vae convert`", "`TF_USE_LEGACY_KERAS=1`",
                                        "`load_weights`", "`migrate.assert_parity`"],
}


# The seeds' step counts, which the notebooks train for unless LEGACY_VAE_NOTEBOOK_STEPS says otherwise.
FAITHFUL = {"post": defaults("post").steps, "slim": defaults("slim").steps, "cvae": defaults("cvae").steps}
DEFAULT_STEPS = {
    "00_tf1_code_on_tf2.ipynb": {"post": FAITHFUL["post"], "slim": FAITHFUL["slim"]},
    "01_post_vae.ipynb": FAITHFUL["post"],
    "02_slim_vae.ipynb": FAITHFUL["slim"],
    "03_side_by_side.ipynb": {"post": FAITHFUL["post"], "slim": FAITHFUL["slim"]},
    "05_tf1_vs_tf2_losses.ipynb": {"post": FAITHFUL["post"], "slim": FAITHFUL["slim"]},
    "06_tf2_cvae.ipynb": FAITHFUL["cvae"],
}


def markdown_after_last_code(nb) -> str:
    last_code = max(i for i, cell in enumerate(nb.cells) if cell.cell_type == "code")
    return "\n".join(cell.source for cell in nb.cells[last_code + 1:] if cell.cell_type == "markdown")


def test_every_notebook_is_listed():
    assert sorted(MUST_NAME) == sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))


@pytest.mark.parametrize("name", sorted(MUST_NAME))
def test_ends_with_summary_three_exercises_and_sources(name):
    nb = nbformat.read(str(NOTEBOOKS / name), as_version=4)
    ending = markdown_after_last_code(nb)
    headings = re.findall(r"^## (.+)$", ending, re.M)
    assert headings[-3:] == ["Summary", "Exercises", "Sources"], headings
    exercises = ending.split("## Exercises", 1)[1].split("## Sources", 1)[0]
    assert re.findall(r"^(\d+)\. ", exercises, re.M) == ["1", "2", "3"]
    everything = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    missing = [text for text in MUST_NAME[name] if text not in everything]
    assert not missing, f"{name} does not name {missing}"


@pytest.mark.parametrize("name", sorted(MUST_NAME))
def test_no_notebook_prints_package_source_for_code(name):
    # The notebooks write the code a learner came for in their cells; printing the package's
    # source (inspect.getsource) shows nothing on a code host or before the notebook is run.
    nb = nbformat.read(str(NOTEBOOKS / name), as_version=4)
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    assert "getsource" not in code and not re.search(r"^\s*(import inspect|from inspect )", code, re.M)


@pytest.mark.parametrize("name", sorted(DEFAULT_STEPS))
def test_parameters_cell_trains_for_the_seeds_steps(name, monkeypatch, capsys):
    """Run alone, the parameters cell gives the seeds' step counts, a seed, and says nothing;
    with LEGACY_VAE_NOTEBOOK_STEPS set it takes that number and prints one line saying so."""
    nb = nbformat.read(str(NOTEBOOKS / name), as_version=4)
    cell = next(cell for cell in nb.cells if cell.cell_type == "code")
    monkeypatch.delenv("LEGACY_VAE_NOTEBOOK_STEPS", raising=False)
    faithful = {}
    exec(cell.source, faithful)
    assert faithful["STEPS"] == DEFAULT_STEPS[name]
    assert faithful["SEED"] == 0
    assert capsys.readouterr().out == ""
    monkeypatch.setenv("LEGACY_VAE_NOTEBOOK_STEPS", "30")
    shrunk = {}
    exec(cell.source, shrunk)
    steps = shrunk["STEPS"]
    assert (set(steps.values()) if isinstance(steps, dict) else {steps}) == {30}
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == 1 and "LEGACY_VAE_NOTEBOOK_STEPS" in printed[0], printed
