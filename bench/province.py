"""A seeded synthetic province: employers of 临汾市 (山西省) and their risk-assessment reports (附件4).

Every report is a JSON dict exactly as ``POST /reports`` accepts it (:class:`shared.contracts.Report`):

* counties: the county-level codes of the registry's region tree (``services/registry/regions``),
  weighted by a rough share of employers (the city districts and the coal counties have more);
* industries: a dozen GB/T 4754-2017 classes of the region (coal mining, coking, cement, steel,
  chemicals, welding, furniture, food, clothing …), each with its own size and hazard mix;
* hazard factors from the rule book's catalogue (``services/assessment/rules``), mostly compliant,
  tested within the legal interval (a few missing or expired tests, which grade as 不符合);
* self-check scores spread around 84/100 (a few reports give the item-by-item answers instead);
* credit codes valid under GB 32100 (``shared.identifiers``), unique per employer;
* dates consistent with the day of submission (``as_of``, China's today by default): the assessment
  weeks before, the publicity after it, the submission within the 10 working days after it.

So the categories come out a mix of 甲/乙/丙 (about 37/31/32 %). Employer ``i`` of a seed is always the
same employer (same code, county, industry, hazards), whatever ``count`` or ``start``; categories do
not depend on ``as_of`` (every date moves with it).

``python bench/province.py --check [--count N]`` validates and classifies N reports and prints the mix.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any
from uuid import UUID

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from shared.identifiers import CREDIT_CODE_ALPHABET, credit_code_check_character

REGION_FILE = REPO / "services" / "registry" / "regions" / "shanxi-140000.json"
RULES_FILE = REPO / "services" / "assessment" / "rules" / "national-2022.json"

# rough share of employers per county (default 1): districts and the coal/industrial counties have more
COUNTY_WEIGHTS = {"尧都区": 8, "侯马市": 5, "霍州市": 5, "洪洞县": 5, "襄汾县": 4, "乡宁县": 4, "翼城县": 3, "曲沃县": 3, "蒲县": 2}


@dataclass(frozen=True)
class Industry:
    code: str  # GB/T 4754-2017 class
    word: str  # what its employers are called
    weight: int  # share of the province's employers
    employees: tuple[int, int]  # typical range (log-uniform)
    factors: tuple[tuple[str, float], ...]  # hazard factor, chance an employer of the industry has it
    compliant: float  # chance a factor's exposure is within the limit


INDUSTRIES: tuple[Industry, ...] = (
    Industry("B0610", "煤业", 8, (120, 3000), (("煤尘", 0.95), ("矽尘", 0.5), ("噪声", 0.9), ("手传振动", 0.3), ("一氧化碳", 0.3), ("硫化氢", 0.15), ("高温", 0.2)), 0.9),
    Industry("C2521", "焦化", 4, (150, 1500), (("焦炉逸散物", 0.95), ("煤尘", 0.7), ("一氧化碳", 0.8), ("硫化氢", 0.5), ("苯", 0.5), ("氨", 0.4), ("噪声", 0.9), ("高温", 0.8)), 0.85),
    Industry("C3011", "水泥", 4, (40, 600), (("水泥粉尘", 0.95), ("矽尘", 0.6), ("噪声", 0.95), ("高温", 0.6)), 0.8),
    Industry("C3110", "钢铁", 2, (200, 5000), (("其他粉尘", 0.9), ("一氧化碳", 0.8), ("高温", 0.95), ("噪声", 0.95), ("锰及其化合物", 0.3)), 0.85),
    Industry("C3130", "轧钢", 2, (60, 800), (("噪声", 0.95), ("高温", 0.9), ("其他粉尘", 0.5)), 0.85),
    Industry("C2614", "化工", 3, (30, 500), (("苯", 0.5), ("甲苯", 0.6), ("二甲苯", 0.5), ("甲醛", 0.3), ("氨", 0.4), ("氯气", 0.2), ("噪声", 0.7)), 0.85),
    Industry("C3311", "钢结构", 5, (10, 300), (("电焊烟尘", 0.95), ("锰及其化合物", 0.4), ("噪声", 0.9), ("紫外辐射", 0.7)), 0.8),
    Industry("C1011", "石料", 3, (8, 120), (("矽尘", 0.9), ("噪声", 0.95), ("手传振动", 0.4)), 0.75),
    Industry("C2110", "家具", 4, (8, 200), (("其他粉尘", 0.9), ("甲醛", 0.5), ("甲苯", 0.5), ("二甲苯", 0.5), ("噪声", 0.9)), 0.85),
    Industry("C1310", "面粉", 4, (10, 200), (("其他粉尘", 0.95), ("噪声", 0.9), ("高温", 0.2)), 0.9),
    Industry("C1810", "服饰", 3, (20, 400), (("噪声", 0.9), ("其他粉尘", 0.6)), 0.92),
    Industry("C3670", "汽车配件", 3, (30, 800), (("噪声", 0.95), ("电焊烟尘", 0.6), ("甲苯", 0.3), ("二甲苯", 0.3)), 0.88),
    Industry("C3360", "表面处理", 2, (10, 150), (("镉及其化合物", 0.2), ("铅烟", 0.2), ("苯", 0.2), ("氰化氢", 0.1), ("噪声", 0.6), ("其他粉尘", 0.4)), 0.85),
)

BRANDS = ["晋", "汾", "尧", "华", "鑫", "泰", "恒", "昌", "隆", "盛", "兴", "宏", "金", "利", "达", "源", "丰", "永", "安", "康", "东", "方", "新", "锦", "瑞", "祥", "通", "宇", "亨", "福"]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "郭", "梁", "贾", "孙", "马", "高", "范", "段", "郝", "薛"]
GIVEN = ["建", "国", "军", "伟", "芳", "强", "平", "明", "华", "红", "晓", "志", "海", "丽", "勇", "斌", "涛", "霞", "鹏", "杰"]
ORGANISATIONS = 12  # 职业卫生技术服务机构 working in the province


@lru_cache(maxsize=1)
def counties() -> tuple[tuple[str, str, int], ...]:
    """(code, name, weight) of every county-level division of the registry's region tree."""
    tree = json.loads(REGION_FILE.read_text(encoding="utf-8"))["province"]
    found: list[tuple[str, str, int]] = []

    def walk(node: dict[str, Any]) -> None:
        code = node["code"]
        if code[2:4] != "00" and code[4:] != "00":
            found.append((code, node["name"], COUNTY_WEIGHTS.get(node["name"], 1)))
        for child in node.get("children", []):
            walk(child)

    walk(tree)
    return tuple(found)


