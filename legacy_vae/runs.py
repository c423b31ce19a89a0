"""Run folders: where they go, what they hold, and the files written in them.

One model's run folder (see the run-folder contract in the README)::

    config.json  metrics.jsonl  results.json  checkpoints/  events/  figures/

``--model both`` makes RUN/post and RUN/slim, each such a folder, plus
RUN/figures and RUN/results.json. ``metrics.jsonl`` holds one JSON object per
line, ``{"model", "step", "split", "elbo", "reconstruction", "kl",
"wall_time"}``, in nats per image; a resumed run first drops the records past
its checkpoint (they belong to steps that are about to be trained again) and
then appends, so the file reads as if the run had never stopped.
"""
from __future__ import annotations

import json
import math
import re
import time
from pathlib import Path

from legacy_vae.failures import write_error
from legacy_vae.io import atomic_write_text
from legacy_vae.tables import table

METRIC_KEYS = ("elbo", "reconstruction", "kl")
SPLITS = ("train", "validation", "test")


def default_run_dir(label: str, now: float | None = None) -> Path:
    """``runs/<label>-<YYYYmmdd-HHMMSS>`` relative to the working directory."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(now))
    return Path("runs") / f"{label}-{stamp}"


def check_new_run_dir(path: str | Path) -> Path:
    """Refuse a folder that already holds something: a new run never mixes with an old one."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ValueError(f"--out {path} is a file, not a folder; choose another --out")
    if path.is_dir() and any(path.iterdir()):
        raise ValueError(f"--out {path} already exists and is not empty; choose a new folder, "
                         f"or continue that run with 'legacy-vae train --resume {path}'")
    return path


class ModelFolder:
    """The paths inside one model's run folder."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        self.config = self.root / "config.json"
        self.metrics = self.root / "metrics.jsonl"
        self.results = self.root / "results.json"
        self.checkpoints = self.root / "checkpoints"
        self.events = self.root / "events"
        self.figures = self.root / "figures"

    def create(self) -> "ModelFolder":
        for folder in (self.checkpoints, self.events, self.figures):
            folder.mkdir(parents=True, exist_ok=True)
        return self

    def reconstruction_figure(self, step: int) -> Path:
        return self.figures / f"reconstructions-step{step}.png"

    def state_file(self, step: int) -> Path:
        """Loop state saved beside checkpoint ``step`` (train seconds, feed_dict batch order)."""
        return self.checkpoints / f"state-{step}.json"


def metric_record(model: str, step: int, split: str, elbo: float, reconstruction: float,
                  kl: float, wall_time: float | None = None) -> dict:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    return {"model": model, "step": int(step), "split": split, "elbo": float(elbo),
            "reconstruction": float(reconstruction), "kl": float(kl),
            "wall_time": time.time() if wall_time is None else float(wall_time)}


def append_metric(path: str | Path, record: dict) -> None:
    """Append one record as one line; open-append-close, so a crash loses at most this line.

    A failed write (full disk, file-size limit) raises failures.WriteError naming the file;
    the torn line it may leave is skipped by read_metrics and dropped on resume.
    """
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, allow_nan=True) + "\n")
    except OSError as error:
        raise write_error(path, error) from error


def read_metrics(path: str | Path, split: str | None = None) -> list[dict]:
    """All records of ``metrics.jsonl`` (of one split if given); a torn last line is skipped."""
    path = Path(path)
    if not path.exists():
        return []
    records = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue  # only the last line can be torn (killed mid-write); it is re-recorded
        if split is None or record.get("split") == split:
            records.append(record)
    return records


def truncate_metrics(path: str | Path, last_step: int) -> list[dict]:
    """Keep the records up to ``last_step`` (rewritten atomically); return them."""
    kept = [r for r in read_metrics(path) if int(r["step"]) <= last_step]
    if Path(path).exists():
        atomic_write_text(path, "".join(json.dumps(r) + "\n" for r in kept))
    return kept


def series(records: list[dict], split: str, key: str = "elbo"):
    """``(steps, values)`` of one split, in step order, for plots.curves."""
    points = sorted((r["step"], r[key]) for r in records if r["split"] == split)
    return [s for s, _ in points], [v for _, v in points]


def write_json(path: str | Path, data: dict) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def read_json(path: str | Path) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def checkpoint_step(prefix: str | None) -> int | None:
    """The step of a ``.../model.ckpt-<step>`` prefix (None for None)."""
    if prefix is None:
        return None
    match = re.search(r"-(\d+)$", str(prefix))
    return int(match.group(1)) if match else None


def format_table(results: list[dict]) -> str:
    """The final table: one row per model."""
    header = ("model", "steps", "test ELBO", "reconstruction", "KL", "train s", "steps/s")
    rows = []
    for r in results:
        seconds = r.get("train_seconds") or float("nan")
        rate = r.get("steps_per_second", r["steps"] / seconds if seconds else float("nan"))
        rows.append((r["model"], str(r["steps"]), _num(r.get("test_elbo")),
                     _num(r.get("test_reconstruction")), _num(r.get("test_kl")),
                     _num(seconds, 1), _num(rate, 1)))
    return table(header, rows)


def _num(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}"
