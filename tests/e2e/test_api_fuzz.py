"""Schemathesis (its command line, as an attacker would run it) over every service's OpenAPI on the
running system: generated requests, valid and invalid, with a province token and every check on (its
default; tests/e2e/schemathesis.toml names the two exceptions and why) — no 5xx, every answer as the OpenAPI documents it (status code, content type, body schema), invalid
input refused, and the next ordinary report still goes through end to end.

``OHS_FUZZ_EXAMPLES`` sets the examples per operation (default 25; the long run used 1,000)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support import auth, eventually_get, new_credit_code, report_for, token_for

pytestmark = pytest.mark.e2e

EXAMPLES = os.environ.get("OHS_FUZZ_EXAMPLES", "25")
SERVICES = ("assessment", "registry", "sampling", "penalty", "notification", "monitoring")
ST = str(Path(sys.executable).with_name("st"))


@pytest.mark.parametrize("service", SERVICES)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(system, service: str, tmp_path: Path) -> None:
    run = subprocess.run(
        [ST, "--config-file", str(Path(__file__).with_name("schemathesis.toml")), "run", f"{system[service]}/openapi.json", "--max-examples", EXAMPLES, "--seed", "20261130",
         "--header", f"Authorization: Bearer {token_for('province')}", "--report", "junit", "--report-dir", str(tmp_path),
         "--no-color", "--suppress-health-check", "all"],
        capture_output=True, text=True, timeout=900, cwd=tmp_path,  # its cache (.schemathesis/) goes there, not into the repository
    )
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]

    # and the platform still does its work: an ordinary report is classified and archived
    code = new_credit_code("141029")
    report = report_for(code)
    assert httpx.post(f"{system['assessment']}/reports", json=report, headers=auth("county"), timeout=10).status_code == 202
    eventually_get(f"{system['registry']}/enterprises/{code}", lambda r: r.status_code == 200, timeout=60)
