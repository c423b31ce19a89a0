"""``python -m legacy_vae.bench.cpu``: a command's CPU seconds sorted by kind of thread."""
import subprocess
import sys
from collections import Counter

import pytest

from legacy_vae.bench import cpu

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

# A main thread that burns 0.3 s of CPU, a thread named as TensorFlow names its pool threads
# burning 0.6 s, then a child process whose command line names the figure worker burning 0.4 s.
# Each stays alive 0.5 s after its burn, so that a sample sees all of it on a busy machine too.
BURN = """
import ctypes, subprocess, sys, threading, time
def burn(seconds, name=None):
    if name:
        ctypes.CDLL(None).prctl(15, name.encode(), 0, 0, 0)  # PR_SET_NAME: the thread's name in /proc
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    time.sleep(0.5)
worker = threading.Thread(target=burn, args=(0.6, "tf_burn"))
worker.start()
burn(0.3)
worker.join()
child = "import time\\nend = time.process_time() + 0.4\\nwhile time.process_time() < end: pass\\ntime.sleep(0.5)"
subprocess.run([sys.executable, "-c", child, "legacy_vae.drawing"], check=True)
"""


def test_cpu_lands_in_the_kind_of_thread_that_spent_it():
    samples = cpu.sample([sys.executable, "-c", BURN], interval=0.05)
    wall, totals = samples[-1]
    assert 0.55 <= totals["tensorflow"] <= 0.8
    assert 0.3 <= totals["python"] <= 1.0  # the burn, plus the interpreters' own start-up
    assert 0.35 <= totals["figures"] <= 0.7
    assert wall >= (totals["tensorflow"] + totals["python"] + totals["figures"]) / 2  # at most two busy threads


def test_windows_split_the_totals_and_add_up_to_them():
    samples = [(0.0, Counter()), (2.5, Counter(python=2.0)), (5.2, Counter(python=3.0, tensorflow=4.0)),
               (7.0, Counter(python=3.5, tensorflow=6.0, figures=1.0))]
    rows = cpu.windows(samples, every=5)
    assert [(start, end) for start, end, _ in rows] == [(0.0, 5.2), (5.2, 7.0)]
    assert rows[0][2] == Counter(python=3.0, tensorflow=4.0, figures=0.0)
    assert rows[1][2] == Counter(python=0.5, tensorflow=2.0, figures=1.0)
    text = cpu.table(samples, every=5)
    assert text.splitlines()[-2].split() == ["total", "6.00", "1.00", "3.50"]
    assert text.splitlines()[-1].startswith("10.5 s of CPU in 7.0 s of wall time: 1.50 cores busy")


def test_a_failing_command_and_a_missing_command_are_one_line_errors():
    done = subprocess.run([sys.executable, "-m", "legacy_vae.bench.cpu", "--", sys.executable, "-c", "raise SystemExit(3)"],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "failed with status 3" in done.stderr and "Traceback" not in done.stderr
    done = subprocess.run([sys.executable, "-m", "legacy_vae.bench.cpu"], capture_output=True, text=True)
    assert done.returncode == 2 and "a command after --" in done.stderr
    done = subprocess.run([sys.executable, "-m", "legacy_vae.bench.cpu", "--", "no-such-program-here"],
                          capture_output=True, text=True)
    assert done.returncode == 1 and "No such file or directory: 'no-such-program-here'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_the_command_prints_a_row_per_window_and_the_total():
    done = subprocess.run([sys.executable, "-m", "legacy_vae.bench.cpu", "--every", "0.2", "--", sys.executable, "-c", BURN],
                          capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["wall", "s", "tensorflow", "figures", "python"]
    assert len(lines) >= 5 and lines[-2].startswith("total") and "cores busy on average" in lines[-1]
