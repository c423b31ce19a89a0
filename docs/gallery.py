"""Make README's gallery: small PNGs under docs/ from two faithful training runs.

    legacy-vae train --out runs/gallery
    legacy-vae train --model cvae --out runs/gallery-cvae
    python docs/gallery.py runs/gallery runs/gallery-cvae

Writes docs/side_by_side.png (both models' reconstructions at their last
step), docs/post_epochs.png (the post model's test codes and prior samples at
a few epochs), docs/cvae_manifold.png (the CVAE's decoded 2-d code space) and
docs/kl_monte_carlo.png (the Monte Carlo KL of 100 trained post posteriors
converging to the closed form, as notebook 05 draws it). Pictures are shrunk
and palette-quantized so that each stays well under 100 kB; each is written
to a temporary name and renamed.
"""
from __future__ import annotations

import argparse
import io
import json
import os
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
EPOCH_STEPS = (0, 600, 1200, 1800)  # and the last step


def _save_small(image: Image.Image, path: Path, scale: float) -> Path:
    """``image`` resized by ``scale``, quantized to 256 colours, written atomically."""
    image = image.convert("RGB")
    if scale != 1:
        image = image.resize((round(image.width * scale), round(image.height * scale)), Image.LANCZOS)
    small = image.quantize(256, method=Image.Quantize.FASTOCTREE)
    partial = path.with_name(path.name + ".partial")
    small.save(partial, format="PNG", optimize=True)
    os.replace(partial, path)
    return path


def _last_step(model_run: Path) -> int:
    return int(json.loads((model_run / "results.json").read_text(encoding="utf-8"))["steps"])


def side_by_side(run: Path, out: Path) -> Path:
    step = _last_step(run / "post")
    return _save_small(Image.open(run / "figures" / f"side_by_side-step{step}.png"), out / "side_by_side.png", 0.8)


def post_epochs(run: Path, out: Path) -> Path:
    from legacy_vae import plots

    last = _last_step(run / "post")
    steps = [s for s in EPOCH_STEPS if s < last] + [last]
    pngs = [run / "post" / "figures" / f"epoch-step{s}.png" for s in steps]
    sheet = Image.open(io.BytesIO(plots.stack_pngs(pngs)))
    return _save_small(sheet, out / "post_epochs.png", 2 / 3)


def cvae_manifold(cvae_run: Path, out: Path) -> Path:
    return _save_small(Image.open(cvae_run / "figures" / "manifold.png"), out / "cvae_manifold.png", 0.6)


def kl_monte_carlo(run: Path, out: Path, images: int = 100, max_draws: int = 100_000) -> Path:
    """The trained post model's posteriors of ``images`` test digits, their KL by sampling."""
    from matplotlib.figure import Figure

    from legacy_vae import parity, plots
    from legacy_vae.data import read_data_sets

    handles, session = parity.restore(run / "post")
    with session:
        test = read_data_sets(handles.config.data_dir, seed=handles.config.seed).test.images[:images]
        mean, stddev = session.run([handles.code_mean, handles.code_stddev], {handles.x: test})
    draws = np.unique(np.round(np.logspace(np.log10(2), np.log10(max_draws), 14)).astype(int))
    estimates = [parity.monte_carlo_kl(mean, stddev, draws=int(s), seed=int(s)) for s in draws]
    closed = estimates[0]["mean_closed_form"]
    mc = np.array([e["mean"] for e in estimates])
    stderr = np.array([e["mean_stderr"] for e in estimates])
    figure = Figure(figsize=(10, 3.6))
    left, right = figure.subplots(1, 2)
    left.errorbar(draws, mc, yerr=2 * stderr, fmt="o-", ms=4, capsize=3, label="Monte Carlo, 2 standard errors")
    left.axhline(closed, color="k", ls="--", label=f"closed form {closed:.3f}")
    left.set(xscale="log", xlabel="draws per image", ylabel="mean KL (nats)",
             title=f"post model: KL of {images} test posteriors")
    left.legend()
    right.loglog(draws, np.abs(mc - closed), "o-", ms=4, label="|Monte Carlo - closed form|")
    right.loglog(draws, stderr[0] * np.sqrt(draws[0] / draws), "k--", lw=0.8, label="1 / sqrt(draws)")
    right.set(xlabel="draws per image", title="the error shrinks like 1 / sqrt(draws)")
    right.legend()
    figure.tight_layout()
    return _save_small(Image.open(io.BytesIO(plots.to_png_bytes(figure))), out / "kl_monte_carlo.png", 0.8)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path, help="a `legacy-vae train` run folder of both graph models")
    parser.add_argument("cvae_run", type=Path, help="a `legacy-vae train --model cvae` run folder")
    parser.add_argument("--out", type=Path, default=HERE, help="where the PNGs go (default: docs/)")
    args = parser.parse_args(argv)
    for made in (side_by_side(args.run, args.out), post_epochs(args.run, args.out),
                 cvae_manifold(args.cvae_run, args.out), kl_monte_carlo(args.run, args.out)):
        print(f"{made}: {made.stat().st_size / 1000:.0f} kB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
