"""Restoring graph models for evaluation, and decoding fed codes exactly as the model does."""
import numpy as np
import pytest
import tensorflow as tf

from legacy_vae.config import defaults
from legacy_vae.data import binarize_static, read_data_sets
from legacy_vae.evaluate.graph import GraphModel
from legacy_vae.evaluate.inputs import find_checkpoint
from legacy_vae.models import post, slim_vae

v1 = tf.compat.v1
BUILDERS = {"post": post.build, "slim": slim_vae.build}


def save_untrained(folder, config):
    """A run folder with config.json and a checkpoint of freshly initialised weights."""
    handles = BUILDERS[config.model](config)
    (folder / "checkpoints").mkdir(parents=True)
    with v1.Session(graph=handles.graph) as session:
        session.run(handles.init_op)
        session.run(handles.global_step.assign(7))
        with handles.graph.as_default():
            prefix = v1.train.Saver().save(session, str(folder / "checkpoints" / "model.ckpt"),
                                           global_step=handles.global_step)
    config.save(folder / "config.json")
    return prefix


@pytest.fixture(scope="module")
def images(mnist_dir):
    return binarize_static(read_data_sets(mnist_dir, seed=0).test.images[:12])


@pytest.mark.parametrize("model", ["post", "slim"])
def test_fed_codes_decode_like_the_model(tmp_path, images, model):
    """log p(x|z) with z fed equals the model's own value for z = mean + stddev * eps."""
    config = defaults(model).replace(steps=1, code_size=3, hidden_size=16)
    checkpoint = save_untrained(tmp_path, config)
    rng = np.random.default_rng(0)
    eps = rng.standard_normal((3, len(images), 3)).astype(np.float32)
    with GraphModel(config, checkpoint) as restored:
        assert restored.step == 7
        encoded = [restored.encode(images, e) for e in eps]
        mean, stddev = encoded[0][:2]
        z = np.stack([mean + stddev * e for e in eps], axis=1)      # [n, 3, d]
        fed = restored.log_likelihood(images, z)
        # The brief's route: tile the images and fetch the model's own per-image tensor.
        h = restored.handles
        tiled = restored.session.run(h.per_image_log_likelihood, {
            h.x: np.repeat(images, 3, axis=0), h.z: z.reshape(-1, 3).astype(np.float32)})
    expected = np.stack([e[2] for e in encoded], axis=1)
    assert not np.allclose(expected[:, 0], expected[:, 1])        # different codes, different values
    np.testing.assert_allclose(fed, expected, rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(fed, tiled.reshape(len(images), 3), rtol=1e-6, atol=1e-4)


def test_dynamic_binarization_leaves_binary_images_unchanged(images):
    """u < x with u ~ U[0, 1) is x itself for x in {0, 1}: feeding binarized images is exact."""
    handles = post.build(defaults("post").replace(steps=1, binarize="dynamic"))
    raw = handles.graph.get_tensor_by_name("x:0")
    assert handles.x is not raw and "x_binarized" in handles.x.name
    with v1.Session(graph=handles.graph) as session:
        for step in range(3):
            session.run(handles.global_step.assign(step))
            np.testing.assert_array_equal(session.run(handles.x, {raw: images}), images)
        grey = np.full((2, 784), 0.5, np.float32)
        assert 0 < session.run(handles.x, {raw: grey}).mean() < 1   # the draw is live for grey pixels


def test_missing_checkpoint_names_the_folder_and_the_fix(tmp_path):
    defaults("post").save(tmp_path / "config.json")
    with pytest.raises(ValueError, match=r"checkpoints does not exist.*legacy-vae train"):
        find_checkpoint(tmp_path)
    (tmp_path / "checkpoints").mkdir()
    with pytest.raises(ValueError, match=r"no checkpoint files"):
        find_checkpoint(tmp_path)


def test_stale_checkpoint_index_falls_back_to_newest_file(tmp_path):
    config = defaults("slim").replace(steps=1, code_size=2, hidden_size=8)
    prefix = save_untrained(tmp_path, config)
    (tmp_path / "checkpoints" / "checkpoint").write_text(
        'model_checkpoint_path: "/moved/away/model.ckpt-7"\n', encoding="utf-8")
    assert find_checkpoint(tmp_path) == prefix


def test_checkpoint_of_another_config_is_refused(tmp_path):
    prefix = save_untrained(tmp_path, defaults("post").replace(steps=1, code_size=2, hidden_size=16))
    with pytest.raises(ValueError, match=r"shape .* config\.json"):
        GraphModel(defaults("post").replace(steps=1, code_size=3, hidden_size=16), prefix)
    with pytest.raises(ValueError, match=r"lacks the model weights"):
        GraphModel(defaults("slim").replace(steps=1, code_size=2, hidden_size=16), prefix)
