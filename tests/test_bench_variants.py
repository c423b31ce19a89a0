"""Each throughput variant runs end to end in its own process (rates are not checked: no timing in tests)."""
import json
import math
import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize("variant,steps", [("graph", 100), ("tf2_function", 20), ("tf2_jit", 20)])
def test_variant_reports_one_rate_per_repeat(variant, steps, mnist_dir):
    env = dict(os.environ, LEGACY_VAE_DATA=str(mnist_dir), TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-m", "legacy_vae.bench.variants", "slim", variant,
                           str(steps), "2", "10"], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert len(result["rates"]) == 2
    assert all(math.isfinite(rate) and rate > 0 for rate in result["rates"])
