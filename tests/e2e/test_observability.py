"""Observability on the running system: Debian's Prometheus and Alertmanager (deploy/observability/observability.sh
installs them when missing) watch the five services and the console, as processes on a real broker with SQLite.

What the test changes from the project's files, and only that:
- prometheus.yml: loaded and written to a temporary folder with its targets/services.json listing the test's ports
  (same `job` labels), the global scrape and evaluation intervals and the scrape timeout at 1 s (the project's are 15 s),
  the project's rules file by its absolute path, and the test's Alertmanager as the alerting target;
- alertmanager.yml: the receivers' webhook URLs point at a server of the test, and group_wait / group_interval are
  1 s (the project's are 10–30 s / 5 m); routes, grouping and inhibitions are the project's;
- the services measure lag and dead letters every second (OHS_LAG_INTERVAL_S=1) and retry quickly.

The story: every target up; a report flows; every query of every dashboard (its variables substituted: $county by a
value of the county variable's own query) returns data; a poison record on ohs.reports.submitted is dead-lettered, the
dead-letter alert reaches Alertmanager (its API and the webhook); the operator discards it with
`ohs ops dlq discard …`, and the alert resolves (the webhook gets status "resolved")."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml

from shared import topics
from shared.dead_letters import discard, list_dead_letters
from shared.settings import Settings
from tests.conftest import REPO, free_port
from tests.e2e.conftest import SERVICES, running_services
from tests.support import auth, eventually_sync, new_credit_code, produce, read_topic, report_for

pytestmark = pytest.mark.e2e

OBSERVABILITY = REPO / "deploy" / "observability"
POISONED = topics.REPORTS_SUBMITTED
DLQ = topics.dead_letter_topic(POISONED)
ALERT = "OhsDeadLetterUnhandled"
COUNTY = "141029"
# Grafana's own variables, as Grafana would fill them for a recent range at a 1 s scrape interval
GRAFANA_VARIABLES = {"$__rate_interval": "1m", "$__range": "1h"}


def tools() -> dict[str, str]:
    done = subprocess.run([str(OBSERVABILITY / "observability.sh"), "paths"], capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


class Webhook:
    """Alertmanager's webhook receiver: keeps every notification (the JSON bodies) it is sent."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's hook
                hook.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def alerts(self, status: str) -> list[dict]:
        """The dead-letter alerts on our DLQ topic that notifications said had ``status``."""
        return [alert for body in self.received for alert in body["alerts"]
                if alert["status"] == status and alert["labels"].get("alertname") == ALERT and alert["labels"].get("topic") == DLQ]


def start(command: list[str], log: Path) -> subprocess.Popen:
    with open(log, "wb") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)


def wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    def ready() -> bool:
        assert process.poll() is None, f"{url} exited:\n{log.read_text()[-3000:]}"
        try:
            return httpx.get(f"{url}/-/ready", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    eventually_sync(ready, 30, f"{url} ready", interval=0.2)


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def prometheus_config(folder: Path, urls: dict[str, str], alertmanager_port: int) -> Path:
    config = yaml.safe_load((OBSERVABILITY / "prometheus.yml").read_text(encoding="utf-8"))
    config["global"].update(scrape_interval="1s", evaluation_interval="1s", scrape_timeout="1s")
    config["rule_files"] = [str(OBSERVABILITY / name) for name in config["rule_files"]]
    [alertmanagers] = config["alerting"]["alertmanagers"]
    alertmanagers["static_configs"] = [{"targets": [f"127.0.0.1:{alertmanager_port}"]}]
    [scrape] = config["scrape_configs"]  # one job; its targets come from targets/*.json, each with its own `job` label
    assert scrape["file_sd_configs"][0]["files"] == ["targets/*.json"]
    project_targets = json.loads((OBSERVABILITY / "targets" / "services.json").read_text(encoding="utf-8"))
    assert {group["labels"]["job"] for group in project_targets} == set(urls)
    (folder / "targets").mkdir()
    (folder / "targets" / "services.json").write_text(json.dumps(
        [{"targets": [url.removeprefix("http://")], "labels": {"job": name}} for name, url in urls.items()]))
    path = folder / "prometheus.yml"
    path.write_text(yaml.safe_dump(config))
    return path


def alertmanager_config(folder: Path, webhook: Webhook) -> Path:
    config = yaml.safe_load((OBSERVABILITY / "alertmanager.yml").read_text(encoding="utf-8"))
    for route in [config["route"], *config["route"].get("routes", [])]:
        route.update(group_wait="1s", group_interval="1s")
    for receiver in config["receivers"]:
        for hook in receiver.get("webhook_configs", []):
            hook["url"] = webhook.url
        receiver.pop("email_configs", None)
    path = folder / "alertmanager.yml"
    path.write_text(yaml.safe_dump(config))
    return path


class Prometheus:
    def __init__(self, url: str) -> None:
        self.url = url

    def query(self, expr: str) -> list[dict]:
        answer = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10).json()
        assert answer["status"] == "success", f"{expr}: {answer}"
        return answer["data"]["result"]


