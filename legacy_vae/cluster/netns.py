"""A network of the cluster's own: a private network namespace with only loopback.

TensorFlow's gRPC server listens on ``0.0.0.0:<port>`` whatever host the
cluster spec names (``grpc_server_lib.cc`` builds the listening address from
the port alone), and it runs any graph it is sent, with no authentication.
A local cluster started on the machine's own network would therefore accept
work from anyone who can reach the machine. So the supervisor of a local
cluster runs in a new network namespace (``unshare --user --net``: no root
needed where the kernel allows unprivileged user namespaces) in which the
only interface is loopback: there ``0.0.0.0`` means 127.0.0.1 and nothing
else, and the tasks it starts inherit the namespace.

Files are unaffected (same file system, same owner on disk); only the
network is private, so the run folder is written as usual.
"""
from __future__ import annotations

import fcntl
import shutil
import socket
import struct
import subprocess

_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
ENV_MARK = "LEGACY_VAE_CLUSTER_NETNS"  # set inside the namespace, for the supervisor's own check


class IsolationError(RuntimeError):
    """No private network namespace could be made; the message says why and what to do."""


def prefix() -> list[str]:
    """The command prefix that runs a program in a new user + network namespace."""
    unshare = shutil.which("unshare")
    if unshare is None:
        raise IsolationError("the local cluster runs in a private network namespace, and the 'unshare' "
                             "command (util-linux) is not installed; install it, or pass --no-isolation "
                             "to let TensorFlow's servers listen on every interface")
    return [unshare, "--user", "--map-root-user", "--net", "--"]


def check_available() -> None:
    """Raise IsolationError with the kernel's reason if a namespace cannot be made here."""
    command = prefix() + ["true"]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except subprocess.TimeoutExpired:
        raise IsolationError("'unshare --user --net true' did not return in 30 s") from None
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise IsolationError(f"cannot make a private network namespace for the local cluster ({reason}); "
                             "unprivileged user namespaces may be disabled here: pass --no-isolation to let "
                             "TensorFlow's servers listen on every interface instead")


def interfaces() -> list[str]:
    """The network interfaces this process sees."""
    return sorted(name for _, name in socket.if_nameindex())


def bring_up_loopback() -> None:
    """Switch ``lo`` on (a new namespace starts with it down), without the ``ip`` tool."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sH", b"lo", 0)
        flags = struct.unpack("16sH", fcntl.ioctl(sock, _SIOCGIFFLAGS, request)[:18])[1]
        if not flags & _IFF_UP:
            fcntl.ioctl(sock, _SIOCSIFFLAGS, struct.pack("16sH", b"lo", flags | _IFF_UP))


def loopback_bytes() -> int:
    """Bytes received on ``lo`` so far (in a private namespace: all of the cluster's traffic)."""
    with open("/proc/net/dev", encoding="ascii") as handle:
        for line in handle:
            name, _, counters = line.partition(":")
            if name.strip() == "lo":
                return int(counters.split()[0])
    raise RuntimeError("no 'lo' interface in /proc/net/dev")
