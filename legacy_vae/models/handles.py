"""What a model file returns: ``Terms`` (one pass over a batch) and ``ModelHandles`` (its graph, named)."""
from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np

from legacy_vae.data.checks import model_images


class Terms(NamedTuple):
    """One pass of a model over a batch, in the post's words.

    ``likelihood`` and ``divergence`` keep the batch axis (nats per image);
    ``losses.objective`` turns them into the batch means the loss uses.
    """

    loc: Any          # posterior mean (Slim: mu)
    scale: Any        # posterior standard deviation (Slim: sqrt(exp(logvar)))
    code: Any         # the reparameterized code z = loc + scale * eps
    logits: Any       # decoder logits [batch, 784]
    likelihood: Any   # log p(x | z) per image
    divergence: Any   # KL(q(z | x) || p(z)) per image


@dataclasses.dataclass(frozen=True)
class ModelHandles:
    """Everything a training loop, a test or a notebook needs from one model's graph.

    Scalars are batch means in nats per image; ``per_image_*`` keep the batch
    axis. ``x`` is the images placeholder (or the tensor the caller gave the
    model file instead); ``eps`` is a placeholder whose default is stateless
    noise keyed on (seed, global step): feed it to choose the noise.
    The seed's own names are there too: ``loc``, ``scale``, ``code``,
    ``likelihood``, ``divergence``, ``samples``.
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

    # The post's names for the same tensors.
    loc = property(lambda self: self.code_mean)
    scale = property(lambda self: self.code_stddev)
    code = property(lambda self: self.z)
    likelihood = property(lambda self: self.per_image_log_likelihood)
    divergence = property(lambda self: self.per_image_kl)
    samples = property(lambda self: self.prior_samples)

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
