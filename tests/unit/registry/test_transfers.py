"""Moving an employer between counties (迁移, RULES §5a), on a registry unit of work in memory.

The jurisdiction of an employer is the archive's region, never a report's claim: a report naming
another region archives the version but keeps the employer where it is and asks for a move; the
receiving county confirms it (or refuses); a region outside the platform's region tree can never
confirm, so an employer cannot take itself out of its province."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from services.registry.adapters.rules import load_region_tree
from services.registry.domain import transfers as rules
from services.registry.domain.regions import RegionTree
from services.registry.service_layer import overrides, transfers
from services.registry.service_layer.handlers import archive_classification
from shared.auth import Principal
from shared.contracts import AssessmentClassified, ClassificationChanged
from tests.unit.registry.fakes import FakeUnitOfWork
from tests.unit.registry.test_override_handlers import CODE, classified

XIANGNING, HONGTONG, HOUMA, BEIJING = "141029", "141024", "141081", "110101"
XIANGNING_STAFF = Principal("u-1", "乡宁县 张三", "county", XIANGNING)
HONGTONG_STAFF = Principal("u-2", "洪洞县 李四", "county", HONGTONG)
HOUMA_STAFF = Principal("u-3", "侯马市 王五", "county", HOUMA)
LINFEN_STAFF = Principal("u-4", "临汾市 赵六", "city", "141000")


@pytest.fixture(scope="module")
def tree() -> RegionTree:
    return load_region_tree()


def report(category: str = "乙", assessed_on: date = date(2026, 6, 1), region: str = XIANGNING) -> AssessmentClassified:
    return classified(category, assessed_on, region=region).model_copy(update={"submission_id": uuid4()})


def announced(uow: FakeUnitOfWork) -> list[ClassificationChanged]:
    return [e for e in uow.published if isinstance(e, ClassificationChanged)]


def archived_in_xiangning(tree: RegionTree) -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    archive_classification(uow, report("乙", date(2026, 6, 1)), tree)
    uow.published.clear()
    return uow


# --------------------------------------------------------------------------- the rules


def test_a_report_asks_for_a_move_only_to_another_county_of_the_platform(tree: RegionTree) -> None:
    assert rules.on_report(tree, XIANGNING, XIANGNING, None) == rules.ReportedRegion(False, False, None)
    assert rules.on_report(tree, XIANGNING, HONGTONG, None) == rules.ReportedRegion(False, True, None)
    assert rules.on_report(tree, XIANGNING, HONGTONG, HONGTONG) == rules.ReportedRegion(False, False, None), "the same request again"
    assert rules.on_report(tree, XIANGNING, HOUMA, HONGTONG) == rules.ReportedRegion(True, True, None), "another county instead"
    assert rules.on_report(tree, XIANGNING, XIANGNING, HONGTONG) == rules.ReportedRegion(True, False, None), "back where it is"
    refused = rules.on_report(tree, XIANGNING, BEIJING, None)
    assert refused.request and refused.refuse_at_once and refused.refuse_at_once.text() == "地区 110101 不是本平台的县级地区：无人能够确认迁移，用人单位仍在原地区"
    assert "110101 is not a county of this platform" in refused.refuse_at_once.text("en")
    assert rules.is_platform_county(tree, HONGTONG) and not rules.is_platform_county(tree, "141000"), "a city is not a county"


# --------------------------------------------------------------------------- the legitimate move


def test_an_employer_reporting_a_new_county_stays_until_that_county_accepts(tree: RegionTree) -> None:
    uow = archived_in_xiangning(tree)

    moving = report("丙", date(2027, 6, 1), region=HONGTONG)
    archive_classification(uow, moving, tree)

    record = uow.enterprises.get(CODE)
    assert (record.region_code, record.category, record.archive_version) == (XIANGNING, "丙", 2), "the category follows the report"
    assert uow.versions.rows[-1].region_code == XIANGNING, "archived in the archive's county"
    [transfer] = uow.transfers.rows
    assert (transfer.from_region, transfer.to_region, transfer.status, transfer.submission_id) == (
        XIANGNING, HONGTONG, "pending", str(moving.submission_id))
    [change] = announced(uow)
    assert (change.region_code, change.category, change.changed) == (XIANGNING, "丙", ["category"]), "the others still see it in 乡宁县"
    assert uow.change_log.of(HONGTONG) == []
    archived = uow.change_log.of(XIANGNING)[-1]
    assert archived.change == "archived" and "报告所填地区为 141024：迁移申请" in archived.reason and "待确认" in archived.reason
    assert archived.payload["reported_region_code"] == HONGTONG and archived.payload["transfer"]["status"] == "pending"
    uow.published.clear()

    record, row = transfers.decide_by_staff(uow, HONGTONG_STAFF, CODE, "accept", "核实：已迁入洪洞县", tree)

    assert uow.committed
    assert (record.region_code, record.archive_version, record.latest_version) == (HONGTONG, 3, 3)
    assert (row.status, row.decided_by, row.archive_version) == ("accepted", HONGTONG_STAFF.describe(), 3)
    [moved] = announced(uow)
    assert (moved.region_code, moved.changed, moved.archive_version) == (HONGTONG, ["region_code"], 3)
    assert (moved.previous_category, moved.category) == ("丙", "丙") and row.id in moved.reason
    assert moved.reason == f"迁移申请 {row.id} 已接受：用人单位自地区 141029 迁至 141024；综合风险类别仍为 丙"
    assert moved.text("en") == f"transfer {row.id} accepted: the employer moved from region 141029 to 141024; category stays 丙 (category C, highest risk)"
    arrived, left = uow.change_log.of(HONGTONG)[-1], uow.change_log.of(XIANGNING)[-1]
    assert (arrived.change, arrived.category_before, arrived.category_after) == ("archived", "丙", "丙")
    assert (left.change, left.category_after, left.payload["to_region_code"]) == ("region_left", None, HONGTONG)
    assert arrived.actor == left.actor == HONGTONG_STAFF.describe()
    assert uow.change_log.locked[-1] == [HONGTONG, XIANGNING]
    assert uow.transfers.pending_for(CODE) is None


def test_the_city_covering_the_receiving_county_may_confirm(tree: RegionTree) -> None:
    uow = archived_in_xiangning(tree)
    archive_classification(uow, report("乙", date(2027, 6, 1), region=HOUMA), tree)

    record, row = transfers.decide_by_staff(uow, LINFEN_STAFF, CODE, "accept", None, tree)

    assert (record.region_code, row.status) == (HOUMA, "accepted")


def test_the_receiving_county_may_refuse_and_the_employer_stays(tree: RegionTree) -> None:
    uow = archived_in_xiangning(tree)
    archive_classification(uow, report("乙", date(2027, 6, 1), region=HONGTONG), tree)
    uow.published.clear()

    with pytest.raises(overrides.ArchiveConflict, match="reason"):
        transfers.decide_by_staff(uow, HONGTONG_STAFF, CODE, "refuse", None, tree)
    record, row = transfers.decide_by_staff(uow, HONGTONG_STAFF, CODE, "refuse", "经核实，该单位生产场所仍在乡宁县", tree)

    assert record.region_code == XIANGNING and (row.status, row.reason) == ("refused", "经核实，该单位生产场所仍在乡宁县")
    assert announced(uow) == [] and uow.change_log.of(HONGTONG) == []


def test_only_the_receiving_region_decides(tree: RegionTree) -> None:
    uow = archived_in_xiangning(tree)
    archive_classification(uow, report("乙", date(2027, 6, 1), region=HONGTONG), tree)

    with pytest.raises(transfers.TransferForbidden, match="141024"):  # 乡宁县 sees it, but does not confirm
        transfers.decide_by_staff(uow, XIANGNING_STAFF, CODE, "accept", None, tree)
    with pytest.raises(overrides.NotInArchive):  # 侯马市 has nothing to do with it: as if absent
        transfers.decide_by_staff(uow, HOUMA_STAFF, CODE, "accept", None, tree)
    assert uow.enterprises.get(CODE).region_code == XIANGNING and not uow.committed  # type: ignore[union-attr]


def test_nothing_pending_is_a_conflict_for_the_employers_county_and_absent_for_others(tree: RegionTree) -> None:
    uow = archived_in_xiangning(tree)

    with pytest.raises(overrides.ArchiveConflict, match="no pending transfer"):
        transfers.decide_by_staff(uow, XIANGNING_STAFF, CODE, "accept", None, tree)
    with pytest.raises(overrides.NotInArchive):
        transfers.decide_by_staff(uow, HONGTONG_STAFF, CODE, "accept", None, tree)


def test_a_later_report_supersedes_or_repeats_the_pending_request(tree: RegionTree) -> None:
    uow = archived_in_xiangning(tree)
    archive_classification(uow, report("乙", date(2027, 6, 1), region=HONGTONG), tree)
    archive_classification(uow, report("乙", date(2027, 7, 1), region=HONGTONG), tree)  # the same request again
    assert [t.status for t in uow.transfers.rows] == ["pending"]

    archive_classification(uow, report("乙", date(2027, 8, 1), region=HOUMA), tree)  # another county instead
    assert [(t.to_region, t.status) for t in uow.transfers.rows] == [(HONGTONG, "superseded"), (HOUMA, "pending")]

    archive_classification(uow, report("乙", date(2027, 9, 1)), tree)  # still in 乡宁县 after all
    assert [t.status for t in uow.transfers.rows] == ["superseded", "superseded"]
    assert uow.enterprises.get(CODE).region_code == XIANGNING  # type: ignore[union-attr]


def test_a_late_older_report_naming_another_county_asks_nothing(tree: RegionTree) -> None:
    uow = archived_in_xiangning(tree)

    archive_classification(uow, report("丙", date(2025, 6, 1), region=HONGTONG), tree)

    assert uow.transfers.rows == [] and uow.versions.rows[-1].became_current is False


# --------------------------------------------------------------------------- the attack: taking itself out of its province


def test_an_employer_reporting_a_region_outside_the_platform_stays_and_the_transfer_is_refused_at_once(tree: RegionTree) -> None:
    uow = archived_in_xiangning(tree)

    archive_classification(uow, report("乙", date(2027, 6, 1), region=BEIJING), tree)

    assert uow.enterprises.get(CODE).region_code == XIANGNING  # type: ignore[union-attr]
    [transfer] = uow.transfers.rows
    assert (transfer.to_region, transfer.status, transfer.decided_by) == (BEIJING, "refused", "system:registry")
    assert "地区 110101 不是本平台的县级地区" in transfer.reason  # type: ignore[operator]
    assert announced(uow) == [], "nothing the others hold changed"
    assert "报告所填地区为 110101：迁移申请被拒绝（地区 110101 不是本平台的县级地区" in uow.change_log.of(XIANGNING)[-1].reason
    with pytest.raises(overrides.NotInArchive):  # and nobody can confirm it (no pending transfer, outside everyone's view)
        transfers.decide_by_staff(uow, Principal("u-9", "北京市东城区", "county", BEIJING), CODE, "accept", None, tree)


def test_the_first_report_archives_the_employer_where_it_says() -> None:
    uow = FakeUnitOfWork()

    archive_classification(uow, report("乙", region=HONGTONG))  # the packaged region tree by default

    assert uow.enterprises.get(CODE).region_code == HONGTONG and uow.transfers.rows == []  # type: ignore[union-attr]
