"""The cluster supervisor's rules, on stand-in tasks (small Python processes, no TensorFlow).

What happens when a ps, the chief or another worker ends, or when the
supervisor is asked to stop, and that no process outlives ``run()``:
tests/test_cluster.py checks the same with real TensorFlow tasks.
"""
import os
import signal
import sys
import textwrap
import threading
import time

import pytest

from legacy_vae.cluster.processes import Task
from legacy_vae.cluster.supervise import Supervisor, last_checkpoint

STAND_IN = textwrap.dedent("""
    import os, signal, subprocess, sys, time
    name, lifetime, status, marks = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    def on_term(*_):
        with open(marks, "a") as f:
            f.write(f"{name} {time.monotonic()}\\n")
        os._exit(4)
    signal.signal(signal.SIGTERM, on_term)
    if len(sys.argv) > 5:  # a grandchild in the task's process group, as a library might start
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        open(sys.argv[5], "w").write(str(child.pid))
    deadline = time.monotonic() + lifetime
    while time.monotonic() < deadline:
        time.sleep(0.05)
    os._exit(status)
""")
FOREVER = 1e6


def stand_in(tmp_path, job, index, lifetime, status=0, grandchild=None):
    argv = [sys.executable, "-c", STAND_IN, f"{job}:{index}", str(lifetime), str(status), str(tmp_path / "marks")]
    if grandchild:
        argv.append(str(grandchild))
    return Task(job, index, argv, tmp_path / "cluster" / f"{job}-{index}.log")


def run(tmp_path, tasks, sync=False, limit=30):
    lines = []
    supervisor = Supervisor(tasks, tmp_path, sync, say=lines.append)
    # Bounded: a supervisor that waits for the wrong thing is stopped, and the test fails on its status.
    watchdog = threading.Timer(limit, supervisor.on_signal, (signal.SIGTERM, None))
    watchdog.start()
    try:
        status = supervisor.run()
    finally:
        watchdog.cancel()
    assert all(not task.alive() for task in tasks), "a task outlived the supervisor"
    return status, lines, supervisor


def marks(tmp_path):
    path = tmp_path / "marks"
    return [line.split()[0] for line in path.read_text().splitlines()] if path.exists() else []


def test_chief_finishing_ends_the_run_and_the_ps(tmp_path):
    tasks = [stand_in(tmp_path, "ps", 0, FOREVER), stand_in(tmp_path, "worker", 0, 1.0),
             stand_in(tmp_path, "worker", 1, 1.5)]
    status, lines, _ = run(tmp_path, tasks)
    assert status == 0
    assert tasks[2].poll() == 0, "the other worker was not given its time to finish"
    assert marks(tmp_path) == ["ps:0"], "only the ps, which never ends by itself, should need SIGTERM"


def test_a_dead_worker_does_not_stop_an_async_run(tmp_path):
    tasks = [stand_in(tmp_path, "ps", 0, FOREVER), stand_in(tmp_path, "worker", 0, 2.0),
             stand_in(tmp_path, "worker", 1, 0.3, status=1)]
    status, lines, _ = run(tmp_path, tasks)
    assert status == 0
    assert tasks[0 + 1].poll() == 0  # the chief ran to its end
    assert len(lines) == 1 and lines[0].startswith("cluster: worker:1 exited with status 1; the other workers go on")


def test_a_dead_worker_stops_a_sync_run(tmp_path, capsys):
    tasks = [stand_in(tmp_path, "ps", 0, FOREVER), stand_in(tmp_path, "worker", 0, FOREVER),
             stand_in(tmp_path, "worker", 1, 0.3, status=1)]
    status, _, _ = run(tmp_path, tasks, sync=True)
    assert status == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "worker:1 exited with status 1: synchronous training needs every worker" in err[0]


@pytest.mark.parametrize("dead, words", [("ps", "parameter server ps:0 killed by SIGKILL: the variables it held"),
                                          ("chief", "the chief (worker:0) killed by SIGKILL")])
def test_a_dead_ps_or_chief_stops_everything_with_one_line(tmp_path, capsys, dead, words):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "checkpoint").write_text('model_checkpoint_path: "/x/model.ckpt-200"\n')
    tasks = [stand_in(tmp_path, "ps", 0, FOREVER), stand_in(tmp_path, "worker", 0, FOREVER),
             stand_in(tmp_path, "worker", 1, FOREVER)]
    victim = tasks[0] if dead == "ps" else tasks[1]
    threading.Timer(1.0, lambda: os.kill(victim.process.pid, signal.SIGKILL)).start()
    status, _, _ = run(tmp_path, tasks)
    assert status == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert words in err[0]
    assert "the last checkpoint is /x/model.ckpt-200" in err[0] and f"--resume {tmp_path}" in err[0]


def test_sigterm_stops_workers_before_the_ps_and_kills_grandchildren(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    tasks = [stand_in(tmp_path, "ps", 0, FOREVER), stand_in(tmp_path, "worker", 0, FOREVER),
             stand_in(tmp_path, "worker", 1, FOREVER, grandchild=pid_file)]
    supervisor_box = {}

    def stop_soon():
        time.sleep(1.0)
        supervisor_box["s"].on_signal(signal.SIGTERM, None)

    supervisor = Supervisor(tasks, tmp_path, False, say=lambda line: None)
    supervisor_box["s"] = supervisor
    threading.Thread(target=stop_soon, daemon=True).start()
    assert supervisor.run() == 128 + signal.SIGTERM
    order = marks(tmp_path)
    assert sorted(order[:2]) == ["worker:0", "worker:1"] and order[2:] == ["ps:0"], order
    grandchild = int(pid_file.read_text())
    time.sleep(0.2)
    assert not os.path.exists(f"/proc/{grandchild}") or "Z" in open(f"/proc/{grandchild}/stat").read().split()[2], \
        "the task's own child survived"


def test_last_checkpoint_reads_the_index_file(tmp_path):
    assert last_checkpoint(tmp_path) is None
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "checkpoint").write_text(
        'model_checkpoint_path: "/r/model.ckpt-300"\nall_model_checkpoint_paths: "/r/model.ckpt-0"\n')
    assert last_checkpoint(tmp_path) == "/r/model.ckpt-300"
