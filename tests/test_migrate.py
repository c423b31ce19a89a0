"""legacy_vae.migrate in one process: checkpoints of the package's graphs into its Keras 3 models,
the parity check passing and failing, and every bad case refused with all its problems, nothing written.

The checkpoints are written here (a Saver on the package's freshly initialised
graphs, or raw arrays); the 2017 scripts' and a foreign model's checkpoints
are in test_migrate_2017.py.
"""
import re

import numpy as np
import pytest
import tensorflow as tf

from legacy_vae import migrate, parity
from legacy_vae.config import defaults
from legacy_vae.migrate.mapping import tf1_layers
from migrate_support import leftovers, run_python, write_checkpoint

v1 = tf.compat.v1
NAMES = ("post", "slim")
BATCH = 64


def batch(config, seed=0):
    rng = np.random.RandomState(seed)
    images = (rng.rand(BATCH, 784) > 0.5).astype(np.float32)
    return images, rng.randn(BATCH, config.code_size).astype(np.float32)


def save_package_graph(name, folder):
    """A package graph of ``name``, initialised from its seed and saved by a plain Saver (Adam's slots too);
    (config, checkpoint prefix, the graph's ELBO on ``batch``)."""
    config = defaults(name).replace(seed=3)
    handles, session = parity.start(config)
    with handles.graph.as_default():
        prefix = v1.train.Saver().save(session, str(folder / "model.ckpt"))
    images, eps = batch(config)
    elbo = float(session.run(handles.elbo, handles.feed(images, eps)))
    session.close()
    return config, prefix, elbo


@pytest.fixture(scope="module", params=NAMES)
def saved(request, tmp_path_factory):
    return save_package_graph(request.param, tmp_path_factory.mktemp(request.param))


def test_package_checkpoint_gives_the_keras_model_the_same_elbo(saved, tmp_path):
    config, prefix, graph_elbo = saved
    model = migrate.for_config(config)
    done = migrate.convert(prefix, model, tmp_path / "model.weights.h5")
    assert leftovers(tmp_path) == ["model.weights.h5"]
    assert len(done.pairs) == len(model.weights) == (14 if config.model == "post" else 8)
    # The optimizer's state and the step counter are set aside, and listed.
    assert "global_step" in done.skipped and "train/beta1_power" in done.skipped
    assert sum(name.endswith(("/Adam", "/Adam_1")) for name in done.skipped) == 2 * len(done.pairs)
    images, eps = batch(config)
    keras_elbo = float(migrate.elbo(model, images, eps)["elbo"])
    np.testing.assert_allclose(keras_elbo, graph_elbo, rtol=1e-6)
    # A new model of the same shape reads the file with Keras' own load_weights.
    fresh = migrate.for_config(config)
    fresh.load_weights(tmp_path / "model.weights.h5")
    assert float(migrate.elbo(fresh, images, eps)["elbo"]) == keras_elbo


def test_the_file_loads_in_a_process_that_never_imports_the_converter(tmp_path):
    config, prefix, graph_elbo = save_package_graph("post", tmp_path)
    migrate.convert(prefix, migrate.post_model(), tmp_path / "post.weights.h5")
    images, eps = batch(config)
    np.savez(tmp_path / "batch.npz", images=images, eps=eps)
    code = '''
import json, sys
import keras, numpy as np, tensorflow as tf
from keras import layers
x = keras.Input((784,))
h = layers.Dense(200, activation="relu")(layers.Dense(200, activation="relu")(x))
encoder = keras.Model(x, [layers.Dense(2)(h), layers.Dense(2, activation="softplus")(h)])
decoder = keras.Sequential([keras.Input((2,)), layers.Dense(200, activation="relu"),
                            layers.Dense(200, activation="relu"), layers.Dense(784)])
images, eps = keras.Input((784,)), keras.Input((2,))
loc, scale = encoder(images)
z = loc + scale * eps
model = keras.Model([images, eps], {"loc": loc, "scale": scale, "z": z, "logits": decoder(z)})
model.load_weights("post.weights.h5")
data = np.load("batch.npz")
out = model([data["images"], data["eps"]])
log_lik = -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=data["images"], logits=out["logits"]), -1)
kl = tf.reduce_sum(0.5 * (out["loc"] ** 2 + out["scale"] ** 2 - 1.0) - tf.math.log(out["scale"]), -1)
print(json.dumps({"elbo": float(tf.reduce_mean(log_lik - kl)),
                  "imported": sorted(m for m in sys.modules if m.startswith("legacy_vae"))}))
'''
    result = run_python(code, tmp_path)
    assert result["imported"] == []
    np.testing.assert_allclose(result["elbo"], graph_elbo, rtol=1e-6)


