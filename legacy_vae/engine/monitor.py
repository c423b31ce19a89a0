"""What a training run reports about itself: ELBOs on held-out images, figures, summaries.

Every number here is computed on *fed* images: feeding ``handles.x`` cuts the
graph there, so the ``tf.data`` iterator behind ``x``'s default is not run and
the training batch order is untouched (tests/test_train_loop.py checks it).
The noise ``eps`` keeps its default, a stateless draw keyed on the global
step, so an evaluation at a given step is a deterministic function of the
weights. Held-out ELBO, as everywhere in the package, in nats per image:

    ELBO = mean_i [ log p(x_i | z_i) - KL(q(z | x_i) || p(z)) ],  z_i ~ q(z | x_i)

The chunks of one evaluation are independent session runs, so a monitor
given ``threads=2`` runs two at a time (``Session.run`` releases the GIL;
with one intra-op thread per session each run's matmuls take one core):
the same numbers, chunk for chunk (each chunk is the same run with the
same feed and the same noise), in about half the time on two idle cores.

TensorBoard gets the validation scalars and the figures as hand-made
``Summary`` protos: the numbers are means over several session runs (the
5,000 validation images go in chunks), which no in-graph summary op sees.

The figures are drawn by a figures.Drawer (worker processes): the training
thread computes their arrays, hands them over and goes on; a figure's image
summary is written once its PNG is back, at a later look or at :meth:`Monitor.close`.
"""
from __future__ import annotations

import io
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import tensorflow as tf

from legacy_vae import figures, plots, runs

v1 = tf.compat.v1

EVAL_CHUNK = 1000


def evaluate(session, handles, images, chunk: int = EVAL_CHUNK, pool=None) -> dict:
    """Mean ELBO, reconstruction and KL of ``images`` (fed in chunks), nats per image."""
    return evaluate_with(session, handles, images, None, chunk, pool)[0]


def evaluate_with(session, handles, images, tensor, chunk: int = EVAL_CHUNK, pool=None):
    """:func:`evaluate` and the values of a per-image ``tensor`` (e.g. ``handles.z``) from the
    same session runs: one pass over ``images`` instead of two. (metrics, values or None).

    ``pool`` (an executor) runs the chunks at once; the results keep their order."""
    fetches = [handles.per_image_log_likelihood, handles.per_image_kl] + ([tensor] if tensor is not None else [])
    log_lik, kl, values = [], [], []
    for got in _run_chunks(session, handles, images, fetches, chunk, pool):
        log_lik.append(got[0])
        kl.append(got[1])
        values.extend(got[2:])
    log_lik, kl = np.concatenate(log_lik).astype(np.float64), np.concatenate(kl).astype(np.float64)
    metrics = {"elbo": float(np.mean(log_lik - kl)), "reconstruction": float(-np.mean(log_lik)),
               "kl": float(np.mean(kl))}
    return metrics, (np.concatenate(values) if tensor is not None else None)


def codes(session, handles, images, chunk: int = EVAL_CHUNK, tensor=None, pool=None) -> np.ndarray:
    """Posterior means of ``images`` (or another per-image ``tensor``, e.g. ``handles.z``)."""
    tensor = handles.code_mean if tensor is None else tensor
    return np.concatenate(list(_run_chunks(session, handles, images, tensor, chunk, pool)))


