"""``legacy-vae bench throughput``: training steps per second, graph mode against TF2.

For the post and the Slim model at batch 100, in one run on one machine:
the package's graph-mode loop as ``legacy-vae train`` runs it, the eager twin
under ``tf.function``, under ``tf.function(jit_compile=True)`` and op by op;
beside them the machine's dense matmul rate, and each variant's achieved
matmul FLOP rate as a fraction of it (FLOPs counted in ``bench.flops``).
Each variant runs in a fresh process (``bench.variants``); the table shows
the median over the repeats and the min-max spread.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from legacy_vae import runs
from legacy_vae.bench import flops, machine
from legacy_vae.bench.variants import VARIANTS
from legacy_vae.config import defaults
from legacy_vae.tables import table

# Eager runs op by op at tens of steps per second: time fewer of its steps.
EAGER_STEP_FRACTION = 0.1


def _measure(model: str, variant: str, steps: int, repeats: int, warmup: int) -> dict:
    command = [sys.executable, "-m", "legacy_vae.bench.variants", model, variant,
               str(steps), str(repeats), str(warmup)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL=os.environ.get("TF_CPP_MIN_LOG_LEVEL", "2"))
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
    raise RuntimeError(f"benchmark {model}/{variant} failed (exit {done.returncode}): " + " | ".join(tail))


def run(repeats: int = 5, steps: int = 1000, models=("post", "slim"), progress=print) -> dict:
    progress("measuring the dense matmul rate ...")
    peak = _measure("matmul", "matmul", 0, 0, 0)["matmul_gflops"]
    results = []
    for model in models:
        per_step = flops.flops_for(defaults(model))
        for variant in VARIANTS:
            count = max(20, int(steps * EAGER_STEP_FRACTION)) if variant == "tf2_eager" else steps
            progress(f"{model} / {variant}: {repeats} x {count} steps ...")
            rates = _measure(model, variant, count, repeats, warmup=max(50, count // 5))["rates"]
            median = statistics.median(rates)
            results.append({"model": model, "variant": variant, "steps_per_sec": median,
                            "steps_per_sec_min": min(rates), "steps_per_sec_max": max(rates),
                            "repeats": len(rates), "steps_per_repeat": count,
                            "flops_per_step": per_step,
                            "peak_fraction": median * per_step / (peak * 1e9)})
    return {"machine": machine.describe(), "matmul_gflops": peak, "results": results}


def format_table(report: dict) -> str:
    m = report["machine"]
    lines = [f"machine: {m['cpu']}, {m['cores']} cores, TensorFlow {m['tensorflow']}",
             f"dense matmul (2048x2048 float32, all cores): {report['matmul_gflops']:.1f} GFLOP/s", ""]
    for model in dict.fromkeys(r["model"] for r in report["results"]):
        rows = [r for r in report["results"] if r["model"] == model]
        lines.append(f"{model}: {rows[0]['flops_per_step']:,} matmul FLOPs per step (batch 100)")
    lines.append("")
    rows = [(r["model"], r["variant"], f"{r['steps_per_sec']:.1f}",
             f"{r['steps_per_sec_min']:.0f}-{r['steps_per_sec_max']:.0f}",
             f"{r['steps_per_sec'] * r['flops_per_step'] / 1e9:.1f}", f"{r['peak_fraction']:.1%}")
            for r in report["results"]]
    lines.append(table(("model", "variant", "steps/s", "min-max", "GFLOP/s", "of peak"), rows, left=2))
    return "\n".join(lines)


def main(repeats=5, steps=1000, models=("post", "slim"), json_path=None) -> dict:
    report = run(repeats, steps, models, progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(format_table(report))
    if json_path:
        runs.write_json(json_path, report)
        print(f"wrote {json_path}")
    return report
