"""The platform's Grafana dashboards, as code (grafana-foundation-sdk): an overview and one per service.

    .venv/bin/python deploy/observability/dashboards/generate.py          # (re)writes dashboards/*.json
    .venv/bin/python deploy/observability/dashboards/generate.py --check  # exit 1 if a committed file differs

The JSON files are committed (import them into Grafana, or provision the folder); tests/unit/test_observability_config.py
checks that regenerating gives the same bytes and that every metric a query names is one the services export, and
tests/e2e/test_observability.py that every query returns data from a Prometheus scraping the running system.

Every panel reads the Prometheus data source chosen by the ``$datasource`` variable. Queries use Grafana's
``$__rate_interval`` and ``$__range``, and ``$county`` (a 6-digit county code, several or All) where a metric has a
county. ``job`` is the service (the scrape job); ``task`` names a periodic job. A rare event's counter (a dead letter, a 5xx, a rejected report) has no series before
its first occurrence: such panels show 0 then, not "No data" (``or … vector(0)``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from grafana_foundation_sdk.builders import bargauge, dashboard, prometheus, stat, table, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef, VariableOption, VariableRefresh, VariableSort

HERE = Path(__file__).resolve().parent
SERVICES = ("console", "assessment", "registry", "sampling", "penalty", "monitoring", "notification")
DATASOURCE = DataSourceRef(type_val="prometheus", uid="${datasource}")
REFRESH = "30s"

# What each service exports besides the common metrics (docs/operations.md § Dashboards and Prometheus).
DOMAIN: dict[str, list[tuple[str, str, str, str]]] = {  # service → [(panel kind, title, expr, legend)]
    "assessment": [
        ("bars", "Reports classified by category ($county, over the range)",
         'sum by (category) (increase(ohs_reports_classified_total{job="assessment", county=~"$county"}[$__range]))', "{{category}}"),
        ("table", "Category mix by county (over the range)",
         'sum by (county, category) (increase(ohs_reports_classified_total{job="assessment", county=~"$county"}[$__range]))', ""),
        ("bars", "Reports rejected by reason class (over the range)",
         'sum by (reason_class) (increase(ohs_reports_rejected_total{job="assessment"}[$__range])) or on () vector(0)', "{{reason_class}}"),
    ],
    "registry": [
        ("stat", "免检 in force", 'max(ohs_exemptions_in_force{job="registry"})', ""),
        ("stat", "Reminders due", 'max(ohs_reminders_due{job="registry"})', ""),
        ("series", "Credit feed events by CloudEvents type",
         'sum by (type) (rate(ohs_credit_feed_events_total{job="registry"}[$__rate_interval])) or on () vector(0)', "{{type}}"),
        ("stat", "Since the credit feed's last event",
         'time() - max(ohs_credit_feed_last_event_timestamp_seconds{job="registry"})', ""),
    ],
    "sampling": [
        ("stat", "Draws published (over the range)", 'sum(increase(ohs_draws_published_total{job="sampling"}[$__range]))', ""),
    ],
    "penalty": [
        ("stat", "Cases opened (over the range)", 'sum(increase(ohs_cases_opened_total{job="penalty"}[$__range]))', ""),
        ("bars", "Cases decided by outcome (over the range)",
         'sum by (outcome) (increase(ohs_cases_decided_total{job="penalty"}[$__range])) or on () vector(0)', "{{outcome}}"),
    ],
    "monitoring": [  # no counters of its own: what it takes from the gateways and what it tells the others
        ("stat", "Gateway readings events handled (over the range)",
         'sum(increase(ohs_events_consumed_total{job="monitoring", topic="ohs.monitoring.readings", outcome="processed"}[$__range])) '
         'or on () vector(0)', ""),
        ("stat", "Exceedance events published (over the range)",
         'sum(increase(ohs_events_published_total{job="monitoring", topic="ohs.monitoring.exceedances"}[$__range])) or on () vector(0)', ""),
        ("stat", "Coverage events published (over the range)",
         'sum(increase(ohs_events_published_total{job="monitoring", topic="ohs.monitoring.coverage"}[$__range])) or on () vector(0)', ""),
    ],
    "notification": [
        ("series", "Delivery attempts by channel and outcome",
         'sum by (channel, outcome) (rate(ohs_notification_delivery_attempts_total{job="notification"}[$__rate_interval])) or on () vector(0)',
         "{{channel}} {{outcome}}"),
    ],
}
WITH_CONSUMERS = ("assessment", "registry", "sampling", "penalty", "monitoring", "notification")  # the console reads revocations without a group
WITH_COUNTY = ("assessment",)


# --------------------------------------------------------------------------- building blocks

def query(expr: str, legend: str = "", instant: bool = False, ref: str = "A") -> prometheus.Dataquery:
    q = prometheus.Dataquery().expr(expr).ref_id(ref).datasource(DATASOURCE)
    if legend:
        q = q.legend_format(legend)
    if instant:
        q = q.instant().format("table")
    return q


def series(title: str, expr: str, legend: str = "", unit: str = "short", description: str = "", width: int = 12) -> timeseries.Panel:
    panel = timeseries.Panel().title(title).datasource(DATASOURCE).with_target(query(expr, legend)).unit(unit).height(8).span(width)
    return panel.description(description) if description else panel


def single(title: str, expr: str, unit: str = "short", description: str = "", width: int = 6) -> stat.Panel:
    panel = stat.Panel().title(title).datasource(DATASOURCE).with_target(query(expr)).unit(unit).height(5).span(width)
    return panel.description(description) if description else panel


def bars(title: str, expr: str, legend: str, width: int = 12) -> bargauge.Panel:
    return bargauge.Panel().title(title).datasource(DATASOURCE).with_target(query(expr, legend, instant=True)).height(8).span(width)


def grid(title: str, expr: str, width: int = 12) -> table.Panel:
    return table.Panel().title(title).datasource(DATASOURCE).with_target(query(expr, instant=True)).height(8).span(width)


PANEL_KINDS: dict[str, Callable[[str, str, str], object]] = {
    "stat": lambda title, expr, legend: single(title, expr),
    "series": lambda title, expr, legend: series(title, expr, legend),
    "bars": lambda title, expr, legend: bars(title, expr, legend),
    "table": lambda title, expr, legend: grid(title, expr),
}


def base(uid: str, title: str, description: str, county: bool) -> dashboard.Dashboard:
    board = (dashboard.Dashboard(title).uid(uid).description(description).tags(["ohs"]).refresh(REFRESH).time("now-6h", "now")
             .timezone("browser").editable()
             .with_variable(dashboard.DatasourceVariable("datasource").label("Data source").type("prometheus")))
    if county:
        board = board.with_variable(
            dashboard.QueryVariable("county").label("County").datasource(DATASOURCE)
            .query({"query": "label_values(ohs_reports_classified_total, county)", "refId": "county"})
            .refresh(VariableRefresh.ON_TIME_RANGE_CHANGED).sort(VariableSort.ALPHABETICAL_ASC)
            .multi(True).include_all(True).all_value(".*")
            .current(VariableOption(selected=True, text="All", value="$__all")))
    for service in SERVICES:
        if uid != f"ohs-{service}":
            board = board.link(dashboard.DashboardLink(service).type("link").url(f"/d/ohs-{service}").keep_time(True))
    return board


def zero_if_absent(expr: str) -> str:
    return f"({expr}) or on () vector(0)"


# --------------------------------------------------------------------------- the overview

def overview() -> dashboard.Dashboard:
    board = base("ohs-overview", "OHS — overview",
                 "The whole pipeline: services ready, events through each topic, end-to-end delay, lag, dead letters, errors, "
                 "outboxes, and what the province's reports say (category mix by county).", county=True)
    board = (board.with_row(dashboard.Row("Health"))
             .with_panel(single("Services not ready", "count(max by (job) (ohs_ready) == 0 or max by (job) (up) == 0) or on () vector(0)",
                                description="Scrape targets down, or answering /readyz with 503 (ohs_ready = 0)."))
             .with_panel(single("Unhandled dead letters", "sum(max by (topic) (ohs_dead_letters_unhandled))",
                                description="Dead letters no operator has replayed or discarded yet (ohs ops dlq)."))
             .with_panel(single("Oldest unpublished outbox event", "max(ohs_outbox_oldest_pending_age_seconds)", unit="s"))
             .with_panel(single("Largest consumer lag (messages)", "max(ohs:consumer_lag_messages:group)"))
             .with_panel(series("Ready (1) per service", "max by (job) (ohs_ready)", "{{job}}", width=12))
             .with_panel(grid("Running builds", "max by (job, version, commit, python) (ohs_build_info)")))
    board = (board.with_row(dashboard.Row("Pipeline"))
             .with_panel(series("Events published per topic", "sum by (topic) (rate(ohs_events_published_total[$__rate_interval]))",
                                "{{topic}}", unit="ops"))
             .with_panel(series("Events handled per topic and group",
                                'sum by (topic, group) (rate(ohs_events_consumed_total{outcome="processed"}[$__rate_interval]))',
                                "{{topic}} → {{group}}", unit="ops"))
             .with_panel(series("End-to-end delay p95 (broker timestamp → handled)",
                                "histogram_quantile(0.95, sum by (le, topic, group) (rate(ohs_event_delay_seconds_bucket[$__rate_interval])))",
                                "{{topic}} → {{group}}", unit="s"))
             .with_panel(series("Consumer lag per group (measured from the broker)", "ohs:consumer_lag_messages:group", "{{group}}")))
    board = (board.with_row(dashboard.Row("Dead letters and errors"))
             .with_panel(series("Dead letters per topic", zero_if_absent(
                 "sum by (topic) (increase(ohs_events_dead_lettered_total[$__rate_interval]))"), "{{topic}}"))
             .with_panel(series("Unhandled dead letters per DLQ topic", "ohs:dead_letters_unhandled:topic", "{{topic}}"))
             .with_panel(series("HTTP 5xx ratio per service", http_5xx_ratio(""), "{{job}}", unit="percentunit"))
             .with_panel(series("HTTP requests per service and status",
                                "sum by (job, status) (rate(ohs_http_requests_total[$__rate_interval]))", "{{job}} {{status}}", unit="reqps")))
    board = (board.with_row(dashboard.Row("Reports ($county)"))
             .with_panel(series("Reports classified per category",
                                'sum by (category) (rate(ohs_reports_classified_total{county=~"$county"}[$__rate_interval]))',
                                "{{category}}", unit="ops"))
             .with_panel(grid("Category mix by county (over the range)",
                              'sum by (county, category) (increase(ohs_reports_classified_total{county=~"$county"}[$__range]))')))
    board = (board.with_row(dashboard.Row("Outboxes"))
             .with_panel(series("Oldest unpublished outbox event per service", "max by (job) (ohs_outbox_oldest_pending_age_seconds)",
                                "{{job}}", unit="s"))
             .with_panel(series("Outbox rows waiting per service", "sum by (job) (ohs_outbox_pending_events)", "{{job}}")))
    return board


def http_5xx_ratio(selector: str) -> str:
    """5xx answers over all answers, by service; 0 (not "No data") while there is no 5xx at all."""
    errors = f'sum by (job) (rate(ohs_http_requests_total{{status=~"5.."{selector}}}[$__rate_interval]))'
    total = f"sum by (job) (rate(ohs_http_requests_total{{{selector.lstrip(', ')}}}[$__rate_interval]))"
    return f"({errors} or {total} * 0) / {total}"


# --------------------------------------------------------------------------- one per service

def service_board(service: str) -> dashboard.Dashboard:
    job = f'job="{service}"'
    board = base(f"ohs-{service}", f"OHS — {service}",
                 f"The {service} service: readiness, HTTP, consumer groups, outbox, its own counters and periodic jobs.",
                 county=service in WITH_COUNTY)
    board = (board.with_row(dashboard.Row("Health"))
             .with_panel(single("Instances up", f"sum(up{{{job}}})"))
             .with_panel(single("Instances ready", f"sum(ohs_ready{{{job}}})"))
             .with_panel(grid("Running builds", f"max by (instance, version, commit, python) (ohs_build_info{{{job}}})")))
    board = (board.with_row(dashboard.Row("HTTP"))
             .with_panel(series("Requests by route and status", f"sum by (route, status) (rate(ohs_http_requests_total{{{job}}}[$__rate_interval]))",
                                "{{route}} {{status}}", unit="reqps"))
             .with_panel(series("Latency p95 by route", "histogram_quantile(0.95, sum by (le, route) "
                                f"(rate(ohs_http_request_seconds_bucket{{{job}}}[$__rate_interval])))", "{{route}}", unit="s"))
             .with_panel(series("5xx ratio", http_5xx_ratio(f", {job}"), "{{job}}", unit="percentunit")))
    if service in WITH_CONSUMERS:
        board = (board.with_row(dashboard.Row("Consumer groups"))
                 .with_panel(series("Events taken by group, topic and outcome",
                                    f"sum by (group, topic, outcome) (rate(ohs_events_consumed_total{{{job}}}[$__rate_interval]))",
                                    "{{group}} {{topic}} {{outcome}}", unit="ops"))
                 .with_panel(series("Lag by group and topic (from the broker)",
                                    f"sum by (group, topic) (max by (group, topic, partition) (ohs_consumer_lag_messages{{{job}}}))",
                                    "{{group}} {{topic}}"))
                 .with_panel(series("Handling time p95", "histogram_quantile(0.95, sum by (le, group, topic) "
                                    f"(rate(ohs_event_handling_seconds_bucket{{{job}}}[$__rate_interval])))", "{{group}} {{topic}}", unit="s"))
                 .with_panel(series("Delay p95 (broker timestamp → handled)", "histogram_quantile(0.95, sum by (le, group, topic) "
                                    f"(rate(ohs_event_delay_seconds_bucket{{{job}}}[$__rate_interval])))", "{{group}} {{topic}}", unit="s"))
                 .with_panel(series("Dead-lettered by group and topic", zero_if_absent(
                     f"sum by (group, topic) (increase(ohs_events_dead_lettered_total{{{job}}}[$__rate_interval]))"), "{{group}} {{topic}}")))
    board = (board.with_row(dashboard.Row("Outbox"))
             .with_panel(series("Published by topic", zero_if_absent(
                 f"sum by (topic) (rate(ohs_events_published_total{{{job}}}[$__rate_interval]))"), "{{topic}}", unit="ops", width=8))
             .with_panel(series("Rows waiting to be published", f"sum(ohs_outbox_pending_events{{{job}}})", "waiting", width=8))
             .with_panel(series("Oldest unpublished event", f"max(ohs_outbox_oldest_pending_age_seconds{{{job}}})", "age", unit="s", width=8)))
    if service in DOMAIN:
        board = board.with_row(dashboard.Row("What it does"))
        for kind, title, expr, legend in DOMAIN[service]:
            board = board.with_panel(PANEL_KINDS[kind](title, expr, legend))
    if service in WITH_CONSUMERS:  # every service with a consumer group runs the lag probe; some have sweeps too
        board = (board.with_row(dashboard.Row("Periodic jobs"))
                 .with_panel(series("Since each job's last success", f"time() - max by (task) (ohs_job_last_success_timestamp_seconds{{{job}}})",
                                    "{{task}}", unit="s"))
                 .with_panel(series("Runs by job and outcome (over the range)",
                                    f"sum by (task, outcome) (increase(ohs_job_runs_total{{{job}}}[$__range]))",
                                    "{{task}} {{outcome}}"))
                 .with_panel(single("Since the last lag measurement", f"time() - max(ohs_lag_probe_last_success_timestamp_seconds{{{job}}})",
                                    unit="s")))
    return board


# --------------------------------------------------------------------------- files

def render() -> dict[str, str]:
    """File name → JSON text, for every dashboard."""
    boards = {"overview.json": overview(), **{f"{service}.json": service_board(service) for service in SERVICES}}
    return {name: json.dumps(json.loads(JSONEncoder().encode(board.build())), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
            for name, board in boards.items()}


def expressions(model: dict) -> list[str]:
    """Every PromQL expression of a dashboard's JSON model: the panels' queries, then the query variables'."""
    found = [target["expr"] for panel in model.get("panels", []) for target in panel.get("targets", []) if target.get("expr")]
    for variable in model.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            text = variable["query"]["query"] if isinstance(variable["query"], dict) else variable["query"]
            found.append(text)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a committed dashboard differs from what the code generates")
    check = parser.parse_args(argv).check
    stale = []
    for name, text in render().items():
        path = HERE / name
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.write_text(text, encoding="utf-8")
    if stale:
        print(f"stale: {', '.join(stale)} — run {Path(__file__).relative_to(HERE.parents[2])}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
