"""The CVAE's config.json: check a config, and what a resumed run may change.

metrics.jsonl and results.json are written as for the graph models (legacy_vae.runs).
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

from legacy_vae.config import Config

# Fields a resumed run may change: more steps, or the data found elsewhere.
RESUMABLE_CHANGES = {"steps", "data_dir", "feed_dict"}


def check_config(config) -> None:
    if not isinstance(config, Config):
        raise ValueError(f"config must be a legacy_vae.config.Config, got {type(config).__name__}; "
                         "start from legacy_vae.config.defaults('cvae')")
    if config.model != "cvae":
        raise ValueError(f"legacy_vae.eager.train trains the convolutional VAE, got model {config.model!r}; "
                         "use defaults('cvae') (the graph models train with legacy_vae.train)")


def prepare(config, run_dir, resume: bool, latest_checkpoint) -> Path:
    """Create ``run_dir`` (or check it, when resuming) and save ``config.json``."""
    run_dir = Path(run_dir)
    config_path = run_dir / "config.json"
    if resume:
        if latest_checkpoint is None:
            raise ValueError(f"{run_dir}: no checkpoint to resume from in {run_dir / 'checkpoints'}; "
                             "train it without resume=True first")
        if config_path.exists():
            saved = Config.load(config_path)
            changed = sorted(f.name for f in dataclasses.fields(Config)
                             if getattr(saved, f.name) != getattr(config, f.name)
                             and f.name not in RESUMABLE_CHANGES)
            if changed:
                raise ValueError(f"{run_dir}: cannot resume with a different {', '.join(changed)} "
                                 f"than {config_path} has; only {sorted(RESUMABLE_CHANGES)} may change")
    elif latest_checkpoint is not None:
        raise ValueError(f"{run_dir} already holds a checkpoint ({latest_checkpoint}); pass resume=True "
                         "to continue it, or choose a new run folder")
    run_dir.mkdir(parents=True, exist_ok=True)
    config.save(config_path)
    return run_dir
