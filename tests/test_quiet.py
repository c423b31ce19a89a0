"""TensorFlow's C++ start-up lines stay out of a notebook; anything else it prints gets through."""
import os
import subprocess
import sys
from pathlib import Path

from legacy_vae import quiet

REPO_ROOT = Path(__file__).resolve().parents[1]

# What TensorFlow 2.21 printed on this project's CPU-only machine while it loaded (the
# timestamps and thread ids vary), with two lines that must survive the filter.
CAPTURED = """\
WARNING: All log messages before absl::InitializeLog() is called are written to STDERR
I0000 00:00:1795359296.149982   12124 cudart_stub.cc:31] Could not find cuda drivers on your machine, GPU will not be used.
I0000 00:00:1795359296.354017   12124 cpu_feature_guard.cc:227] This TensorFlow binary is optimized to use available \
CPU instructions in performance-critical operations.
To enable the following instructions: AVX2 AVX512F FMA, in other operations, rebuild TensorFlow with the appropriate \
compiler flags.
E0000 00:00:1795359306.830796   12124 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: Failed call \
to cuInit: UNKNOWN ERROR (303)
E0000 00:00:1795359306.830796   12124 some_kernel.cc:7] a real error
Segmentation fault in libfoo.so
"""


def test_only_the_start_up_lines_are_dropped():
    assert quiet.kept_lines(CAPTURED) == ["E0000 00:00:1795359306.830796   12124 some_kernel.cc:7] a real error",
                                          "Segmentation fault in libfoo.so"]


def run_python(code):
    env = {key: value for key, value in os.environ.items() if key != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(REPO_ROOT)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)


def test_import_tensorflow_keeps_descriptor_2_quiet_and_working():
    done = run_python("import os\n"
                      "from legacy_vae.quiet import import_tensorflow\n"
                      "tf = import_tensorflow()\n"
                      "print(tf.__version__, os.environ['TF_CPP_MIN_LOG_LEVEL'])\n"
                      "os.write(2, b'descriptor 2 is back\\n')\n")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [__import__("tensorflow").__version__, "2"]
    assert done.stderr.strip().splitlines() == ["descriptor 2 is back"], done.stderr
