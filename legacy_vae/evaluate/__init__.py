"""``legacy-vae evaluate``: test ELBO and importance-weighted log-likelihood of trained runs.

For each image x (prepared as the model was trained, see
:mod:`legacy_vae.evaluate.inputs`):

    ELBO(x) = log p(x | z) - KL(q(z | x) || p(z)),  one z = mean + stddev * eps
    L_k(x)  = log (1/k) sum_i p(x | z_i) p(z_i) / q(z_i | x),  z_i ~ q(z | x)

(:mod:`legacy_vae.iw`); L_k rises towards log p(x) with k, and k = 5000 is
the literature's choice. Both are averaged over the images, with standard
errors over images. The noise of image i comes from streams keyed on
(--seed, i), so the first N images give the same numbers with or without
``--limit N``. Images go through the model 100 at a time with up to 100
samples each per call (10,000 codes for the MLPs, 2,000 for the CVAE), so
memory does not grow with k.

evaluation.json (one per model folder; RUN_DIR gets a combined one with
``models`` keyed by subfolder when it holds several) has, in nats per image:
``elbo``, ``iw_log_likelihood`` (mean L_k), their ``*_stderr``, ``gap``
(L_k - ELBO), ``mean_log_weight`` (a k-sample ELBO estimate, far less noisy
than the one-sample ``elbo``), ``effective_samples_mean`` ((sum w)^2 / sum
w^2, out of k), plus ``model``, ``checkpoint`` (relative to the model folder),
``step``, ``split``, ``data`` (grey, binarized 0.5 or dynamic), ``images``,
``iw_samples``, ``seed`` and timing.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

from legacy_vae import runs, streams
from legacy_vae.checkpoints import relative
from legacy_vae.data.checks import model_images
from legacy_vae.evaluate import iw
from legacy_vae.evaluate.inputs import SPLITS, find_checkpoint, find_model_runs, load_config, load_images
from legacy_vae.tables import table

BATCH_IMAGES = 100
ROWS_PER_RUN = 10_000
RESULT_NAME = "evaluation.json"


def open_model(config, checkpoint: str):
    """The evaluation interface for ``config.model``: encode, log_likelihood, code_size, step, close."""
    if config.model in ("post", "slim"):
        from legacy_vae.evaluate.graph import GraphModel

        return GraphModel(config, checkpoint)
    if config.model == "cvae":
        from legacy_vae.evaluate.eager import EagerModel

        return EagerModel(config, checkpoint)
    raise ValueError(f"cannot evaluate model {config.model!r}")


def _stderr(values) -> float:
    return float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")


def evaluate_images(model, images, iw_samples: int, seed: int, progress=True, desc="evaluate",
                    batch_images: int = BATCH_IMAGES, rows_per_run: int | None = None) -> dict:
    """Per-image ELBO and L_k of ``images`` (indices 0..n-1 key the noise); arrays of shape [n].

    ``rows_per_run`` (codes decoded per call) defaults to the model's own
    ``rows_per_run``; it changes the speed, never the values.
    """
    from tqdm.auto import tqdm

    images = model_images(images, "evaluate_images")  # float (N, 784) in [0, 1], else one clear error
    rows_per_run = rows_per_run or getattr(model, "rows_per_run", ROWS_PER_RUN)
    n = len(images)
    if n == 0:
        raise ValueError("no images to evaluate; --limit must be at least 1")
    out = {key: np.empty(n) for key in ("elbo", "log_likelihood", "mean_log_weight", "effective_samples")}
    with tqdm(total=n * iw_samples, desc=desc, unit="sample", unit_scale=True,
              disable=not progress, leave=False) as bar:
        for start in range(0, n, batch_images):
            batch = images[start:start + batch_images]
            indices = range(start, start + len(batch))
            eps = np.stack([streams.rng(seed, streams.ELBO, i).standard_normal(model.code_size)
                            for i in indices]).astype(np.float32)
            mean, stddev, log_lik, kl = model.encode(batch, eps)
            estimate = iw.importance_log_likelihood(
                lambda z: model.log_likelihood(batch, z), mean, stddev, iw_samples,
                chunk_size=max(1, rows_per_run // len(batch)),
                noise=iw.ImageNoise(seed, indices, model.code_size),
                on_chunk=lambda count: bar.update(len(batch) * count))
            part = slice(start, start + len(batch))
            out["elbo"][part] = np.asarray(log_lik, np.float64) - kl
            out["log_likelihood"][part] = estimate.log_likelihood
            out["mean_log_weight"][part] = estimate.mean_log_weight
            out["effective_samples"][part] = estimate.effective_samples
    return out


def evaluate_run(run: Path, iw_samples=5000, split="test", seed=0, limit=None, data_dir=None,
                 progress=True, binarize=None, checkpoint=None) -> dict:
    """Evaluate one model run folder; returns the summary written to its evaluation.json.

    ``binarize`` overrides the data setting the model was trained on (None: as trained);
    ``checkpoint`` is the prefix to evaluate (None: the newest intact one in ``run``).
    """
    config = load_config(run)
    checkpoint = checkpoint or find_checkpoint(run)
    images, data_label = load_images(config, split, seed, data_dir, limit, binarize)
    began = time.perf_counter()
    model = open_model(config, checkpoint)
    try:
        values = evaluate_images(model, images, iw_samples, seed, progress,
                                 desc=f"{config.model} k={iw_samples}")
        step = model.step
    finally:
        model.close()
    seconds = time.perf_counter() - began
    elbo, log_px = values["elbo"], values["log_likelihood"]
    result = {
        # Relative to the run folder, which may be moved.
        "model": config.model, "checkpoint": relative(checkpoint, run), "step": step,
        "split": split, "data": data_label, "binarize": config.binarize if binarize is None else binarize,
        "trained_binarize": config.binarize, "images": len(images),
        "iw_samples": iw_samples, "seed": seed,
        "elbo": float(elbo.mean()), "elbo_stderr": _stderr(elbo),
        "iw_log_likelihood": float(log_px.mean()), "iw_log_likelihood_stderr": _stderr(log_px),
        "gap": float(log_px.mean() - elbo.mean()),
        "mean_log_weight": float(values["mean_log_weight"].mean()),
        "effective_samples_mean": float(values["effective_samples"].mean()),
        "seconds": seconds, "decoder_passes_per_second": len(images) * iw_samples / seconds,
        "units": "nats per image",
    }
    if config.model == "cvae" and split == "validation":
        result["note"] = ("the TF2 tutorial trains on all 60,000 training images, "
                          "so the validation split was seen in training")
    return result


def format_table(results) -> str:
    header = ("model", "split", "data", "images", "k", "ELBO", "IW log-lik", "gap", "seconds")
    return table(header, [(r["model"], r["split"], r["data"], r["images"], r["iw_samples"], f"{r['elbo']:.2f}",
                           f"{r['iw_log_likelihood']:.2f}", f"{r['gap']:.2f}", f"{r['seconds']:.1f}")
                          for r in results], left=3)


def main(run_dir, iw_samples=5000, split="test", seed=0, limit=None, data_dir=None, progress=True,
         binarize=None) -> list:
    """Evaluate every model under ``run_dir``, print the table, write evaluation.json files."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    if not isinstance(iw_samples, int) or iw_samples < 1:
        raise ValueError(f"iw_samples must be a positive integer, got {iw_samples!r}")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive integer, got {limit!r}")
    run_dir = Path(run_dir)
    folders = find_model_runs(run_dir)
    # Fail before hours of work if any model cannot be evaluated.
    chosen = {}
    for run in folders:
        load_config(run)
        chosen[run] = find_checkpoint(run, say=lambda line, run=run: sys.stderr.write(f"{run}: {line}\n"))
    results = []
    for run in folders:
        result = evaluate_run(run, iw_samples, split, seed, limit, data_dir, progress, binarize, chosen[run])
        runs.write_json(run / RESULT_NAME, result)
        results.append(result)
    if len(folders) > 1:
        runs.write_json(run_dir / RESULT_NAME, {
            "split": split, "iw_samples": iw_samples, "seed": seed, "limit": limit,
            "models": {run.name: result for run, result in zip(folders, results)}})
    print(format_table(results))
    for result in results:
        if "note" in result:
            print(f"note ({result['model']}): {result['note']}")
    return results
