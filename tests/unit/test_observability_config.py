"""deploy/observability: the Prometheus config, alert rules and Alertmanager config pass Prometheus's own checks
(Debian's promtool and amtool, installed by observability.sh when missing, as chromium.sh does for the browser);
the alerts behave on made-up series (rules/ohs-alerts.test.yml); every alert links to its runbook section in
docs/operations.md; every metric a rule or a dashboard reads is one the services export (read from their
registries at test time); the committed dashboards are what the generator writes."""

from __future__ import annotations

import ast
import importlib.util
import json
import re
import subprocess
from functools import cache
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
OBSERVABILITY = REPO / "deploy" / "observability"
RULES = OBSERVABILITY / "rules" / "ohs-alerts.yml"
OPERATIONS = REPO / "docs" / "operations.md"
DASHBOARDS = sorted((OBSERVABILITY / "dashboards").glob("*.json"))

# the alerts issue 16 asks for (more may exist)
REQUIRED_ALERTS = {"OhsConsumerLagGrowing", "OhsDeadLetterUnhandled", "OhsHttpServerErrors", "OhsServiceNotReady", "OhsOutboxStuck",
                   "OhsSweepNotRun", "OhsCreditFeedStalled", "OhsLagProbeFailing"}
PROMETHEUS_OWN = {"up", "scrape_duration_seconds", "scrape_samples_scraped", "ALERTS", "ALERTS_FOR_STATE"}
PROMQL_WORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan"}
METRIC_CLASSES = {"Counter", "Gauge", "Histogram", "Summary", "Info", "Enum"}


@cache
def tools() -> dict[str, str]:
    done = subprocess.run([str(OBSERVABILITY / "observability.sh"), "paths"], capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, cwd=OBSERVABILITY)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def rules() -> list[dict]:
    return [rule for group in yaml.safe_load(RULES.read_text(encoding="utf-8"))["groups"] for rule in group["rules"]]


def alerts() -> list[dict]:
    return [rule for rule in rules() if "alert" in rule]


# --------------------------------------------------------------------------- Prometheus's own checks

def test_promtool_accepts_the_config_and_its_rules() -> None:
    out = run(tools()["promtool"], "check", "config", "prometheus.yml")
    assert "SUCCESS" in out and "1 rule files found" in out, out


def test_promtool_accepts_the_rules() -> None:
    assert f"SUCCESS: {len(rules())} rules found" in run(tools()["promtool"], "check", "rules", str(RULES))


def test_the_alerts_unit_tests_pass_dead_letter_and_lag() -> None:
    """rules/ohs-alerts.test.yml: a dead letter alerts at once and clears when handled; a lag above the floor that grows
    for 5 minutes alerts, a large steady one does not, a partition reported by two replicas counts once."""
    tests = yaml.safe_load((OBSERVABILITY / "rules" / "ohs-alerts.test.yml").read_text(encoding="utf-8"))["tests"]
    tested = {case["alertname"] for test in tests for case in test.get("alert_rule_test", [])}
    assert {"OhsDeadLetterUnhandled", "OhsConsumerLagGrowing"} <= tested
    assert "SUCCESS" in run(tools()["promtool"], "test", "rules", "rules/ohs-alerts.test.yml")


def test_amtool_accepts_the_alertmanager_config() -> None:
    assert "SUCCESS" in run(tools()["amtool"], "check-config", "alertmanager.yml")


def test_the_targets_are_every_service_on_its_make_run_port() -> None:
    from shared.settings import DEFAULT_PORTS

    targets = json.loads((OBSERVABILITY / "targets" / "services.json").read_text(encoding="utf-8"))
    assert {group["labels"]["job"]: group["targets"] for group in targets} == {
        name: [f"127.0.0.1:{port}"] for name, port in DEFAULT_PORTS.items()}


# --------------------------------------------------------------------------- alerts and their runbooks

def anchors(markdown: str) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    slugs = set()
    for line in markdown.splitlines():
        if match := re.match(r"#{1,6}\s+(.*)", line):
            slugs.add(re.sub(r"\s", "-", re.sub(r"[^\w\- ]", "", match.group(1).strip().lower())))
    return slugs


def test_the_alerts_asked_for_exist() -> None:
    assert REQUIRED_ALERTS <= {rule["alert"] for rule in alerts()}


@pytest.mark.parametrize("alert", alerts(), ids=lambda rule: rule["alert"])
def test_every_alert_has_a_severity_a_summary_a_description_and_a_runbook_section(alert: dict) -> None:
    assert alert["labels"]["severity"] in {"critical", "warning"}
    annotations = alert["annotations"]
    assert annotations["summary"].strip() and annotations["description"].strip()
    url = annotations["runbook_url"]
    assert url.startswith("https://") and url.endswith(f"/docs/operations.md#alert-{alert['alert'].lower()}"), url
    assert url.split("#", 1)[1] in anchors(OPERATIONS.read_text(encoding="utf-8")), f"no section for {url} in docs/operations.md"


# --------------------------------------------------------------------------- every metric read is one exported

