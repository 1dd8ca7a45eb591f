"""Bulk intake: 附件6 spreadsheets (.xlsx and .xls) and JSON reports → reports or row errors."""

from __future__ import annotations

import asyncio
import csv
import json
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest
import xlwt
from typer.testing import CliRunner

from services.assessment.adapters import report_files, spreadsheets
from services.assessment.entrypoints import cli
from shared.identifiers import credit_code_check_character
from tests.support import token_for

ORG = "91140100MA0K5XQ88" + credit_code_check_character("91140100MA0K5XQ88")
# Columns in an unusual order, with an extra one the reader must ignore.
HEADER = ["评估日期", "统一社会信用代码", "用人单位名称", "备注", "序号", "危害因素", "所在地区代码", "职工总数", "行业代码",
          "投产日期", "评估方式", "技术服务机构代码", "自查得分", "公示开始日期", "公示结束日期", "签字人", "是否盖章"]


def code(n: int) -> str:
    body = f"91141029MA{n:07d}"
    return body + credit_code_check_character(body)


def good(n: int, **changes: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "序号": n, "用人单位名称": f"乡宁县示例企业{n}有限公司", "统一社会信用代码": code(n), "所在地区代码": "141029",
        "行业代码": "C3011、C3021", "职工总数": 86, "投产日期": date(2016, 4, 1), "评估日期": date(2023, 6, 1),
        "评估方式": "自评", "技术服务机构代码": None, "危害因素": "矽尘|24|不符合|2023-05-10；噪声|40|符合|",
        "自查得分": 82.5, "公示开始日期": date(2023, 6, 2), "公示结束日期": date(2023, 6, 8), "签字人": "张三",
        "是否盖章": "是", "备注": "ignored",
    }
    row.update(changes)
    return row


def bad_check_character(n: int) -> str:
    valid = code(n)
    return valid[:17] + ("0" if valid[17] != "0" else "1")


ROWS: list[dict[str, Any] | None] = [
    good(1),  # row 2
    good(2, 统一社会信用代码=bad_check_character(2)),  # row 3
    good(3, 评估日期=None),  # row 4
    good(4, 职工总数=20, 危害因素="矽尘|30|不符合|2023-05-10"),  # row 5: exposed > employees
    good(5, 危害因素="矽尘|很多|不符合|2023-05-10；噪声"),  # row 6: malformed cell
    good(6, 是否盖章="否"),  # row 7
    None,  # row 8: empty, skipped
    good(7, 评估方式="机构", 技术服务机构代码=ORG, 评估日期="2023/06/01", 公示开始日期="2023-06-02",
         危害因素="某新型粉尘|3|符合||一般；噪声|40|符合|2023/05/10"),  # row 9: text dates, organisation, factor outside catalogue
    good(8, 序号="示例"),  # row 10: the template's example row, skipped
]


def write_xlsx(path: Path, rows: list[dict[str, Any] | None], header: list[str] = HEADER) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append([row.get(title) for title in header] if row else [None] * len(header))
    book.create_sheet("other").append(["ignored"])
    book.save(path)
    return path


def write_xls(path: Path, rows: list[dict[str, Any] | None], header: list[str] = HEADER) -> Path:
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("附件6")
    as_date = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for c, title in enumerate(header):
        sheet.write(0, c, title)
    for r, row in enumerate(rows, start=1):
        for c, title in enumerate(header):
            value = row.get(title) if row else None
            if isinstance(value, date):
                sheet.write(r, c, value, as_date)
            elif value is not None:
                sheet.write(r, c, value)
    book.save(str(path))
    return path


def problems_by_row(rows: list[report_files.ParsedRow]) -> dict[int, list[tuple[str, str]]]:
    return {r.row_number: [(p.column, p.message) for p in r.problems] for r in rows}


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "附件6.xlsx", ROWS)


