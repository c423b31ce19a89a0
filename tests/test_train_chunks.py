"""Many training steps per session.run: the while loop ``train_steps`` computes what ``train_op`` does.

With one tower the loop body and ``train_op`` run the same kernels on the
same numbers, so K loop steps must give bit-identical weights and Adam state
to K ``train_op`` runs. With two towers the loop computes the same loss and
gradient with sums in another order, so it is compared within float
tolerance (and still exactly with itself: a run is repeatable).
"""
import numpy as np
import pytest
import tensorflow as tf

from legacy_vae import runs
from legacy_vae.config import defaults
from legacy_vae.data import read_data_sets
from legacy_vae.engine import hooks, model_data
from legacy_vae.engine.fast import build
from legacy_vae.engine.loop import run_length, train_model
from legacy_vae.engine.threads import session_config

v1 = tf.compat.v1


def images(count=2000, seed=0):
    return np.random.default_rng(seed).random((count, 784), dtype=np.float32)


def state(session, handles):
    return {v.op.name: session.run(v) for v in handles.graph.get_collection("variables")}


def assert_same(a, b):
    assert sorted(a) == sorted(b) and "global_step" in a and any("Adam" in name for name in a)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def single_steps(config, data, steps, order=None):
    """Weights and the losses of ``steps`` train_op runs, one step per run (``order``: a DataSet state)."""
    handles = build(config)
    with v1.Session(graph=handles.graph, config=session_config(1, 1)) as session:
        session.run(handles.init_op)
        handles.input.initialize(session, data, order, end_step=steps)
        losses = [session.run([handles.train_op, handles.loss])[1] for _ in range(steps)]
        return state(session, handles), losses


@pytest.mark.parametrize("model, binarize", [("post", "none"), ("slim", "none"), ("slim", "dynamic"),
                                             ("post", "dynamic")])
def test_k_loop_steps_equal_k_single_steps(model, binarize):
    config = defaults(model).replace(binarize=binarize, batch_size=50, towers=1)
    data = images()
    expected, losses = single_steps(config, data, 100)

    handles = build(config)
    assert handles.train_steps is not None
    with v1.Session(graph=handles.graph, config=session_config(1, 1)) as session:
        variables = len(handles.graph.get_collection("variables"))
        session.run(handles.init_op)
        handles.input.initialize(session, data, end_step=100)
        outputs = [session.run([handles.train_steps, handles.train_run], {handles.steps_per_run: k})[1]
                   for k in (1, 49, 50)]
        assert session.run(handles.global_step) == 100
        assert_same(state(session, handles), expected)
    assert variables == len(expected)  # the loop made no variables of its own
    assert [int(run.steps) for run in outputs] == [1, 49, 50]
    last, first = outputs[2], outputs[1]
    assert last.loss == losses[99] and last.elbo == -losses[99] and int(last.nonfinite_step) == -1
    assert last.reconstruction + last.kl == pytest.approx(last.loss, rel=1e-5)
    assert first.first_elbo == -losses[1]
    assert last.mean_loss == np.mean(np.asarray(losses[50:], np.float64))
    assert last.sums[0] == np.sum(np.asarray(losses[50:], np.float64))