def test_parity_passes_on_the_package_models(saved):
    config, prefix, _ = saved
    model = migrate.for_config(config)
    images, eps = batch(config, seed=1)
    report = migrate.assert_parity(migrate.tf1_graph(config), migrate.tf2_loss(model), model,
                                   {"x": images, "eps": eps}, checkpoint=prefix)
    assert report.ok and len(report.rows) == 1 + len(model.weights)
    assert report.rows[0].name == "loss" and report.rows[0].tf1 > 0


def test_parity_fails_with_a_per_variable_report_when_one_weight_is_perturbed(saved, tmp_path):
    config, prefix, _ = saved
    model = migrate.for_config(config)
    migrate.convert(prefix, model, tmp_path / "model.weights.h5")
    target = "decoder/dense_2/bias" if config.model == "post" else "decoder/fc2/biases"
    pair = next(p for p in migrate.match(model, migrate.read(prefix).weights) if p.tf1_name == target)
    pair.variable.assign(pair.variable + 0.05)
    images, eps = batch(config, seed=1)
    with pytest.raises(migrate.ParityError) as failed:
        migrate.assert_parity(migrate.tf1_graph(config), migrate.tf2_loss(model), model,
                              {"x": images, "eps": eps}, checkpoint=prefix, assign=False)
    report = failed.value.report
    rows = {row.name.split(" -> ")[0]: row for row in report.rows}
    assert not rows["loss"].ok and not rows[target].ok
    assert rows[target].weight_difference == pytest.approx(0.05, rel=1e-3)
    assert [name for name, row in rows.items() if row.weight_difference > 0] == [target]
    # The message is the table: one line per variable, the perturbed one marked with why.
    message = str(failed.value)
    assert len(message.splitlines()) == 2 + len(report.rows)
    line = next(line for line in message.splitlines() if line.startswith(target + " ->"))
    assert "DIFFERENT" in line and "the weights differ" in line
    # Copying the graph's weights over again (the default) mends it.
    assert migrate.check(migrate.tf1_graph(config), migrate.tf2_loss(model), model,
                         {"x": images, "eps": eps}, checkpoint=prefix).ok


def _post_arrays(code_size=2, hidden=200):
    rng = np.random.RandomState(0)
    sizes = {"encoder": [(784, hidden), (hidden, hidden), (hidden, code_size), (hidden, code_size)],
             "decoder": [(code_size, hidden), (hidden, hidden), (hidden, 784)]}
    arrays = {}
    for scope, shapes in sizes.items():
        for i, (n_in, n_out) in enumerate(shapes):
            layer = f"{scope}/dense" + (f"_{i}" if i else "")
            arrays[f"{layer}/kernel"] = rng.randn(n_in, n_out) * 0.01
            arrays[f"{layer}/bias"] = rng.randn(n_out) * 0.01
    arrays["global_step"] = np.array(5.0)
    return arrays


def _refused(tmp_path, arrays, model):
    """Convert ``arrays`` into ``model``; the MigrationError, after checking that nothing was written."""
    prefix = write_checkpoint(tmp_path / "ckpt" / "model.ckpt", arrays)
    out = tmp_path / "out"
    with pytest.raises(migrate.MigrationError) as refused:
        migrate.convert(prefix, model, out / "model.weights.h5")
    assert leftovers(out) == []
    return refused.value


