"""Which variable names a checkpoint holds: the seeds' (0.2 on) or legacy-vae 0.1's own.

legacy-vae 0.1 named some layers itself (post ``encoder/loc``, ``encoder/scale``,
``decoder/logits``; Slim ``encoder/hidden``, ``encoder/mu_logvar``,
``decoder/hidden``, ``decoder/logits``). From 0.2 on the graphs carry the
original code's names (post ``encoder/dense_2`` ..., Slim ``encoder/fc1`` ...),
so that a checkpoint of the 2017 code and one of this package line up. A 0.1
checkpoint is refused with one line rather than half-restored: its weights
were trained by the same math, but mapping them silently would hide which
graph a learner is looking at.
"""
from __future__ import annotations

from legacy_vae.failures import RunError

OLD_NAMES = ("encoder/loc/kernel", "encoder/hidden/weights", "encoder/mu_logvar/weights")


class OldLayoutError(RunError):
    """A checkpoint written by legacy-vae 0.1, with its own variable names."""


def check(checkpoint: str) -> None:
    """Raise :class:`OldLayoutError` if ``checkpoint`` (a prefix) holds 0.1's variable names."""
    import tensorflow as tf

    stored = {name for name, _ in tf.train.list_variables(checkpoint)}
    old = sorted(stored.intersection(OLD_NAMES))
    if old:
        raise OldLayoutError(
            f"{checkpoint} was written by legacy-vae 0.1 (variables such as {old[0]}); this version uses the "
            f"original code's names (encoder/dense_2, encoder/fc1, ...) and cannot read it: train the run "
            f"again with 'legacy-vae train' (README, 'Run folders from 0.1')")
