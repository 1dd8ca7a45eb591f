"""Bulk intake end to end: the ``ohs bulk employers`` command against the assessment service on a
real HTTP port (uvicorn in a thread, SQLite, the real broker), with a 2,000-row 附件6: the rows go
in batches through ``POST /reports:batch``, come back through Kafka and are classified."""

from __future__ import annotations

import math
import random
import re
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
import uvicorn
from typer.testing import CliRunner

from services.assessment.adapters import spreadsheets
from services.assessment.bootstrap import bootstrap
from services.assessment.entrypoints import cli
from shared.settings import settings_for
from tests.conftest import free_port
from tests.support import auth, eventually_sync, new_credit_code, token_for

pytestmark = pytest.mark.integration

ROWS = 2000
BATCH_SIZE = 250
HEADER = ["序号", "用人单位名称", "统一社会信用代码", "所在地区代码", "行业代码", "职工总数", "投产日期", "评估日期", "评估方式",
          "技术服务机构代码", "危害因素", "自查得分", "公示开始日期", "公示结束日期", "签字人", "是否盖章"]
# Ways a row can be wrong, each giving exactly one problem in one column.
BAD: dict[str, tuple[str, Any]] = {
    "统一社会信用代码": ("统一社会信用代码", None),  # check character spoiled below
    "评估日期": ("评估日期", None),
    "exposed": ("危害因素", "矽尘|500|不符合|2023-05-10"),
    "malformed": ("危害因素", "矽尘|24|偶尔超标|2023-05-10"),
    "是否盖章": ("是否盖章", "否"),
}