@lru_cache(maxsize=1)
def _rules() -> dict[str, Any]:
    return json.loads(RULES_FILE.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _checklist() -> tuple[tuple[str, float], ...]:
    return tuple((item["id"], float(item["points"])) for section in _rules()["self_check_checklist"]["sections"] for item in section["items"])


def _serial_chars(number: int, width: int) -> str:
    chars = []
    for _ in range(width):
        number, digit = divmod(number, len(CREDIT_CODE_ALPHABET))
        chars.append(CREDIT_CODE_ALPHABET[digit])
    return "".join(reversed(chars))


_SPACE = len(CREDIT_CODE_ALPHABET) ** 7


def credit_code(index: int, region: str, seed: int = 1) -> str:
    """A valid 统一社会信用代码 (91 = enterprise registered with 市场监管) for employer ``index`` of ``seed``:
    the 7 serial characters are a bijection of the index, so codes never repeat within a seed."""
    serial = (index * 1_000_003 + seed * 7_919_191) % _SPACE  # 1,000,003 is prime, coprime with 31**7
    body = f"91{region}MA{_serial_chars(serial, 7)}"
    return body + credit_code_check_character(body)


def organisation(n: int) -> tuple[str, str]:
    body = f"91141000MB{_serial_chars(n * 104_729 + 17, 7)}"
    return body + credit_code_check_character(body), f"山西{BRANDS[n % len(BRANDS)]}{BRANDS[(n * 7 + 3) % len(BRANDS)]}职业卫生技术服务有限公司"


def _rng(seed: int, index: int) -> random.Random:
    return random.Random(seed * 0x9E3779B97F4A7C15 + index)


def _county(rng: random.Random) -> tuple[str, str]:
    table = counties()
    code, name, _ = rng.choices(table, weights=[w for _, _, w in table])[0]
    return code, name


def _industry(rng: random.Random) -> Industry:
    return rng.choices(INDUSTRIES, weights=[i.weight for i in INDUSTRIES])[0]


def _log_uniform(rng: random.Random, low: int, high: int) -> int:
    return max(1, round(low * (high / low) ** rng.random()))


def employer_report(index: int, seed: int = 1, as_of: date | None = None) -> dict[str, Any]:
    """Report of employer ``index`` of the province of ``seed``, submitted on ``as_of`` (China's today)."""
    if as_of is None:
        from shared.dates import china_today

        as_of = china_today()
    rng = _rng(seed, index)
    region, county_name = _county(rng)
    industry = _industry(rng)
    employees = _log_uniform(rng, *industry.employees)
    catalogue = _rules()["factor_catalogue"]["factors"]

    factors = [f for f, chance in industry.factors if rng.random() < chance] or [industry.factors[0][0]]
    serious = any(catalogue.get(f) == "严重" for f in factors)
    interval_days = 365 if serious else 3 * 365
    # dates, backwards from the submission: the posting ended ≤ 10 working days ago (a few late), lasted ≥ 5 working days
    ended = as_of - timedelta(days=rng.randint(0, 12) if rng.random() < 0.95 else rng.randint(20, 90))
    started = ended - timedelta(days=rng.randint(7, 12))
    assessed = started - timedelta(days=rng.randint(1, 10))
    tested = assessed - timedelta(days=rng.randint(15, 300))
    report_no = f"JC-{tested.year}-{rng.randint(1, 9999):04d}"
    lapse = rng.random()  # the employer's testing: mostly valid, some never tested, some expired
    hazards = []
    for factor in factors:
        exposed = max(1, min(employees, round(employees * rng.uniform(0.05, 0.7))))
        hazard: dict[str, Any] = {"factor": factor, "exposed": exposed, "compliant": rng.random() < industry.compliant}
        if lapse < 0.04:
            pass  # no test result: grades as 不符合
        elif lapse < 0.07:
            old = assessed - timedelta(days=interval_days + rng.randint(30, 300))
            hazard |= {"tested_on": old.isoformat(), "test_report_no": f"JC-{old.year}-{rng.randint(1, 9999):04d}"}
        else:
            hazard |= {"tested_on": tested.isoformat(), "test_report_no": report_no}
        hazards.append(hazard)

    # self-check: the management of larger employers tends to be better
    mean = 80 + min(8.0, 2.0 * (len(str(employees)) - 1))
    score = min(100.0, max(35.0, rng.gauss(mean, 9)))
    if rng.random() < 0.1:  # item-by-item answers, the service computes the score
        ratio = score / 100
        items: dict[str, float | str] = {}
        for item, points in _checklist():
            if rng.random() < 0.05:
                items[item] = "n/a"
            else:
                items[item] = float(points) if rng.random() < ratio else round(points * rng.uniform(0, 0.8) * 2) / 2
        self_check: dict[str, Any] = {"items": items}
    else:
        self_check = {"score": round(score * 2) / 2}

    if rng.random() < 0.7:
        assessor: dict[str, Any] = {"type": "self"}
    else:
        org_id, org_name = organisation(rng.randrange(ORGANISATIONS))
        assessor = {"type": "organisation", "org_id": org_id, "org_name": org_name}

    brand = rng.choice(BRANDS) + rng.choice(BRANDS)
    short = county_name[:-1] if len(county_name) > 2 else county_name
    enterprise: dict[str, Any] = {
        "credit_code": credit_code(index, region, seed),
        "name": f"{short}{brand}{industry.word}有限公司",
        "region_code": region,
        "industry_codes": [industry.code],
        "employees": employees,
        "production_started_on": (assessed - timedelta(days=rng.randint(400, 9000))).isoformat(),
    }
    return {
        "submission_id": str(UUID(int=rng.getrandbits(128), version=4)),
        "enterprise": enterprise,
        "assessor": assessor,
        "assessed_on": assessed.isoformat(),
        "hazards": hazards,
        "self_check": self_check,
        "publicity": {"start": started.isoformat(), "end": ended.isoformat()},
        "signed_by": rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.6 else ""),
        "sealed": True,
    }


