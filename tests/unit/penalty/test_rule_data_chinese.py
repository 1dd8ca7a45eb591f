"""Chinese first (issue 14): what the penalty rule data says to people is Chinese.

The shortcoming map's recommendations and notes, the no-penalty lists' items and preconditions are quoted
into screenings' and judgements' traces as they stand: every line a supervisor reads, for every entry of the
packaged national map and of 浙江's (illustrative) extension, is Chinese with no English sentence; the
English trace quotes the same words (the rule data is the agency's table, in its language)."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest

from services.penalty.adapters.rules import Rulebook
from services.penalty.domain.no_penalty import Violation, judge
from services.penalty.domain.screening import screen
from shared import i18n
from shared.contracts import Shortcoming

RULES = Rulebook.load()
ON = date(2024, 6, 3)
ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{3,}[\s,;:.()'’-]+[A-Za-z]{3,}")
IDENTIFIER = re.compile(r"[\w$*<>:/.\-]*[_$<>/.][\w$*<>:/.\-]*")  # rule keys, codes: checklist:4.3, publicity_short
HAN = re.compile(r"[\u3400-\u9fff]")
SUBMISSION = uuid.UUID("20240603-0000-4000-8000-000000000001")  # digits only: a random id may spell two English words
COUNTIES = {"141029": "CN", "330106": "330000"}  # 乡宁县 (the national data), 杭州市西湖区 (浙江's extension)


def english_in(text: str) -> list[str]:
    return ENGLISH_SENTENCE.findall(IDENTIFIER.sub(" ", text))


def shortcoming(rule_key: str) -> Shortcoming:
    kind, _, item = rule_key.partition(":")
    subject = item or ("矽尘" if kind.startswith(("test_", "exposure")) else None)
    return Shortcoming(code=f"{rule_key}:{subject}" if subject and not item else rule_key, kind=kind, subject=subject,  # type: ignore[arg-type]
                       text="报告披露的问题")


@pytest.mark.parametrize("region", sorted(COUNTIES))
def test_every_entry_of_the_map_screens_to_a_chinese_trace_quoting_the_rule_data(region: str) -> None:
    duties, listing = RULES.shortcomings.in_force(region, ON), RULES.no_penalty.in_force(region, ON)
    assert (duties.jurisdiction, listing.jurisdiction) == ("CN", COUNTIES[region])  # no province maps its own shortcomings yet
    quoted = 0
    for entry in duties.entries:
        [result] = screen(SUBMISSION, [shortcoming(entry.rule_key)], duties, listing, {}, {}, ON, date(2024, 6, 17))
        for line in result.trace:
            assert HAN.search(line.detail) and english_in(line.detail) == [], (entry.rule_key, line.detail)
        for key in ("advice", "note", "precondition"):
            for line in result.trace:
                if isinstance(line.params.get(key), str) and line.params[key]:
                    quoted += 1
                    assert line.params[key] in line.text(i18n.EN), "the English trace quotes the rule data as it stands"
    assert quoted >= 14  # the map's 5 recommendations and 8 notes, the 71-5 precondition (and 浙江's 71-4 one)


@pytest.mark.parametrize("region", sorted(COUNTIES))
def test_every_listed_items_judgement_is_chinese_its_precondition_included(region: str) -> None:
    listing = RULES.no_penalty.in_force(region, ON)
    for item in listing.items:
        judgement = judge(Violation(case_id="case-now", credit_code="91141029MA0GRT8U3L", item_code=item.code, found_on=ON, harm="none",
                                    corrected_on=ON, rectification_deadline=date(2024, 6, 17)), [], listing)
        for line in judgement.trace:
            assert HAN.search(line.detail) and english_in(line.detail) == [], (item.code, line.detail)
    if region == "330106":
        [illustrative] = [item for item in listing.items if item.code == "71-4"]
        assert illustrative.violation.endswith("（示例）") and illustrative.precondition == "已将检查结果告知每一名相关劳动者（示例）"
        assert listing.rules_procedure.note == "示例：轻微违法行为适用告知承诺，作出承诺后15个工作日内改正"


def test_the_rule_data_the_staff_read_beside_a_decision_is_chinese() -> None:
    listing, baseline = RULES.no_penalty.in_force("141029", ON), RULES.baselines.in_force("141029", ON)
    assert listing.source.startswith("附件5 初次轻微违法行为不予处罚清单（行政处罚法（2021年修订）第三十三条）。暂定：")
    assert listing.rules_procedure.note.startswith("暂定：责令限期改正的默认期限为10个工作日（执法人员可另行确定）；全国未启用告知承诺")
    assert baseline is not None and baseline.source.startswith("裁量基准（RULES §8）。法定处罚幅度为职业病防治法第七十条至第七十二条所定")
    for text in (listing.source, listing.rules_procedure.note, baseline.source, RULES.shortcomings.in_force("141029", ON).source):
        assert HAN.search(text) and english_in(text) == [], text
