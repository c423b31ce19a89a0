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

# A stand-in task: says it is ready (a file), then runs until the test lets it end (another file)
# or SIGTERM arrives (noted in "marks"). Nothing here depends on how long anything takes.
STAND_IN = textwrap.dedent("""
    import os, signal, subprocess, sys, time
    name, status, folder = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    def on_term(*_):
        with open(os.path.join(folder, "marks"), "a") as f:
            f.write(f"{name} {time.monotonic()}\\n")
        os._exit(4)
    signal.signal(signal.SIGTERM, on_term)
    if len(sys.argv) > 4:  # a grandchild in the task's process group, as a library might start
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
        open(sys.argv[4], "w").write(str(child.pid))
    open(os.path.join(folder, f"ready-{name}"), "w").close()
    while not os.path.exists(os.path.join(folder, f"end-{name}")):
        time.sleep(0.02)
    os._exit(status)
""")


def stand_in(tmp_path, job, index, status=0, grandchild=None):
    argv = [sys.executable, "-c", STAND_IN, f"{job}:{index}", str(status), str(tmp_path)]
    if grandchild:
        argv.append(str(grandchild))
    return Task(job, index, argv, tmp_path / "cluster" / f"{job}-{index}.log")


def end(tmp_path, task):
    """Let a stand-in end (with its status)."""
    (tmp_path / f"end-{task.name}").touch()


def when_ready(tmp_path, tasks, action):
    """Run ``action()`` in a thread once every task has started and said it is ready."""
    def wait_then_act():
        deadline = time.monotonic() + 60
        while not all(t.process is not None and (tmp_path / f"ready-{t.name}").exists() for t in tasks):
            if time.monotonic() > deadline:
                return  # the watchdog in run() stops the supervisor; the test fails on its status
            time.sleep(0.02)
        action()
    threading.Thread(target=wait_then_act, daemon=True).start()


def run(tmp_path, tasks, sync=False, limit=60, say=None):
    lines = []
    supervisor = Supervisor(tasks, tmp_path, sync, say=say or lines.append)
    # Bounded: a supervisor that waits for the wrong thing is stopped, and the test fails on its status.
    watchdog = threading.Timer(limit, supervisor.on_signal, (signal.SIGTERM, None))
    watchdog.start()
    try:
        status = supervisor.run()
    finally:
        watchdog.cancel()
        for task in tasks:  # whatever a failed supervisor left
            task.signal(signal.SIGKILL)
    assert all(not task.alive() for task in tasks), "a task outlived the supervisor"
    return status, lines, supervisor


def marks(tmp_path):
    path = tmp_path / "marks"
    return [line.split()[0] for line in path.read_text().splitlines()] if path.exists() else []


def test_chief_finishing_ends_the_run_and_the_ps(tmp_path):
    """The chief ends; the supervisor then waits for the other worker, which ends only once the
    supervisor is waiting for it (its ``wait`` is watched): it must not get SIGTERM."""
    ps, chief, other = tasks = [stand_in(tmp_path, "ps", 0), stand_in(tmp_path, "worker", 0),
                                stand_in(tmp_path, "worker", 1)]
    waited = []
    wait = other.wait

    def waiting_for_other(seconds):
        waited.append(chief.poll())
        end(tmp_path, other)
        return wait(seconds)
    other.wait = waiting_for_other
    when_ready(tmp_path, tasks, lambda: end(tmp_path, chief))
    status, lines, _ = run(tmp_path, tasks)
    assert status == 0
    assert waited and waited[0] == 0, "the supervisor did not wait for the other worker after the chief"
    assert other.poll() == 0, "the other worker was not given its time to finish"
    assert marks(tmp_path) == ["ps:0"], "only the ps, which never ends by itself, should need SIGTERM"


def test_a_dead_worker_does_not_stop_an_async_run(tmp_path):
    """Worker 1 fails at once; the chief ends only after the supervisor has said so, so the run
    went on without worker 1."""
    ps, chief, failing = tasks = [stand_in(tmp_path, "ps", 0), stand_in(tmp_path, "worker", 0),
                                  stand_in(tmp_path, "worker", 1, status=1)]
    end(tmp_path, failing)
    lines = []

    def say(line):
        lines.append(line)
        if "worker:1" in line:
            end(tmp_path, chief)
    status, _, _ = run(tmp_path, tasks, say=say)
    assert status == 0
    assert chief.poll() == 0  # the chief ran to its end
    assert len(lines) == 1 and lines[0].startswith("cluster: worker:1 exited with status 1; the other workers go on")


def test_a_dead_worker_stops_a_sync_run(tmp_path, capsys):
    tasks = [stand_in(tmp_path, "ps", 0), stand_in(tmp_path, "worker", 0), stand_in(tmp_path, "worker", 1, status=1)]
    end(tmp_path, tasks[2])
    status, _, _ = run(tmp_path, tasks, sync=True)
    assert status == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "worker:1 exited with status 1: synchronous training needs every worker" in err[0]


@pytest.mark.parametrize("dead, words", [("ps", "parameter server ps:0 killed by SIGKILL: the variables it held"),
                                          ("chief", "the chief (worker:0) killed by SIGKILL")])
def test_a_dead_ps_or_chief_stops_everything_with_one_line(tmp_path, capsys, dead, words):
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "checkpoint").write_text('model_checkpoint_path: "/x/model.ckpt-200"\n')
    tasks = [stand_in(tmp_path, "ps", 0), stand_in(tmp_path, "worker", 0), stand_in(tmp_path, "worker", 1)]
    victim = tasks[0] if dead == "ps" else tasks[1]
    when_ready(tmp_path, tasks, lambda: os.kill(victim.process.pid, signal.SIGKILL))
    status, _, _ = run(tmp_path, tasks)
    assert status == 1
    assert victim.poll() == -signal.SIGKILL
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert words in err[0]
    assert "the last checkpoint is /x/model.ckpt-200" in err[0] and f"--resume {tmp_path}" in err[0]


def test_sigterm_stops_workers_before_the_ps_and_kills_grandchildren(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    tasks = [stand_in(tmp_path, "ps", 0), stand_in(tmp_path, "worker", 0),
             stand_in(tmp_path, "worker", 1, grandchild=pid_file)]
    supervisor = Supervisor(tasks, tmp_path, False, say=lambda line: None)
    # Once every task is up (the grandchild started), the stop request arrives.
    when_ready(tmp_path, tasks, lambda: supervisor.on_signal(signal.SIGTERM, None))
    try:
        assert supervisor.run() == 128 + signal.SIGTERM
    finally:
        for task in tasks:
            task.signal(signal.SIGKILL)
    order = marks(tmp_path)
    assert sorted(order[:2]) == ["worker:0", "worker:1"] and order[2:] == ["ps:0"], order
    grandchild = int(pid_file.read_text())

    def gone():  # killed with its group; reaped by whoever adopted it
        try:
            return open(f"/proc/{grandchild}/stat").read().split()[2] == "Z"
        except FileNotFoundError:
            return True
    deadline = time.monotonic() + 30
    while not gone():
        assert time.monotonic() < deadline, "the task's own child survived"
        time.sleep(0.02)


def test_last_checkpoint_reads_the_index_file(tmp_path):
    assert last_checkpoint(tmp_path) is None
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "checkpoints" / "checkpoint").write_text(
        'model_checkpoint_path: "/r/model.ckpt-300"\nall_model_checkpoint_paths: "/r/model.ckpt-0"\n')
    assert last_checkpoint(tmp_path) == "/r/model.ckpt-300"