def test_each_row_becomes_a_report_or_its_problems_by_row_and_column(sheet: Path) -> None:
    rows = spreadsheets.parse_employer_sheet(sheet)
    assert [r.row_number for r in rows] == [2, 3, 4, 5, 6, 7, 9]
    assert [r.row_number for r in rows if r.ok] == [2, 9]
    found = problems_by_row(rows)

    assert [c for c, _ in found[3]] == ["统一社会信用代码"] and "校验码为" in found[3][0][1]
    assert found[4] == [("评估日期", "必填，不能为空")]
    assert found[5] == [("危害因素", "第1项（矽尘）接触人数：接触人数30超过职工总数20")]
    assert [c for c, _ in found[6]] == ["危害因素", "危害因素"]
    assert "第1项“矽尘|很多|不符合|2023-05-10”：接触人数“很多”应为非负整数" in found[6][0][1]
    assert found[6][1][1].startswith("第2项“噪声”：应为")
    assert found[7] == [("是否盖章", "是否盖章为“否”：未盖章的报告不予受理")]
    # the credit code is readable even on a rejected row, for the errors file
    assert rows[1].credit_code == bad_check_character(2) and rows[2].credit_code == code(3)


def test_a_good_row_maps_every_column(sheet: Path) -> None:
    first, last = (r.report for r in spreadsheets.parse_employer_sheet(sheet) if r.ok)
    assert first is not None and last is not None
    assert first.enterprise.industry_codes == ["C3011", "C3021"]
    assert first.enterprise.region_code == "141029" and first.enterprise.employees == 86
    assert [(h.factor, h.exposed, h.compliant, h.tested_on) for h in first.hazards] == [
        ("矽尘", 24, False, date(2023, 5, 10)), ("噪声", 40, True, None)]
    assert first.self_check.score == 82.5 and first.sealed and first.signed_by == "张三"
    assert last.assessor.type == "organisation" and last.assessor.org_id == ORG
    assert last.assessed_on == date(2023, 6, 1) and last.publicity.start == date(2023, 6, 2)
    assert last.hazards[0].nature == "一般" and last.hazards[1].tested_on == date(2023, 5, 10)


def test_the_legacy_xls_parses_identically(tmp_path: Path, sheet: Path) -> None:
    xls = write_xls(tmp_path / "附件6.xls", ROWS)

    def view(rows: list[report_files.ParsedRow]) -> list[tuple[Any, ...]]:
        return [(r.row_number, r.report, r.problems, r.credit_code) for r in rows]

    assert view(spreadsheets.parse_employer_sheet(xls)) == view(spreadsheets.parse_employer_sheet(sheet))


def test_ids_are_stable_across_runs_and_follow_the_content(tmp_path: Path, sheet: Path) -> None:
    ids = [r.report.submission_id for r in spreadsheets.parse_employer_sheet(sheet) if r.report]
    again = [r.report.submission_id for r in spreadsheets.parse_employer_sheet(sheet) if r.report]
    assert ids == again and len(set(ids)) == 2 and all(i.version == 5 for i in ids)

    changed = write_xlsx(tmp_path / "changed.xlsx", [good(1, 自查得分=83)])
    (other,) = spreadsheets.parse_employer_sheet(changed)
    assert other.report is not None and other.report.submission_id not in ids

    # the same report as JSON, without an id, gets the same id as its spreadsheet row
    first = next(r.report for r in spreadsheets.parse_employer_sheet(sheet) if r.report)
    data = first.model_dump(mode="json", exclude={"submission_id"})
    (as_json,) = report_files.parse_report_lines([json.dumps(data, ensure_ascii=False)])
    assert as_json.report is not None and as_json.report.submission_id == first.submission_id


def test_the_layout_is_checked_before_any_row(tmp_path: Path) -> None:
    missing = write_xlsx(tmp_path / "m.xlsx", [good(1)], header=[t for t in HEADER if t not in ("签字人", "危害因素")])
    with pytest.raises(report_files.LayoutError, match="危害因素、签字人"):
        spreadsheets.parse_employer_sheet(missing)
    with pytest.raises(report_files.LayoutError, match=".xlsx 或 .xls"):
        spreadsheets.parse_employer_sheet(tmp_path / "list.ods")


def test_json_lines_with_a_broken_line(tmp_path: Path) -> None:
    report = next(r.report for r in spreadsheets.parse_employer_sheet(write_xlsx(tmp_path / "a.xlsx", [good(1)])) if r.report)
    data = report.model_dump(mode="json", exclude={"submission_id"})
    explicit = {**data, "submission_id": "7b0c6a0e-4a8e-4d3c-9a53-0d2f6c1b5e11"}
    too_many = json.loads(json.dumps(data))
    too_many["hazards"][0]["exposed"] = 500
    lines = [json.dumps(data), '{"enterprise": {"credit_code": ', "", json.dumps(explicit), json.dumps(too_many), "[1, 2]"]
    path = tmp_path / "reports.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")

    rows = report_files.parse_reports(path)
    assert [r.row_number for r in rows] == [1, 2, 4, 5, 6]
    assert [r.ok for r in rows] == [True, False, True, False, False]
    assert rows[0].report.submission_id == report.submission_id  # type: ignore[union-attr]
    assert str(rows[2].report.submission_id) == explicit["submission_id"]  # type: ignore[union-attr]
    assert rows[1].problems[0].column == "(JSON)" and "不是有效的 JSON" in rows[1].problems[0].message
    assert [(p.column, p.message) for p in rows[3].problems] == [("hazards[0].exposed", "接触人数500超过职工总数86")]
    assert rows[3].credit_code == code(1)


