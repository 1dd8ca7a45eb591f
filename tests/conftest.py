"""Fixtures for the real components, started by the project's own scripts.

* ``kafka_bootstrap``: a KRaft broker from deploy/kafka/kafka.sh on free loopback ports (or the
  cluster named by KAFKA_BOOTSTRAP_SERVERS), with the project's topics created.
* ``postgres_url``: a fresh database per test on a server from deploy/postgres/pg.sh (or on the
  server named by TEST_POSTGRES_URL).

It also sets OHS_AUTH_SECRET to ``tests.support.TEST_AUTH_SECRET`` for every service a test starts.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from shared.ports import free_port, free_port_run  # noqa: F401  (the tests import them from here)
from tests.support import TEST_AUTH_SECRET

REPO = Path(__file__).resolve().parent.parent

# Every service a test starts (in this process or as a subprocess, which inherits the
# environment) verifies tokens with the test secret; tests.support.token_for signs with it.
os.environ["OHS_AUTH_SECRET"] = TEST_AUTH_SECRET


def free_port_pair() -> int:
    """A port p with p + 1 also free (the broker's client and controller listeners)."""
    return free_port_run(2)


@contextmanager
def broker() -> Iterator[str]:
    """A KRaft broker from deploy/kafka/kafka.sh on free loopback ports, with the project's topics
    (or the cluster named by KAFKA_BOOTSTRAP_SERVERS)."""
    from shared.kafka_admin import ensure_topics

    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if external:
        ensure_topics(external)
        yield external
        return
    port = free_port_pair()
    data = Path(tempfile.mkdtemp(prefix="ohs-kafka-"))
    env = dict(os.environ, KAFKA_DATA_DIR=str(data), KAFKA_PORT=str(port))
    script = str(REPO / "deploy/kafka/kafka.sh")
    subprocess.run([script, "start"], check=True, env=env)
    try:
        bootstrap = f"127.0.0.1:{port}"
        ensure_topics(bootstrap)
        yield bootstrap
    finally:
        subprocess.run([script, "stop"], check=False, env=env)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    with broker() as bootstrap:
        yield bootstrap


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    external = os.environ.get("TEST_POSTGRES_URL")
    if external:
        yield external
        return
    port = free_port()
    data = Path(tempfile.mkdtemp(prefix="ohs-pg-"))
    data.chmod(0o755)
    env = dict(os.environ, PG_DATA_DIR=str(data / "cluster"), PG_PORT=str(port))
    script = str(REPO / "deploy/postgres/pg.sh")
    subprocess.run([script, "start"], check=True, env=env)
    try:
        yield f"postgresql://ohs@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([script, "stop"], check=False, env=env)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A new, empty database for one test."""
    import psycopg

    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    yield postgres_server.rsplit("/", 1)[0] + f"/{name}"
