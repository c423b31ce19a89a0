"""Run-folder bookkeeping for the CVAE: config.json, metrics.jsonl, results.json.

Same contract as the graph models (see the package README): one JSON object
per metrics line, every file written atomically (metrics.jsonl is small and is
rewritten whole, so a crash never leaves half a line).
"""
from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from legacy_vae.config import Config
from legacy_vae.io import atomic_write_text

# Fields a resumed run may change: more steps, or the data found elsewhere.
RESUMABLE_CHANGES = {"steps", "data_dir", "fast_input"}


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


class Metrics:
    """The rows of ``metrics.jsonl``, kept in memory and rewritten atomically."""

    def __init__(self, path: Path, keep_until_step: int):
        self.path = Path(path)
        self.rows = []
        if self.path.exists():
            # Rows past the checkpoint belong to steps that will run again.
            lines = self.path.read_text(encoding="utf-8").splitlines()
            self.rows = [row for row in map(json.loads, filter(None, lines))
                         if row["step"] <= keep_until_step]
        self._write()

    def add(self, row: dict) -> None:
        self.rows.append(row)
        self._write()

    def split(self, split: str) -> list[dict]:
        return [row for row in self.rows if row["split"] == split]

    def _write(self) -> None:
        atomic_write_text(self.path, "".join(json.dumps(row) + "\n" for row in self.rows))


def write_results(run_dir: Path, results: dict) -> None:
    atomic_write_text(Path(run_dir) / "results.json", json.dumps(results, indent=2, sort_keys=True) + "\n")
