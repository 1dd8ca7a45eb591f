"""The non-site supervision story (非现场执法) on a running system, in 杭州市西湖区 330106, whose 浙江 rule data has the
non-site rule: run it once `make run` is ready.

1. Three new employers of 330106 report (SPIKED, CLEAN, FRESH); the monitoring service learns them from the registry.
2. CLEAN's gateway back-fills 30 days of readings within the limits (deploy/demo/gateway.py --backfill-days).
3. The gateway streams live readings for all three on Kafka; SPIKED's dust device reads above its peak for a few
   seconds → one exceedance episode → a verification task (核查处置) for 西湖区 with two inspectors.
4. The county records the verification's result with a violation → the penalty service opens a case.
5. Once the monitoring coverage has reached the sampling service, the county plans and draws next quarter: CLEAN
   (fully monitored, reporting, no exceedance for the rule's 30 days) is drawn but inspected non-site, as 浙江's rule
   data says; SPIKED and FRESH (monitored for minutes) are not treated so. The publication says why.
6. An organisation files a test report for CLEAN and is rated (星级评定); a finding against it moves the rating; the
   ratings are on the credit feed (``ohs.credit.events``, CloudEvents ``cn.gov.ohs.org.rated``).

    .venv/bin/python deploy/demo/non_site.py            # prints each step; --json: a summary as JSON at the end

Tokens: ``zhejiang_county``, ``zhejiang_province`` and ``organisation`` of .run/tokens.json (``make run`` writes them).
Services: ``$OHS_<SERVICE>_URL`` or the ports of ``make run``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

REGION = "330106"  # 杭州市西湖区
NAMES = {"spiked": "西湖区示例石材加工有限公司", "clean": "西湖区示例建材有限公司", "fresh": "西湖区示例铸造有限公司"}  # fictitious
PORTS = {"assessment": 8001, "registry": 8002, "sampling": 8003, "penalty": 8004, "monitoring": 8005}


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", default=str(Path(os.environ.get("OHS_RUN_DIR", REPO / ".run")) / "tokens.json"),
                        help="the tokens file (default .run/tokens.json)")
    parser.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"), help="Kafka")
    parser.add_argument("--timeout", type=float, default=180.0, help="how long to wait for each step (s)")
    parser.add_argument("--json", action="store_true", help="print a summary as JSON at the end")
    return parser.parse_args(argv)


def url(service: str) -> str:
    return os.environ.get(f"OHS_{service.upper()}_URL", f"http://127.0.0.1:{PORTS[service]}")


def say(message: str) -> None:
    print(f"[non-site] {message}", file=sys.stderr, flush=True)


def china_today() -> date:
    from shared.dates import china_today as today

    return today()


def report(credit_code: str, name: str) -> dict[str, Any]:
    """A 丙 report (矽尘 not compliant, 噪声 compliant, self-check 82.5) for an employer of 330106."""
    today = china_today()
    return {
        "submission_id": str(uuid.uuid4()),
        "enterprise": {"credit_code": credit_code, "name": name, "region_code": REGION, "industry_codes": ["C3011"], "employees": 60,
                       "production_started_on": "2016-04-01"},
        "assessor": {"type": "self"}, "assessed_on": (today - timedelta(days=10)).isoformat(),
        "hazards": [{"factor": "矽尘", "exposed": 20, "compliant": False, "tested_on": (today - timedelta(days=40)).isoformat(), "test_report_no": f"JC-{credit_code[-6:]}"},
                    {"factor": "噪声", "exposed": 30, "compliant": True, "tested_on": (today - timedelta(days=40)).isoformat(), "test_report_no": f"JC-{credit_code[-6:]}"}],
        "self_check": {"score": 82.5}, "publicity": {"start": (today - timedelta(days=9)).isoformat(), "end": (today - timedelta(days=2)).isoformat()},
        "signed_by": "演示", "sealed": True,
    }


class Client:
    def __init__(self, token: str, timeout: float):
        import httpx

        self.http = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=30)
        self.timeout = timeout

    def call(self, method: str, service: str, path: str, expect: tuple[int, ...] = (200, 201), **options: Any) -> Any:
        answer = self.http.request(method, url(service) + path, **options)
        if answer.status_code not in expect:
            sys.exit(f"non-site: {method} {service}{path}: {answer.status_code} {answer.text[:500]}")
        return answer.json()

    def until(self, service: str, path: str, ready: Callable[[Any], Any], what: str) -> Any:
        """GET until ``ready(body)`` (a 404 counts as not yet): the services catch up through Kafka."""
        deadline = time.monotonic() + self.timeout
        while True:
            answer = self.http.get(url(service) + path)
            if answer.status_code == 200 and (found := ready(answer.json())):
                return found
            if answer.status_code not in (200, 404) or time.monotonic() > deadline:
                sys.exit(f"non-site: waited {self.timeout:.0f} s for {what}: {answer.status_code} {answer.text[:500]}")
            time.sleep(0.5)


def gateway(args: argparse.Namespace, token: str, employers: list[str], *options: str) -> str:
    command = [sys.executable, str(REPO / "deploy/demo/gateway.py"), "--url", url("monitoring"), "--bootstrap", args.bootstrap, "--token", token,
               *(f"--employer={e}" for e in employers), *options]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        sys.exit(f"non-site: the gateway failed: {done.stdout[-1000:]} {done.stderr[-2000:]}")
    return done.stdout


def next_quarter(today: date) -> str:
    quarter = (today.month - 1) // 3 + 1
    return f"{today.year + 1}Q1" if quarter == 4 else f"{today.year}Q{quarter + 1}"


def credit_events(bootstrap: str, subject: str, enough: Callable[[list[dict[str, Any]]], bool], timeout: float) -> list[dict[str, Any]]:
    """The credit feed's CloudEvents about ``subject`` from the start of the topic, once ``enough(found)``."""
    from aiokafka import AIOKafkaConsumer

    from shared import topics

    async def read() -> list[dict[str, Any]]:
        consumer = AIOKafkaConsumer(topics.CREDIT_EVENTS, bootstrap_servers=bootstrap, auto_offset_reset="earliest", enable_auto_commit=False)
        await consumer.start()
        found: list[dict[str, Any]] = []
        try:
            deadline = time.monotonic() + timeout
            while not enough(found) and time.monotonic() < deadline:
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    found += [e for e in (json.loads(r.value) for r in records) if e.get("subject") == subject]
        finally:
            await consumer.stop()
        return found

    return asyncio.run(read())


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    try:
        tokens = json.loads(Path(args.tokens).read_text())
        county, province, organisation = tokens["zhejiang_county"], tokens["zhejiang_province"], tokens["organisation"]
    except (OSError, ValueError, KeyError) as error:
        sys.exit(f"non-site: no 浙江 tokens in {args.tokens} ({error}): start the system with `make run` first")
    staff, lab = Client(county, args.timeout), Client(organisation, args.timeout)
    today = china_today()
    summary: dict[str, Any] = {}

    from shared.identifiers import random_credit_code

    employers = {role: random_credit_code(REGION) for role in ("spiked", "clean", "fresh")}
    summary["employers"] = employers
    for role, code in employers.items():
        staff.call("POST", "assessment", "/reports", expect=(202,), json=report(code, NAMES[role]))
        say(f"{role.upper()} {code} reported")
    for code in employers.values():
        staff.until("monitoring", f"/devices?credit_code={code}", lambda body: True, f"the monitoring service to know {code}")
    roster = staff.call("GET", "sampling", f"/inspectors/{REGION}")["inspectors"]
    if len(roster) < 2:
        sys.exit(f"non-site: 西湖区 {REGION} has {len(roster)} inspectors on its roster; `make run` loads four (deploy/demo/inspectors.json)")

    say("CLEAN's gateway back-fills 30 days of readings")
    gateway(args, province, [employers["clean"]], "--via", "http", "--backfill-days", "30", "--seconds", "0")
    say("the gateway streams for all three on Kafka; SPIKED's dust device crosses its peak")
    streamed = gateway(args, province, list(employers.values()), "--via", "kafka", "--rate", "30", "--seconds", "12", "--spike-after", "4",
                       "--spike-seconds", "3")
    summary["gateway"] = streamed.strip().splitlines()[-2:]

    dust = f"{employers['spiked'][-8:]}-dust"
    episode = staff.until("monitoring", f"/exceedances?credit_code={employers['spiked']}",
                          lambda body: next((e for e in body["items"] if e["device_id"] == dust and e["measure"] == "peak"), None), "the peak episode")
    summary["episode"] = episode
    say(f"episode {episode['episode_id']}: {episode['factor']} {episode['measure']} {episode['observed']} > {episode['limit']} {episode['unit']} "
        f"({len(episode['evidence'])} readings as evidence)")
    task = staff.until("sampling", f"/tasks?credit_code={employers['spiked']}",
                       lambda body: next((t for t in body["items"] if t["episode_id"] == episode["episode_id"]), None), "the verification task")
    summary["task"] = task
    say(f"verification task {task['id']}: {task['reason']['text']}; deadline {task['deadline']}; inspectors "
        f"{', '.join(i['name'] for i in task['inspectors'])}")

    result = {"outcome": "violations", "inspected_on": today.isoformat(),
              "violations": [{"item_code": "70-4", "harm": "none", "description": "粉尘浓度超标，未采取有效防护措施",
                              "rectification_deadline": (today + timedelta(days=14)).isoformat()}]}
    recorded = staff.call("POST", "sampling", f"/tasks/{task['id']}/result", json=result)
    [case_id] = recorded["case_ids"]
    case = staff.until("penalty", f"/cases?credit_code={employers['spiked']}",
                       lambda body: next((c for c in body["items"] if c["id"] == case_id), None), "the case")
    summary["case"] = case
    say(f"case {case_id} opened ({case['item_code']}, {case.get('status')})")

    def covered(body: dict[str, Any]) -> dict[str, Any] | None:
        members = {m["credit_code"]: m for ms in body["members"].values() for m in ms}
        found = {role: members.get(code, {}).get("monitoring") for role, code in employers.items()}
        clean_since = (today - timedelta(days=29)).isoformat()
        ready = all(found.values()) and found["clean"]["period_start"] <= clean_since and \
            sum(f["exceedances"] for f in found["spiked"]["factors"]) >= 1
        return found if ready else None

    say("waiting for the monitoring coverage to reach the sampling service (published within a minute)")
    summary["coverage"] = staff.until("sampling", f"/pools/{REGION}", covered, "the employers' monitoring coverage in the pool")
    plan = staff.call("POST", "sampling", "/plans", json={"region_code": REGION, "period": next_quarter(today), "ratios": {"甲": 1, "乙": 1, "丙": 1}})
    staff.call("POST", "sampling", f"/plans/{plan['id']}/draw")
    publication = staff.call("GET", "sampling", f"/plans/{plan['id']}/publication")
    summary["plan_id"], summary["publication"] = plan["id"], publication
    treated = {t["credit_code"]: t for t in publication["draw"]["non_site"]["treated"]}
    for role, code in employers.items():
        how = f"treated {treated[code]['treatment']} ({treated[code]['trace'][0]['rule']})" if code in treated else "inspected on site if drawn"
        say(f"plan {plan['period']} {plan['id']}: {role.upper()} {how}")

    filed = lab.call("POST", "penalty", "/org/test-reports", json={
        "credit_code": employers["clean"], "report_no": f"浙检{employers['clean'][-6:]}", "factor": "矽尘", "post": "破碎工位", "compliant": True,
        "result": "C-TWA 0.6 mg/m³", "tested_on": (today - timedelta(days=3)).isoformat()})
    org = filed["org_id"]  # the token's organisation
    rated = lab.until("penalty", f"/orgs/{org}/rating", lambda body: body if body.get("stars") else None, "the organisation's rating")
    staff.call("POST", "penalty", f"/orgs/{org}/findings", json={
        "org_name": rated.get("name") or "杭州示例职业卫生检测有限公司", "region_code": REGION, "employer_credit_code": employers["clean"],
        "misstated": ["exposure"], "description": "检测结果与原始记录不符（演示）", "severity": "minor", "found_on": today.isoformat()})
    moved = lab.until("penalty", f"/orgs/{org}/rating", lambda body: body if body["stars"] < rated["stars"] or rated["stars"] == 1 else None,
                      "the rating after the finding")
    summary["org_id"], summary["ratings"] = org, [rated, moved]
    say(f"organisation {org}: {rated['stars']} stars, after the finding {moved['stars']}")
    events = credit_events(args.bootstrap, org, lambda found: bool(found) and found[-1]["data"]["stars"] == moved["stars"], args.timeout)
    summary["credit_events"] = events
    say("credit feed: " + ", ".join(f"{e['type']} {e['data']['stars']}★ ({e['time']})" for e in events))
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
