"""What ``legacy-vae evaluate`` reads: model run folders, their checkpoints, and the data.

A run folder holds ``config.json`` and ``checkpoints/`` (see the run-folder
contract in the README); ``--model both`` puts one per model under RUN/post
and RUN/slim. The images are prepared the way the model was trained on them:

    binarize "none"    grey levels in [0, 1] used as Bernoulli targets ("grey")
    binarize "static"  pixel > 0.5                                  ("binarized 0.5")
    binarize "dynamic" one fixed Bernoulli draw with P(1) = intensity, seeded
                       by --seed: the usual way to evaluate a model trained on
                       dynamically binarized MNIST, since a test set must be
                       fixed to be comparable ("dynamic")

Published MNIST log-likelihoods (e.g. about -85 nats for a VAE with a 50-d
code, Burda et al.) are for binarized images; a grey-level "log-likelihood"
is a continuous Bernoulli-target score and is not comparable to them.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from legacy_vae import checkpoints, streams

SPLITS = ("test", "validation", "train")
DATA_LABELS = {"none": "grey", "static": "binarized 0.5", "dynamic": "dynamic"}
# The binarization draw has its own stream, apart from the ELBO and IW noise.


def find_model_runs(run_dir) -> list[Path]:
    """``run_dir`` itself if it is a model run folder, else its subfolders that are."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ValueError(f"run folder {run_dir} does not exist; pass a folder written by 'legacy-vae train'")
    if (run_dir / "config.json").is_file():
        return [run_dir]
    runs = sorted(child for child in run_dir.iterdir() if (child / "config.json").is_file())
    if not runs:
        raise ValueError(f"{run_dir} has no config.json and no subfolder with one; pass a run folder "
                         "written by 'legacy-vae train' (one model's folder, or the parent of post/ and slim/)")
    return runs


def load_config(run: Path):
    from legacy_vae.config import Config

    try:
        return Config.load(run / "config.json")
    except (TypeError, ValueError) as error:  # JSONDecodeError is a ValueError
        raise ValueError(f"{run / 'config.json'} cannot be read as a legacy-vae config: {error}") from None


def find_checkpoint(run: Path, say=None) -> str:
    """The prefix of the newest checkpoint in ``run/checkpoints`` that reads whole.

    Checkpoints are found by file name (legacy_vae.checkpoints), never by the
    paths in TensorFlow's ``checkpoint`` state file, which folders written by
    older versions hold as absolute paths from where the run was written.
    ``say(line)`` gets a notice for each newer checkpoint skipped as broken
    and for such a state file. Raises RunFolderError if no checkpoint is intact.
    """
    folder = Path(run) / "checkpoints"
    fix = ("train the model until it writes one (every --checkpoint-every steps and at the end), "
           f"or resume it with 'legacy-vae train --resume {run}'")
    if not folder.is_dir():
        raise ValueError(f"no checkpoint to evaluate: {folder} does not exist; {fix}")
    choice = checkpoints.newest_intact(folder)
    if choice.prefix is None:
        raise ValueError(f"no checkpoint to evaluate: {folder} holds no checkpoint files (*.index); {fix}")
    if say is not None:
        stale = checkpoints.stale_state(folder)
        for line in choice.notices("evaluating") + ([stale] if stale else []):
            say(line)
    return choice.prefix


def load_images(config, split: str, seed: int, data_dir=None, limit=None,
                binarize=None) -> tuple[np.ndarray, str]:
    """The first ``limit`` images of ``split``, prepared as ``config`` trained on them, and their label.

    ``binarize`` ("none", "static" or "dynamic") overrides how the model was
    trained, e.g. to score the grey-level post model on binarized digits.
    """
    binarize = config.binarize if binarize is None else binarize
    if binarize not in DATA_LABELS:
        raise ValueError(f"unknown binarization {binarize!r}; choose one of {', '.join(DATA_LABELS)}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    from legacy_vae.data import binarize_dynamic, binarize_static, read_data_sets

    if data_dir is None and config.data_dir and Path(config.data_dir).expanduser().is_dir():
        data_dir = config.data_dir
    images = getattr(read_data_sets(data_dir, seed=0), split).images
    if binarize == "static":
        images = binarize_static(images, 0.5)
    elif binarize == "dynamic":
        # Drawn over the whole split before --limit, so the first N images get the same pixels.
        images = binarize_dynamic(images, streams.rng(seed, streams.BINARIZE))
    if limit is not None:
        images = images[:limit]
    label = DATA_LABELS[binarize]
    if binarize != config.binarize:
        label += f" (trained on {DATA_LABELS[config.binarize]})"
    return np.ascontiguousarray(images, dtype=np.float32), label
