"""``legacy-vae bench faithful``: the 2017 scripts, the classic loop and the fast loop, timed alike.

In one run on one machine, one command after another, each in a process of
its own and each at faithful defaults (post: 12,000 steps, Slim: 20,000):

* the 2017 scripts of notebook 00 as fixed to run on TensorFlow 2.21
  (``notebooks/tf1_2017/fixed/post_2017.py`` with tf-keras and
  ``TF_USE_LEGACY_KERAS=1``, ``slim_2017.py`` without), run exactly as
  notebook 00 and tests/test_tf1_2017_code.py run them. They train, print the
  test ELBO (post) or loss (Slim) before and after, save a checkpoint and
  check one batch with fixed noise; they draw no figures;
* ``legacy-vae train --loop classic --model M``: the seeds' loops, with every
  figure of the run (worker processes draw them);
* ``legacy-vae train --model M``: the fast loop, every figure, validation
  every ``visualize_every`` steps, checkpoints, summaries and the test table;
* ``legacy-vae train``: both models side by side, against the two 2017
  scripts one after the other.

``wall s`` is the whole command, from start to exit (TensorFlow's import
included). ``train s`` is the command's own training time: ``train_seconds``
of results.json for legacy-vae (the fast loop leaves evaluation and figures
out; the classic loop times its whole loop, looks included), and for a
2017 script the time between its "step 0" and "step N" lines (the training
loop and one test ELBO: the script keeps no clock). Ratios divide by the
2017 script of the same model.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from legacy_vae.config import defaults
from legacy_vae.tables import table

SCRIPTS = Path(__file__).resolve().parents[2] / "notebooks" / "tf1_2017" / "fixed"
MODELS = ("post", "slim")
CAPTION = ("Each row one command in its own process, one after another on this machine; wall s: the whole "
           "command; train s: its training loop.\n"
           "2017: notebook 00's fixed script (tf-keras for the post's); it trains, evaluates the test set "
           "before and after, saves a checkpoint, and draws NO figures; its train s spans its 'step 0' to "
           "'step N' lines.\n"
           "legacy-vae: draws ALL of its figures (per-epoch codes and samples, reconstructions, side by side, "
           "epochs.png/gif, loss curves), validates every visualize_every steps, writes checkpoints, summaries "
           "and the test table; train s is results.json's train_seconds (the fast loop leaves evaluation and "
           "figures out; --loop classic times its whole loop, its looks included).")


def _environment(legacy_keras: bool) -> dict:
    env = {key: value for key, value in os.environ.items() if key != "TF_USE_LEGACY_KERAS"}
    if legacy_keras:  # only the 2017 post script: tf.compat.v1.layers live on in tf-keras
        env["TF_USE_LEGACY_KERAS"] = "1"
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    env["TF_CPP_MIN_LOG_LEVEL"] = "2"
    env["PYTHONUNBUFFERED"] = "1"  # the 2017 scripts' lines are timed as they come
    return env


def _timed(command, env) -> tuple[float, list]:
    """Run ``command``; its wall seconds and its stdout lines, each with the second it came."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    errors = []
    reader = threading.Thread(target=lambda: errors.append(process.stderr.read()), daemon=True)
    reader.start()
    lines = [(time.perf_counter() - started, line.rstrip("\n")) for line in process.stdout]
    process.wait()
    wall = time.perf_counter() - started
    reader.join()
    if process.returncode != 0:
        from legacy_vae.failures import RunError

        last = ("".join(errors).strip().splitlines() or ["(nothing on stderr)"])[-1]
        raise RunError(f"bench faithful: {' '.join(map(str, command))} failed with status "
                       f"{process.returncode}: {last}")
    return wall, lines


def script_2017(model: str, steps: int, data_dir, out: Path) -> dict:
    """One 2017 script: wall seconds, and training seconds from its 'step 0' and 'step N' lines."""
    command = [sys.executable, str(SCRIPTS / f"{model}_2017.py"), "--steps", str(steps), "--out", str(out),
               "--data_dir", str(data_dir)]
    wall, lines = _timed(command, _environment(legacy_keras=model == "post"))
    marks = {line.split(":")[0]: second for second, line in lines if line.startswith("step ")}
    train = marks[f"step {steps}"] - marks["step 0"]
    return {"command": f"2017 {model}_2017.py", "model": model, "steps": steps, "wall": wall, "train": train}