def synthetic_reports(count: int, seed: int = 1, *, start: int = 0, as_of: date | None = None) -> Iterator[dict[str, Any]]:
    """``count`` reports of distinct employers ``start`` … ``start + count - 1`` of the province ``seed``:
    JSON dicts as ``POST /reports`` accepts them (fresh dicts, the caller may change them)."""
    if as_of is None:
        from shared.dates import china_today

        as_of = china_today()
    for index in range(start, start + count):
        yield employer_report(index, seed, as_of)


# --------------------------------------------------------------------------- the category without the service

_GRADE = {"Ⅰ": 1, "Ⅱ": 2, "Ⅲ": 3}


def expected_category(report: dict[str, Any]) -> str:
    """The category the classifier gives ``report`` (附件1–3, national rule set), computed directly from the
    dict: fast enough for pools of 10⁶ (``--check`` verifies it agrees with the classifier)."""
    rules = _rules()
    catalogue = rules["factor_catalogue"]["factors"]
    bands = rules["hazard_grading"]["headcount_bands"]
    table = {(row["nature"], row["exposure"]): row["grades"] for row in rules["hazard_grading"]["table"]}
    assessed = date.fromisoformat(report["assessed_on"])
    natures = [catalogue[h["factor"]] for h in report["hazards"]]
    months = 12 if "严重" in natures else 36
    from shared.dates import add_months

    earliest = add_months(assessed, -months)
    grade = 0
    for hazard, nature in zip(report["hazards"], natures):
        tested = hazard.get("tested_on")
        valid = tested is not None and date.fromisoformat(tested) >= earliest
        exposure = "符合" if hazard["compliant"] and valid else "不符合"
        band = next(b["label"] for b in bands if hazard["exposed"] >= b["min"] and (b["max"] is None or hazard["exposed"] <= b["max"]))
        grade = max(grade, _GRADE[table[(nature, exposure)][band]])
    check = report["self_check"]
    if check.get("score") is not None:
        score = check["score"]
    else:
        from decimal import ROUND_HALF_UP, Decimal

        points = dict(_checklist())
        applicable = [(Decimal(str(v)), Decimal(str(points[k]))) for k, v in check["items"].items() if v != "n/a"]
        exact = sum(v for v, _ in applicable) / sum(p for _, p in applicable) * 100
        score = float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    management = next(b["grade"] for b in rules["management_bands"]["bands"] if score >= b["min"])
    return rules["category_matrix"]["cells"][{1: "Ⅰ", 2: "Ⅱ", 3: "Ⅲ"}[grade]][management]


