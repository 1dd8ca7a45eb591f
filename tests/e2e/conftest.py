"""The e2e fixture: the four services as processes, on a real broker, each with its own database.

``system`` is module-scoped and parametrised: every e2e module runs once against SQLite files and
once against PostgreSQL databases. The topics are shared by the whole session and read from offset 0
by each new system, so a service may hold employers of earlier modules and parametrisations: tests
look only at their own (fresh credit codes). The e2e tests have a broker of their own, apart from the
integration tests'."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, broker, free_port
from tests.support import TEST_AUTH_SECRET, eventually_sync

SERVICES = ("assessment", "registry", "sampling", "penalty")


def fresh_database(server_url: str) -> str:
    import psycopg

    name = f"e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The e2e tests' own broker: the integration tests' topics (thousands of bulk-intake reports) are
    not a backlog every e2e system must first work through."""
    with broker() as bootstrap:
        yield bootstrap


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def system(request, kafka_bootstrap: str) -> Iterator[dict[str, str]]:
    """The four services as processes, each with its own database: SQLite files, or PostgreSQL databases."""
    data = Path(tempfile.mkdtemp(prefix="ohs-e2e-"))
    env = dict(
        os.environ,
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        OHS_DATA_DIR=str(data),
        OHS_CONSUMER_GROUP_PREFIX=f"e2e-{uuid.uuid4().hex[:8]}",
        OHS_AUTH_SECRET=TEST_AUTH_SECRET,
        PYTHONUNBUFFERED="1",
    )
    env.pop("DATABASE_URL", None)
    urls, processes, databases = {}, [], {}
    postgres = request.getfixturevalue("postgres_server") if request.param == "postgresql" else None
    for name in SERVICES:
        port = free_port()
        urls[name] = f"http://127.0.0.1:{port}"
        service_env = dict(env, OHS_HTTP_PORT=str(port))
        if postgres:
            service_env["DATABASE_URL"] = fresh_database(postgres)
        databases[name] = service_env.get("DATABASE_URL", f"sqlite:///{data / (name + '.db')}")
        log = open(data / f"{name}.log", "wb")  # noqa: SIM115
        processes.append(
            subprocess.Popen([sys.executable, "-m", f"services.{name}"], cwd=REPO, env=service_env, stdout=log, stderr=subprocess.STDOUT)
        )
    try:
        def not_yet_healthy() -> list[str]:
            return [name for name, url in urls.items() if not healthy(url)]

        def logs(waiting: list[str]) -> str:
            return "; ".join(f"{name} log:\n" + (data / f"{name}.log").read_text()[-3000:] for name in waiting)

        eventually_sync(not_yet_healthy, 60, "every service healthy", ready=lambda waiting: not waiting, describe=logs, interval=0.3)
        # the databases, for operator commands (the registry's and the penalty's sweeps): <service>_database_url
        yield {**urls, **{f"{name}_database_url": url for name, url in databases.items()}}
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)
