"""The e2e fixtures: the four services as processes, on a real broker, each with its own database.

``system`` is module-scoped and parametrised: every e2e module runs once against SQLite files and
once against PostgreSQL databases. The topics are shared by the whole session; each new system's
consumer groups start at the topics' end (what earlier modules published is not its backlog), and
tests look only at their own employers (fresh credit codes) all the same. The e2e tests have a broker of their own, apart from the
integration tests'.

The fault tests (test_faults.py) have their own of everything they break: ``own_postgres`` (a PostgreSQL
server per module), ``own_broker_of_the_class`` (a single kafka.sh broker per class) and
``secured_cluster`` (the 3-node cluster of cluster.sh per class)."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from shared.kafka_admin import ensure_topics
from shared.kafka_security import SUPER_USER
from tests.conftest import REPO, broker, free_port, free_port_pair, free_port_run
from tests.support import TEST_AUTH_SECRET, consumer_groups, eventually_sync, start_groups_at_the_end

if TYPE_CHECKING:
    from shared.settings import Settings

SERVICES = ("assessment", "registry", "sampling", "penalty", "notification", "monitoring")


def fresh_database(server_url: str) -> str:
    import psycopg

    name = f"e2e_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(server_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """The e2e tests' own broker: the integration tests' topics (thousands of bulk-intake reports) are
    not a backlog every e2e system must first work through."""
    with broker() as bootstrap:
        yield bootstrap


@dataclass
class Mailbox:
    """What a local SMTP server (aiosmtpd, a real SMTP conversation on a local port) has received."""

    url: str
    messages: list = field(default_factory=list)  # email.message.EmailMessage, in arrival order

    def to(self, address: str) -> list:
        return [m for m in self.messages if address in m["To"]]


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    """The agency's mail server as the notification service sees it: every system sends through it."""
    from email import message_from_bytes, policy

    from aiosmtpd.controller import Controller

    port = free_port()
    box = Mailbox(url=f"smtp://127.0.0.1:{port}")

    class Keep:
        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802 - aiosmtpd's hook
            box.messages.append(message_from_bytes(envelope.content, policy=policy.default))
            return "250 OK"

    controller = Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@contextmanager
def running_services(names: tuple[str, ...], kafka_bootstrap: str, mailbox: Mailbox, postgres: str | None = None,
                     extra_env: dict[str, str] | None = None) -> Iterator[tuple[dict[str, str], dict[str, str], Path]]:
    """``names`` as processes on free ports, each with its own database (SQLite files, or fresh PostgreSQL
    databases on ``postgres``): yields (name → URL, name → database URL, the data folder). The console, when
    among them, is told where the others are."""
    data = Path(tempfile.mkdtemp(prefix="ohs-e2e-"))
    env = dict(
        os.environ,
        OHS_SMTP_URL=mailbox.url,
        KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
        OHS_DATA_DIR=str(data),
        OHS_CONSUMER_GROUP_PREFIX=f"e2e-{uuid.uuid4().hex[:8]}",
        OHS_AUTH_SECRET=TEST_AUTH_SECRET,
        PYTHONUNBUFFERED="1",
        **(extra_env or {}),
    )
    env.pop("DATABASE_URL", None)
    # a new system starts where the topics end: the earlier modules' events (thousands, through five services'
    # pipelines) are not a backlog each system must first work through before it answers for its own
    ensure_topics(kafka_bootstrap)
    asyncio.run(start_groups_at_the_end(kafka_bootstrap, consumer_groups(env["OHS_CONSUMER_GROUP_PREFIX"])))
    ports = {name: free_port() for name in names}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    env.update({f"OHS_{name.upper()}_URL": url for name, url in urls.items()})
    processes, databases = [], {}
    for name in names:
        service_env = dict(env, OHS_HTTP_PORT=str(ports[name]))
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

        eventually_sync(not_yet_healthy, 120, "every service healthy", ready=lambda waiting: not waiting, describe=logs, interval=0.3)
        yield urls, databases, data
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=20)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def system(request, kafka_bootstrap: str, mailbox: Mailbox) -> Iterator[dict[str, str]]:
    """The five services as processes, each with its own database: SQLite files, or PostgreSQL databases."""
    postgres = request.getfixturevalue("postgres_server") if request.param == "postgresql" else None
    with running_services(SERVICES, kafka_bootstrap, mailbox, postgres) as (urls, databases, _):
        # the databases, for operator commands (the registry's and the penalty's sweeps): <service>_database_url
        yield {**urls, **{f"{name}_database_url": url for name, url in databases.items()}}