def test_missing_weight(tmp_path):
    arrays = _post_arrays()
    del arrays["decoder/dense_2/bias"]
    error = _refused(tmp_path, arrays, migrate.post_model())
    assert len(error.problems) == 1
    assert re.match(r"missing weight: Keras decoder/dense_\d+/bias \[784\] has no counterpart; checkpoint layer "
                    r"decoder/dense_2 holds only decoder/dense_2/kernel$", error.problems[0]), error.problems


def test_shape_mismatch_lists_every_weight_at_once(tmp_path):
    error = _refused(tmp_path, _post_arrays(code_size=3), migrate.post_model(code_size=2))
    assert all(problem.startswith("shape mismatch: ") for problem in error.problems)
    # loc and scale (kernel and bias each) and the decoder's first kernel: five weights, one message.
    assert len(error.problems) == 5, error.problems
    assert "5 problem(s)" in str(error) and "checkpoint decoder/dense/kernel is [3, 200]" in str(error)


def test_ambiguous_match_then_an_explicit_map(tmp_path):
    import keras

    rng = np.random.RandomState(0)
    arrays = {f"{tower}/dense/{part}": rng.randn(*shape) for tower in ("tower_a", "tower_b")
              for part, shape in (("kernel", (4, 4)), ("bias", (4,)))}

    def model():
        return keras.Sequential([keras.Input((4,)), keras.layers.Dense(4), keras.layers.Dense(4)])

    error = _refused(tmp_path, arrays, model())
    assert any(p.startswith("ambiguous: Keras layer ") and "tower_a/dense, tower_b/dense" in p
               for p in error.problems), error.problems
    # Named, the order is the user's: the second Keras layer takes tower_a.
    m = model()
    first, second = (layer.name for layer in m.layers)
    name_map = {f"{first}/kernel": "tower_b/dense/kernel", f"{first}/bias": "tower_b/dense/bias",
                f"{second}/kernel": "tower_a/dense/kernel", f"{second}/bias": "tower_a/dense/bias"}
    prefix = write_checkpoint(tmp_path / "ckpt" / "model.ckpt", arrays)
    migrate.convert(prefix, m, tmp_path / "ok.weights.h5", name_map=name_map, auto=False)
    np.testing.assert_array_equal(m.layers[1].kernel.numpy(), arrays["tower_a/dense/kernel"].astype(np.float32))


def test_matched_twice_and_unmatched_in_an_explicit_map(tmp_path):
    import keras

    arrays = {"net/w1": np.ones((3, 2)), "net/b1": np.zeros(2)}
    m = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dense(2)])
    first, second = (layer.name for layer in m.layers)
    name_map = {f"{first}/kernel": "net/w1", f"{first}/bias": "net/b1", f"{second}/bias": "net/b1"}
    prefix = write_checkpoint(tmp_path / "ckpt" / "model.ckpt", arrays)
    with pytest.raises(migrate.MigrationError) as refused:
        migrate.convert(prefix, m, tmp_path / "out" / "m.weights.h5", name_map=name_map, auto=False)
    problems = refused.value.problems
    assert f"matched twice: net/b1 would go into both {first}/bias and {second}/bias" in problems
    assert f"unmatched: {second}/kernel [2, 2] is not in name_map" in problems
    assert leftovers(tmp_path / "out") == []


def test_an_unused_checkpoint_variable_is_a_problem(tmp_path):
    arrays = _post_arrays()
    arrays["encoder/dense_4/kernel"] = np.zeros((200, 7))
    error = _refused(tmp_path, arrays, migrate.post_model())
    assert error.problems == ["unused: checkpoint variable encoder/dense_4/kernel [200, 7] matched no Keras weight"]