def _run_chunks(session, handles, images, fetches, chunk, pool):
    """``session.run(fetches)`` on each ``chunk`` of ``images``, in order; on ``pool`` at once."""
    # Every feed first: bad images are refused before any chunk runs.
    feeds = [handles.feed(images[start:start + chunk]) for start in range(0, len(images), chunk)]
    return (pool.map if pool is not None else map)(lambda feed: session.run(fetches, feed), feeds)


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
    (None: silent). ``draw`` (a figures.Drawer) draws the figures.
    ``threads``: evaluation chunks run at once (see the module docstring);
    :meth:`close` ends their threads.
    """

    def __init__(self, handles, folder: runs.ModelFolder, data, writer, *, say=None,
                 on_reconstructions=None, validated_steps=(), draw=None, threads=1):
        self.handles, self.folder, self.data, self.writer = handles, folder, data, writer
        self.draw = figures.Drawer(inline=True) if draw is None else draw
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix=f"evaluate-{handles.config.model}") \
            if threads > 1 else None
        self.epochs_gathered = True  # epochs.png and epochs.gif hold every epoch figure given
        self.pending = []  # (summary tag, step, future of the PNG bytes)
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
        metrics = evaluate(session, self.handles, self.data.validation_images, pool=self.pool)
        runs.append_metric(self.folder.metrics, runs.metric_record(self.model, step, "validation", **metrics))
        self.writer.add_summary(_scalar_summary("validation", metrics), step)

        digits = self.shown.next_batch(self.handles.config.num_show)[0]
        means, sample = session.run([self.handles.reconstructions, self.handles.x_hat], self.handles.feed(digits))
        self._figure("reconstructions", step, figures.reconstructions, self.folder.figures, self.model, step,
                     digits, means, sample)
        if self.model == "post":
            self._epoch(session, step)
        self._summaries()
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
        test, sampled = evaluate_with(session, self.handles, self.data.test_images, self.handles.z, pool=self.pool)
        test_elbo = test["elbo"]
        samples = session.run(self.handles.prior_samples)
        self._figure("epoch", step, figures.epoch, self.folder.figures, self.model, step, sampled,
                     self.data.test_labels, samples, test_elbo, False)
        self.epochs_gathered = False  # epochs.png and .gif: once, at the end (_gather_epochs)
        if self.say is not None:
            self.say(f"{self.model} step {step}: test ELBO {test_elbo:.2f}")

    def finish(self, session, step: int) -> dict:
        """Test ELBO, prior samples and (2-d codes) the code scatter, at the end of training."""
        config = self.handles.config
        test = evaluate(session, self.handles, self.data.test_images, pool=self.pool)
        runs.append_metric(self.folder.metrics, runs.metric_record(self.model, step, "test", **test))
        self.writer.add_summary(_scalar_summary("test", test), step)

        self._gather_epochs()  # the longest figure jobs first
        samples = session.run(self.handles.prior_samples)
        self._figure("prior_samples", step, figures.prior_samples, self.folder.figures, self.model, step, samples)
        if config.code_size == 2:
            self._figure(None, step, figures.save, plots.codes, self.folder.figures / "codes.png",
                         codes(session, self.handles, self.data.test_images, pool=self.pool), self.data.test_labels,
                         f"{self.model}: test codes (posterior means) by label, step {step}")
        self._summaries()  # those drawn already (all of them, with an inline drawer)
        self.writer.flush()
        return {"test_elbo": test["elbo"], "test_reconstruction": test["reconstruction"],
                "test_kl": test["kl"]}

    def _figure(self, tag, step, function, *args) -> None:
        """Hand a figure to the drawer (first raising the error of one that failed)."""
        self.draw.check()
        self.pending.append((tag, step, self.draw.submit(function, *args)))

    def _summaries(self, wait=False) -> None:
        """The image summaries of the figures drawn by now (``wait``: of every figure given)."""
        if wait:
            self.draw.wait([future for _, _, future in self.pending])
        done = 0  # the figures drawn so far, in the order given (TensorBoard lists them so)
        while done < len(self.pending) and self.pending[done][2].done():
            done += 1
        done, self.pending = self.pending[:done], self.pending[done:]
        for tag, step, future in done:
            if tag is not None and future.exception() is None:
                self.writer.add_summary(_image_summary(tag, future.result()), step)

    def figures_written(self) -> None:
        """Wait until every figure given so far (of every model) is on disk; raise a failed one's error.

        The wait counts as evaluation time, not training (it is the figures' time)."""
        started = time.perf_counter()
        self.draw.wait()
        self._summaries()
        self.eval_seconds += time.perf_counter() - started

    def close(self) -> None:
        """Wait for this model's figures and write their summaries; then (post) gather the epoch
        figures on disk into epochs.png and epochs.gif."""
        if self.pool is not None:
            self.pool.shutdown()
        self._gather_epochs()
        self._summaries(wait=True)
        self.writer.flush()

    def _gather_epochs(self) -> None:
        # Once the epoch figures given are on disk; a resumed run gathers the earlier ones too.
        # The sheet and the GIF are two jobs, drawn at once by the two workers.
        if self.epochs_gathered:
            return
        self.draw.wait([future for tag, _, future in self.pending if tag == "epoch"])
        self._summaries()
        for kind in ("gif", "png"):
            self.pending.append((None, None, self.draw.submit(figures.epochs, self.folder.figures, (kind,))))
        self.epochs_gathered = True
