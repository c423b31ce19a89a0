"""Where a command's CPU goes: seconds of CPU per kind of thread, in windows of wall time.

On a machine with ``n`` cores a command whose threads keep every core busy
cannot end before its CPU seconds / ``n``, so a wall time is only as short as
the CPU behind it. This runs a command (with its output discarded), reads
``/proc/<pid>/task/<tid>/stat`` of it and of every process it starts every
``interval`` seconds, and sorts each thread's user + system time into a kind:

* ``tensorflow``: threads TensorFlow names ``tf_*`` (its intra- and inter-op
  pools: the training steps and the evaluation);
* ``figures``: every thread of a ``python -m legacy_vae.drawing`` worker;
* ``python``: the other threads of a process (the interpreter's own thread,
  TensorFlow's import, reading MNIST, building graphs, the loop's Python).

Linux only. A thread is counted at its last sample, so one that lives less
than ``interval`` may be missed and one that ends loses at most ``interval``
of CPU.

    python -m legacy_vae.bench.cpu -- legacy-vae train --data-dir ../shared/mnist --no-progress
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from legacy_vae.engine.threads import cores
from legacy_vae.failures import RunError

KINDS = ("tensorflow", "figures", "python")
FIGURE_WORKER = b"legacy_vae.drawing"  # an argument of its own: python -m legacy_vae.drawing


def _children(pid: int) -> list:
    found = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            found += [int(child) for child in Path(f"/proc/{pid}/task/{tid}/children").read_text().split()]
    except OSError:  # the process ended between two reads
        pass
    return found


def _threads(root: int):
    """(process id, thread id, kind, CPU seconds) of ``root``, its descendants and all their threads."""
    tick = os.sysconf("SC_CLK_TCK")
    pids = [root]
    for pid in pids:  # grows as it goes: a breadth-first walk of the process tree
        pids += _children(pid)
    for pid in pids:
        try:
            figures = FIGURE_WORKER in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            for tid in os.listdir(f"/proc/{pid}/task"):
                stat = Path(f"/proc/{pid}/task/{tid}/stat").read_text()
                name = stat[stat.index("(") + 1:stat.rindex(")")]
                fields = stat[stat.rindex(")") + 2:].split()
                kind = "figures" if figures else "tensorflow" if name.startswith("tf_") else "python"
                yield pid, tid, kind, (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        except OSError:
            continue


def sample(command: list, interval: float = 0.2) -> list:
    """Run ``command``; return (wall seconds, CPU seconds by kind so far) at every sample."""
    if not Path("/proc/self/task").is_dir():
        raise OSError("legacy_vae.bench.cpu reads /proc: it runs on Linux only")
    started = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    last, samples = {}, []
    while True:
        running = process.poll() is None
        for pid, tid, kind, cpu in _threads(process.pid):
            last[pid, tid] = kind, cpu
        totals = Counter()
        for kind, cpu in last.values():
            totals[kind] += cpu
        samples.append((time.perf_counter() - started, totals))
        if not running:
            break
        time.sleep(interval)
    if process.returncode != 0:
        raise RunError(f"{' '.join(command)} failed with status {process.returncode}; run it alone to see why")
    return samples


def windows(samples: list, every: float) -> list:
    """(start, end, CPU seconds by kind) for each ``every`` seconds of wall time, and the remainder."""
    rows, before, start = [], Counter(), 0.0
    for index, (second, totals) in enumerate(samples):
        if second >= start + every or index == len(samples) - 1:
            rows.append((start, second, Counter({kind: totals[kind] - before[kind] for kind in KINDS})))
            before, start = totals, second
    return rows


def table(samples: list, every: float) -> str:
    lines = ["wall s        " + "".join(f"{kind:>12s}" for kind in KINDS)]
    for start, end, cpu in windows(samples, every):
        lines.append(f"{start:5.1f}-{end:5.1f}  " + "".join(f"{cpu[kind]:12.2f}" for kind in KINDS))
    wall, totals = samples[-1]
    cpu = sum(totals[kind] for kind in KINDS)
    lines.append("total         " + "".join(f"{totals[kind]:12.2f}" for kind in KINDS))
    lines.append(f"{cpu:.1f} s of CPU in {wall:.1f} s of wall time: {cpu / wall:.2f} cores busy on average "
                 f"(this machine lets the command use {cores()})")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m legacy_vae.bench.cpu", description=__doc__.split("\n")[0])
    parser.add_argument("--every", type=float, default=5.0, help="seconds of wall time per row (default 5)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command or args.every <= 0:
        parser.error("give a positive --every and a command after --, e.g. -- legacy-vae train --model post")
    try:
        samples = sample(command)
    except (OSError, RunError) as error:
        parser.exit(1, f"python -m legacy_vae.bench.cpu: {error}\n")
    print(table(samples, args.every))
    return 0


if __name__ == "__main__":
    sys.exit(main())
