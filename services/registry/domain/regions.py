"""Regions as data: province → city → county (GB/T 2260), each county's receiving agency (受理机构).
Pure rules on parsed data; the files are read by ``services.registry.adapters.rules``.

One JSON file per province (``services/registry/regions/*.json``, plus ``<OHS_RULES_DIR>/regions/*.json``
so an agency can add a province, or replace a packaged one, without a release)::

    {"standard": "GB/T 2260", "source": "…",
     "province": {"code": "140000", "name": "山西省", "children": [
       {"code": "141000", "name": "临汾市", "agency": {"name": "临汾市卫生健康综合行政执法队", "provisional": true},
        "children": [
          {"code": "141029", "name": "乡宁县", "pilot_level": "province",
           "agency": {"name": "乡宁县卫生健康综合行政执法队", "provisional": true}},
          {"code": "141002", "name": "尧都区", "pilot_level": "city", "receiving_agency_region": "141000"}]}]}}

* Codes are checked with :mod:`shared.identifiers`; a city's code must start with its province's
  two digits and end in ``00``, a county's must start with its city's four digits.
* Every county has a receiving agency: its own ``agency``, or ``receiving_agency_region`` naming
  the city or province whose agency receives its reports (临汾: 尧都区 → the city team, RULES.md §1).
* ``pilot_level`` (counties only): ``province`` or ``city`` pilot of the 2022 scheme, or absent.
* A file in the agency folder for a province already loaded from the packaged folder replaces it
  (that is how official agency names replace the provisional ones); two files for the same
  province in one folder are refused, naming both.

Every problem is a :class:`RegionDataError` naming the file and the field
(``province.children.0.children.3.code``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator

from shared.identifiers import county_region_problem, region_problem
from shared.jurisdiction import jurisdiction_level
from shared.rules_in_force import FromRuleFile, RuleDataError

WHAT = "region file"

Level = Literal["province", "city", "county"]
PilotLevel = Literal["province", "city"]
LEVELS: dict[int, Level] = {1: "province", 2: "city", 3: "county"}


class RegionDataError(RuleDataError):
    """A region file is unusable; the message names the file and the field."""


class UnknownRegion(KeyError):
    """The code is not in any loaded region file."""

    def __str__(self) -> str:
        return f"region {self.args[0]} is not in the loaded region files"


class Agency(BaseModel):
    """A supervision agency that receives reports (受理机构)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    provisional: bool = False  # a generic name awaiting the official one


