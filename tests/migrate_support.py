"""Helpers of the tests of legacy_vae.migrate: checkpoints from arrays, and processes of their own."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from test_tf1_2017_code import _env as tf1_2017_env  # how the 2017 scripts' processes are started

REPO_ROOT = Path(__file__).resolve().parents[1]


def write_checkpoint(prefix, arrays: dict) -> str:
    """A TF1 name-based checkpoint holding ``arrays`` {name: array}, as a Saver writes it (no graph needed)."""
    import tensorflow as tf

    names = sorted(arrays)
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    tf.raw_ops.SaveV2(prefix=str(prefix), tensor_names=names, shape_and_slices=[""] * len(names),
                      tensors=[tf.constant(np.asarray(arrays[name], np.float32)) for name in names])
    return str(prefix)


def env(legacy_keras=False):
    """This environment for a child process; TF_USE_LEGACY_KERAS only if asked, never inherited."""
    return tf1_2017_env(legacy_keras)


def run_python(code: str, cwd, *args, legacy_keras=False, timeout=300):
    """Run ``code`` as a script in a fresh interpreter; its last stdout line, parsed as JSON."""
    done = subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=cwd, env=env(legacy_keras),
                          capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def leftovers(folder) -> list:
    """Every file in ``folder`` (temporary ones included), for 'nothing was written' checks."""
    return sorted(p.name for p in Path(folder).iterdir()) if Path(folder).is_dir() else []
