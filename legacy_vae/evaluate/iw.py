"""The importance-weighted estimate of log p(x), in bounded memory for any k.

With a Gaussian proposal q(z | x) = N(mean, diag(stddev^2)) and k draws
z_i = mean + stddev * eps_i, eps_i ~ N(0, I):

    log w_i = log p(x | z_i) + log p(z_i) - log q(z_i | x)
    log p(x) ~= L_k = log (1/k) sum_i exp(log w_i)

L_k is a lower bound in expectation that rises with k towards log p(x)
(Burda et al., 2016); L_1 is the one-sample ELBO, and the mean of the
log w_i is an unbiased estimate of the ELBO. The densities, with
p(z) = N(0, I) and d code dimensions:

    log p(z)     = -1/2 sum_j z_j^2   - d/2 log(2 pi)
    log q(z | x) = -1/2 sum_j eps_j^2 - sum_j log stddev_j - d/2 log(2 pi)

Weights are around exp(-100) per image, so they are never exponentiated
directly: chunks of c samples are folded into a running (max m, sum s) pair
with s = sum_i exp(log w_i - m), rescaled whenever m grows, all in float64.
Memory is O(images x chunk) whatever k is. The same pair with squared terms
gives the effective sample size (sum w)^2 / sum w^2, a diagnostic of how many
samples carry the estimate.

Each image has its own noise stream keyed on (seed, image index) and draws
it sample by sample, so an image's estimate depends on the seed, its index
and k only: not on the chunk size, the image batch or ``--limit``.
"""
from __future__ import annotations

import dataclasses

import numpy as np

from legacy_vae import streams

LOG_2PI = float(np.log(2.0 * np.pi))


class RunningLogMeanExp:
    """log-mean-exp over a stream of [n, c] chunks, one result per row.

    Also tracks the sum of squared weights for the effective sample size.
    """

    def __init__(self, rows: int):
        self.top = np.full(rows, -np.inf)
        self.total = np.zeros(rows)      # sum exp(v - top)
        self.squares = np.zeros(rows)    # sum exp(2 (v - top))
        self.count = 0
        self.sum_values = np.zeros(rows)

    def update(self, chunk) -> None:
        chunk = np.asarray(chunk, dtype=np.float64)
        if chunk.ndim != 2 or chunk.shape[0] != len(self.top):
            raise ValueError(f"expected a chunk of shape ({len(self.top)}, samples), got {chunk.shape}")
        if not np.all(np.isfinite(chunk)):
            raise FloatingPointError("non-finite log-weight: the model produced NaN or infinite log-densities")
        new_top = np.maximum(self.top, chunk.max(axis=1))
        # Rescale what was summed against the old maximum (exp(-inf) = 0 at the start).
        shift = np.exp(self.top - new_top)
        scaled = np.exp(chunk - new_top[:, None])
        self.total = self.total * shift + scaled.sum(axis=1)
        self.squares = self.squares * shift ** 2 + (scaled ** 2).sum(axis=1)
        self.top = new_top
        self.count += chunk.shape[1]
        self.sum_values += chunk.sum(axis=1)

    def result(self) -> np.ndarray:
        if self.count == 0:
            raise ValueError("no samples were added")
        return self.top + np.log(self.total) - np.log(self.count)

    def effective_sample_size(self) -> np.ndarray:
        return self.total ** 2 / self.squares

    def mean(self) -> np.ndarray:
        return self.sum_values / self.count


class ImageNoise:
    """Standard-normal draws for a set of images, one generator per (seed, stream, image index).

    Each call returns the next ``count`` draws of every image, [n, count, dim];
    successive calls continue each image's stream, so chunking never changes
    which samples an image gets.
    """

    def __init__(self, seed: int, indices, dim: int, stream: int = streams.IW):
        self.dim = int(dim)
        self.generators = [streams.rng(seed, stream, i) for i in indices]

    def __call__(self, count: int) -> np.ndarray:
        out = np.empty((len(self.generators), count, self.dim))
        for row, generator in zip(out, self.generators):
            row[...] = generator.standard_normal((count, self.dim))
        return out


def standard_normal_log_density(z) -> np.ndarray:
    """log N(z; 0, I), summed over the last axis."""
    z = np.asarray(z, dtype=np.float64)
    return -0.5 * np.sum(z * z, axis=-1) - 0.5 * z.shape[-1] * LOG_2PI


def proposal_log_density(eps, stddev) -> np.ndarray:
    """log N(mean + stddev * eps; mean, diag(stddev^2)) from the noise eps, summed over the code.

    eps is [n, c, d] and stddev [n, d].
    """
    eps = np.asarray(eps, dtype=np.float64)
    log_scale = np.sum(np.log(np.asarray(stddev, dtype=np.float64)), axis=-1)
    return -0.5 * np.sum(eps * eps, axis=-1) - log_scale[:, None] - 0.5 * eps.shape[-1] * LOG_2PI


@dataclasses.dataclass(frozen=True)
class IWEstimate:
    """Per-image results of :func:`importance_log_likelihood` (arrays of shape [n])."""

    log_likelihood: np.ndarray   # L_k
    mean_log_weight: np.ndarray  # mean of log w_i: a k-sample ELBO estimate
    effective_samples: np.ndarray
    samples: int


def importance_log_likelihood(log_likelihood, mean, stddev, num_samples: int, chunk_size: int,
                              noise, on_chunk=None) -> IWEstimate:
    """L_k for n images whose proposals are N(mean, diag(stddev^2)), [n, d] each.

    ``log_likelihood(z)`` maps codes [n, c, d] (float64) to log p(x | z) [n, c];
    ``noise(c)`` returns the next [n, c, d] standard-normal draws (see
    :class:`ImageNoise`). At most ``chunk_size`` samples per image are in
    memory at once. ``on_chunk(c)`` is called after each chunk (progress bars).
    """
    if num_samples < 1 or chunk_size < 1:
        raise ValueError(f"num_samples and chunk_size must be positive, got {num_samples} and {chunk_size}")
    mean = np.asarray(mean, dtype=np.float64)
    stddev = np.asarray(stddev, dtype=np.float64)
    if mean.shape != stddev.shape or mean.ndim != 2:
        raise ValueError(f"mean and stddev must both be [images, code], got {mean.shape} and {stddev.shape}")
    if np.any(stddev <= 0):
        raise ValueError("the proposal's stddev must be positive")
    running = RunningLogMeanExp(len(mean))
    done = 0
    while done < num_samples:
        count = min(chunk_size, num_samples - done)
        eps = noise(count)
        z = mean[:, None, :] + stddev[:, None, :] * eps
        log_px_z = np.asarray(log_likelihood(z), dtype=np.float64)
        if log_px_z.shape != (len(mean), count):
            raise ValueError(f"log_likelihood returned shape {log_px_z.shape}, expected {(len(mean), count)}")
        running.update(log_px_z + standard_normal_log_density(z) - proposal_log_density(eps, stddev))
        done += count
        if on_chunk is not None:
            on_chunk(count)
    return IWEstimate(log_likelihood=running.result(), mean_log_weight=running.mean(),
                      effective_samples=running.effective_sample_size(), samples=num_samples)