class RegionNode(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str
    name: str = Field(min_length=1)
    agency: Agency | None = None
    pilot_level: PilotLevel | None = None  # counties: pilot of the 2022 scheme at province or city level
    receiving_agency_region: str | None = None  # counties: another region's agency receives the reports
    note: str | None = None
    children: tuple[RegionNode, ...] = ()

    @field_validator("code", "receiving_agency_region")
    @classmethod
    def _gb_t_2260(cls, value: str | None) -> str | None:
        if value is not None and (problem := region_problem(value)):
            raise ValueError(f"{value!r} {problem}")
        return value

    @property
    def level(self) -> Level:
        return LEVELS[jurisdiction_level(self.code)]


class RegionFile(FromRuleFile):
    model_config = ConfigDict(extra="forbid", frozen=True)

    standard: str = "GB/T 2260"
    source: str | None = None
    province: RegionNode


class ReceivingAgency(NamedTuple):
    name: str
    region_code: str  # the region whose agency it is (141000 for 尧都区)


# --------------------------------------------------------------------------- structure


def _walk(node: RegionNode, field: str, ancestors: tuple[RegionNode, ...] = ()) -> Iterator[tuple[RegionNode, str, tuple[RegionNode, ...]]]:
    yield node, field, ancestors
    for i, child in enumerate(node.children):
        yield from _walk(child, f"{field}.children.{i}", (*ancestors, node))


def structure_problems(file: RegionFile) -> list[str]:
    """Parent/child consistency of one province file: ``field: message`` lines."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    for node, field, ancestors in _walk(file.province, "province"):
        label = f"{field} ({node.code} {node.name})"
        if node.code in seen:
            problems.append(f"{field}.code: {node.code} is already used by {seen[node.code]}")
        seen.setdefault(node.code, field)
        depth = len(ancestors) + 1  # 1 province, 2 city, 3 county
        if depth > 3:
            problems.append(f"{label}: a county cannot have children (province → city → county)")
            continue
        expected = LEVELS[depth]
        parent = ancestors[-1] if ancestors else None
        if depth == 1 and jurisdiction_level(node.code) != 1:
            problems.append(f"{field}.code: {node.code} is not a province code (it must end in 0000)")
        elif depth == 2 and (jurisdiction_level(node.code) != 2 or node.code[:2] != parent.code[:2]):  # type: ignore[union-attr]
            problems.append(f"{field}.code: {node.code} is not a city of {parent.code} {parent.name} (it must start with {parent.code[:2]} and end in 00)")  # type: ignore[union-attr]
        elif depth == 3:
            if problem := county_region_problem(node.code):
                problems.append(f"{field}.code: {node.code} {problem}")
            elif node.code[:4] != parent.code[:4]:  # type: ignore[union-attr]
                problems.append(f"{field}.code: {node.code} is not a county of {parent.code} {parent.name} (it must start with {parent.code[:4]})")  # type: ignore[union-attr]
        if expected != "county":
            for attribute in ("pilot_level", "receiving_agency_region"):
                if getattr(node, attribute) is not None:
                    problems.append(f"{field}.{attribute}: only a county has a {attribute} ({node.code} {node.name} is a {expected})")
            continue
        if node.receiving_agency_region is not None:
            target = next((a for a in ancestors if a.code == node.receiving_agency_region), None)
            if target is None:
                problems.append(
                    f"{field}.receiving_agency_region: {node.receiving_agency_region} is not the city or province of "
                    f"{node.code} {node.name} ({', '.join(a.code for a in ancestors)})"
                )
            elif target.agency is None:
                problems.append(f"{field}.receiving_agency_region: {target.code} {target.name} has no agency to receive the reports")
        elif node.agency is None:
            problems.append(f"{label}: a county needs its receiving agency: an agency, or receiving_agency_region naming its city")
    return problems


# --------------------------------------------------------------------------- the tree


class RegionTree:
    """Every loaded province, indexed by code."""

    def __init__(self, files: Iterable[RegionFile]) -> None:
        self._files: dict[str, RegionFile] = {f.province.code: f for f in files}
        self._nodes: dict[str, RegionNode] = {}
        self._parent: dict[str, str | None] = {}
        for file in self._files.values():
            for node, _, ancestors in _walk(file.province, "province"):
                self._nodes[node.code] = node
                self._parent[node.code] = ancestors[-1].code if ancestors else None

    @classmethod
    def from_files(cls, folders: Iterable[Iterable[RegionFile]]) -> RegionTree:
        """The province files of each folder, in order: a later folder replaces an earlier one's
        province; one folder may not define a province twice (:class:`RegionDataError` naming both)."""
        by_province: dict[str, RegionFile] = {}
        for loaded in folders:
            in_folder: dict[str, RegionFile] = {}
            for file in loaded:
                code = file.province.code
                if code in in_folder:
                    raise RegionDataError(f"{WHAT} {file.origin}: province {code} is already defined by {in_folder[code].origin}")
                in_folder[code] = file
            by_province.update(in_folder)
        return cls(by_province[code] for code in sorted(by_province))

    # ---- look-ups

    def __contains__(self, code: object) -> bool:
        return code in self._nodes

    @property
    def provinces(self) -> tuple[RegionNode, ...]:
        return tuple(f.province for f in self._files.values())

    def origin(self, code: str) -> str | None:
        """The file the region's province was loaded from."""
        province = self.path_codes(code)[0]
        return self._files[province].origin

    def get(self, code: str) -> RegionNode | None:
        return self._nodes.get(code)

    def _node(self, code: str) -> RegionNode:
        try:
            return self._nodes[code]
        except KeyError:
            raise UnknownRegion(code) from None

    def name(self, code: str) -> str:
        return self._node(code).name

    def level(self, code: str) -> Level:
        self._node(code)
        return LEVELS[len(self.path_codes(code))]

    def parent(self, code: str) -> RegionNode | None:
        self._node(code)
        parent = self._parent[code]
        return self._nodes[parent] if parent else None

    def children(self, code: str) -> tuple[RegionNode, ...]:
        return self._node(code).children

    def counties_under(self, code: str) -> tuple[RegionNode, ...]:
        """Every county of the region, by code (a county: itself)."""
        node = self._node(code)
        if self.level(code) == "county":
            return (node,)
        found = [n for n, _, ancestors in _walk(node, "") if len(ancestors) + len(self.path_codes(code)) == 3]
        return tuple(sorted(found, key=lambda n: n.code))

    def path_codes(self, code: str) -> tuple[str, ...]:
        self._node(code)
        codes: list[str] = []
        current: str | None = code
        while current is not None:
            codes.append(current)
            current = self._parent[current]
        return tuple(reversed(codes))

    def path(self, code: str) -> tuple[str, ...]:
        """Names from the province down: ('山西省', '临汾市', '乡宁县')."""
        return tuple(self._nodes[c].name for c in self.path_codes(code))

    def receiving_agency(self, county_code: str) -> ReceivingAgency:
        """(agency name, agency region code) that receives the county's reports: 141002 → the 临汾 city team, 141000."""
        node = self._node(county_code)
        if self.level(county_code) != "county":
            raise ValueError(f"{county_code} {node.name} is a {self.level(county_code)}: reports are received per county")
        region = node.receiving_agency_region or node.code
        agency = self._nodes[region].agency
        assert agency is not None  # checked when loaded
        return ReceivingAgency(agency.name, region)

    def agency_is_provisional(self, county_code: str) -> bool:
        agency = self._nodes[self.receiving_agency(county_code).region_code].agency
        return bool(agency and agency.provisional)