def constructed_metrics(path: Path) -> set[str]:
    """Metric names a module registers with prometheus_client (Counter("ohs_…", …) and the like), as exposed."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            kind = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if kind in METRIC_CLASSES and node.args[0].value.startswith("ohs_"):
                names |= exposed(node.args[0].value, kind.lower())
    return names


def exposed(name: str, kind: str) -> set[str]:
    base = name.removesuffix("_total") if kind == "counter" else name
    return {"counter": {f"{base}_total"}, "histogram": {f"{base}_bucket", f"{base}_sum", f"{base}_count"},
            "summary": {f"{base}_sum", f"{base}_count", base}, "info": {f"{base}_info"}}.get(kind, {base})


@cache
def exported() -> dict[str, frozenset[str]]:
    """Service → the metric names it exports: its ServiceMetrics registry (shared/metrics.py, with the domain counters
    of what it produces), plus what its own code registers, plus what other shared modules register."""
    from shared.metrics import ServiceMetrics
    from shared.settings import DEFAULT_PORTS

    shared_extra = set()
    for path in (REPO / "shared").rglob("*.py"):
        if path.name not in {"metrics.py", "domain_metrics.py"}:
            shared_extra |= constructed_metrics(path)
    by_service = {}
    for service in DEFAULT_PORTS:
        names = set(shared_extra)
        for family in ServiceMetrics(service).registry.collect():
            names |= exposed(family.name, family.type)
        for path in (REPO / "services" / service).rglob("*.py"):
            names |= constructed_metrics(path)
        by_service[service] = frozenset(names)
    return by_service


def selectors(expr: str) -> list[tuple[str, str | None]]:
    """(metric name, the job="…" it is restricted to or None) for every series a PromQL expression (or a Grafana
    label_values(…) query) reads."""
    text = re.sub(r"label_values\(\s*([^,()]+?)\s*,\s*\w+\s*\)", r"\1", expr)
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges: [5m], [$__rate_interval]
    found: list[tuple[str, str | None]] = []

    def braces(match: re.Match) -> str:
        job = re.search(r'\bjob\s*=\s*"([^"]*)"', match.group(2))
        if match.group(1):
            found.append((match.group(1), job.group(1) if job else None))
        return " "

    text = re.sub(r"([a-zA-Z_:][\w:]*)?\s*\{([^}]*)\}", braces, text)
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    for match in re.finditer(r"(?<![\w.$])([a-zA-Z_:][\w:]*)\b(?!\s*\()", text):
        if match.group(1).lower() not in PROMQL_WORDS:
            found.append((match.group(1), None))
    return found


def test_the_selector_reader_reads_what_it_should() -> None:
    assert selectors('(sum by (job) (rate(a_total{status=~"5..", job="x"}[$__rate_interval])) or b * 0) / on () c:d:e offset 5m') == [
        ("a_total", "x"), ("b", None), ("c:d:e", None)]
    assert selectors("label_values(ohs_reports_classified_total, county)") == [("ohs_reports_classified_total", None)]
    assert selectors("time() - max by (task) (x) > 26 * 3600 or on () vector(0)") == [("x", None)]


def unknown_metrics(exprs: list[str], recorded: set[str]) -> list[str]:
    everything = set().union(*exported().values()) | recorded | PROMETHEUS_OWN
    bad = []
    for expr in exprs:
        for name, job in selectors(expr):
            if name not in everything:
                bad.append(f"{name} (in {expr})")
            elif job is not None and name not in exported().get(job, set()) | recorded | PROMETHEUS_OWN:
                bad.append(f'{name} is not exported by job="{job}" (in {expr})')
    return bad


def recorded() -> set[str]:
    return {rule["record"] for rule in rules() if "record" in rule}


def test_every_metric_the_rules_read_is_exported() -> None:
    assert not unknown_metrics([rule["expr"] for rule in rules()], recorded())


def load_generator():  # noqa: ANN201 - the module
    spec = importlib.util.spec_from_file_location("ohs_dashboards", OBSERVABILITY / "dashboards" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_metric_a_dashboard_reads_is_exported_by_its_service(path: Path) -> None:
    exprs = load_generator().expressions(json.loads(path.read_text(encoding="utf-8")))
    assert len(exprs) >= 8
    assert not unknown_metrics(exprs, recorded())


# --------------------------------------------------------------------------- dashboards as code

def test_the_dashboards_are_an_overview_and_one_per_service() -> None:
    from shared.settings import DEFAULT_PORTS

    assert {path.stem for path in DASHBOARDS} == {"overview", *DEFAULT_PORTS}
    overview = json.loads((OBSERVABILITY / "dashboards" / "overview.json").read_text(encoding="utf-8"))
    exprs = " ".join(load_generator().expressions(overview))
    for metric in ("ohs_events_published_total", "ohs_event_delay_seconds_bucket", "ohs:consumer_lag_messages:group",
                   "ohs_events_dead_lettered_total", "ohs:dead_letters_unhandled:topic", "ohs_http_requests_total",
                   "ohs_reports_classified_total", "ohs_outbox_oldest_pending_age_seconds", "ohs_ready"):
        assert metric in exprs, metric
    assert 'county=~"$county"' in exprs
    assert [v["name"] for v in overview["templating"]["list"]] == ["datasource", "county"]


def test_regenerating_the_dashboards_gives_the_same_bytes() -> None:
    rendered = load_generator().render()
    assert sorted(rendered) == [path.name for path in DASHBOARDS]
    for name, text in rendered.items():
        assert (OBSERVABILITY / "dashboards" / name).read_text(encoding="utf-8") == text, \
            f"{name} is stale: run .venv/bin/python deploy/observability/dashboards/generate.py"
