"""Free loopback ports for the processes the tests and the benchmark start: a service wants one, a
broker two in a row (client and controller listeners), the 3-node cluster six."""

from __future__ import annotations

import random
import socket


def port_is_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def free_port() -> int:
    """A port the system says is free now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_port_run(length: int) -> int:
    """A port p with p … p + length - 1 all free on 127.0.0.1."""
    for _ in range(200):
        base = random.randint(20000, 40000)
        if all(port_is_free(base + i) for i in range(length)):
            return base
    raise RuntimeError(f"no run of {length} free ports on 127.0.0.1")
