"""Regions as data: the 临汾 tree, its receiving agencies, and the loader's errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from services.registry.adapters.rules import PACKAGED_REGIONS_DIR, load_region_tree, read_region_folders
from services.registry.domain.regions import RegionDataError, RegionTree, UnknownRegion

LINFEN_COUNTIES = {
    "141002": "尧都区", "141021": "曲沃县", "141022": "翼城县", "141023": "襄汾县", "141024": "洪洞县",
    "141025": "古县", "141026": "安泽县", "141027": "浮山县", "141028": "吉县", "141029": "乡宁县",
    "141030": "大宁县", "141031": "隰县", "141032": "永和县", "141033": "蒲县", "141034": "汾西县",
    "141081": "侯马市", "141082": "霍州市",
}  # fmt: skip
PROVINCE_PILOTS = {"141029", "141081", "141022", "141021", "141033"}  # 乡宁县 侯马市 翼城县 曲沃县 蒲县
CITY_TEAM = "临汾市卫生健康综合行政执法队"


@pytest.fixture(scope="module")
def tree() -> RegionTree:
    return load_region_tree()


def test_linfen_has_its_17_county_level_divisions_with_their_names(tree: RegionTree) -> None:
    counties = tree.counties_under("141000")
    assert {c.code: c.name for c in counties} == LINFEN_COUNTIES
    assert [c.code for c in counties] == sorted(LINFEN_COUNTIES)
    assert [c.code for c in tree.counties_under("140000")] == sorted(LINFEN_COUNTIES)
    assert [c.code for c in tree.children("141000")] == sorted(LINFEN_COUNTIES)
    assert tree.counties_under("141029") == (tree.get("141029"),)


def test_names_levels_and_paths(tree: RegionTree) -> None:
    assert tree.name("140000") == "山西省"
    assert tree.name("141000") == "临汾市"
    assert tree.path("141029") == ("山西省", "临汾市", "乡宁县")
    assert tree.path("141000") == ("山西省", "临汾市")
    assert [tree.level(c) for c in ("140000", "141000", "141002")] == ["province", "city", "county"]
    assert tree.parent("141029").code == "141000"  # type: ignore[union-attr]
    assert tree.get("141099") is None
    with pytest.raises(UnknownRegion, match="141099"):
        tree.name("141099")


def test_yaodu_reports_go_to_the_city_team(tree: RegionTree) -> None:
    assert tree.receiving_agency("141002") == (CITY_TEAM, "141000")


@pytest.mark.parametrize("code", sorted(set(LINFEN_COUNTIES) - {"141002"}))
def test_every_other_county_receives_its_own_reports(tree: RegionTree, code: str) -> None:
    name, region = tree.receiving_agency(code)
    assert region == code
    assert name.startswith(LINFEN_COUNTIES[code]) and name != CITY_TEAM
    assert tree.agency_is_provisional(code)  # generic names until the official ones are loaded


def test_pilot_levels(tree: RegionTree) -> None:
    levels = {c.code: c.pilot_level for c in tree.counties_under("141000")}
    assert {code for code, level in levels.items() if level == "province"} == PROVINCE_PILOTS
    assert {code for code, level in levels.items() if level == "city"} == set(LINFEN_COUNTIES) - PROVINCE_PILOTS


def test_a_city_is_not_a_receiving_county(tree: RegionTree) -> None:
    with pytest.raises(ValueError, match="per county"):
        tree.receiving_agency("141000")


# ---------------------------------------------------------------------------- loading


def _province(**county: Any) -> dict[str, Any]:
    """陕西省 610000 → 西安市 610100 → 新城区 610102; ``county`` overrides the county's fields."""
    return {
        "province": {
            "code": "610000",
            "name": "陕西省",
            "children": [
                {
                    "code": "610100",
                    "name": "西安市",
                    "agency": {"name": "西安市卫生健康综合行政执法支队"},
                    "children": [{"code": "610102", "name": "新城区", "agency": {"name": "新城区卫生监督所"}, **county}],
                }
            ],
        }
    }


