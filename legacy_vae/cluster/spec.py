"""Cluster layouts and specs: ``ps=1,workers=2``, a ClusterSpec JSON, ``TF_CONFIG``.

A *spec* here is the plain dict ``tf.train.ClusterSpec`` takes::

    {"ps": ["127.0.0.1:41001"], "worker": ["127.0.0.1:41002", "127.0.0.1:41003"]}

and a *task* is ``(job, index)``: ``("ps", 0)``, ``("worker", 1)``. Worker 0
is the chief, as in TF1's between-graph replication. Nothing here imports
TensorFlow: the supervisor that starts the tasks stays light.
"""
from __future__ import annotations

import json
import os
import re
import socket
from pathlib import Path

JOBS = ("ps", "worker")
_LAYOUT = re.compile(r"^\s*ps\s*=\s*(\d+)\s*,\s*workers?\s*=\s*(\d+)\s*$")
_ADDRESS = re.compile(r"^[^\s:/]+:\d{1,5}$")
MAX_TASKS = 64  # far more than one machine can run; a typo guard, not a limit of TensorFlow


def parse_layout(text: str) -> tuple[int, int]:
    """``"ps=1,workers=2"`` -> (1, 2), with a one-line error for anything else."""
    match = _LAYOUT.match(text or "")
    if not match:
        raise ValueError(f"--cluster expects ps=P,workers=N (e.g. ps=1,workers=2), got {text!r}")
    ps, workers = int(match.group(1)), int(match.group(2))
    if ps < 1 or workers < 1:
        raise ValueError(f"--cluster needs at least one parameter server and one worker, got {text!r}")
    if ps + workers > MAX_TASKS:
        raise ValueError(f"--cluster {text!r} asks for {ps + workers} processes on one machine; "
                         f"at most {MAX_TASKS}")
    return ps, workers


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """``count`` distinct ports that are free on ``host`` right now.

    All sockets stay open until every port is chosen, so the kernel cannot
    hand out one port twice; they are closed before the servers bind them
    (the supervisor runs inside a network namespace of its own, where no
    other program can take them in between).
    """
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind((host, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def local_spec(ps: int, workers: int, host: str = "127.0.0.1") -> dict:
    """A spec of ``ps`` + ``workers`` tasks on free ports of ``host``."""
    ports = free_ports(ps + workers, host)
    return {"ps": [f"{host}:{port}" for port in ports[:ps]],
            "worker": [f"{host}:{port}" for port in ports[ps:]]}


def check_spec(spec) -> dict:
    """Validate a ClusterSpec dict; return it with only the ps and worker jobs."""
    if not isinstance(spec, dict):
        raise ValueError(f"a cluster spec is a JSON object like {{\"ps\": [...], \"worker\": [...]}}, "
                         f"got {type(spec).__name__}")
    if set(spec) - set(JOBS):
        raise ValueError(f"the cluster spec may hold the jobs 'ps' and 'worker' (worker 0 is the chief), "
                         f"got {sorted(spec)}")
    for job in JOBS:
        addresses = spec.get(job)
        if not isinstance(addresses, list) or not addresses:
            raise ValueError(f"the cluster spec needs a non-empty list of host:port addresses for "
                             f"'{job}', got {addresses!r}")
        bad = [a for a in addresses if not isinstance(a, str) or not _ADDRESS.match(a)]
        if bad:
            raise ValueError(f"'{job}' addresses must look like host:port, got {bad[0]!r}")
    everything = spec["ps"] + spec["worker"]
    if len(set(everything)) != len(everything):
        raise ValueError("two tasks of the cluster spec share an address; give each task its own host:port")
    return {job: list(spec[job]) for job in JOBS}


def parse_task(text: str, spec: dict) -> tuple[str, int]:
    """``"worker:1"`` -> ("worker", 1), checked against ``spec``."""
    match = re.match(r"^\s*(ps|worker)\s*:\s*(\d+)\s*$", text or "")
    if not match:
        raise ValueError(f"--task expects ps:I or worker:I (e.g. worker:0, the chief), got {text!r}")
    job, index = match.group(1), int(match.group(2))
    if index >= len(spec[job]):
        raise ValueError(f"--task {text}: the cluster spec has {len(spec[job])} {job} task(s), "
                         f"numbered from 0")
    return job, index


def _read_json(text: str, what: str):
    if text.startswith("@"):
        path = Path(text[1:])
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as error:
            raise ValueError(f"{what}: cannot read {path}: {error.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{what} is not valid JSON ({error.msg} at character {error.pos})") from None


def external(cluster_spec: str, task: str | None) -> tuple[dict, tuple[str, int]]:
    """The spec and this process's task for ``--cluster-spec`` (and ``--task``).

    ``cluster_spec`` is JSON text, ``@path`` to a JSON file, or ``TF_CONFIG``
    (read that environment variable). Either a ClusterSpec dict, with the task
    given by ``--task job:index``, or TF_CONFIG's shape
    ``{"cluster": {...}, "task": {"type": "worker", "index": 0}}``.
    """
    what = "--cluster-spec"
    if cluster_spec == "TF_CONFIG":
        what = "TF_CONFIG"
        cluster_spec = os.environ.get("TF_CONFIG", "")
        if not cluster_spec:
            raise ValueError("--cluster-spec TF_CONFIG: the TF_CONFIG environment variable is not set")
    data = _read_json(cluster_spec, what)
    if isinstance(data, dict) and "cluster" in data:
        spec = check_spec(data["cluster"])
        given = data.get("task")
        if task is None:
            if not isinstance(given, dict) or "type" not in given or "index" not in given:
                raise ValueError(f"{what} has no task {{\"type\": ..., \"index\": ...}}; add one or pass --task")
            task = f"{given['type']}:{given['index']}"
    else:
        spec = check_spec(data)
        if task is None:
            raise ValueError(f"{what} gives the cluster but not this process's part in it: pass --task "
                             f"worker:0 (the chief), worker:1, ... or ps:0, ...")
    return spec, parse_task(task, spec)
