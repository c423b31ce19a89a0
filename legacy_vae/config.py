"""One frozen configuration object per run, with each model's faithful defaults.

The defaults reproduce the original code: the post model (Hafner's "Building
Variational Auto-Encoders in TensorFlow"), the Slim model (a tf.contrib.slim
notebook) and the TF2 tutorial's convolutional VAE. Notebooks and tests build a
config with :func:`defaults` and shrink it with :func:`dataclasses.replace`;
argparse lives only in ``legacy_vae.cli``.
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

MODELS = ("post", "slim", "cvae")
LOOPS = ("fast", "classic")
BINARIZE = ("none", "static", "dynamic")


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything one training run depends on.

    ``steps`` counts optimizer updates of ``batch_size`` images. ``binarize`` is
    ``none`` (grey levels used as Bernoulli targets, as the post did), ``static``
    (threshold 0.5) or ``dynamic`` (a fresh Bernoulli draw per batch).
    """

    model: str
    steps: int
    batch_size: int = 100
    learning_rate: float = 1e-3
    code_size: int = 2
    hidden_size: int = 200
    binarize: str = "none"
    # Adam's epsilon; TF1's AdamOptimizer default, kept for the graph models.
    adam_epsilon: float = 1e-8
    visualize_every: int = 1000
    checkpoint_every: int = 1000
    num_show: int = 5
    num_prior_samples: int = 100
    seed: int = 0
    data_dir: str | None = None
    # The fast loop feeds its batches with feed_dict, one step per session.run,
    # instead of reading them from its tf.data pipeline many steps per run.
    feed_dict: bool = False
    # The fast path's multi-step loop splits each batch into this many equal
    # slices computed in parallel (legacy_vae.engine.fast): the same loss
    # and gradient, summed in another order, so it is part of the run's record.
    towers: int = 2
    # "classic": the seeds' own feed_dict loop (legacy_vae.models.classic);
    # "fast": the engine (legacy_vae.engine), which ends with the same weights.
    loop: str = "fast"
    # The cvae's epoch in steps (the tutorial's 60,000 images / 32 = 1,875): a
    # test ELBO line and a grid of decoded digits at the end of each. Only the
    # cvae counts epochs; the graph models look every ``visualize_every`` steps.
    epoch_steps: int | None = None

    def __post_init__(self):
        problems = []
        if self.model not in MODELS:
            problems.append(f"model must be one of {MODELS}, got {self.model!r}")
        if self.loop not in LOOPS:
            problems.append(f"loop must be one of {LOOPS}, got {self.loop!r}")
        if self.loop == "classic" and self.model == "cvae":
            problems.append("the classic loop trains the graph models (post, slim); the cvae trains eagerly")
        if self.model == "cvae" and self.epoch_steps is None:
            problems.append("the cvae needs epoch_steps (1,875 steps of 32 are the tutorial's epoch)")
        if self.model != "cvae" and self.epoch_steps is not None:
            problems.append(f"epoch_steps sets the cvae's epoch; the {self.model} model looks every visualize_every "
                            "steps (leave epoch_steps out)")
        if self.binarize not in BINARIZE:
            problems.append(f"binarize must be one of {BINARIZE}, got {self.binarize!r}")
        for name in ("steps", "batch_size", "code_size", "hidden_size", "visualize_every", "checkpoint_every",
                     "num_show", "num_prior_samples", "towers", "epoch_steps"):
            value = getattr(self, name)
            if name == "epoch_steps" and value is None:
                continue
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                problems.append(f"{name} must be a positive integer, got {value!r}")
        if (isinstance(self.towers, int) and isinstance(self.batch_size, int) and self.towers > 0
                and self.batch_size > 0 and self.batch_size % self.towers):
            problems.append(f"batch_size ({self.batch_size}) must be a multiple of towers ({self.towers}); "
                            f"change one of them (towers=1 keeps each batch whole)")
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            problems.append(f"learning_rate must be a positive number, got {self.learning_rate!r}")
        if problems:
            raise ValueError("invalid config: " + "; ".join(problems))

    def replace(self, **changes) -> "Config":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def save(self, path: str | Path) -> None:
        from legacy_vae.io import atomic_write_text

        atomic_write_text(path, json.dumps(self.to_dict(), indent=2, sort_keys=True) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> "Config":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        data.setdefault("towers", 1)  # written before towers existed: every batch was one tower
        if "fast_input" in data:  # 0.2's first name for the input choice
            data["feed_dict"] = not data.pop("fast_input")
        if data.get("model") == "cvae":  # in 0.2's first builds the cvae's epoch was visualize_every
            data.setdefault("epoch_steps", data.get("visualize_every"))
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{path}: unknown config keys {unknown}; was it written by a newer legacy-vae?")
        return cls(**data)


def defaults(model: str) -> Config:
    """The faithful configuration of ``model``."""
    if model == "post":
        # 20 epochs of 600 steps of 100 greyscale images, Adam 1e-3, a 2-d code;
        # at each epoch start the test codes and 10 samples from the prior.
        return Config(model="post", steps=20 * 600, batch_size=100, learning_rate=1e-3,
                      code_size=2, hidden_size=200, binarize="none", visualize_every=600,
                      num_prior_samples=10)
    if model == "slim":
        # 20,000 iterations of 100 images binarized at 0.5; Adam's defaults
        # (learning rate 1e-3); one 128-unit layer and a 64-d code; 5 validation
        # digits and their reconstructions every 1,000 iterations.
        return Config(model="slim", steps=20_000, batch_size=100, learning_rate=1e-3,
                      code_size=64, hidden_size=128, binarize="static")
    if model == "cvae":
        # The TF2 tutorial: 10 epochs of batch 32 over the 60,000 training
        # images, Adam 1e-4, latent 2, binarized at 0.5.
        return Config(model="cvae", steps=10 * 1875, batch_size=32, learning_rate=1e-4,
                      code_size=2, hidden_size=32, binarize="static", adam_epsilon=1e-7,
                      epoch_steps=1875, checkpoint_every=1875, num_show=16, towers=1)
    raise ValueError(f"unknown model {model!r}; choose one of {MODELS}")
