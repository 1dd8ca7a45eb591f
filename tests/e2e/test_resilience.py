"""A bad day: a service dies under `make run`, the broker is down while employers submit.

* ``make run`` (deploy/run.py) keeps the system up: a service killed with SIGKILL is started again,
  and Ctrl-C still stops everything.
* ``POST /reports`` never waits for the broker: with the broker stopped the report is accepted at
  once (the outbox holds it), and it is classified and archived once the broker is back.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import REPO, free_port, free_port_pair
from tests.e2e.conftest import healthy
from tests.support import TEST_AUTH_SECRET, auth, eventually_get, eventually_sync, new_credit_code, report_for

pytestmark = pytest.mark.e2e

COUNTY = auth("county")


def _ports_free(ports: list[int]) -> bool:
    for port in ports:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_make_run_starts_a_killed_service_again_and_stops_everything_on_ctrl_c(kafka_bootstrap: str) -> None:
    # the services' ports 8001 + offset … 8004 + offset stay below the ephemeral range (shared/ports.py): the killed one
    # must get its port back
    offset = next(o for o in (random.randint(12000, 24000) for _ in range(100)) if _ports_free([8001 + o + i for i in range(4)]))
    run_dir = Path(tempfile.mkdtemp(prefix="ohs-make-run-"))
    env = dict(os.environ, OHS_RUN_DIR=str(run_dir), OHS_RUN_PORT_OFFSET=str(offset), KAFKA_BOOTSTRAP_SERVERS=kafka_bootstrap,
               OHS_CONSUMER_GROUP_PREFIX=f"run-{uuid.uuid4().hex[:8]}", OHS_AUTH_SECRET=TEST_AUTH_SECRET)
    log = open(run_dir / "run.log", "wb")  # noqa: SIM115
    run = subprocess.Popen([sys.executable, "deploy/run.py"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT)
    state = run_dir / "services.json"
    urls = {name: f"http://127.0.0.1:{port + offset}" for name, port in
            {"assessment": 8001, "registry": 8002, "sampling": 8003, "penalty": 8004}.items()}
    try:
        log_text = lambda: (run_dir / "run.log").read_text()  # noqa: E731
        eventually_sync(log_text, 90, "make run ready", ready=lambda text: "[run] ready:" in text, describe=lambda text: text[-3000:])
        assert not [name for name, url in urls.items() if not healthy(url)]
        before = json.loads(state.read_text())["registry"]["pid"]

        os.kill(before, signal.SIGKILL)

        def restarted() -> int | None:
            try:
                pid = json.loads(state.read_text())["registry"]["pid"]
            except ValueError:  # caught while run.py rewrites it
                return None
            return pid if pid != before and healthy(urls["registry"]) else None

        after = eventually_sync(restarted, 60, "the registry started again", ready=lambda pid: pid is not None,
                                describe=lambda _: log_text()[-2000:])
        assert _alive(after) and run.poll() is None
        assert "registry exited with code -9" in log_text()

        children = [entry["pid"] for entry in json.loads(state.read_text()).values()]
        run.send_signal(signal.SIGINT)
        assert run.wait(timeout=90) == 0
        assert not [pid for pid in children if _alive(pid)]
    finally:
        if run.poll() is None:
            run.kill()
        shutil.rmtree(run_dir, ignore_errors=True)


@pytest.fixture
def own_broker() -> Iterator[tuple[str, dict[str, str]]]:
    """A broker of this test's own, which it may stop and start (kafka.sh)."""
    port = free_port_pair()
    data = Path(tempfile.mkdtemp(prefix="ohs-kafka-own-"))
    env = dict(os.environ, KAFKA_DATA_DIR=str(data), KAFKA_PORT=str(port))
    subprocess.run([str(REPO / "deploy/kafka/kafka.sh"), "start"], check=True, env=env)
    try:
        yield f"127.0.0.1:{port}", env
    finally:
        subprocess.run([str(REPO / "deploy/kafka/kafka.sh"), "stop"], check=False, env=env)
        shutil.rmtree(data, ignore_errors=True)


def test_a_report_is_accepted_at_once_while_the_broker_is_down_and_archived_when_it_returns(own_broker) -> None:
    bootstrap, broker_env = own_broker
    from shared.kafka_admin import ensure_topics

    ensure_topics(bootstrap)
    data = Path(tempfile.mkdtemp(prefix="ohs-e2e-down-"))
    urls, processes = {}, []
    for name in ("assessment", "registry"):
        port = free_port()
        urls[name] = f"http://127.0.0.1:{port}"
        env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=bootstrap, OHS_DATA_DIR=str(data), OHS_HTTP_PORT=str(port),
                   OHS_AUTH_SECRET=TEST_AUTH_SECRET, PYTHONUNBUFFERED="1")
        env.pop("DATABASE_URL", None)
        processes.append(subprocess.Popen([sys.executable, "-m", f"services.{name}"], cwd=REPO, env=env,
                                          stdout=open(data / f"{name}.log", "wb"), stderr=subprocess.STDOUT))  # noqa: SIM115
    try:
        eventually_sync(lambda: [n for n, u in urls.items() if not healthy(u)], 60, "assessment and registry healthy",
                        ready=lambda waiting: not waiting)
        subprocess.run([str(REPO / "deploy/kafka/kafka.sh"), "stop"], check=True, env=broker_env)

        code = new_credit_code("141029")
        report = report_for(code)
        started = time.monotonic()
        answer = httpx.post(f"{urls['assessment']}/reports", json=report, headers=COUNTY, timeout=30)
        elapsed = time.monotonic() - started
        assert answer.status_code == 202, answer.text
        assert elapsed < 3, f"POST /reports took {elapsed:.1f} s with the broker down: it must not wait for the broker"
        status = httpx.get(f"{urls['assessment']}/reports/{report['submission_id']}", headers=COUNTY, timeout=10).json()
        assert status["status"] == "accepted"

        subprocess.run([str(REPO / "deploy/kafka/kafka.sh"), "start"], check=True, env=broker_env)
        archived = eventually_get(f"{urls['registry']}/enterprises/{code}", lambda r: r.status_code == 200, timeout=120,
                                  headers=COUNTY).json()
        assert archived["category"] == "丙" and archived["submission_id"] == report["submission_id"]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)