def test_a_folder_of_json_reports(tmp_path: Path) -> None:
    report = next(r.report for r in spreadsheets.parse_employer_sheet(write_xlsx(tmp_path / "a.xlsx", [good(1)])) if r.report)
    folder = tmp_path / "reports"
    folder.mkdir()
    (folder / "a.json").write_text(report.model_dump_json(exclude={"submission_id"}), encoding="utf-8")
    (folder / "b.json").write_text("not json", encoding="utf-8")
    rows = report_files.parse_reports(folder)
    assert [(r.label, r.ok) for r in rows] == [("a.json", True), ("b.json", False)]
    assert rows[0].report.submission_id == report.submission_id  # type: ignore[union-attr]


def test_a_repeated_row_is_not_submitted_twice(tmp_path: Path) -> None:
    rows = spreadsheets.parse_employer_sheet(write_xlsx(tmp_path / "d.xlsx", [good(1), good(2), good(1)]))
    report_files.mark_duplicates(rows)
    assert [r.ok for r in rows] == [True, True, False]
    assert rows[2].problems == [report_files.RowProblem("(整行)", "与第 2 行内容完全相同（重复行），不重复提交")]


# --------------------------------------------------------------------------- the command line, without a service

runner = CliRunner(env={"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": "zh_CN.UTF-8"})  # Chinese, whatever this machine's LANG
REAL_ASYNC_CLIENT = httpx.AsyncClient  # before a test replaces it (with_transport)


def test_dry_run_writes_the_errors_file_and_exits_1(tmp_path: Path, sheet: Path) -> None:
    errors = tmp_path / "errors.csv"
    result = runner.invoke(cli.app, ["bulk", "employers", str(sheet), "--dry-run", "--errors", str(errors)])
    assert result.exit_code == 1, result.output
    with errors.open(encoding="utf-8-sig") as f:
        lines = list(csv.reader(f))
    assert lines[0] == ["行号", "统一社会信用代码", "字段", "错误说明"]
    assert [(line[0], line[2]) for line in lines[1:]] == [
        ("3", "统一社会信用代码"), ("4", "评估日期"), ("5", "危害因素"), ("6", "危害因素"), ("6", "危害因素"), ("7", "是否盖章")]
    assert lines[2][1] == code(3)
    assert "批量导入结果（仅校验，未提交）" in result.output


def test_default_errors_file_is_xlsx_next_to_the_input(tmp_path: Path, sheet: Path) -> None:
    good_only = write_xlsx(tmp_path / "good.xlsx", [good(1), good(2)])
    result = runner.invoke(cli.app, ["bulk", "employers", str(good_only), "--dry-run"])
    assert result.exit_code == 0, result.output
    book = openpyxl.load_workbook(tmp_path / "good.errors.xlsx")
    assert [list(r) for r in book.active.iter_rows(values_only=True)] == [["行号", "统一社会信用代码", "字段", "错误说明"]]


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert runner.invoke(cli.app, ["bulk", "employers", str(tmp_path / "nope.xlsx")]).exit_code == 2
    assert runner.invoke(cli.app, ["bulk", "employers"]).exit_code == 2
    missing = write_xlsx(tmp_path / "m.xlsx", [good(1)], header=HEADER[1:])
    result = runner.invoke(cli.app, ["bulk", "employers", str(missing), "--dry-run"])
    assert result.exit_code == 2 and "评估日期" in result.output
    assert runner.invoke(cli.app, ["bulk", "reports", str(tmp_path / "m.xlsx"), "--dry-run"]).exit_code == 2


def test_unreachable_api_is_a_usage_error(tmp_path: Path) -> None:
    good_only = write_xlsx(tmp_path / "good.xlsx", [good(1)])
    result = runner.invoke(cli.app, ["bulk", "employers", str(good_only), "--api", "http://127.0.0.1:9", "--token", token_for("county")])
    assert result.exit_code == 2 and "无法连接综合风险评估服务 http://127.0.0.1:9" in result.output