def synthetic_pool(count: int, seed: int = 1, full_coverage: float = 0.02) -> list[Any]:
    """The sampling pool of the province's first ``count`` employers (``services.sampling.domain.draw.PoolEntry``),
    each with the category its report classifies to; ``full_coverage`` of them are 全覆盖 (always inspected)."""
    from services.sampling.domain.draw import PoolEntry
    from shared.dates import china_today

    as_of = china_today()
    pool = []
    for index, report in enumerate(synthetic_reports(count, seed, as_of=as_of)):
        flag = random.Random(seed * 31 + index).random() < full_coverage
        pool.append(PoolEntry(report["enterprise"]["credit_code"], expected_category(report), flag))
    return pool


# --------------------------------------------------------------------------- self-test


def check(count: int, seed: int) -> int:
    """Validate, check the business rules of, and classify ``count`` reports; print the mix. 0 when all pass."""
    import time

    from services.assessment.adapters.rules import load_rule_book
    from services.assessment.domain.classifier import Classified, classify
    from services.assessment.domain.report_rules import report_problems
    from shared.contracts import Report
    from shared.dates import china_today
    from shared.identifiers import county_region_problem, credit_code_problem

    today = china_today()
    known = {code for code, _, _ in counties()}
    book = load_rule_book()
    categories: Counter[str] = Counter()
    regions: Counter[str] = Counter()
    industries: Counter[str] = Counter()
    codes: set[str] = set()
    failures = 0
    started = time.perf_counter()
    reports = list(synthetic_reports(count, seed, as_of=today))
    generated = time.perf_counter() - started
    assert reports == list(synthetic_reports(count, seed, as_of=today)), "not deterministic"
    for data in reports:
        report = Report.model_validate(data)
        code = report.enterprise.credit_code
        problems = [p for p in (credit_code_problem(code), county_region_problem(report.enterprise.region_code)) if p]
        if report.enterprise.region_code not in known:
            problems.append(f"region {report.enterprise.region_code} not in the registry's tree")
        if code in codes:
            problems.append(f"credit code {code} repeated")
        codes.add(code)
        problems += [str(p) for p in report_problems(report, today)]
        outcome = classify(report, book.for_region(report.enterprise.region_code, report.assessed_on))
        if not isinstance(outcome, Classified):
            problems += outcome.reasons
        elif outcome.category != expected_category(data):
            problems.append(f"expected_category {expected_category(data)} but the classifier gives {outcome.category}")
        else:
            categories[outcome.category] += 1
        if problems:
            failures += 1
            if failures <= 5:
                print(f"FAIL {code}: {problems}", file=sys.stderr)
        regions[report.enterprise.region_code] += 1
        industries[report.enterprise.industry_codes[0]] += 1
    sizes = sorted(len(json.dumps(r, ensure_ascii=False).encode()) for r in reports)
    print(f"{count} reports (seed {seed}) generated in {generated:.2f} s ({count / generated:,.0f}/s), {failures} failing")
    print("categories: " + ", ".join(f"{c} {categories[c]} ({categories[c] / count:.0%})" for c in "甲乙丙"))
    print(f"counties: {len(regions)}; industries: {len(industries)}; JSON size median {sizes[len(sizes) // 2]} B, max {sizes[-1]} B")
    if len(set(categories)) < 3:
        print("FAIL: the categories are not a mix of 甲/乙/丙", file=sys.stderr)
        failures += 1
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="validate and classify the reports, print the mix")
    parser.add_argument("--count", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.check:
        sys.exit(check(args.count, args.seed))
    for report in synthetic_reports(args.count, args.seed):
        print(json.dumps(report, ensure_ascii=False))


if __name__ == "__main__":
    main()