# --------------------------------------------------------------------------- the console in a real browser

@dataclass
class ConsoleSystem:
    """The five services and the console, as `make run` starts them, with accounts made as an operator does."""

    urls: dict[str, str]
    databases: dict[str, str]
    data: Path
    shots: Path  # screenshots of each journey's last page

    @property
    def console(self) -> str:
        return self.urls["console"]

    def account(self, role: str, scope: str, username: str, password: str = "e2e-Passw0rd!", admin: bool = False) -> tuple[str, str]:
        """An account made with `ohs console create-account` against the console's database."""
        env = dict(os.environ, OHS_DATA_DIR=str(self.data), DATABASE_URL=self.databases["console"], OHS_NEW_PASSWORD=password)
        command = [sys.executable, "-m", "services.cli", "console", "create-account", "--username", username, "--name", f"{username} 测试",
                   "--role", role, "--scope", scope, *(["--admin"] if admin else [])]
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr[-2000:]
        return username, password


@pytest.fixture(scope="module")
def console_system(kafka_bootstrap: str, mailbox: Mailbox) -> Iterator[ConsoleSystem]:
    shots = REPO / "tests" / "output" / "screenshots"
    shots.mkdir(parents=True, exist_ok=True)
    with running_services((*SERVICES, "console"), kafka_bootstrap, mailbox) as (urls, databases, data):
        yield ConsoleSystem(urls, databases, data, shots)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's chromium (deploy/browser/chromium.sh installs it when missing, as pg.sh does PostgreSQL)."""
    return _script(REPO / "deploy" / "browser" / "chromium.sh", "path", env=dict(os.environ), timeout=900).strip()


@pytest.fixture(scope="module")
def browser(chromium_path: str):  # noqa: ANN201 - playwright's Browser
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        try:
            yield launched
        finally:
            launched.close()


# --------------------------------------------------------------------------- the fault tests' own infrastructure
#
# tests/e2e/test_faults.py stops, kills and restarts what it runs on, so it gets its own of each: a PostgreSQL
# server (restarted by one scenario), a single broker (stopped for a while by another) and the secured 3-node
# cluster (one node SIGKILLed). Each fixture stops what it started, on failure too.

PG_SCRIPT = REPO / "deploy" / "postgres" / "pg.sh"
KAFKA_SCRIPT = REPO / "deploy" / "kafka" / "kafka.sh"
CLUSTER_SCRIPT = REPO / "deploy" / "kafka" / "cluster.sh"