@pytest.fixture(scope="module")
def watched(kafka_bootstrap: str, mailbox) -> Iterator[dict]:  # noqa: ANN001 - tests.e2e.conftest.Mailbox
    exes = tools()
    folder = Path(tempfile.mkdtemp(prefix="ohs-observability-"))
    # Dead letters left on the poisoned topic's DLQ by earlier modules (the e2e broker is the session's) would keep the
    # alert firing: an operator handles them first, as the runbook says, so that this test sees its own letter alone.
    settings = Settings(kafka_bootstrap_servers=kafka_bootstrap)
    for letter in list_dead_letters(settings, DLQ, include_handled=False, limit=10_000):
        discard(settings, DLQ, letter.partition, letter.offset, "e2e-observability", "left by an earlier test module")
    webhook = Webhook()
    processes: list[subprocess.Popen] = []
    extra_env = {"OHS_LAG_INTERVAL_S": "1", "OHS_CONSUMER_RETRY_BACKOFF_S": "0.05"}
    try:
        with running_services((*SERVICES, "console"), kafka_bootstrap, mailbox, extra_env=extra_env) as (urls, _, data):
            am_port, prom_port = free_port(), free_port()
            am_log, prom_log = folder / "alertmanager.log", folder / "prometheus.log"
            am = start([exes["alertmanager"], f"--config.file={alertmanager_config(folder, webhook)}", f"--storage.path={folder / 'am'}",
                        f"--web.listen-address=127.0.0.1:{am_port}", "--cluster.listen-address="], am_log)
            processes.append(am)
            prom = start([exes["prometheus"], f"--config.file={prometheus_config(folder, urls, am_port)}",
                          f"--storage.tsdb.path={folder / 'tsdb'}", f"--web.listen-address=127.0.0.1:{prom_port}"], prom_log)
            processes.append(prom)
            wait_ready(f"http://127.0.0.1:{am_port}", am, am_log)
            wait_ready(f"http://127.0.0.1:{prom_port}", prom, prom_log)
            yield {"urls": urls, "prometheus": Prometheus(f"http://127.0.0.1:{prom_port}"), "alertmanager": f"http://127.0.0.1:{am_port}",
                   "webhook": webhook, "bootstrap": kafka_bootstrap, "data": data}
    finally:
        for process in processes:
            stop(process)
        webhook.server.shutdown()
        shutil.rmtree(folder, ignore_errors=True)


