"""A resumable batch order: batch ``step`` is a pure function of (seed, step).

Each epoch is a seeded random permutation of the examples; epochs are laid
end to end and cut into batches, so a batch that crosses an epoch boundary is
the tail of one permutation and the head of the next (as ``next_batch`` does).
Resuming at step ``s`` needs nothing but ``s``: the checkpoint stores it.
This stands in for the tutorial's ``Dataset.shuffle(60000).batch(32)``, whose
order depended on TensorFlow's global seed and could not be resumed.
"""
from __future__ import annotations

import numpy as np

from legacy_vae import streams

# Keeps the order's random numbers apart from any other use of the run's seed.


class BatchOrder:
    def __init__(self, seed: int, num_examples: int, batch_size: int):
        if not 0 < batch_size <= num_examples:
            raise ValueError(f"batch_size must be between 1 and the number of examples "
                             f"({num_examples}), got {batch_size}")
        self.seed, self.num_examples, self.batch_size = seed, num_examples, batch_size
        self._cache: dict[int, np.ndarray] = {}

    def permutation(self, epoch: int) -> np.ndarray:
        if epoch not in self._cache:
            if len(self._cache) >= 2:  # a batch spans at most two epochs
                self._cache.pop(min(self._cache))
            rng = streams.rng(self.seed, streams.ORDER, epoch)
            self._cache[epoch] = rng.permutation(self.num_examples)
        return self._cache[epoch]

    def indices(self, step: int) -> np.ndarray:
        """Example indices of batch ``step`` (0-based)."""
        start = step * self.batch_size
        positions = np.arange(start, start + self.batch_size, dtype=np.int64)
        epochs, offsets = np.divmod(positions, self.num_examples)
        out = np.empty(self.batch_size, dtype=np.int64)
        for epoch in np.unique(epochs):
            mask = epochs == epoch
            out[mask] = self.permutation(int(epoch))[offsets[mask]]
        return out