def loop_steps(config, data, steps, per_run=50):
    """Weights and the last loss after ``steps`` loop steps (runs of ``per_run``)."""
    handles = build(config)
    with v1.Session(graph=handles.graph, config=session_config(1, 2)) as session:
        session.run(handles.init_op)
        handles.input.initialize(session, data, end_step=steps)
        for _ in range(steps // per_run):
            run = session.run([handles.train_steps, handles.train_run], {handles.steps_per_run: per_run})[1]
        return state(session, handles), float(run.loss), handles.graph


@pytest.mark.parametrize("model", ["post", "slim"])
def test_two_towers_take_the_same_steps_up_to_rounding(model, mnist_dir):
    """Towers sum in another order, so the two runs part by float rounding, and
    training amplifies that: Adam divides each gradient by its own running
    scale, so on weights whose gradient is ~0 (near-blank border pixels)
    rounding can flip an update's sign. Measured on MNIST rows 2000-4000, batch
    50 (2026-12-07, Intel Xeon): after 20 steps the worst kernel differs by
    8e-8 of its norm (post) and the last loss is equal; after 50 steps by 2e-3
    and after 100 by 2.4e-2, loss 4e-4 apart. So the steps are compared over 20
    steps, where rounding is all there is, and repeatability over 100."""
    config = defaults(model).replace(batch_size=50)
    data = read_data_sets(mnist_dir, seed=0).train.images[2000:4000]
    one, one_loss, _ = loop_steps(config.replace(towers=1), data, 20, per_run=20)
    two, two_loss, graph = loop_steps(config.replace(towers=2), data, 20, per_run=20)
    # Each tower is the model on its own slice of the batch, on the same variables.
    # (The loop body is a function of the graph's library: while_loop v2.)
    body = [node.name for f in graph.as_graph_def().library.function for node in f.node_def]
    assert {name.split("/")[0] for name in body if name.startswith("tower_")} == {"tower_0", "tower_1"}
    one_tower = build(config.replace(towers=1)).graph
    assert len(graph.get_collection("trainable_variables")) == len(one_tower.get_collection("trainable_variables"))
    assert sorted(one) == sorted(two) and int(two["global_step"]) == 20
    for name in (n for n in one if n.endswith(("kernel", "weights"))):
        assert np.linalg.norm(two[name] - one[name]) < 1e-5 * np.linalg.norm(one[name]), name
    assert two_loss == pytest.approx(one_loss, rel=1e-5)
    # Repeatable with two threads, over a longer run.
    first, first_loss, _ = loop_steps(config.replace(towers=2), data, 100)
    again, again_loss, _ = loop_steps(config.replace(towers=2), data, 100)
    assert_same(first, again)
    assert first_loss == again_loss


def test_feed_dict_graphs_have_no_loop():
    handles = build(defaults("post").replace(feed_dict=True))
    assert handles.train_steps is None and handles.steps_per_run is None and handles.train_run is None


def test_the_loop_stops_at_the_exact_first_non_finite_step():
    config = defaults("slim").replace(learning_rate=1e6, batch_size=50, towers=1)
    data = images()
    _, losses = single_steps(config, data, 60)
    bad = next(i for i, loss in enumerate(losses) if not np.isfinite(loss)) + 1  # global step after it
    assert 1 < bad < 60, losses

    handles = build(config)
    with v1.Session(graph=handles.graph, config=session_config(1, 1)) as session:
        session.run(handles.init_op)
        handles.input.initialize(session, data, end_step=60)
        run = session.run([handles.train_steps, handles.train_run], {handles.steps_per_run: 60})[1]
        assert int(run.nonfinite_step) == bad and int(run.steps) == bad
        assert session.run(handles.global_step) == bad and not np.isfinite(run.loss)


def test_the_guard_names_the_exact_step_of_a_long_run(tmp_path, mnist_dir):
    config = defaults("slim").replace(learning_rate=1e6, steps=200, visualize_every=200,
                                      checkpoint_every=200, data_dir=str(mnist_dir), towers=1)
    data = model_data.prepare_data(config, read_data_sets(mnist_dir, seed=config.seed))
    _, losses = single_steps(config, data.train_images, 200)
    bad = next(i for i, loss in enumerate(losses) if not np.isfinite(loss)) + 1
    with pytest.raises(hooks.DivergedError, match=f"slim: loss is .* at step {bad}; "):
        train_model(config, tmp_path / "slim", data, progress=False)


def test_run_length_stops_at_every_boundary():
    assert run_length(0, 1000, (100, 100, 100)) == 50
    assert run_length(50, 1000, (100, 100, 100)) == 50
    assert run_length(0, 130, (35, 45, 35)) == 35
    assert run_length(35, 130, (35, 45, 35)) == 10
    assert run_length(120, 130, (1000, 1000)) == 10
    assert run_length(7, 1000, (1,)) == 1


def test_records_and_checkpoints_land_on_odd_steps(tmp_path, mnist_dir):
    """visualize/checkpoint every 35/45 steps: the same steps, and the same weights, as one step per run."""
    config = defaults("post").replace(steps=130, visualize_every=35, checkpoint_every=45, data_dir=str(mnist_dir),
                                      towers=1)
    data = model_data.prepare_data(config, read_data_sets(mnist_dir, seed=config.seed))
    folder = runs.ModelFolder(tmp_path / "post")
    train_model(config, folder.root, data, progress=False)

    records = runs.read_metrics(folder.metrics)
    assert runs.series(records, "validation")[0] == [0, 35, 70, 105, 130]
    assert runs.series(records, "train")[0] == [35, 70, 105, 130]
    saved = sorted(runs.checkpoint_step(p.stem) for p in folder.checkpoints.glob("state-*.json"))
    assert saved == [0, 45, 90, 130]
    summaries = [event.step for path in folder.events.glob("events.out.tfevents.*")
                 for event in v1.train.summary_iterator(str(path))
                 for value in event.summary.value if value.tag == "train/elbo"]
    assert summaries == [1, 36, 71, 106]

    # No hook pulled an extra batch: the weights are those of 130 single steps,
    # and each train record is the exact mean of its window's losses.
    expected, losses = single_steps(config, data.train_images, 130, data.train_start)
    reader = tf.train.load_checkpoint(tf.train.latest_checkpoint(str(folder.checkpoints)))
    assert_same({name: reader.get_tensor(name) for name in reader.get_variable_to_shape_map()}, expected)
    train = runs.series(records, "train")[1]
    windows = [(0, 35), (35, 70), (70, 105), (105, 130)]
    expected_train = [-np.mean(np.asarray(losses[a:b], np.float64)) for a, b in windows]
    assert train == expected_train
