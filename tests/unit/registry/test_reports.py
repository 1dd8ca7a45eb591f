"""Reports for the agency over the archive, on SQLite: counts per county, changes, small employers, the .xlsx."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import openpyxl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from services.assessment.adapters import spreadsheets as bulk
from services.registry import views as report_views
from services.registry.adapters.orm import ClassificationVersion, EnterpriseRecord
from services.registry.bootstrap import bootstrap
from services.registry.adapters.rules import load_region_tree
from services.registry.domain.regions import RegionTree
from shared.auth import issue_token
from shared.db import make_engine
from shared.identifiers import credit_code_check_character
from shared.migrations import upgrade
from shared.settings import settings_for

SECRET = "test-secret-for-the-report-tests"


def credit_code(serial: int) -> str:
    first17 = f"91141000MA{serial:07d}"
    return first17 + credit_code_check_character(first17)


A, B, C, D, E = (credit_code(n) for n in range(1, 6))
UTC = timezone.utc


def at(day: str, hour: int = 4) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC)


# employer: (name, county, industries, employees, [(category, assessed_on, recorded_at, became_current), …]); the current
# state is the last version that became current.
EMPLOYERS: dict[str, tuple[str, str, list[str], int, list[tuple[str, str, datetime, bool]]]] = {
    A: ("乡宁县甲水泥有限公司", "141029", ["C3011", "C3021"], 86, [
        ("乙", "2023-02-20", at("2023-03-01"), True),
        ("丙", "2023-06-20", at("2023-07-01"), True),  # upgrade
        ("丙", "2023-07-25", at("2023-08-01"), True),  # reassessed, same category: no change
    ]),
    B: ("乡宁县乙煤业有限公司", "141029", ["B0610"], 150, [
        ("丙", "2023-01-20", at("2023-02-01"), True),
        ("乙", "2023-06-10", at("2023-06-15"), True),  # downgrade
        ("甲", "2022-06-01", at("2023-06-20"), False),  # an older assessment arriving late: history only
    ]),
    C: ("尧都区丙食品有限公司", "141002", ["C1391"], 20, [
        ("甲", "2023-06-25", at("2023-06-30", hour=20), True),  # 2023-07-01 04:00 in China: first archive on 07-01
    ]),
    D: ("侯马市丁化工有限公司", "141081", ["C2614"], 99, [
        ("丙", "2023-05-01", at("2023-05-10"), True),
    ]),
    E: ("太原市戊建材有限公司", "140105", ["C3021"], 10, [  # a county of 山西 the packaged tree does not list
        ("乙", "2023-05-20", at("2023-06-01"), True),
    ]),
}  # fmt: skip


def populate(engine: Engine) -> None:
    with Session(engine) as session:
        for code, (name, county, industries, employees, versions) in EMPLOYERS.items():
            current = 0
            for number, (category, assessed_on, recorded_at, became_current) in enumerate(versions, start=1):
                session.add(
                    ClassificationVersion(
                        credit_code=code, version=number, submission_id=f"{code}-{number}", source_event_id=f"event-{code}-{number}",
                        region_code=county, name=name, category=category, hazard_grade="Ⅲ" if category == "丙" else "Ⅱ",
                        management_grade="B", score=82.5, assessed_on=date.fromisoformat(assessed_on), rule_set={}, factors=[],
                        trace=[], became_current=became_current, recorded_at=recorded_at,
                    )
                )  # fmt: skip
                current = number if became_current else current
            category, assessed_on, recorded_at, _ = versions[current - 1]
            session.add(
                EnterpriseRecord(
                    credit_code=code, name=name, region_code=county, industry_codes=industries, employees=employees,
                    category=category, hazard_grade="Ⅲ" if category == "丙" else "Ⅱ", management_grade="B", score=82.5,
                    assessed_on=date.fromisoformat(assessed_on), submission_id=f"{code}-{current}", archive_version=current,
                    latest_version=len(versions), updated_at=recorded_at,
                )
            )  # fmt: skip
        session.commit()


@pytest.fixture(scope="module")
def tree() -> RegionTree:
    return load_region_tree()


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('reports') / 'registry.db'}")
    upgrade("registry", engine)
    populate(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


# ---------------------------------------------------------------------------- counts per county × category


def test_category_counts_list_every_county_of_the_city_with_zeros_and_totals(session: Session, tree: RegionTree) -> None:
    report = report_views.category_counts(session, tree, "141000")
    rows = {r["region_code"]: r for r in report["rows"]}
    assert len(report["rows"]) == 17 and all(r["listed"] for r in report["rows"])
    assert rows["141029"] == {"region_code": "141029", "name": "乡宁县", "listed": True, "counts": {"甲": 0, "乙": 1, "丙": 1}, "total": 2}
    assert rows["141002"]["counts"] == {"甲": 1, "乙": 0, "丙": 0}
    assert rows["141081"]["counts"] == {"甲": 0, "乙": 0, "丙": 1}
    assert rows["141034"] == {"region_code": "141034", "name": "汾西县", "listed": True, "counts": {"甲": 0, "乙": 0, "丙": 0}, "total": 0}
    assert report["totals"] == {"region_code": "141000", "name": "合计", "counts": {"甲": 1, "乙": 1, "丙": 2}, "total": 4}
    assert report["path"] == ["山西省", "临汾市"]


def test_an_employer_in_a_county_the_tree_does_not_list_still_counts(session: Session, tree: RegionTree) -> None:
    report = report_views.category_counts(session, tree, "140000")
    assert len(report["rows"]) == 18
    assert report["rows"][-1] == {"region_code": "140105", "name": None, "listed": False, "counts": {"甲": 0, "乙": 1, "丙": 0}, "total": 1}
    assert report["totals"]["total"] == 5


def test_category_counts_of_one_county(session: Session, tree: RegionTree) -> None:
    report = report_views.category_counts(session, tree, "141029")
    assert [r["region_code"] for r in report["rows"]] == ["141029"]
    assert report["totals"]["counts"] == {"甲": 0, "乙": 1, "丙": 1}


# ---------------------------------------------------------------------------- changes in a period


def test_changes_in_a_period_with_their_directions(session: Session, tree: RegionTree) -> None:
    report = report_views.classification_changes(session, tree, "141000", date(2023, 6, 1), date(2023, 7, 31))
    changes = [(i["credit_code"], i["before"], i["after"], i["direction"], i["changed_on"]) for i in report["items"]]
    assert changes == [
        (B, "丙", "乙", "downgrade", "2023-06-15"),
        (A, "乙", "丙", "upgrade", "2023-07-01"),
        (C, None, "甲", "first_archive", "2023-07-01"),
    ]
    assert report["counts"] == {"upgrade": 1, "downgrade": 1, "first_archive": 1, "total": 3}
    upgrade_item = report["items"][1]
    assert upgrade_item["name"] == "乡宁县甲水泥有限公司" and upgrade_item["county_name"] == "乡宁县"
    assert upgrade_item["submission_id"] == f"{A}-2" and upgrade_item["archive_version"] == 2
    assert upgrade_item["assessed_on"] == "2023-06-20"


def test_the_period_is_counted_in_china_time(session: Session, tree: RegionTree) -> None:
    # C was archived at 2023-06-30 20:00 UTC, i.e. 2023-07-01 in China: outside a period ending 06-30.
    report = report_views.classification_changes(session, tree, "141000", date(2023, 6, 1), date(2023, 6, 30))
    assert [i["credit_code"] for i in report["items"]] == [B]


def test_changes_of_one_county_without_bounds_include_first_archives(session: Session, tree: RegionTree) -> None:
    report = report_views.classification_changes(session, tree, "141029", None, None)
    assert [(i["credit_code"], i["direction"]) for i in report["items"]] == [
        (B, "first_archive"), (A, "first_archive"), (B, "downgrade"), (A, "upgrade"),
    ]  # fmt: skip
    assert report["counts"] == {"upgrade": 1, "downgrade": 1, "first_archive": 2, "total": 4}


# ---------------------------------------------------------------------------- small employers


def test_small_employers_are_those_under_100_workers(session: Session, tree: RegionTree) -> None:
    report = report_views.small_employers(session, tree, "141000")
    assert [(i["credit_code"], i["employees"], i["category"], i["county_name"]) for i in report["items"]] == [
        (C, 20, "甲", "尧都区"), (A, 86, "丙", "乡宁县"), (D, 99, "丙", "侯马市"),
    ]  # fmt: skip
    assert report["counts"] == {"甲": 1, "乙": 0, "丙": 2} and report["total"] == 3
    assert report_views.small_employers(session, tree, "141000", max_employees=50)["counts"] == {"甲": 1, "乙": 0, "丙": 0}


# ---------------------------------------------------------------------------- the archive as .xlsx


def test_the_archive_xlsx_has_the_header_in_row_1_and_one_row_per_employer(session: Session, tree: RegionTree, tmp_path: Path) -> None:
    content, counts = report_views.archive_xlsx(session, tree, "141000", datetime(2024, 5, 1, 2, 30, tzinfo=UTC))
    assert counts == {"甲": 1, "乙": 1, "丙": 2, "total": 4}
    book = openpyxl.load_workbook(io.BytesIO(content))
    sheet = book.worksheets[0]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "序号", "用人单位名称", "统一社会信用代码", "所在地区代码", "行业代码", "职工总数", "评估日期", "自查得分",
        "职业病危害风险等级", "职业卫生管理状况等级", "综合风险类别", "档案版本", "受理机构",
    )  # fmt: skip
    assert len(rows) == 5
    assert [r[2] for r in rows[1:]] == [C, A, B, D]
    assert rows[2] == (2, "乡宁县甲水泥有限公司", A, "141029", "C3011、C3021", 86, datetime(2023, 7, 25), 82.5, "Ⅲ", "B", "丙", 3, "乡宁县卫生健康综合行政执法队")
    assert rows[1][12] == "临汾市卫生健康综合行政执法队"  # 尧都区: received by the city team
    assert rows[3][10:12] == ("乙", 2)  # B: the late older assessment (v3) did not become current
    assert sheet["C2"].number_format == "@" and sheet["D2"].number_format == "@"

    notes = dict(book["说明"].iter_rows(values_only=True))
    assert notes["导出时间"] == "2024年5月1日 10:30:00（北京时间）"
    assert notes["地区"] == "141000 山西省 / 临汾市"
    assert (notes["用人单位数"], notes["甲类"], notes["乙类"], notes["丙类"]) == (4, 1, 1, 2)


def test_the_archive_xlsx_columns_are_the_bulk_readers_columns(session: Session, tree: RegionTree, tmp_path: Path) -> None:
    assert set(report_views.ARCHIVE_BULK_TITLES) <= set(bulk.TITLES)
    assert not set(report_views.ARCHIVE_RESULT_TITLES) & set(bulk.TITLES)
    path = tmp_path / "archive.xlsx"
    path.write_bytes(report_views.archive_xlsx(session, tree, "141029")[0])
    # The bulk reader finds every exported 附件6 column in row 1: only the columns the archive does not keep are missing.
    with pytest.raises(bulk.LayoutError) as error:
        list(bulk.sheet_records(path))
    not_in_archive = [t for t in bulk.REQUIRED_TITLES if t not in report_views.ARCHIVE_BULK_TITLES]
    assert not_in_archive == ["评估方式", "危害因素", "公示开始日期", "公示结束日期", "签字人", "是否盖章"]
    assert str(error.value).endswith("缺少必需的列：" + "、".join(not_in_archive))


# ---------------------------------------------------------------------------- over HTTP (no lifespan: no Kafka)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    settings = settings_for("registry", data_dir=tmp_path_factory.mktemp("registry-http"), auth_secret=SECRET)
    app = bootstrap(settings, create_topics=False)
    upgrade("registry", app.state.runtime.engine)
    populate(app.state.runtime.engine)
    return TestClient(app)  # not entered: no lifespan


def bearer(role: str, **scope: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, role, f'test {role}', **scope)}"}  # type: ignore[arg-type]


def test_a_county_token_sees_its_county_and_gets_404_for_another(client: TestClient) -> None:
    county = bearer("county", region_code="141029")
    own = client.get("/reports/categories", headers=county)
    assert own.status_code == 200
    assert [r["region_code"] for r in own.json()["rows"]] == ["141029"]
    for path in ("/reports/categories", "/reports/changes", "/reports/small-employers", "/reports/archive.xlsx"):
        assert client.get(path, params={"region_code": "141081"}, headers=county).status_code == 404, path
        assert client.get(path, params={"region_code": "141000"}, headers=county).status_code == 404, path


def test_a_city_token_sees_every_county_of_its_city(client: TestClient) -> None:
    city = bearer("city", region_code="141000")
    report = client.get("/reports/categories", params={"region_code": "141000"}, headers=city).json()
    assert len(report["rows"]) == 17 and report["totals"]["total"] == 4
    assert client.get("/reports/categories", params={"region_code": "141081"}, headers=city).status_code == 200
    assert client.get("/reports/categories", params={"region_code": "140000"}, headers=city).status_code == 404
    changes = client.get("/reports/changes", params={"region_code": "141000", "from": "2023-06-01", "to": "2023-07-31"}, headers=city)
    assert changes.json()["counts"] == {"upgrade": 1, "downgrade": 1, "first_archive": 1, "total": 3}
    assert client.get("/reports/changes", params={"from": "2023-08-01", "to": "2023-07-31"}, headers=city).status_code == 422
    small = client.get("/reports/small-employers", headers=city).json()
    assert small["region_code"] == "141000" and small["total"] == 3


def test_an_auditor_reads_reports_and_employers_and_strangers_do_not(client: TestClient) -> None:
    assert client.get("/reports/categories", params={"region_code": "141029"}, headers=bearer("auditor", region_code="140000")).status_code == 200
    assert client.get("/reports/categories", params={"region_code": "141029"}, headers=bearer("employer", credit_code=A)).status_code == 403
    assert client.get("/reports/categories", params={"region_code": "141029"}).status_code == 401
    assert client.get("/reports/categories", params={"region_code": "14102X"}, headers=bearer("province", region_code="140000")).status_code == 422


def test_the_archive_download(client: TestClient) -> None:
    response = client.get("/reports/archive.xlsx", params={"region_code": "141000"}, headers=bearer("city", region_code="141000"))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    disposition = response.headers["content-disposition"]
    assert re.match(r'attachment; filename="archive-141000-\d{8}\.xlsx"; filename\*=UTF-8\'\'', disposition)
    assert f"filename*=UTF-8''{quote('分类监督执法档案-临汾市-141000-')}" in disposition
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0].iter_rows(values_only=True))
    assert rows[0][0] == "序号" and len(rows) == 5


def test_a_region_with_its_children_and_the_receiving_agency(client: TestClient) -> None:
    employer = bearer("employer", credit_code=A)  # the tree is public: any authenticated caller
    yaodu = client.get("/regions/141002", headers=employer).json()
    assert yaodu["path"] == ["山西省", "临汾市", "尧都区"] and yaodu["pilot_level"] == "city"
    assert yaodu["receiving_agency"] == {"name": "临汾市卫生健康综合行政执法队", "region_code": "141000", "provisional": True, "routed": True}
    city = client.get("/regions/141000", headers=employer).json()
    assert city["level"] == "city" and len(city["children"]) == 17 and "receiving_agency" not in city
    assert client.get("/regions/141099", headers=employer).status_code == 404
    assert client.get("/regions/141002").status_code == 401