@pytest.mark.parametrize("kind", ["text file", "garbage index", "keras file", "missing", "empty folder"])
def test_not_a_checkpoint(kind, tmp_path):
    import keras

    if kind == "text file":
        path = tmp_path / "model.ckpt"
        path.write_text("not a checkpoint\n")
        expected = r"is not a TF1 checkpoint: there is no .*model\.ckpt\.index beside it"
    elif kind == "garbage index":
        (tmp_path / "model.ckpt.index").write_bytes(b"\x00garbage" * 10)
        (tmp_path / "model.ckpt.data-00000-of-00001").write_bytes(b"\x00" * 100)
        path = tmp_path / "model.ckpt"
        expected = r"model\.ckpt cannot be read as a TF1 checkpoint \(.*\); is it a Saver's checkpoint"
    elif kind == "keras file":
        path = tmp_path / "other.weights.h5"
        keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]).save_weights(path)
        expected = r"other\.weights\.h5 is not a TF1 checkpoint"
    elif kind == "missing":
        path = tmp_path / "nowhere" / "model.ckpt-600"
        expected = r"model\.ckpt-600: no such file or checkpoint"
    else:
        path = tmp_path / "empty"
        path.mkdir()
        expected = r"empty is a folder with no TF1 checkpoint in it"
    out = tmp_path / "out"
    with pytest.raises(migrate.MigrationError, match=expected):
        migrate.convert(path, migrate.post_model(), out / "post.weights.h5")
    assert leftovers(out) == []


def test_a_failed_write_leaves_no_file(saved, tmp_path, monkeypatch):
    config, prefix, _ = saved
    model = migrate.for_config(config)

    def half_written(path):
        with open(path, "wb") as f:
            f.write(b"half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(model, "save_weights", half_written)
    with pytest.raises(OSError, match="could not write .*model.weights.h5: No space left on device"):
        migrate.convert(prefix, model, tmp_path / "model.weights.h5")
    assert leftovers(tmp_path) == []


def test_tf1_names_are_read_back_in_the_order_they_were_made():
    shapes = {name: np.zeros(1) for name in (
        "s/dense/kernel", "s/dense_10/kernel", "s/dense_2/kernel", "s/dense_1/kernel",
        "s/fc2/weights", "s/fc1/weights", "s/conv2d_1/kernel", "s/conv2d/kernel", "s/conv2d/bias")}
    queues = tf1_layers(shapes)
    assert [layer.path for layer in queues[("s", "dense")]] == ["s/dense", "s/dense_1", "s/dense_2", "s/dense_10"]
    assert [layer.path for layer in queues[("s", "fc")]] == ["s/fc1", "s/fc2"]
    assert [layer.path for layer in queues[("s", "conv2d")]] == ["s/conv2d", "s/conv2d_1"]
    assert queues[("s", "conv2d")][0].names == {"kernel": "s/conv2d/kernel", "bias": "s/conv2d/bias"}
    assert queues[("s", "fc")][0].names == {"kernel": "s/fc1/weights"}


def test_the_converter_and_the_check_run_on_keras_3_without_tf_keras(tmp_path):
    """In a process of their own: nothing sets TF_USE_LEGACY_KERAS, and tf-keras is never imported."""
    config, prefix, graph_elbo = save_package_graph("post", tmp_path)
    code = f'''
import json, os, sys
import numpy as np
from legacy_vae import migrate
from legacy_vae.config import defaults
config = defaults("post")
model = migrate.post_model()
migrate.convert({prefix!r}, model, "post.weights.h5")
rng = np.random.RandomState(0)
inputs = {{"x": rng.rand(8, 784).astype(np.float32), "eps": rng.randn(8, 2).astype(np.float32)}}
report = migrate.assert_parity(migrate.tf1_graph(config), migrate.tf2_loss(model), model, inputs, checkpoint={prefix!r})
import keras, tensorflow as tf
print(json.dumps({{"ok": report.ok, "variable": os.environ.get("TF_USE_LEGACY_KERAS"), "keras": keras.__version__,
                  "tf_keras": "tf_keras" in sys.modules, "tf.keras": tf.keras.__name__}}))
'''
    result = run_python(code, tmp_path)
    assert result["ok"] and result["variable"] is None and not result["tf_keras"]
    assert result["keras"].startswith("3.") and result["tf.keras"].startswith("keras")