def dashboard_queries() -> list[tuple[str, str, str]]:
    """(dashboard file, panel title, PromQL) for every query of every committed dashboard, its variables substituted."""
    spec = importlib.util.spec_from_file_location("ohs_dashboards", OBSERVABILITY / "dashboards" / "generate.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    found = []
    for path in sorted((OBSERVABILITY / "dashboards").glob("*.json")):
        model = json.loads(path.read_text(encoding="utf-8"))
        panels = [(panel["title"], t["expr"]) for panel in model["panels"] for t in panel.get("targets", []) if t.get("expr")]
        for title, expr in panels:
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            found.append((path.name, title, expr.replace("$county", COUNTY)))
        assert len(panels) + len([v for v in model["templating"]["list"] if v["type"] == "query"]) == len(generator.expressions(model))
    return found


def test_prometheus_watches_the_running_system_and_the_dead_letter_alert_fires_and_clears(watched: dict) -> None:
    prometheus: Prometheus = watched["prometheus"]
    urls = watched["urls"]

    # 1. every target up
    def up() -> dict[str, str]:
        return {r["metric"]["job"]: r["value"][1] for r in prometheus.query("up")}

    eventually_sync(up, 30, "every target up", ready=lambda jobs: jobs == dict.fromkeys(urls, "1"), describe=str)

    # 2. a report flows: submitted, classified, archived, pooled. A counter's series appears with its first event, and
    # Prometheus's rate() and increase() see only what happens after a series' first sample: a first report makes the
    # series, the second one is what the dashboards must show crossing the pipeline.
    def flows(code: str) -> None:
        httpx.post(f"{urls['assessment']}/reports", json=report_for(code, COUNTY), headers=auth("county"), timeout=10).raise_for_status()
        eventually_sync(lambda: httpx.get(f"{urls['sampling']}/pools/{COUNTY}", headers=auth("county"), timeout=10).json(), 60,
                        "the employer pooled", ready=lambda pool: code in [m["credit_code"] for ms in pool["members"].values() for m in ms])

    code = new_credit_code(COUNTY)
    flows(code)
    # the series the overview's checks read below, scraped with the first report in them: only then does the second
    # report show as an increase (two reports inside one scrape interval would make a series that starts at 2)
    for first_sample in ('ohs_event_delay_seconds_count{job="sampling"}',
                         f'ohs_events_published_total{{job="assessment", topic="{POISONED}"}} >= 1',
                         f'ohs_reports_classified_total{{county="{COUNTY}", category="丙"}} >= 1'):
        eventually_sync(lambda q=first_sample: prometheus.query(q), 30, f"the first report scraped: {first_sample}")
    flows(new_credit_code(COUNTY))
    httpx.get(f"{urls['console']}/", timeout=10, follow_redirects=True)  # the console answers a person too, not only probes

    # 3. every query of every dashboard returns data, and the overview shows the report crossing; the county variable's
    # own query offers the report's county
    queries = dashboard_queries()

    def without_data() -> list[str]:
        return [f"{name} / {title}: {expr}" for name, title, expr in queries if not prometheus.query(expr)]

    eventually_sync(without_data, 60, "every dashboard query with data", ready=lambda empty: not empty, describe="\n".join, interval=1)

    def overview(title: str) -> dict[str, float]:
        [expr] = [expr for name, panel, expr in queries if name == "overview.json" and panel == title]
        return {json.dumps(r["metric"], ensure_ascii=False, sort_keys=True): float(r["value"][1]) for r in prometheus.query(expr)}

    def not_shown() -> list[str]:
        missing = []
        if not overview("Events published per topic").get(json.dumps({"topic": POISONED}), 0) > 0:
            missing.append("the report published")
        if not any(value > 0 for value in overview("Events handled per topic and group").values()):
            missing.append("events handled")
        if not any(value == value for value in overview("End-to-end delay p95 (broker timestamp → handled)").values()):  # not NaN
            missing.append("a delay")
        if not overview("Category mix by county (over the range)").get(json.dumps({"category": "丙", "county": COUNTY}, ensure_ascii=False), 0) > 0:
            missing.append("the county's 丙 report")
        return missing

    eventually_sync(not_shown, 30, "the second report crossing the overview", ready=lambda missing: not missing, describe=str, interval=1)
    counties = httpx.get(f"{prometheus.url}/api/v1/label/county/values", params={"match[]": "ohs_reports_classified_total"}).json()
    assert COUNTY in counties["data"], counties
    # the periodic jobs are told apart by `task`, beside the target's `job`, as the sweep alert and the dashboards read them
    assert prometheus.query('ohs_job_last_success_timestamp_seconds{job="registry", task="exemption-sweep"}')

    # 4. a poison record → dead-lettered → the alert reaches Alertmanager and the webhook
    poison = b"\xff not json " + uuid.uuid4().hex.encode()
    asyncio.run(produce(watched["bootstrap"], POISONED, poison, key=code.encode()))
    [letter] = [r for r in asyncio.run(read_topic(watched["bootstrap"], DLQ, lambda records: any(r.value == poison for r in records), 60))
                if r.value == poison]

    def firing_in_alertmanager() -> list[dict]:
        alerts = httpx.get(f"{watched['alertmanager']}/api/v2/alerts", params={"filter": f'alertname="{ALERT}"'}, timeout=5).json()
        return [a for a in alerts if a["labels"].get("topic") == DLQ and a["status"]["state"] == "active"]

    [active] = eventually_sync(firing_in_alertmanager, 60, "the dead-letter alert active in Alertmanager", interval=0.5)
    assert active["labels"]["severity"] == "critical"
    assert active["annotations"]["runbook_url"].endswith("docs/operations.md#alert-ohsdeadletterunhandled")
    webhook: Webhook = watched["webhook"]
    eventually_sync(lambda: webhook.alerts("firing"), 30, "the webhook told of the alert", interval=0.5)

    # 5. the operator discards it with the CLI → the alert resolves
    env = dict(os.environ, KAFKA_BOOTSTRAP_SERVERS=watched["bootstrap"], OHS_DATA_DIR=str(watched["data"]))
    done = subprocess.run([sys.executable, "-m", "services.cli", "ops", "dlq", "discard", DLQ, str(letter.partition), str(letter.offset),
                           "--by", "e2e-operator", "--reason", "not a report: bytes from a test"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    eventually_sync(lambda: webhook.alerts("resolved"), 60, "the webhook told the alert resolved", interval=0.5)
    assert not firing_in_alertmanager()
