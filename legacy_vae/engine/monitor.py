"""What a training run reports about itself: ELBOs on held-out images, figures, summaries.

Every number here is computed on *fed* images: feeding ``handles.x`` cuts the
graph there, so the ``tf.data`` iterator behind ``x``'s default is not run and
the training batch order is untouched (tests/test_train_loop.py checks it).
The noise ``eps`` keeps its default, a stateless draw keyed on the global
step, so an evaluation at a given step is a deterministic function of the
weights. Held-out ELBO, as everywhere in the package, in nats per image:

    ELBO = mean_i [ log p(x_i | z_i) - KL(q(z | x_i) || p(z)) ],  z_i ~ q(z | x_i)

TensorBoard gets the validation scalars and the figures as hand-made
``Summary`` protos: the numbers are means over several session runs (the
5,000 validation images go in chunks), which no in-graph summary op sees.
"""
from __future__ import annotations

import io
import time

import numpy as np
import tensorflow as tf

from legacy_vae import figures, plots, runs
from legacy_vae.io import atomic_write_bytes

v1 = tf.compat.v1

EVAL_CHUNK = 1000


def evaluate(session, handles, images, chunk: int = EVAL_CHUNK) -> dict:
    """Mean ELBO, reconstruction and KL of ``images`` (fed in chunks), nats per image."""
    log_lik, kl = [], []
    for start in range(0, len(images), chunk):
        ll, k = session.run([handles.per_image_log_likelihood, handles.per_image_kl],
                            handles.feed(images[start:start + chunk]))
        log_lik.append(ll)
        kl.append(k)
    log_lik, kl = np.concatenate(log_lik).astype(np.float64), np.concatenate(kl).astype(np.float64)
    return {"elbo": float(np.mean(log_lik - kl)), "reconstruction": float(-np.mean(log_lik)),
            "kl": float(np.mean(kl))}


def codes(session, handles, images, chunk: int = EVAL_CHUNK, tensor=None) -> np.ndarray:
    """Posterior means of ``images`` (or another per-image ``tensor``, e.g. ``handles.z``)."""
    tensor = handles.code_mean if tensor is None else tensor
    return np.concatenate([session.run(tensor, handles.feed(images[s:s + chunk]))
                           for s in range(0, len(images), chunk)])


def _image_summary(tag: str, png: bytes):
    from PIL import Image

    width, height = Image.open(io.BytesIO(png)).size
    image = v1.Summary.Image(height=height, width=width, colorspace=4, encoded_image_string=png)
    return v1.Summary(value=[v1.Summary.Value(tag=tag, image=image)])


def _scalar_summary(prefix: str, metrics: dict):
    return v1.Summary(value=[v1.Summary.Value(tag=f"{prefix}/{key}", simple_value=metrics[key])
                             for key in runs.METRIC_KEYS])


class Monitor:
    """Records of one model's run: metrics.jsonl lines, PNGs and TensorBoard summaries.

    ``data`` (a model_data.ModelData) holds the images, already binarized the
    way the model trains. Every validation draws fresh digits for the
    reconstruction figure from the validation DataSet, as the classic loop
    does; ``validated_steps`` (from metrics.jsonl) says how many draws a
    resumed run already made. ``on_reconstructions(model, step, originals,
    reconstructions)`` gets the first validation digits, the same at every
    step, for ``--model both``'s side-by-side figure. ``say`` prints a line
    (None: silent).
    """

    def __init__(self, handles, folder: runs.ModelFolder, data, writer, *, say=None,
                 on_reconstructions=None, validated_steps=()):
        self.handles, self.folder, self.data, self.writer = handles, folder, data, writer
        self.model = handles.config.model
        self.say = say
        self.on_reconstructions = on_reconstructions
        self.validated_steps = set(validated_steps)
        self.shown = data.validation_set(len(self.validated_steps), handles.config.num_show)
        self.eval_seconds = 0.0
        self.last_train_loss = None
        self.last_validation = None

    def record_train(self, step: int, means: dict) -> None:
        runs.append_metric(self.folder.metrics, runs.metric_record(self.model, step, "train", **means))
        self.last_train_loss = -means["elbo"]

    def validate(self, session, step: int) -> None:
        """Validation ELBO, the reconstruction figure and their summaries at ``step``."""
        if step in self.validated_steps:
            return  # a resumed run that stopped right after recording this step
        started = time.perf_counter()
        metrics = evaluate(session, self.handles, self.data.validation_images)
        runs.append_metric(self.folder.metrics, runs.metric_record(self.model, step, "validation", **metrics))
        self.writer.add_summary(_scalar_summary("validation", metrics), step)

        digits = self.shown.next_batch(self.handles.config.num_show)[0]
        means, sample = session.run([self.handles.reconstructions, self.handles.x_hat], self.handles.feed(digits))
        png = figures.reconstructions(self.folder.figures, self.model, step, digits, means, sample)
        self.writer.add_summary(_image_summary("reconstructions", png), step)
        if self.model == "post":
            self._epoch(session, step)
        self.writer.flush()
        if self.on_reconstructions is not None:
            originals = self.data.validation_images[:self.handles.config.num_show]
            recons = session.run(self.handles.reconstructions, self.handles.feed(originals))
            self.on_reconstructions(self.model, step, originals, recons)

        self.validated_steps.add(step)
        self.last_validation = metrics
        if self.say is not None:
            loss = "-" if self.last_train_loss is None else f"{self.last_train_loss:.2f}"
            self.say(f"{self.model} step {step}/{self.handles.config.steps}: train loss {loss}, "
                     f"validation ELBO {metrics['elbo']:.2f} (reconstruction {metrics['reconstruction']:.2f},"
                     f" KL {metrics['kl']:.2f})")
        self.eval_seconds += time.perf_counter() - started

    def _epoch(self, session, step: int) -> None:
        """The post's epoch figure: test ELBO, sampled test codes by label, prior samples."""
        test_elbo = evaluate(session, self.handles, self.data.test_images)["elbo"]
        sampled = codes(session, self.handles, self.data.test_images, tensor=self.handles.z)
        samples = session.run(self.handles.prior_samples)
        png = figures.epoch(self.folder.figures, self.model, step, sampled, self.data.test_labels, samples, test_elbo)
        self.writer.add_summary(_image_summary("epoch", png), step)
        if self.say is not None:
            self.say(f"{self.model} step {step}: test ELBO {test_elbo:.2f}")

    def finish(self, session, step: int) -> dict:
        """Test ELBO, prior samples and (2-d codes) the code scatter, at the end of training."""
        config = self.handles.config
        test = evaluate(session, self.handles, self.data.test_images)
        runs.append_metric(self.folder.metrics, runs.metric_record(self.model, step, "test", **test))
        self.writer.add_summary(_scalar_summary("test", test), step)

        samples = session.run(self.handles.prior_samples)
        cols = int(np.ceil(np.sqrt(len(samples))))
        png = plots.to_png_bytes(plots.digit_grid(
            samples, cols=cols, title=f"{self.model}: samples from the prior, step {step}"))
        atomic_write_bytes(self.folder.figures / "prior_samples.png", png)
        self.writer.add_summary(_image_summary("prior_samples", png), step)
        if config.code_size == 2:
            figure = plots.codes(codes(session, self.handles, self.data.test_images), self.data.test_labels,
                                 title=f"{self.model}: test codes (posterior means) by label, step {step}")
            plots.save(figure, self.folder.figures / "codes.png")
        self.writer.flush()
        return {"test_elbo": test["elbo"], "test_reconstruction": test["reconstruction"],
                "test_kl": test["kl"]}
