"""Free loopback ports for the processes the tests and the benchmark start: a service wants one, a
broker two in a row (client and controller listeners), the 3-node cluster six.

They are taken below the kernel's ephemeral range (``net.ipv4.ip_local_port_range``, 32768–60999 on
Linux by default): a process the tests stop and start again (a broker stopped for 30 s, PostgreSQL
restarted, a service SIGKILLed) must get its port back, and a port from the ephemeral range may be
taken meanwhile as the local end of any outgoing connection."""

from __future__ import annotations

import random
import socket
from pathlib import Path

LOWEST = 20000


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_port_run(length: int) -> int:
    """A port p with p … p + length - 1 all free on 127.0.0.1, below the ephemeral range."""
    highest = max(_ephemeral_start() - length, LOWEST + 1000)
    for _ in range(500):
        base = random.randint(LOWEST, highest)
        if all(port_is_free(base + i) for i in range(length)):
            return base
    raise RuntimeError(f"no run of {length} free ports on 127.0.0.1")


def free_port() -> int:
    """A free port below the ephemeral range."""
    return free_port_run(1)