@pytest.fixture
def assessment_api(kafka_bootstrap: str, tmp_path: Path) -> Iterator[str]:
    settings = settings_for(
        "assessment", kafka_bootstrap_servers=kafka_bootstrap, data_dir=tmp_path / "data",
        consumer_group_prefix=f"it-bulk-{uuid.uuid4().hex[:8]}",
    )
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(bootstrap(settings), host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name="assessment-http", daemon=True)
    thread.start()

    def started() -> bool:
        if not thread.is_alive():
            raise RuntimeError("the assessment service did not start")
        return server.started

    eventually_sync(started, timeout=60, what="the assessment service started", interval=0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def employer_list(path: Path) -> tuple[int, set[tuple[int, str]]]:
    """A 附件6 with ROWS rows, every 40th one wrong in one of the BAD ways; (good rows, {(row, column)})."""
    rng = random.Random(20230601)
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("附件6")
    sheet.append(HEADER)
    expected: set[tuple[int, str]] = set()
    kinds = list(BAD)
    for n in range(1, ROWS + 1):
        employees = rng.randint(60, 500)
        row: dict[str, Any] = {
            "序号": n, "用人单位名称": f"示例企业{n:04d}有限公司", "统一社会信用代码": new_credit_code("141029"), "所在地区代码": "141029",
            "行业代码": "C3011", "职工总数": employees, "投产日期": date(2016, 4, 1), "评估日期": date(2023, 6, 1), "评估方式": "自评",
            "危害因素": f"矽尘|{rng.randint(1, 50)}|{rng.choice(['符合', '不符合'])}|2023-05-10；噪声|{rng.randint(1, 50)}|符合|2023/05/10",
            "自查得分": rng.choice([95, 82.5, 71, 60]), "公示开始日期": "2023-06-02", "公示结束日期": date(2023, 6, 8),
            "签字人": "张三", "是否盖章": "是",
        }
        if n % 40 == 0:
            kind = kinds[(n // 40) % len(kinds)]
            column, value = BAD[kind]
            if kind == "统一社会信用代码":
                code = row[column]
                value = code[:17] + ("0" if code[17] != "0" else "1")
            row[column] = value
            expected.add((n + 1, column))  # the header is row 1
        sheet.append([row.get(title) for title in HEADER])
    book.save(path)
    return ROWS - len(expected), expected


CHINESE = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "zh_CN.UTF-8"}  # whatever this machine's LANG


def summary_numbers(output: str) -> dict[str, int]:
    labels = {"read": "读取", "valid": "有效", "new": "新提交", "already": "已提交过", "rejected": "有错误"}  # ohs speaks Chinese
    found = {}
    for key, label in labels.items():
        match = re.search(label + r"\s*│\s*(\d+)", output)
        assert match, f"{label} not in the summary:\n{output}"
        found[key] = int(match.group(1))
    return found


def error_lines(path: Path) -> list[tuple[Any, ...]]:
    book = openpyxl.load_workbook(path, read_only=True)
    try:
        return [tuple(r) for r in book.active.iter_rows(values_only=True)]
    finally:
        book.close()


def test_bulk_employers_loads_2000_rows_once(assessment_api: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "附件6-乡宁县.xlsx"
    good, bad = employer_list(source)
    errors = tmp_path / "errors.xlsx"
    runner = CliRunner(env=CHINESE)
    command = ["bulk", "employers", str(source), "--api", assessment_api, "--errors", str(errors), "--concurrency", "4",
               "--batch-size", str(BATCH_SIZE), "--token", token_for("county", "141029")]

    started = time.perf_counter()
    first = runner.invoke(cli.app, command)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nohs bulk employers: {ROWS} rows ({good} good, {len(bad)} bad) in {elapsed:.1f} s ({ROWS / elapsed:.0f} rows/s)")

    assert first.exit_code == 1, first.output
    assert summary_numbers(first.output) == {"read": ROWS, "valid": good, "new": good, "already": 0, "rejected": len(bad)}
    lines = error_lines(errors)
    assert lines[0] == ("行号", "统一社会信用代码", "字段", "错误说明")
    assert {(line[0], line[2]) for line in lines[1:]} == bad and len(lines) - 1 == len(bad)

    # in batches: one POST /reports:batch per BATCH_SIZE good rows, no POST /reports
    assert posts(assessment_api) == {"/reports:batch": math.ceil(good / BATCH_SIZE)}

    # the service holds what was submitted, under the ids the rows give, and classifies it from ohs.reports.submitted
    rows = [r for r in spreadsheets.parse_employer_sheet(source) if r.ok]
    for row in [*rows[:: len(rows) // 20], rows[-1]]:
        url = f"{assessment_api}/reports/{row.report.submission_id}"  # type: ignore[union-attr]
        answer = eventually_sync(lambda url=url: httpx.get(url, headers=auth("county"), timeout=5), timeout=60, what=f"row {row.label} classified",
                                 ready=lambda r: r.status_code == 200 and r.json()["status"] != "accepted",
                                 describe=lambda r: f"{r.status_code} {r.text[:300]}")
        found = answer.json()
        assert found["credit_code"] == row.credit_code and found["status"] == "classified", found
        assert found["result"]["category"] in ("甲", "乙", "丙") and found["result"]["trace"]

    again = runner.invoke(cli.app, command)
    assert again.exit_code == 1, again.output
    assert summary_numbers(again.output) == {"read": ROWS, "valid": good, "new": 0, "already": good, "rejected": len(bad)}
    assert error_lines(errors) == lines
    assert posts(assessment_api) == {"/reports:batch": 2 * math.ceil(good / BATCH_SIZE)}


def posts(api: str) -> dict[str, int]:
    """POST requests the service answered, by route (its Prometheus metrics)."""
    found: dict[str, int] = {}
    for line in httpx.get(f"{api}/metrics", timeout=5).text.splitlines():
        if match := re.match(r'ohs_http_requests_total\{method="POST",route="([^"]+)",status="\d+"\} ([\d.]+)', line):
            found[match.group(1)] = found.get(match.group(1), 0) + int(float(match.group(2)))
    return found


def test_a_token_that_may_not_submit_stops_the_run_as_a_usage_error(assessment_api: str, tmp_path: Path) -> None:
    source = tmp_path / "附件6.xlsx"
    employer_list_of(source, 3)
    runner = CliRunner(env=CHINESE)
    base = ["bulk", "employers", str(source), "--api", assessment_api, "--concurrency", "1"]

    other_county = runner.invoke(cli.app, [*base, "--token", token_for("county", "141024")])
    assert other_county.exit_code == 2, other_county.output
    assert "该令牌无权提交" in other_county.output and "141029" in other_county.output

    forged = runner.invoke(cli.app, [*base, "--token", token_for("county", secret="not-the-service-secret-0123456789")])
    assert forged.exit_code == 2 and "拒绝了该令牌" in forged.output, forged.output

    city = runner.invoke(cli.app, base, env={"OHS_TOKEN": token_for("city")})  # the token from the environment
    assert city.exit_code == 0, city.output
    assert summary_numbers(city.output)["new"] == 3


def employer_list_of(path: Path, rows: int) -> None:
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("附件6")
    sheet.append(HEADER)
    for n in range(1, rows + 1):
        row = {
            "序号": n, "用人单位名称": f"示例企业{n}有限公司", "统一社会信用代码": new_credit_code("141029"), "所在地区代码": "141029",
            "行业代码": "C3011", "职工总数": 86, "投产日期": date(2016, 4, 1), "评估日期": date(2023, 6, 1), "评估方式": "自评",
            "危害因素": "矽尘|24|不符合|2023-05-10", "自查得分": 82.5, "公示开始日期": "2023-06-02", "公示结束日期": date(2023, 6, 8),
            "签字人": "张三", "是否盖章": "是",
        }
        sheet.append([row.get(title) for title in HEADER])
    book.save(path)
