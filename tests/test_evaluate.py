"""``legacy-vae evaluate`` on small trained runs: bounds, k, chunking, the CLI and its errors."""
import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from legacy_vae import cli, evaluate
from legacy_vae.config import defaults
from legacy_vae.data import binarize_static, read_data_sets
from legacy_vae.evaluate.inputs import find_checkpoint, load_images
from legacy_vae.models import post, slim_vae

v1 = tf.compat.v1


def train_run(folder, config, data_dir):
    """Train a graph model for config.steps feed_dict steps and leave a run folder per the contract."""
    handles = {"post": post.build, "slim": slim_vae.build}[config.model](config)
    train = read_data_sets(data_dir, seed=config.seed).train
    with v1.Session(graph=handles.graph) as session:
        session.run(handles.init_op)
        for _ in range(config.steps):
            images, _ = train.next_batch(config.batch_size)
            if config.binarize == "static":
                images = binarize_static(images)
            session.run(handles.train_op, handles.feed(images))
        (folder / "checkpoints").mkdir(parents=True)
        with handles.graph.as_default():
            v1.train.Saver().save(session, str(folder / "checkpoints" / "model.ckpt"),
                                  global_step=handles.global_step)
    config.save(folder / "config.json")
    return folder


@pytest.fixture(scope="module")
def both_runs(tmp_path_factory, mnist_dir):
    """RUN/post and RUN/slim, as ``legacy-vae train --model both`` lays them out."""
    root = tmp_path_factory.mktemp("run")
    train_run(root / "post", defaults("post").replace(steps=300, data_dir=str(mnist_dir)), mnist_dir)
    train_run(root / "slim", defaults("slim").replace(steps=60, data_dir=str(mnist_dir)), mnist_dir)
    return root


@pytest.fixture(scope="module")
def post_model(both_runs, mnist_dir):
    run = both_runs / "post"
    config = evaluate.load_config(run)
    images, label = load_images(config, "test", 0, mnist_dir, limit=100)
    assert label == "grey"
    with evaluate.open_model(config, find_checkpoint(run)) as model:
        yield model, images


def test_iw_bound_is_above_the_elbo_and_rises_with_k(post_model):
    model, images = post_model
    results = {k: evaluate.evaluate_images(model, images, k, seed=0, progress=False) for k in (1, 10, 100)}
    mean = {k: r["log_likelihood"].mean() for k, r in results.items()}
    # The one-sample ELBO of five seeds per image: a less noisy reference.
    more = [evaluate.evaluate_images(model, images, 1, seed=s, progress=False)["elbo"] for s in range(1, 5)]
    elbo_5 = np.mean([results[100]["elbo"]] + more, axis=0)

    def paired_stderr(values):
        return values.std(ddof=1) / np.sqrt(len(values))

    # The k = 10 draws start with the k = 1 draw (per-image streams), so the means rise cleanly.
    assert mean[1] < mean[10] < mean[100]
    gap = results[100]["log_likelihood"] - elbo_5
    assert gap.mean() > 3 * paired_stderr(gap)
    # k = 1 is a one-sample ELBO; averaging log-weights over k = 100 gives a precise one.
    for estimate in (results[1]["log_likelihood"], results[100]["mean_log_weight"]):
        assert abs((estimate - elbo_5).mean()) < 4 * paired_stderr(estimate - elbo_5)
    assert np.all(results[100]["effective_samples"] <= 100 + 1e-9)


def test_chunks_and_image_batches_do_not_change_the_values(post_model):
    model, images = post_model
    images = images[:30]
    reference = evaluate.evaluate_images(model, images, 100, seed=3, progress=False, rows_per_run=3000)
    chunked = evaluate.evaluate_images(model, images, 100, seed=3, progress=False, rows_per_run=7 * 30)
    rebatched = evaluate.evaluate_images(model, images, 100, seed=3, progress=False, batch_images=7)
    first = evaluate.evaluate_images(model, images[:5], 100, seed=3, progress=False)
    # Same samples; only float32 summation order inside the decoder differs with the batch shape.
    for other in (chunked, rebatched):
        np.testing.assert_allclose(other["log_likelihood"], reference["log_likelihood"], rtol=0, atol=1e-4)
        np.testing.assert_allclose(other["elbo"], reference["elbo"], rtol=0, atol=1e-4)
    np.testing.assert_allclose(first["log_likelihood"], reference["log_likelihood"][:5], rtol=0, atol=1e-4)
    other_seed = evaluate.evaluate_images(model, images, 100, seed=4, progress=False)
    assert not np.allclose(other_seed["log_likelihood"], reference["log_likelihood"], atol=1e-3)


