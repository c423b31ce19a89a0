"""``legacy-vae bench faithful``, shrunk to a few steps: every command runs, and the table's
ratios come from the measured seconds."""
import json
import subprocess
import sys

import pytest

from legacy_vae import cli
from legacy_vae.bench import faithful
from legacy_vae.engine.threads import THREADPOOL_ENV

STEPS = 30


def test_ratios_are_computed_from_the_measured_values():
    rows = faithful.with_ratios([
        {"command": "2017 post_2017.py", "model": "post", "steps": 100, "wall": 20.0, "train": 4.0},
        {"command": "legacy-vae train --model post", "model": "post", "steps": 100, "wall": 10.0, "train": 2.0},
        {"command": "2017 slim_2017.py", "model": "slim", "steps": 100, "wall": 30.0, "train": 5.0},
        {"command": "legacy-vae train --model both", "model": "both", "steps": 200, "wall": 25.0, "train": None},
    ])
    script, fast, _, both = rows
    assert (script["wall_ratio"], script["speed_ratio"], script["steps_per_second"]) == (1.0, 1.0, 25.0)
    assert (fast["wall_ratio"], fast["speed_ratio"], fast["overhead"]) == (0.5, 2.0, 8.0)
    assert both["wall_ratio"] == 0.5 and both["speed_ratio"] is None and both["steps_per_second"] is None


def test_the_2017_scripts_start_without_the_packages_thread_variable(monkeypatch, mnist_dir):
    # notebook 00 starts them from a kernel that never set it; each `legacy-vae train` sets it itself.
    monkeypatch.delenv(THREADPOOL_ENV, raising=False)
    seen = []
    monkeypatch.setattr(faithful, "main", lambda **kwargs: seen.append(faithful._environment(legacy_keras=False)))
    assert cli.main(["bench", "faithful", "--steps", "1", "--data-dir", str(mnist_dir)]) == 0
    assert len(seen) == 1 and THREADPOOL_ENV not in seen[0]
    monkeypatch.setenv(THREADPOOL_ENV, "0")  # a user's own setting reaches every command
    assert cli.main(["bench", "faithful", "--steps", "1", "--data-dir", str(mnist_dir)]) == 0
    assert seen[1][THREADPOOL_ENV] == "0"


@pytest.fixture(scope="module")
def bench(tmp_path_factory, mnist_dir):
    out = tmp_path_factory.mktemp("faithful")
    done = subprocess.run([sys.executable, "-m", "legacy_vae", "bench", "faithful", "--steps", str(STEPS),
                           "--data-dir", str(mnist_dir), "--out", str(out / "runs"), "--json", str(out / "b.json")],
                          capture_output=True, text=True, timeout=900)
    return done, json.loads((out / "b.json").read_text()) if done.returncode == 0 else None


def test_the_shrunk_bench_prints_every_row_and_column(bench):
    done, measured = bench
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no TensorFlow start-up lines, no progress bars
    lines = done.stdout.splitlines()
    assert lines[0].split("  ")[0] == "command" and all(name in lines[0] for name in faithful.HEADER)
    commands = [row["command"] for row in measured["rows"]]
    assert commands == ["2017 post_2017.py", "legacy-vae train --loop classic --model post",
                        "legacy-vae train --model post", "2017 slim_2017.py",
                        "legacy-vae train --loop classic --model slim", "legacy-vae train --model slim",
                        "legacy-vae train --model both"]
    assert len(lines) >= 2 + len(commands) and "draws NO figures" in done.stdout and "ALL of its figures" in done.stdout
    for row, line in zip(measured["rows"], lines[2:]):
        assert line.startswith(row["command"])
        assert f"{row['wall']:.1f}" in line


def test_the_shrunk_bench_ratios_come_from_its_own_seconds(bench):
    done, measured = bench
    assert done.returncode == 0, done.stderr
    rows = measured["rows"]
    scripts = {r["model"]: r for r in rows if r["command"].startswith("2017")}
    for row in rows:
        assert row["wall"] > 0 and row["steps"] == (2 * STEPS if row["model"] == "both" else STEPS)
        if row["model"] == "both":
            assert row["wall_ratio"] == pytest.approx(row["wall"] / (scripts["post"]["wall"] + scripts["slim"]["wall"]))
            continue
        assert 0 < row["train"] < row["wall"]
        assert row["steps_per_second"] == pytest.approx(STEPS / row["train"])
        assert row["wall_ratio"] == pytest.approx(row["wall"] / scripts[row["model"]]["wall"])
        assert row["speed_ratio"] == pytest.approx(row["steps_per_second"] / scripts[row["model"]]["steps_per_second"])