def _write(folder: Path, name: str, data: Any) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(json.dumps(data, ensure_ascii=False) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_an_extra_province_from_the_rules_folder_loads_beside_the_packaged_one(tmp_path: Path) -> None:
    _write(tmp_path / "regions", "shaanxi-610000.json", _province())
    tree = load_region_tree(tmp_path)
    assert tree.path("610102") == ("陕西省", "西安市", "新城区")
    assert tree.receiving_agency("610102") == ("新城区卫生监督所", "610102")
    assert not tree.agency_is_provisional("610102")
    assert len(tree.counties_under("141000")) == 17  # the packaged province is still there
    assert [p.code for p in tree.provinces] == ["140000", "610000"]


def test_a_rules_folder_without_regions_changes_nothing(tmp_path: Path) -> None:
    assert [p.code for p in load_region_tree(tmp_path).provinces] == ["140000"]


def test_an_agency_file_for_a_packaged_province_replaces_it(tmp_path: Path) -> None:
    data = json.loads((PACKAGED_REGIONS_DIR / "shanxi-140000.json").read_text(encoding="utf-8"))
    city = data["province"]["children"][0]
    xiangning = next(c for c in city["children"] if c["code"] == "141029")
    xiangning["agency"] = {"name": "乡宁县卫生健康综合行政执法队（正式）", "provisional": False}
    _write(tmp_path / "regions", "shanxi-official.json", data)
    tree = load_region_tree(tmp_path)
    assert tree.receiving_agency("141029") == ("乡宁县卫生健康综合行政执法队（正式）", "141029")
    assert not tree.agency_is_provisional("141029")
    assert tree.origin("141029") == str(tmp_path / "regions" / "shanxi-official.json")


def test_two_files_for_one_province_in_one_folder_are_refused_naming_both(tmp_path: Path) -> None:
    _write(tmp_path, "a.json", _province())
    _write(tmp_path, "b.json", _province())
    with pytest.raises(RegionDataError, match=r"b\.json: province 610000 is already defined by .*a\.json"):
        read_region_folders([tmp_path])


@pytest.mark.parametrize(
    ("county", "field", "message"),
    [
        ({"code": "620102"}, "province.children.0.children.0.code", "is not a county of 610100"),
        ({"code": "6101O2"}, "province.children.0.children.0.code", "6-digit GB/T 2260"),
        ({"receiving_agency_region": "620100"}, "province.children.0.children.0.receiving_agency_region", "is not the city or province"),
        ({"pilot_level": "county"}, "province.children.0.children.0.pilot_level", "'province' or 'city'"),
        ({"agency": None}, "province.children.0.children.0", "needs its receiving agency"),
        ({"agnecy": {"name": "x"}}, "province.children.0.children.0.agnecy", "Extra inputs are not permitted"),
    ],
)
def test_a_broken_file_names_the_file_and_the_field(tmp_path: Path, county: dict[str, Any], field: str, message: str) -> None:
    path = _write(tmp_path / "regions", "broken.json", _province(**county))
    with pytest.raises(RegionDataError) as error:
        load_region_tree(tmp_path)
    text = str(error.value)
    assert str(path) in text
    assert field in text
    assert message in text


def test_a_city_of_another_province_and_an_unparsable_file_are_both_reported(tmp_path: Path) -> None:
    data = _province()
    data["province"]["children"][0]["code"] = "620100"
    _write(tmp_path, "wrong-city.json", data)
    _write(tmp_path, "not-json.json", "{")
    with pytest.raises(RegionDataError) as error:
        read_region_folders([tmp_path])
    text = str(error.value)
    assert "wrong-city.json" in text and "province.children.0.code: 620100 is not a city of 610000" in text
    assert "not-json.json" in text and "not valid JSON" in text
