"""The session training loop on real MNIST: artefacts, losses, TensorBoard events, figures.

One short ``--model both`` run (300 steps, a record every 100) is shared by
the module's tests; graph-level checks build their own small graphs.
"""
import json

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from legacy_vae import runs, train
from legacy_vae.config import Config, defaults
from legacy_vae.data import read_data_sets
from legacy_vae.engine import checkpointing, hooks, model_data
from legacy_vae.models import post
from legacy_vae.engine.fast import build

v1 = tf.compat.v1
STEPS, EVERY = 300, 100


def small(model, mnist_dir, **changes):
    settings = dict(steps=STEPS, visualize_every=EVERY, checkpoint_every=EVERY, data_dir=str(mnist_dir))
    return defaults(model).replace(**{**settings, **changes})


@pytest.fixture(scope="module")
def both_run(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("both") / "run"
    summary = train.run([small("post", mnist_dir), small("slim", mnist_dir)], out=str(out), progress=False)
    return out, summary


def png(path, min_width, min_height):
    """Open a PNG, check it decodes, is at least that big and is not blank; return grey pixels."""
    with Image.open(path) as image:
        assert image.format == "PNG"
        image.verify()
    with Image.open(path) as image:
        pixels = np.asarray(image.convert("L"), dtype=np.float32)
    assert pixels.shape[1] >= min_width and pixels.shape[0] >= min_height, (path, pixels.shape)
    assert pixels.std() > 10, f"{path} looks blank"
    return pixels


def events(folder):
    graphs, tags = 0, {}
    for path in sorted((folder / "events").glob("events.out.tfevents.*")):
        for event in v1.train.summary_iterator(str(path)):
            graphs += bool(event.graph_def)
            for value in event.summary.value:
                kind = "image" if value.HasField("image") else "scalar"
                tags.setdefault(value.tag, []).append((event.step, kind))
    return graphs, tags


@pytest.mark.parametrize("model", ["post", "slim"])
def test_training_lowers_the_loss(both_run, model):
    out, _ = both_run
    records = runs.read_metrics(out / model / "metrics.jsonl")
    train_steps, train_elbo = runs.series(records, "train")
    valid_steps, valid_elbo = runs.series(records, "validation")
    # Validation from step 0 (the untrained model), as the seeds' loops showed it.
    assert train_steps == [100, 200, 300] and valid_steps == [0, 100, 200, 300]
    assert train_elbo[-1] > train_elbo[0] + 30, train_elbo  # ELBO up = loss down
    assert valid_elbo[-1] > valid_elbo[0] + 10, valid_elbo
    for record in records:
        assert set(record) == {"model", "step", "split", "elbo", "reconstruction", "kl", "wall_time"}
        assert record["model"] == model
        assert record["reconstruction"] > 0 and record["kl"] > 0
        assert record["elbo"] == pytest.approx(-(record["reconstruction"] + record["kl"]), rel=1e-5)
    assert [r["step"] for r in records if r["split"] == "test"] == [STEPS]


@pytest.mark.parametrize("model", ["post", "slim"])
def test_model_folder_holds_every_artefact(both_run, model, mnist_dir):
    out, summary = both_run
    folder = runs.ModelFolder(out / model)
    assert Config.load(folder.config) == small(model, mnist_dir)
    results = json.loads(folder.results.read_text())
    assert results == summary["models"][model]
    assert results["steps"] == STEPS and results["model"] == model
    assert -250 < results["test_elbo"] < -100
    assert results["test_elbo"] == pytest.approx(-(results["test_reconstruction"] + results["test_kl"]))
    assert results["train_seconds"] > 0 and results["steps_per_second"] > 0
    assert tf.train.latest_checkpoint(str(folder.checkpoints)).endswith(f"model.ckpt-{STEPS}")
    for step in (0, 100, 200, 300):
        assert (folder.checkpoints / f"model.ckpt-{step}.index").exists()
        assert json.loads(folder.state_file(step).read_text())["step"] == step
    for step in (0, 100, 200, 300):
        png(folder.reconstruction_figure(step), 5 * 28, 3 * 28)  # digits, means, a sample
    count = Config.load(folder.config).num_prior_samples  # post 10 (as the post drew), Slim 100
    cols = int(np.ceil(np.sqrt(count)))
    png(folder.figures / "prior_samples.png", cols * 28, int(np.ceil(count / cols)) * 28)
    # The post's epoch figures: one per validation step, gathered in a PNG and a GIF.
    epochs = sorted(p.name for p in folder.figures.glob("epoch*"))
    assert epochs == ([f"epoch-step{s}.png" for s in (0, 100, 200, 300)] + ["epochs.gif", "epochs.png"]
                      if model == "post" else [])
    png(folder.figures / "loss_curves.png", 200, 150)
    # 2-d codes only for the post model's 2-d latent space.
    assert (folder.figures / "codes.png").exists() == (model == "post")
    if model == "post":
        png(folder.figures / "codes.png", 200, 200)


@pytest.mark.parametrize("model", ["post", "slim"])
def test_events_hold_the_graph_scalars_and_images(both_run, model):
    graphs, tags = events(runs.ModelFolder(both_run[0] / model).root)
    assert graphs >= 1
    for key in ("elbo", "reconstruction", "kl"):
        train_steps = [step for step, kind in tags[f"train/{key}"]]
        # SummarySaverHook: after the first step, then every 100 steps, never every step.
        assert train_steps == [1, 101, 201]
        assert [step for step, _ in tags[f"validation/{key}"]] == [0, 100, 200, 300]
        assert [step for step, _ in tags[f"test/{key}"]] == [300]
    assert tags["reconstructions"] == [(0, "image"), (100, "image"), (200, "image"), (300, "image")]
    assert tags["prior_samples"] == [(300, "image")]
    assert tags.get("epoch", []) == ([(s, "image") for s in (0, 100, 200, 300)] if model == "post" else [])


def test_side_by_side_figures_and_run_summary(both_run):
    out, summary = both_run
    for step in (100, 200, 300):
        pixels = png(out / "figures" / f"side_by_side-step{step}.png", 5 * 28, 4 * 28)
        assert pixels.shape[0] > png(out / "post" / "figures" / f"reconstructions-step{step}.png", 1, 1).shape[0]
    png(out / "figures" / "loss_curves.png", 200, 150)
    assert json.loads((out / "results.json").read_text())["models"].keys() == {"post", "slim"}
    assert sorted(p.name for p in out.iterdir()) == ["figures", "post", "results.json", "slim"]


def test_a_used_out_folder_is_refused(both_run, mnist_dir):
    with pytest.raises(ValueError, match="already exists and is not empty.*--resume"):
        train.run([small("post", mnist_dir)], out=str(both_run[0]), progress=False)


def test_fed_images_do_not_advance_the_iterator():
    """Feeding x (as evaluation does) cuts the graph: IteratorGetNext does not run."""
    handles = build(defaults("post").replace(batch_size=10))
    images = np.random.default_rng(0).random((50, 784), dtype=np.float32)
    with v1.Session(graph=handles.graph) as session:
        session.run(handles.init_op)
        handles.input.initialize(session, images, end_step=5)
        first = session.run(handles.input.next_batch)
        handles.input.initialize(session, images, end_step=5)
        for _ in range(3):
            session.run([handles.elbo, handles.reconstructions], handles.feed(images[:7]))
        np.testing.assert_array_equal(session.run(handles.input.next_batch), first)


def test_the_input_pipeline_runs_without_autotuning():
    """tf.data's autotune thread made closing a long-trained session wait (see pipeline.py)."""
    from tensorflow.core.framework import dataset_options_pb2

    handles = build(defaults("post"))
    found = [op for op in handles.graph.get_operations() if op.type == "OptionsDataset"]
    assert len(found) == 1
    options = dataset_options_pb2.Options.FromString(found[0].get_attr("serialized_options"))
    assert options.autotune_options.HasField("enabled") and options.autotune_options.enabled is False


def test_evaluation_on_a_thread_pool_gives_the_same_numbers():
    """The monitor's chunks on two threads at once: the same ELBO terms and codes, bit for bit."""
    from concurrent.futures import ThreadPoolExecutor

    from legacy_vae.engine import monitor

    handles = post.build(defaults("post"))
    images = np.random.default_rng(0).random((2500, 784), dtype=np.float32)  # 3 chunks, the last short
    with v1.Session(graph=handles.graph) as session, ThreadPoolExecutor(2) as pool:
        session.run(handles.init_op)
        alone = monitor.evaluate_with(session, handles, images, handles.z)
        at_once = monitor.evaluate_with(session, handles, images, handles.z, pool=pool)
        codes = [monitor.codes(session, handles, images, pool=p) for p in (None, pool)]
    assert alone[0] == at_once[0] and alone[0]["elbo"] < -100
    np.testing.assert_array_equal(alone[1], at_once[1])
    assert alone[1].shape == (2500, 2)
    np.testing.assert_array_equal(*codes)
    assert not np.array_equal(codes[0], alone[1])  # means, not the sampled codes


def test_fast_and_feed_paths_compute_the_same_loss(mnist_dir):
    config = defaults("post").replace(steps=10)
    data = model_data.prepare_data(config, read_data_sets(mnist_dir, seed=0))
    losses = {}
    for fast in (True, False):
        handles = build(config.replace(feed_dict=not fast))
        assert (handles.input is not None) == fast
        with v1.Session(graph=handles.graph) as session:
            session.run(handles.init_op)  # same seed, same initial weights on both graphs
            if fast:
                handles.input.initialize(session, data.train_images, data.train_start, end_step=2)
                batches = [session.run(handles.input.next_batch) for _ in range(2)]
                handles.input.initialize(session, data.train_images, data.train_start, end_step=2)
                losses[fast] = [session.run([handles.train_op, handles.loss])[1] for _ in range(2)]
            else:
                # The fast path's two batches, fed; the noise is the same stateless draw per step.
                losses[fast] = [session.run([handles.train_op, handles.loss], handles.feed(batch))[1]
                                for batch in batches]
    assert losses[True][0] > 100 and losses[True][0] != losses[True][1]
    assert losses[True] == losses[False]


def test_nan_guard_stops_and_keeps_the_last_checkpoint_good(tmp_path, mnist_dir):
    config = small("slim", mnist_dir, learning_rate=1e6, checkpoint_every=1)
    with pytest.raises(hooks.DivergedError) as caught:
        train.run([config], out=str(tmp_path / "run"), progress=False)
    message = str(caught.value)
    assert message.startswith("slim: loss is ") and "lower --learning-rate (it is 1e+06)" in message
    bad_step = int(message.split(" at step ")[1].split(";")[0])
    last = tf.train.latest_checkpoint(str(tmp_path / "run" / "checkpoints"))
    assert f"the last good checkpoint is {last};" in message
    # The saver ran every step, yet never saw the bad one.
    assert runs.checkpoint_step(last) == bad_step - 1
    reader = tf.train.load_checkpoint(last)
    for name in reader.get_variable_to_shape_map():
        assert np.all(np.isfinite(reader.get_tensor(name))), name
    assert not (tmp_path / "run" / "results.json").exists()


def test_non_finite_weights_are_never_saved(tmp_path):
    handles = post.build(defaults("post"))
    check = checkpointing.FiniteParametersCheck(handles, tmp_path)
    kernel = [v for v in handles.graph.get_collection("trainable_variables") if "kernel" in v.name][0]
    with v1.Session(graph=handles.graph) as session:
        session.run(handles.init_op)
        check.before_save(session, 5)  # finite: no error
        kernel.load(np.full(kernel.shape, np.nan, np.float32), session)
        with pytest.raises(hooks.DivergedError, match="post: the weights became NaN or infinite at step 5"):
            check.before_save(session, 5)