def test_submitting_without_a_token_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OHS_TOKEN", raising=False)
    good_only = write_xlsx(tmp_path / "good.xlsx", [good(1)])
    result = runner.invoke(cli.app, ["bulk", "employers", str(good_only), "--api", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and "--token" in result.output and "OHS_TOKEN" in result.output
    assert runner.invoke(cli.app, ["bulk", "employers", str(good_only), "--dry-run"]).exit_code == 0, "a dry run needs no token"


def test_the_template_documents_the_layout_and_its_example_row_is_valid(tmp_path: Path) -> None:
    out = tmp_path / "附件6模板.xlsx"
    assert runner.invoke(cli.app, ["bulk", "template", str(out)]).exit_code == 0
    assert runner.invoke(cli.app, ["bulk", "template", str(out)]).exit_code == 2  # no silent overwrite
    assert spreadsheets.parse_employer_sheet(out) == []  # the example row (序号 示例) is never imported
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["附件6", "说明"]
    header, example = (list(r) for r in book["附件6"].iter_rows(min_row=1, max_row=2, values_only=True))
    assert header == list(spreadsheets.TITLES) and example[0] == "示例"
    book["附件6"]["A2"] = 1
    book.save(out)
    (row,) = spreadsheets.parse_employer_sheet(out)
    assert row.ok, row.problems


# --------------------------------------------------------------------------- talking to the service (mock transport)


def one_report(tmp_path: Path) -> report_files.ParsedRow:
    (row,) = spreadsheets.parse_employer_sheet(write_xlsx(tmp_path / "one.xlsx", [good(1)]))
    return row


def post_with(handler: Any, row: report_files.ParsedRow, started: datetime | None = None) -> cli.Outcome:
    async def go() -> cli.Outcome:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://svc") as client:
            return await cli.submit(client, row, started or datetime.now(timezone.utc), spreadsheets.sheet_problem)

    return asyncio.run(go())


def test_retries_connection_errors_and_5xx_then_counts_new_or_repeat(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "BACKOFF_S", 0)
    row = one_report(tmp_path)
    calls: list[int] = []
    now = datetime.now(timezone.utc)

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ConnectError("refused")
        if len(calls) == 2:
            return httpx.Response(503)
        assert json.loads(request.content)["submission_id"] == str(row.report.submission_id)  # type: ignore[union-attr]
        return httpx.Response(202, json={"status": "accepted", "received_at": (now + timedelta(seconds=1)).isoformat()})

    assert post_with(flaky, row, now).status == "new" and len(calls) == 3
    earlier = (now - timedelta(days=1)).replace(tzinfo=None).isoformat()
    assert post_with(lambda _: httpx.Response(202, json={"status": "accepted", "received_at": earlier}), row, now).status == "already"
    assert post_with(lambda _: httpx.Response(202, json={"status": "classified", "received_at": now.isoformat()}), row, now).status == "already"
    assert post_with(lambda _: httpx.Response(202, json={"status": "accepted", "duplicate": True}), row).status == "already"

    def down(_: httpx.Request) -> httpx.Response:
        return httpx.Response(500, text="boom")

    failed = post_with(down, row)
    assert failed.status == "rejected" and failed.problems[0].column == "(提交)" and "HTTP 500" in failed.problems[0].message


def test_401_and_403_stop_the_run_as_usage_errors_naming_the_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # the command line speaks Chinese (English under LANG=en_*)
    row = one_report(tmp_path)
    with pytest.raises(cli.AccessRefused, match=r"第 2 行（.*）：令牌被拒绝（HTTP 401：invalid token: expired）"):
        post_with(lambda _: httpx.Response(401, json={"detail": "invalid token: expired"}), row)
    outside = "enterprise.region_code 141029 is outside the jurisdiction of this county token (141024)"
    with pytest.raises(cli.AccessRefused, match=r"该令牌无权提交此行（HTTP 403：enterprise.region_code 141029 is outside"):
        post_with(lambda _: httpx.Response(403, json={"detail": outside}), row)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    with pytest.raises(cli.AccessRefused, match=r"row 2 .*token was refused.*401: invalid token: expired"):
        post_with(lambda _: httpx.Response(401, json={"detail": "invalid token: expired"}), row)


def test_the_token_is_sent_as_a_bearer_header(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    row = one_report(tmp_path)
    seen: list[tuple[str, str]] = []

    def service(request: httpx.Request) -> httpx.Response:
        seen.append((request.url.path, request.headers.get("authorization", "")))
        return httpx.Response(200, json={"results": [{"index": 0, "status": "accepted", "submission_id": "x"}]})

    with_transport(monkeypatch, httpx.MockTransport(service))
    outcomes = asyncio.run(cli.submit_all([row], "http://svc", 1, spreadsheets.sheet_problem, cli.Console(quiet=True), "tok-123"))
    assert [o.status for o in outcomes] == ["new"]
    assert seen == [("/reports:batch", "Bearer tok-123")]


def with_transport(monkeypatch: pytest.MonkeyPatch, transport: httpx.AsyncBaseTransport) -> None:
    """``submit_all``'s client talks to ``transport`` (a mock, or the service in this process)."""
    class Client(REAL_ASYNC_CLIENT):  # type: ignore[misc,valid-type]
        def __init__(self, **kwargs: Any) -> None:
            super().__init__(transport=transport, **kwargs)

    monkeypatch.setattr(cli.httpx, "AsyncClient", Client)


def rows_of(tmp_path: Path, n: int) -> list[report_files.ParsedRow]:
    rows = spreadsheets.parse_employer_sheet(write_xlsx(tmp_path / f"rows{n}.xlsx", [good(i) for i in range(1, n + 1)]))
    assert all(r.ok for r in rows)
    return rows


def submit_rows(rows: list[report_files.ParsedRow], batch_size: int = 500, concurrency: int = 2) -> list[cli.Outcome]:
    return asyncio.run(cli.submit_all(rows, "http://svc", concurrency, spreadsheets.sheet_problem, cli.Console(quiet=True), "t", batch_size))


def test_rows_go_in_batches_and_each_row_gets_its_items_outcome(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = rows_of(tmp_path, 5)
    answers = {
        0: {"status": "accepted", "submission_id": "a"},
        1: {"status": "duplicate", "submission_id": "b"},
        2: {"status": "invalid", "detail": "the report is invalid",
            "errors": [{"field": "publicity.start", "message": "2099-01-01 is in the future"}]},
        3: {"status": "conflict", "detail": "submission x already holds a different report"},
        4: {"status": "not_found", "detail": "no employer 91141029MA0000005X in your jurisdiction"},
    }
    batches: list[list[str]] = []

    def service(request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/reports:batch"
        reports = json.loads(request.content)["reports"]
        ids = [r["submission_id"] for r in reports]
        batches.append(ids)
        positions = [next(i for i, row in enumerate(rows) if str(row.report.submission_id) == id_) for id_ in ids]  # type: ignore[union-attr]
        return httpx.Response(200, json={"results": [{"index": k, **answers[p]} for k, p in enumerate(positions)]})

    with_transport(monkeypatch, httpx.MockTransport(service))
    outcomes = submit_rows(rows, batch_size=2)

    assert sorted(len(b) for b in batches) == [1, 2, 2] and sorted(i for b in batches for i in b) == sorted(str(r.report.submission_id) for r in rows)  # type: ignore[union-attr]
    assert [o.status for o in outcomes] == ["new", "already", "rejected", "rejected", "rejected"]
    assert [(p.column, p.message) for p in outcomes[2].problems] == [("公示开始日期", "2099-01-01 晚于今天")]
    assert outcomes[3].problems[0].column == "submission_id"
    assert outcomes[4].problems == [report_files.RowProblem("(提交)", "HTTP 404: no employer 91141029MA0000005X in your jurisdiction")]


def test_a_batch_that_fails_on_the_way_is_sent_again_then_its_rows_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "BACKOFF_S", 0)
    rows = rows_of(tmp_path, 3)
    calls: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            raise httpx.ReadTimeout("slow")
        if len(calls) == 2:
            return httpx.Response(503, text="busy")
        return httpx.Response(200, json={"results": [{"index": i, "status": "accepted"} for i in range(3)]})

    with_transport(monkeypatch, httpx.MockTransport(flaky))
    assert [o.status for o in submit_rows(rows)] == ["new"] * 3 and len(calls) == 3

    calls.clear()
    with_transport(monkeypatch, httpx.MockTransport(lambda _: calls.append(1) or httpx.Response(500, text="boom")))
    failed = submit_rows(rows)
    assert len(calls) == cli.RETRIES + 1
    assert all(o.status == "rejected" and o.problems[0].column == "(提交)" and "HTTP 500" in o.problems[0].message for o in failed)


def test_a_batch_too_large_is_split_and_a_service_without_batches_gets_one_request_per_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = rows_of(tmp_path, 4)
    sizes: list[int] = []

    def small_bodies(request: httpx.Request) -> httpx.Response:
        reports = json.loads(request.content)["reports"]
        sizes.append(len(reports))
        if len(reports) > 1:
            return httpx.Response(413, json={"detail": "the request body is larger than this service accepts", "errors": []})
        return httpx.Response(200, json={"results": [{"index": 0, "status": "accepted"}]})

    with_transport(monkeypatch, httpx.MockTransport(small_bodies))
    assert [o.status for o in submit_rows(rows, concurrency=1)] == ["new"] * 4
    assert sizes == [4, 2, 1, 1, 2, 1, 1]

    paths: list[str] = []

    def older_service(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        if request.url.path == "/reports:batch":
            return httpx.Response(404, json={"detail": "Not Found"})
        return httpx.Response(202, json={"status": "accepted", "duplicate": False})

    with_transport(monkeypatch, httpx.MockTransport(older_service))
    assert [o.status for o in submit_rows(rows, concurrency=1)] == ["new"] * 4
    assert paths == ["/reports:batch", "/reports", "/reports", "/reports", "/reports"]


def test_a_row_the_token_may_not_submit_stops_the_run_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "en_US.UTF-8")  # English under LANG=en_* (Chinese otherwise)
    rows = rows_of(tmp_path, 2)
    outside = "enterprise.region_code 141029 is outside the jurisdiction of this county token (141024)"

    def service(_: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"results": [{"index": 0, "status": "accepted"}, {"index": 1, "status": "refused", "detail": outside}]})

    with_transport(monkeypatch, httpx.MockTransport(service))
    with pytest.raises(cli.AccessRefused, match=rf"row 3 \({rows[1].credit_code}\): the token may not submit this row \(HTTP 403: enterprise.region_code 141029"):
        submit_rows(rows)
    with_transport(monkeypatch, httpx.MockTransport(lambda _: httpx.Response(401, json={"detail": "invalid token: expired"})))
    with pytest.raises(cli.AccessRefused, match=r"token was refused.*401: invalid token: expired"):
        submit_rows(rows)


def test_bulk_through_the_batch_endpoint_of_the_service_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``submit_all`` against the real assessment app (SQLite, no broker): every row classified new, then already."""
    from services.assessment.bootstrap import bootstrap
    from tests.support import app_without_broker

    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # the command line speaks Chinese (English under LANG=en_*)
    app = app_without_broker(bootstrap, "assessment", tmp_path / "service")
    rows = rows_of(tmp_path, 7)
    with_transport(monkeypatch, httpx.ASGITransport(app=app))

    def load(token_role: str) -> list[str]:
        outcomes = asyncio.run(cli.submit_all(rows, "http://svc", 2, spreadsheets.sheet_problem, cli.Console(quiet=True),
                                              token_for(token_role), 3))  # type: ignore[arg-type]
        return [o.status for o in outcomes]

    try:
        assert load("county") == ["new"] * 7
        assert load("county") == ["already"] * 7
        with pytest.raises(cli.AccessRefused, match="该令牌无权提交此行"):
            load("auditor")
    finally:
        app.state.runtime.engine.dispose()


def test_422_and_409_become_row_errors_in_column_terms(tmp_path: Path) -> None:
    row = one_report(tmp_path)
    errors = {"detail": "the report is invalid", "errors": [
        {"field": "publicity.start", "message": "2099-01-01 is in the future"},
        {"field": "hazards[1].tested_on", "message": "2023-07-01 is after assessed_on 2023-06-01"}]}
    rejected = post_with(lambda _: httpx.Response(422, json=errors), row)
    assert rejected.status == "rejected"
    assert [(p.column, p.message) for p in rejected.problems] == [
        ("公示开始日期", "2099-01-01 晚于今天"), ("危害因素", "第2项（噪声）检测日期：2023-07-01 晚于评估日期 2023-06-01")]
    conflict = post_with(lambda _: httpx.Response(409, json={"detail": "submission x already holds a different report"}), row)
    assert conflict.problems[0].column == "submission_id"