def _script(script: Path, *args: str, env: dict[str, str], timeout: float = 240) -> str:
    """Run one of the deploy scripts; its stdout, or an AssertionError with its stderr."""
    done = subprocess.run([str(script), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False)
    assert done.returncode == 0, f"{script.name} {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}"
    return done.stdout


@dataclass
class PostgresServer:
    """A PostgreSQL server of deploy/postgres/pg.sh that a test may stop and start again."""

    url: str  # postgresql://ohs@127.0.0.1:PORT/postgres
    env: dict[str, str]

    def database(self) -> str:
        return fresh_database(self.url)

    def stop(self) -> None:
        _script(PG_SCRIPT, "stop", env=self.env)

    def start(self) -> None:
        _script(PG_SCRIPT, "start", env=self.env)


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[PostgresServer]:
    """A PostgreSQL server of the module's own (not the session's ``postgres_server``): the module may restart it."""
    data = Path(tempfile.mkdtemp(prefix="ohs-pg-own-"))
    data.chmod(0o755)
    env = dict(os.environ, PG_DATA_DIR=str(data / "cluster"), PG_PORT=str(free_port()))
    try:
        _script(PG_SCRIPT, "start", env=env)
        yield PostgresServer(_script(PG_SCRIPT, "url", env=env).strip(), env)
    finally:
        subprocess.run([str(PG_SCRIPT), "stop"], env=env, capture_output=True, timeout=120, check=False)
        shutil.rmtree(data, ignore_errors=True)


@dataclass
class KafkaUnderTest:
    """A broker or a cluster as the tests reach it: the bootstrap list, the environment a service (or the
    admin) connects with, and, on the secured cluster, the data folder with each node's pid file."""

    bootstrap: str
    script_env: dict[str, str]  # KAFKA_DATA_DIR and the port(s), for kafka.sh / cluster.sh
    secured: bool = False
    exports: dict[str, dict[str, str]] = field(default_factory=dict)  # user → `cluster.sh env <user>`

    def env_for(self, user: str) -> dict[str, str]:
        """The KAFKA_* environment of ``user`` (``ohs-<service>``, or ``admin``)."""
        if not self.secured:
            return {"KAFKA_BOOTSTRAP_SERVERS": self.bootstrap}
        if user not in self.exports:
            text = _script(CLUSTER_SCRIPT, "env", user, env=self.script_env, timeout=30)
            self.exports[user] = dict(line.removeprefix("export ").split("=", 1) for line in text.splitlines() if line.startswith("export "))
        return dict(self.exports[user])

    def admin_settings(self, **overrides: object) -> Settings:
        """Settings connecting as the admin (the super user on the cluster; anyone on the open broker)."""
        from shared.settings import Settings

        env = self.env_for(SUPER_USER)
        fields = {"kafka_bootstrap_servers": env["KAFKA_BOOTSTRAP_SERVERS"]}
        if self.secured:
            fields |= {"kafka_security_protocol": env["KAFKA_SECURITY_PROTOCOL"], "kafka_sasl_mechanism": env["KAFKA_SASL_MECHANISM"],
                       "kafka_sasl_username": env["KAFKA_SASL_USERNAME"], "kafka_sasl_password": env["KAFKA_SASL_PASSWORD"],
                       "kafka_replication_factor": int(env["KAFKA_REPLICATION_FACTOR"]),
                       "kafka_min_insync_replicas": int(env["KAFKA_MIN_INSYNC_REPLICAS"])}
        return Settings(**{**fields, **overrides})

    def client_options(self) -> dict[str, object]:
        """kafka-python options for the test's own clients (the admin's credentials on the cluster)."""
        from shared.kafka_admin import client_options

        return {"bootstrap_servers": self.bootstrap.split(","), **client_options(self.admin_settings())}

    # the single broker (kafka.sh)
    def stop_broker(self) -> None:
        _script(KAFKA_SCRIPT, "stop", env=self.script_env)

    def start_broker(self) -> None:
        _script(KAFKA_SCRIPT, "start", env=self.script_env)

    # the cluster's nodes (cluster.sh)
    def node_pid(self, node: int) -> int:
        return int((Path(self.script_env["KAFKA_DATA_DIR"]) / f"node{node}" / "node.pid").read_text())

    def start_node(self, node: int) -> None:
        _script(CLUSTER_SCRIPT, "start-node", str(node), env=self.script_env)



@pytest.fixture(scope="class")
def own_broker_of_the_class() -> Iterator[KafkaUnderTest]:
    """A single broker from deploy/kafka/kafka.sh (the one `make run` starts), with the topics, that the
    class's tests may stop and start again."""
    from shared.kafka_admin import ensure_topics

    data = Path(tempfile.mkdtemp(prefix="ohs-kafka-faults-"))
    env = dict(os.environ, KAFKA_DATA_DIR=str(data), KAFKA_PORT=str(free_port_pair()))
    try:
        _script(KAFKA_SCRIPT, "start", env=env)
        bootstrap = f"127.0.0.1:{env['KAFKA_PORT']}"
        ensure_topics(bootstrap)
        yield KafkaUnderTest(bootstrap, env)
    finally:
        subprocess.run([str(KAFKA_SCRIPT), "stop"], env=env, capture_output=True, timeout=120, check=False)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="class")
def secured_cluster() -> Iterator[KafkaUnderTest]:
    """The secured 3-node cluster of deploy/kafka/cluster.sh (SASL/SCRAM, ACLs), its topics created by the admin
    with replication factor 3 and min.insync.replicas 2 (shared.kafka_security.provision). A test applies the ACLs
    for its own consumer-group prefix (shared.kafka_security.apply_acls)."""
    from shared.kafka_security import provision

    data = Path(tempfile.mkdtemp(prefix="ohs-kafka-cluster-faults-"))
    env = dict(os.environ, KAFKA_DATA_DIR=str(data), KAFKA_CLUSTER_PORT=str(free_port_run(6)))
    try:
        bootstrap = _script(CLUSTER_SCRIPT, "start", env=env).strip().splitlines()[-1]
        cluster = KafkaUnderTest(bootstrap, env, secured=True)
        provision(cluster.admin_settings())
        yield cluster
    finally:
        subprocess.run([str(CLUSTER_SCRIPT), "stop"], env=env, capture_output=True, timeout=120, check=False)
        shutil.rmtree(data, ignore_errors=True)


