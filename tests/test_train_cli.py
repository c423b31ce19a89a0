"""``legacy-vae train`` end to end, as a user runs it: both models, the final table, errors."""
import json
import os
import subprocess
import sys

import pytest
import tensorflow as tf

from legacy_vae import runs


def legacy_vae(*args, cwd, timeout=300):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    return subprocess.run([sys.executable, "-m", "legacy_vae", "train", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def both(tmp_path_factory, mnist_dir):
    cwd = tmp_path_factory.mktemp("cli")
    result = legacy_vae("--model", "both", "--steps", "200", "--visualize-every", "100",
                        "--checkpoint-every", "100", "--data-dir", str(mnist_dir), "--out", "run",
                        "--no-progress", cwd=cwd)
    assert result.returncode == 0, result.stderr
    return cwd, result


def test_both_models_train_into_their_own_folders(both):
    cwd, _ = both
    run = cwd / "run"
    # Nothing is written outside the run folder.
    assert sorted(p.name for p in cwd.iterdir()) == ["run"]
    assert sorted(p.name for p in run.iterdir()) == ["figures", "post", "results.json", "slim"]
    for model, binarize, code_size in (("post", "none", 2), ("slim", "static", 64)):
        folder = runs.ModelFolder(run / model)
        config = json.loads(folder.config.read_text())
        assert (config["model"], config["steps"], config["binarize"], config["code_size"]) == \
            (model, 200, binarize, code_size)
        assert runs.checkpoint_step(tf.train.latest_checkpoint(str(folder.checkpoints))) == 200
        assert list(folder.events.glob("events.out.tfevents.*"))
        for name in ("reconstructions-step100.png", "reconstructions-step200.png", "prior_samples.png",
                     "loss_curves.png"):
            assert (folder.figures / name).stat().st_size > 1000, (model, name)
        records = runs.read_metrics(folder.metrics)
        assert {(r["split"], r["step"]) for r in records} == {
            ("train", 100), ("train", 200), ("validation", 0), ("validation", 100), ("validation", 200),
            ("test", 200)}
    summary = json.loads((run / "results.json").read_text())
    assert summary["models"].keys() == {"post", "slim"}
    assert all(result["steps"] == 200 for result in summary["models"].values())


def test_side_by_side_figures_at_the_common_steps(both):
    figures = both[0] / "run" / "figures"
    assert sorted(p.name for p in figures.iterdir()) == [
        "loss_curves.png", "side_by_side-step0.png", "side_by_side-step100.png", "side_by_side-step200.png"]


def test_the_final_table_is_printed(both):
    _, result = both
    lines = result.stdout.splitlines()
    header = [line for line in lines if line.startswith("model ")]
    assert header and "test ELBO" in header[0] and "steps/s" in header[0]
    rows = {line.split()[0]: line.split() for line in lines if line.split()[:1] in (["post"], ["slim"])}
    summary = json.loads((both[0] / "run" / "results.json").read_text())["models"]
    for model in ("post", "slim"):
        assert rows[model][1] == "200"
        assert float(rows[model][2]) == pytest.approx(summary[model]["test_elbo"], abs=0.006)
    # Without a progress bar each validation is one line.
    assert "post step 100/200: train loss " in result.stdout
    assert "slim step 200/200: train loss " in result.stdout


def test_a_used_out_folder_is_refused_with_status_2(both, command):
    cwd, _ = both
    status, _, err = command("train", "--model", "post", "--out", "run", cwd=cwd)
    assert status == 2
    assert "--out run already exists and is not empty" in err
    assert "legacy-vae train --resume run" in err


def test_resume_of_a_missing_folder_is_refused(tmp_path, command):
    status, _, err = command("train", "--resume", tmp_path / "nowhere", cwd=tmp_path)
    assert status == 2
    assert "nowhere: no such folder" in err


def test_readmes_gallery_script_makes_small_pngs_from_a_run(both, tmp_path):
    """docs/gallery.py, as README runs it, on this short run (and a stand-in CVAE manifold)."""
    import importlib.util

    from PIL import Image

    script = os.path.join(os.path.dirname(__file__), os.pardir, "docs", "gallery.py")
    spec = importlib.util.spec_from_file_location("gallery", script)
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    cvae = tmp_path / "cvae" / "figures"
    cvae.mkdir(parents=True)
    Image.new("RGB", (500, 500), "white").save(cvae / "manifold.png")
    run, out = both[0] / "run", tmp_path / "docs"
    out.mkdir()
    made = [gallery.side_by_side(run, out), gallery.post_epochs(run, out), gallery.cvae_manifold(cvae.parent, out),
            gallery.kl_monte_carlo(run, out, images=20, max_draws=2000)]
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in made)  # no partial files left
    for path in made:
        image = Image.open(path)
        assert image.mode == "P" and path.stat().st_size < 100_000, path
    # The epochs sheet stacks the rows of steps 0 and 200 (the last).
    row = Image.open(run / "post" / "figures" / "epoch-step0.png")
    assert Image.open(made[1]).height == pytest.approx(2 * row.height * 2 / 3, abs=2)


def test_a_damaged_mnist_file_stops_train_with_one_line_and_no_run_folder(tmp_path, mnist_dir):
    """MNIST is read in a thread while TensorFlow imports (legacy_vae.train): a cut-short file
    still ends the command with the reader's DataError, one line naming the file, exit status 1."""
    data = tmp_path / "data"
    data.mkdir()
    for source in mnist_dir.glob("*-ubyte.gz"):
        (data / source.name).write_bytes(source.read_bytes())
    damaged = data / "train-images-idx3-ubyte.gz"
    damaged.write_bytes(damaged.read_bytes()[:100_000])
    result = legacy_vae("--model", "post", "--steps", "10", "--data-dir", str(data), "--out", "run",
                        "--no-progress", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert f"{damaged} is truncated or corrupt" in result.stderr
    assert not (tmp_path / "run").exists()
