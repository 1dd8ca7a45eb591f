"""Versioned rule data: the packaged national set, validation errors, and choosing a rule set."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.assessment.adapters.rules import PACKAGED_RULES_DIR, load_rule_book, load_rule_set
from services.assessment.domain.rules import NoApplicableRules, RuleDataError

NATIONAL_FILE = PACKAGED_RULES_DIR / "national-2022.json"
SERIOUS = "矽尘 石棉粉尘 石棉纤维 苯 甲醛 氯乙烯 铅尘 铅烟 锰及其化合物 镉及其化合物 砷及其无机化合物 汞 一氧化碳 硫化氢 氨 氯气 氰化氢 二硫化碳 苯胺 丙烯腈 甲苯二异氰酸酯 五氧化二钒 焦炉逸散物".split()
GENERAL = "煤尘 水泥粉尘 电焊烟尘 其他粉尘 甲苯 二甲苯 噪声 高温 手传振动 紫外辐射".split()


def national() -> dict[str, Any]:
    return json.loads(NATIONAL_FILE.read_text(encoding="utf-8"))


def write(folder: Path, name: str, data: dict[str, Any], **changes: Any) -> Path:
    path = folder / name
    path.write_text(json.dumps({**data, **changes}, ensure_ascii=False), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- the packaged national set


def test_packaged_national_rule_set() -> None:
    rules = load_rule_set(NATIONAL_FILE)
    assert (rules.jurisdiction, rules.version, rules.effective_from, rules.provisional) == ("CN", "2022.1", date(2022, 11, 1), True)
    assert "国疾控综监督二函〔2022〕50号" in rules.source
    assert rules.hazard_grading.provisional is False and rules.management_bands.provisional is False
    assert rules.aggregation.provisional and rules.factor_catalogue.provisional and rules.category_matrix.provisional
    assert rules.aggregation.method == "highest"
    assert rules.silica_threshold_percent == 10
    assert [b.label for b in rules.hazard_grading.headcount_bands] == ["≤9", "10–49", "≥50"]
    assert [(b.grade, b.min) for b in rules.management_bands.bands] == [("A", 90), ("B", 70), ("C", 0)]
    assert sorted(rules.provisional_tables()) == ["aggregation", "category_matrix", "factor_catalogue", "self_check_checklist", "test_validity"]
    validity = rules.test_validity
    assert (validity.enabled, validity.serious_interval_months, validity.general_interval_months) == (True, 12, 36)
    assert (validity.interval_months(any_serious=True), validity.interval_months(any_serious=False)) == (12, 36)


CHECKLIST_POINTS = {
    "1.1": 4, "1.2": 3, "1.3": 4, "1.4": 4, "1.5": 3, "1.6": 2, "2.1": 5, "2.2": 3, "3.1": 3, "3.2": 4, "3.3": 4, "3.4": 3,
    "4.1": 6, "4.2": 3, "4.3": 3, "5.1": 7, "5.2": 7, "6.1": 4, "6.2": 6, "7.1": 8, "7.2": 3, "7.3": 3, "7.4": 2, "8.1": 6,
}


def test_packaged_self_check_checklist() -> None:
    checklist = load_rule_set(NATIONAL_FILE).self_check_checklist
    assert checklist.provisional and checklist.source and "附件2" in checklist.source
    assert [section.id for section in checklist.sections] == [str(n) for n in range(1, 9)]
    assert {item.id: item.points for item in checklist.items()} == CHECKLIST_POINTS
    assert [item.id for item in checklist.items()] == list(CHECKLIST_POINTS)  # checklist order
    assert sum(CHECKLIST_POINTS.values()) == 100
    assert not any(item.veto for item in checklist.items())  # no veto item is confirmed: none enabled
    assert all(item.title.strip() for item in checklist.items())
    assert checklist.item("1.1") is not None and "职业卫生管理" in checklist.item("1.1").title  # type: ignore[union-attr]
    assert checklist.item("9.9") is None


def test_catalogue_holds_every_factor_of_the_rules() -> None:
    catalogue = load_rule_set(NATIONAL_FILE).factor_catalogue
    assert {f: catalogue.nature_of(f) for f in SERIOUS} == {f: "严重" for f in SERIOUS}
    assert {f: catalogue.nature_of(f) for f in GENERAL} == {f: "一般" for f in GENERAL}


def test_ref_names_the_rule_set() -> None:
    ref = load_rule_book().for_region("141029", date(2023, 6, 1)).ref()
    assert (ref.jurisdiction, ref.version, ref.effective_from, ref.provisional) == ("CN", "2022.1", date(2022, 11, 1), True)


# --------------------------------------------------------------------------- choosing a rule set


def test_most_specific_jurisdiction_wins(tmp_path: Path) -> None:
    base = national()
    write(tmp_path, "shanxi.json", base, jurisdiction="140000", version="2023.1", effective_from="2023-03-01")
    write(tmp_path, "linfen.json", base, jurisdiction="141000", version="2023.1", effective_from="2023-02-01")
    write(tmp_path, "xiangning.json", base, jurisdiction="141029", version="2023.1", effective_from="2023-01-01")
    book = load_rule_book(extra_dir=tmp_path)
    on = date(2023, 6, 1)
    assert book.for_region("141029", on).jurisdiction == "141029"  # county over city, province, national
    assert book.for_region("141081", on).jurisdiction == "141000"  # 侯马市: city
    assert book.for_region("140105", on).jurisdiction == "140000"  # 太原 district: province
    assert book.for_region("330106", on).jurisdiction == "CN"  # 浙江: national
    assert book.for_region("141029", on).origin == str(tmp_path / "xiangning.json")


def test_future_rule_set_is_ignored(tmp_path: Path) -> None:
    write(tmp_path, "xiangning.json", national(), jurisdiction="141029", version="2025.1", effective_from="2025-01-01")
    book = load_rule_book(extra_dir=tmp_path)
    assert book.for_region("141029", date(2024, 12, 31)).jurisdiction == "CN"
    assert book.for_region("141029", date(2025, 1, 1)).jurisdiction == "141029"


def test_latest_effective_then_highest_version(tmp_path: Path) -> None:
    base = national()
    write(tmp_path, "a.json", base, version="2023.9", effective_from="2023-01-01")
    write(tmp_path, "b.json", base, version="2023.10", effective_from="2023-01-01")
    write(tmp_path, "c.json", base, version="2024.1", effective_from="2024-01-01")
    book = load_rule_book(extra_dir=tmp_path)
    assert book.for_region("141029", date(2023, 6, 1)).version == "2023.10"
    assert book.for_region("141029", date(2024, 6, 1)).version == "2024.1"
    assert book.for_region("141029", date(2022, 11, 1)).version == "2022.1"


def test_no_applicable_rules_before_any_effective_date() -> None:
    with pytest.raises(NoApplicableRules, match="141029"):
        load_rule_book().for_region("141029", date(2020, 1, 1))


def test_malformed_region_code_is_refused() -> None:
    with pytest.raises(ValueError, match="GB/T 2260"):
        load_rule_book().for_region("14102", date(2023, 6, 1))


# --------------------------------------------------------------------------- broken files


def broken_matrix(data: dict[str, Any]) -> None:
    del data["category_matrix"]["cells"]["Ⅱ"]["C"]


def overlapping_bands(data: dict[str, Any]) -> None:
    data["hazard_grading"]["headcount_bands"][1]["min"] = 5


def bad_catalogue_nature(data: dict[str, Any]) -> None:
    data["factor_catalogue"]["factors"]["噪声"] = "中等"


def missing_table_row(data: dict[str, Any]) -> None:
    data["hazard_grading"]["table"].pop()


def missing_band_in_row(data: dict[str, Any]) -> None:
    del data["hazard_grading"]["table"][0]["grades"]["≥50"]


def management_bands_out_of_order(data: dict[str, Any]) -> None:
    data["management_bands"]["bands"][1]["min"] = 95


def provisional_flag_wrong(data: dict[str, Any]) -> None:
    data["provisional"] = False


def bad_jurisdiction(data: dict[str, Any]) -> None:
    data["jurisdiction"] = "SX"


def non_monotone_matrix(data: dict[str, Any]) -> None:
    data["category_matrix"]["cells"]["Ⅲ"]["C"] = "甲"


def checklist_items(data: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for section in data["self_check_checklist"]["sections"] for item in section["items"]]


def checklist_total_99(data: dict[str, Any]) -> None:
    checklist_items(data)[0]["points"] = 3


def checklist_total_101(data: dict[str, Any]) -> None:
    checklist_items(data)[-1]["points"] = 7


def checklist_duplicate_id(data: dict[str, Any]) -> None:
    checklist_items(data)[1]["id"] = "1.1"


def checklist_zero_points(data: dict[str, Any]) -> None:
    items = checklist_items(data)
    items[0]["points"], items[1]["points"] = 0, 7  # total still 100


def checklist_negative_points(data: dict[str, Any]) -> None:
    items = checklist_items(data)
    items[0]["points"], items[1]["points"] = -1, 8  # total still 100


def checklist_without_provisional(data: dict[str, Any]) -> None:
    del data["self_check_checklist"]["provisional"]


def validity_serious_longer(data: dict[str, Any]) -> None:
    data["test_validity"]["serious_interval_months"] = 48


def validity_zero_interval(data: dict[str, Any]) -> None:
    data["test_validity"]["serious_interval_months"] = 0


def validity_missing(data: dict[str, Any]) -> None:
    del data["test_validity"]


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (broken_matrix, "misses cell(s) Ⅱ × C"),
        (overlapping_bands, "bands overlap"),
        (bad_catalogue_nature, "factor_catalogue.factors.噪声"),
        (missing_table_row, "misses row 严重 × 不符合"),
        (missing_band_in_row, "misses band(s) ≥50"),
        (management_bands_out_of_order, "bands overlap: B starts at 95"),
        (provisional_flag_wrong, "provisional is false"),
        (bad_jurisdiction, "jurisdiction"),
        (non_monotone_matrix, "not monotone"),
        (checklist_total_99, "self_check_checklist: item points sum to 99, must be exactly 100"),
        (checklist_total_101, "self_check_checklist: item points sum to 101, must be exactly 100"),
        (checklist_duplicate_id, "self_check_checklist: duplicate item id(s) 1.1"),
        (checklist_zero_points, "self_check_checklist.sections.0.items.0.points: Input should be greater than 0"),
        (checklist_negative_points, "self_check_checklist.sections.0.items.0.points"),
        (checklist_without_provisional, "self_check_checklist.provisional"),
        (validity_serious_longer, "test_validity: serious_interval_months (48) is longer than general_interval_months (36)"),
        (validity_zero_interval, "test_validity.serious_interval_months"),
        (validity_missing, "test_validity: Field required"),
    ],
)
def test_broken_file_error_names_file_and_problem(tmp_path: Path, breakage: Any, message: str) -> None:
    data = national()
    breakage(data)
    write(tmp_path, "broken.json", data, version="9.9")
    with pytest.raises(RuleDataError) as caught:
        load_rule_book(extra_dir=tmp_path)
    assert "broken.json" in str(caught.value)
    assert message in str(caught.value)


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "truncated.json").write_text('{"jurisdiction": "CN",', encoding="utf-8")
    with pytest.raises(RuleDataError, match="truncated.json.*not valid JSON"):
        load_rule_book(extra_dir=tmp_path)


def test_duplicate_version_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "copy.json", national())
    with pytest.raises(RuleDataError, match="copy.json.*already defined by .*national-2022.json"):
        load_rule_book(extra_dir=tmp_path)


def test_missing_extra_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(RuleDataError, match="does not exist"):
        load_rule_book(extra_dir=tmp_path / "nowhere")


# --------------------------------------------------------------------------- only top-level files are rule sets


def test_subfolders_of_a_rules_folder_are_not_rule_sets(tmp_path: Path) -> None:
    packaged = tmp_path / "rules"
    for sub in ("deadlines", "calendar"):
        (packaged / sub).mkdir(parents=True)
        (packaged / sub / "cn.json").write_text('{"not": "a rule set"}', encoding="utf-8")
    (packaged / "folder.json").mkdir()  # a folder that merely looks like a rule file
    write(packaged, "national-2022.json", national())
    agency = tmp_path / "agency"
    (agency / "deadlines").mkdir(parents=True)
    (agency / "deadlines" / "141029.json").write_text("[]", encoding="utf-8")
    book = load_rule_book(extra_dir=agency, packaged_dir=packaged)
    assert [(rs.jurisdiction, rs.version) for rs in book.rule_sets] == [("CN", "2022.1")]


def test_packaged_rule_book_loads_only_the_national_rule_set() -> None:
    assert [rs.origin for rs in load_rule_book().rule_sets] == [str(NATIONAL_FILE)]
