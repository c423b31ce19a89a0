"""The named handles a graph builder returns, and a checked ``feed_dict``."""
from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np

from legacy_vae.data.checks import model_images


class Terms(NamedTuple):
    """One pass of a model over a batch: its code and the per-image ELBO terms.

    ``log_likelihood`` and ``kl`` keep the batch axis (nats per image);
    ``losses.objective`` turns them into the batch means the loss uses.
    """

    code_mean: Any       # posterior mean (post: loc, Slim: mu)
    code_stddev: Any     # posterior standard deviation (post: scale, Slim: exp(logvar / 2))
    z: Any               # the reparameterized code, code_mean + code_stddev * eps
    logits: Any          # decoder logits [batch, 784]
    log_likelihood: Any  # log p(x | z) per image
    kl: Any              # KL(q(z | x) || p(z)) per image


class TrainRun(NamedTuple):
    """What one run of ``train_steps`` returns (tensors of the while loop's outputs).

    ``loss`` .. ``kl`` are the last step's, ``first_*`` the first step's (what a
    one-step run would have shown for it), ``sums`` the float64 sums of
    (loss, reconstruction, kl) over the run's ``steps`` steps, and
    ``nonfinite_step`` the global step at which the loss first was NaN or
    infinite (-1 if never; the loop stops there).
    """

    steps: Any
    loss: Any
    elbo: Any
    reconstruction: Any
    kl: Any
    mean_loss: Any
    sums: Any
    nonfinite_step: Any
    first_elbo: Any
    first_reconstruction: Any
    first_kl: Any


@dataclasses.dataclass(frozen=True)
class ModelHandles:
    """Everything a training loop, a test or a notebook needs from one model's graph.

    Scalars are batch means in nats per image; ``per_image_*`` keep the batch
    axis. ``x`` and ``eps`` are placeholders with defaults: when the graph has a
    ``tf.data`` pipeline (``input`` is set) they draw from it and from stateless
    noise keyed on (seed, global step), and feeding them overrides both.
    """

    graph: Any
    config: Any
    x: Any                  # [None, 784] images (the model's targets)
    eps: Any                # [None, code] noise of the reparameterization
    prior_eps: Any          # [num_prior_samples, code] noise for prior samples
    global_step: Any
    code_mean: Any          # posterior mean (post: loc, Slim: mu)
    code_stddev: Any        # posterior standard deviation
    z: Any                  # the reparameterized code
    logits: Any             # decoder logits [None, 784]
    per_image_log_likelihood: Any
    per_image_kl: Any
    reconstruction: Any     # mean -log p(x|z)
    kl: Any                 # mean KL(q(z|x) || p(z))
    elbo: Any               # mean ELBO = -(reconstruction + kl)
    loss: Any               # -elbo, what Adam minimizes
    train_op: Any
    reconstructions: Any    # sigmoid(logits): Bernoulli means
    x_hat: Any              # one Bernoulli sample of p(x | z), keyed on the step
    prior_samples: Any      # decoded prior draws, Bernoulli means [num, 784]
    init_op: Any
    optimizer: Any          # the AdamOptimizer behind train_op (its slots, its step)
    terms: Any              # terms(x, eps) -> Terms: the model once more on the same variables
    # Filled in by the fast engine (legacy_vae.engine.fast), None in a model's own graph.
    input: Any = None       # legacy_vae.engine.pipeline.InputHandles
    train_steps: Any = None     # op: run ``steps_per_run`` train steps in a while loop
    steps_per_run: Any = None   # scalar int32 placeholder with a default
    train_run: Any = None       # TrainRun: that loop's outputs; fetch them with train_steps only

    @classmethod
    def collect(cls, config, graph, global_step, placeholders, model: Terms, objective, optimizer, train_op,
                prior_logits, terms) -> "ModelHandles":
        """Name a builder's tensors (call it inside the graph, after every variable exists).

        Adds what both models show: Bernoulli means ``reconstructions`` and
        ``prior_samples``, a Bernoulli draw ``x_hat``, and the initializer.
        """
        import tensorflow as tf

        from legacy_vae.models import inputs, losses

        x, eps, prior_eps = placeholders
        reconstruction, kl, elbo, loss = objective
        return cls(
            graph=graph, config=config, x=x, eps=eps, prior_eps=prior_eps, global_step=global_step,
            code_mean=model.code_mean, code_stddev=model.code_stddev, z=model.z, logits=model.logits,
            per_image_log_likelihood=model.log_likelihood, per_image_kl=model.kl,
            reconstruction=reconstruction, kl=kl, elbo=elbo, loss=loss, train_op=train_op,
            reconstructions=tf.sigmoid(model.logits, name="reconstructions"),
            x_hat=losses.bernoulli_sample(model.logits, inputs.sample_seed(config, global_step), name="x_hat"),
            prior_samples=tf.sigmoid(prior_logits, name="prior_samples"),
            init_op=tf.compat.v1.global_variables_initializer(), optimizer=optimizer, terms=terms)

    @property
    def code_size(self) -> int:
        return int(self.eps.shape[-1])

    def feed(self, images, eps=None) -> dict:
        """A ``feed_dict`` for ``images`` (and optional ``eps``), with shapes checked first.

        TensorFlow's own message names the tensor but not the fix; this one
        says what shape is expected and how to get it from MNIST arrays.
        """
        images = model_images(images, f"placeholder {self.x.name}")  # shape, dtype, [0, 1]
        feed = {self.x: images}
        if eps is not None:
            eps = np.asarray(eps)
            if eps.shape != (images.shape[0], self.code_size):
                raise ValueError(
                    f"placeholder {self.eps.name} expects noise of shape "
                    f"({images.shape[0]}, {self.code_size}) (batch, code size), got {eps.shape}.")
            feed[self.eps] = eps
        return feed