def test_cli_evaluates_both_models_and_writes_json(both_runs, mnist_dir, capsys, monkeypatch):
    monkeypatch.setenv("TF_OVERRIDE_GLOBAL_THREADPOOL", "1")  # cli.main sets it in os.environ; keep it to this test
    status = cli.main(["evaluate", str(both_runs), "--iw-samples", "20", "--limit", "50",
                       "--data-dir", str(mnist_dir), "--no-progress"])
    assert status == 0
    table = capsys.readouterr().out
    assert "IW log-lik" in table and "gap" in table
    assert any(line.startswith("post") and " grey " in line for line in table.splitlines())
    assert any(line.startswith("slim") and "binarized 0.5" in line for line in table.splitlines())
    for name in ("post", "slim"):
        result = json.loads((both_runs / name / "evaluation.json").read_text())
        assert (result["model"], result["images"], result["iw_samples"], result["split"]) == (name, 50, 20, "test")
        assert result["step"] == {"post": 300, "slim": 60}[name]
        assert result["iw_log_likelihood"] > result["elbo"]
        assert np.isclose(result["gap"], result["iw_log_likelihood"] - result["elbo"])
        assert f"{result['elbo']:.2f}" in table
    combined = json.loads((both_runs / "evaluation.json").read_text())
    assert set(combined["models"]) == {"post", "slim"}
    assert combined["models"]["post"] == json.loads((both_runs / "post" / "evaluation.json").read_text())
    assert not list(both_runs.rglob("*.part"))


def test_run_without_checkpoint_fails_clearly(tmp_path):
    defaults("post").save(tmp_path / "config.json")
    done = subprocess.run([sys.executable, "-m", "legacy_vae", "evaluate", str(tmp_path), "--no-progress"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert str(tmp_path / "checkpoints") in done.stderr and "legacy-vae train" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "evaluation.json").exists()


def test_folder_without_runs_and_unknown_split_are_rejected(tmp_path, capsys):
    assert cli.main(["evaluate", str(tmp_path)]) == 2
    assert "no config.json" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["evaluate", str(tmp_path), "--split", "dev"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'dev'" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown split 'dev'"):
        evaluate.main(tmp_path, split="dev")


def test_dynamic_runs_are_evaluated_on_one_seeded_draw(mnist_dir):
    config = defaults("post").replace(binarize="dynamic", data_dir=str(mnist_dir))
    first, label = load_images(config, "validation", 5, None, limit=20)
    again, _ = load_images(config, "validation", 5, None, limit=40)
    other, _ = load_images(config, "validation", 6, None, limit=20)
    assert label == "dynamic"
    assert set(np.unique(first)) <= {0.0, 1.0}
    np.testing.assert_array_equal(first, again[:20])
    assert not np.array_equal(first, other)


def test_binarize_override_scores_the_grey_model_on_binarized_digits(both_runs, mnist_dir, capsys, monkeypatch):
    monkeypatch.setenv("TF_OVERRIDE_GLOBAL_THREADPOOL", "1")
    config = evaluate.load_config(both_runs / "post")
    images, label = load_images(config, "test", 0, mnist_dir, limit=10, binarize="static")
    assert label == "binarized 0.5 (trained on grey)"
    assert set(np.unique(images)) == {0.0, 1.0}
    status = cli.main(["evaluate", str(both_runs / "post"), "--iw-samples", "5", "--limit", "10",
                       "--binarize", "static", "--data-dir", str(mnist_dir), "--no-progress"])
    assert status == 0
    result = json.loads((both_runs / "post" / "evaluation.json").read_text())
    assert (result["binarize"], result["trained_binarize"]) == ("static", "none")
    assert "trained on grey" in capsys.readouterr().out
    with pytest.raises(ValueError, match="unknown binarization 'half'"):
        load_images(config, "test", 0, mnist_dir, limit=10, binarize="half")
