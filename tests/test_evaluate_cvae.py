"""Evaluating the TF2 convolutional VAE from a run folder written by legacy_vae.eager.train."""
import json

import numpy as np
import pytest
import tensorflow as tf

from legacy_vae import cli, evaluate
from legacy_vae.config import defaults
from legacy_vae.models import cvae
from legacy_vae.evaluate.eager import EagerModel
from legacy_vae.evaluate.inputs import find_checkpoint, load_images


@pytest.fixture(scope="module")
def cvae_run(tmp_path_factory, mnist_dir):
    from legacy_vae.eager import train

    run = tmp_path_factory.mktemp("cvae")
    config = defaults("cvae").replace(steps=30, epoch_steps=30, checkpoint_every=30, data_dir=str(mnist_dir))
    train.train(config, run, progress=False, test_limit=20)
    return run


def test_fed_codes_decode_like_the_cvae(cvae_run, mnist_dir):
    config = evaluate.load_config(cvae_run)
    images, label = load_images(config, "test", 0, mnist_dir, limit=8)
    assert label == "binarized 0.5"
    with EagerModel(config, find_checkpoint(cvae_run)) as model:
        assert model.step == 30
        eps = np.random.default_rng(0).standard_normal((8, 2)).astype(np.float32)
        mean, stddev, log_lik, kl = model.encode(images, eps)
        # The tutorial's own per-image terms with the same noise.
        x = tf.constant(images.reshape(-1, 28, 28, 1))
        logpx_z, _, _ = cvae.elbo_terms(model.model, x, tf.constant(eps))
        closed = cvae.kl_closed_form(*model.model.encode(x))
        np.testing.assert_allclose(log_lik, logpx_z.numpy(), rtol=1e-5, atol=1e-3)
        np.testing.assert_allclose(kl, closed.numpy(), rtol=1e-5, atol=1e-4)
        z = np.stack([mean + stddev * eps, mean], axis=1)      # [8, 2 samples, 2]
        fed = model.log_likelihood(images, z)
    assert fed.shape == (8, 2)
    np.testing.assert_allclose(fed[:, 0], log_lik, rtol=1e-5, atol=1e-3)
    assert not np.allclose(fed[:, 1], log_lik)


def test_cli_evaluates_a_cvae_run(cvae_run, mnist_dir, capsys, monkeypatch):
    monkeypatch.setenv("TF_OVERRIDE_GLOBAL_THREADPOOL", "1")
    assert cli.main(["evaluate", str(cvae_run), "--iw-samples", "20", "--limit", "10",
                     "--data-dir", str(mnist_dir), "--no-progress"]) == 0
    assert any(line.startswith("cvae") for line in capsys.readouterr().out.splitlines())
    result = json.loads((cvae_run / "evaluation.json").read_text())
    assert (result["model"], result["images"], result["iw_samples"], result["step"]) == ("cvae", 10, 20, 30)
    assert np.isfinite([result["elbo"], result["iw_log_likelihood"]]).all()
    assert result["iw_log_likelihood"] >= result["mean_log_weight"]   # Jensen, for the same samples


def test_cvae_checkpoint_with_another_code_size_is_refused(cvae_run):
    config = evaluate.load_config(cvae_run).replace(code_size=3)
    with pytest.raises(ValueError, match="does not fit the CVAE"):
        EagerModel(config, find_checkpoint(cvae_run))


def test_the_cvae_refuses_bytes_with_the_fix(cvae_run, mnist_dir):
    config = evaluate.load_config(cvae_run)
    with EagerModel(config, find_checkpoint(cvae_run)) as model:
        raw = (np.arange(4 * 784).reshape(4, 784) % 256).astype(np.uint8)
        with pytest.raises(ValueError, match=r"the CVAE's encode expects images of shape \(N, 784\), a float dtype "
                                             r"\(float32\) and pixels in \[0, 1\]; got shape \(4, 784\), dtype uint8, "
                                             r"pixels in \[0, 255\]\. These look like 0\.\.255 bytes: divide by 255"):
            model.encode(raw, np.zeros((4, 2), np.float32))