def legacy_vae(model: str, loop: str, steps: dict, data_dir, out: Path) -> dict:
    """``legacy-vae train`` of ``model`` (post, slim or both) with ``loop``: wall and train seconds."""
    command = [sys.executable, "-m", "legacy_vae", "train", "--model", model, "--no-progress", "--out", str(out)]
    if loop == "classic":
        command += ["--loop", "classic"]
    models = MODELS if model == "both" else (model,)
    if any(steps[m] != defaults(m).steps for m in models):
        if len({steps[m] for m in models}) != 1:
            raise ValueError("one --steps for both models")
        command += ["--steps", str(steps[models[0]])]
    command += ["--data-dir", str(data_dir)]
    wall, _ = _timed(command, _environment(legacy_keras=False))
    results = json.loads((out / "results.json").read_text())
    per_model = results["models"] if model == "both" else {model: results}
    label = f"legacy-vae train{' --loop classic' if loop == 'classic' else ''} --model {model}"
    row = {"command": label, "model": model, "steps": sum(steps[m] for m in models), "wall": wall,
           "train": None if model == "both" else per_model[model]["train_seconds"]}
    return row


def measure(steps: dict | None = None, data_dir=None, out=None, models=MODELS, both=True) -> list:
    """Run every command once, one after another; their rows (see the module docstring)."""
    from legacy_vae.data import resolve_data_dir

    steps = {m: (steps or {}).get(m, defaults(m).steps) for m in MODELS}
    # One folder for every command: the 2017 scripts' own default would be MNIST_data/.
    data_dir = resolve_data_dir(data_dir)
    out = Path(out) if out else Path(tempfile.mkdtemp(prefix="bench-faithful-"))
    rows = []
    for model in models:
        rows.append(script_2017(model, steps[model], data_dir, out / f"2017-{model}"))
        rows.append(legacy_vae(model, "classic", steps, data_dir, out / f"classic-{model}"))
        rows.append(legacy_vae(model, "fast", steps, data_dir, out / f"fast-{model}"))
    if both and set(models) == set(MODELS):
        rows.append(legacy_vae("both", "fast", steps, data_dir, out / "fast-both"))
    return rows


def with_ratios(rows: list) -> list:
    """Each row with steps/s, wall - train, and its wall and steps/s over the 2017 script's of the
    same model; the side-by-side run's wall over the two 2017 scripts' one after the other."""
    done = []
    for row in rows:
        row = dict(row)
        row["steps_per_second"] = row["steps"] / row["train"] if row["train"] else None
        row["overhead"] = row["wall"] - row["train"] if row["train"] is not None else None
        done.append(row)
    scripts = {r["model"]: r for r in done if r["command"].startswith("2017")}
    for row in done:
        row["wall_ratio"] = row["speed_ratio"] = None
        if row["model"] == "both":
            if all(m in scripts for m in MODELS):
                row["wall_ratio"] = row["wall"] / sum(scripts[m]["wall"] for m in MODELS)
        elif row["model"] in scripts:
            script = scripts[row["model"]]
            row["wall_ratio"] = row["wall"] / script["wall"]
            if row["steps_per_second"] and script["steps_per_second"]:
                row["speed_ratio"] = row["steps_per_second"] / script["steps_per_second"]
    return done


HEADER = ("command", "steps", "wall s", "train s", "wall - train", "steps/s", "wall / 2017", "steps/s / 2017")


def format_rows(rows: list) -> str:
    def number(value, digits=1):
        return "-" if value is None else f"{value:.{digits}f}"

    return table(HEADER, [(r["command"] + (" (vs both 2017 scripts)" if r["model"] == "both" else ""),
                           r["steps"], number(r["wall"]), number(r["train"]), number(r["overhead"]),
                           number(r["steps_per_second"], 0), number(r["wall_ratio"], 2),
                           number(r["speed_ratio"], 2)) for r in rows])


def main(steps=None, models=MODELS, data_dir=None, out=None, json_path=None) -> list:
    """Measure, print the table and its caption (and write JSON); return the rows."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    rows = with_ratios(measure({m: steps for m in MODELS} if steps else None, data_dir, out, models))
    print(format_rows(rows))
    print(CAPTION)
    if load is not None:
        print(f"load average (1 min) when it started: {load:.2f}; a busy machine slows every row")
    if json_path:
        from legacy_vae import runs

        runs.write_json(json_path, {"rows": rows, "load_average": load})
    return rows
