"""Chinese first (issue 14): the texts of the packaged rule data that reach people are Chinese.

A rule file's ``source``, a table's ``source``, the no-penalty list's ``note`` and ``precondition``, the
shortcoming map's ``note`` and ``recommendation``: decisions' traces, screening recommendations and the
rules endpoints quote them as they stand, in both languages (the traces' English texts keep them as
quotations). They are written as an agency's official table is, in Chinese with the official terms:
暂定 where a value is provisional, 项目自定 for a project choice, 示例 for an illustrative file. Keys,
ids, codes and enums stay as they are (machines read them); an identifier quoted in a text (a JSON key,
a rule key, a path, ``$OHS_RULES_DIR``, ``RULES §6``) is no English sentence.

The assessment's, penalty's, sampling's and notification's packaged files are walked here (the
registry's rule data is its own)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from services.assessment.adapters.rules import load_assessment_rules
from services.assessment.domain.classifier import Classified, classify
from shared import i18n
from shared.contracts import Report
from tests.examples import EXAMPLE_REPORT

REPO = Path(__file__).resolve().parents[3]
PACKAGED = ("services/assessment/rules", "services/penalty/rules", "services/sampling/rules", "services/notification/rules")
FILES = sorted(path for folder in PACKAGED for path in (REPO / folder).rglob("*.json"))

ENGLISH_SENTENCE = re.compile(r"[A-Za-z]{3,}[\s,;:.()'’-]+[A-Za-z]{3,}")  # as tests/unit/assessment/test_chinese_first.py
HAN = re.compile(r"[\u3400-\u9fff]")
IDENTIFIER = re.compile(r"[\w$*<>:/.\-]*[_$<>/.][\w$*<>:/.\-]*")  # a_key, notification.text.<kind>, $OHS_RULES_DIR/penalty/
MACHINE_VALUE = re.compile(r"^[A-Za-z0-9_:.\-]+$")  # a key, an id, a code, an enum: "no_penalty_list", "checklist:4.3", "highest"


def strings(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from strings(item, f"{path}[{index}]")
    elif isinstance(value, str):
        yield path, value


def english_in(text: str) -> list[str]:
    return ENGLISH_SENTENCE.findall(IDENTIFIER.sub(" ", text))


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(REPO)))
def test_every_text_of_a_packaged_rule_file_is_chinese_with_no_english_sentence(path: Path) -> None:
    texts = [(where, text) for where, text in strings(json.loads(path.read_text(encoding="utf-8"))) if not MACHINE_VALUE.match(text)]
    assert texts, "every packaged file has a source at least"
    for where, text in texts:
        assert HAN.search(text) or not re.search(r"[A-Za-z]{3,}", text), (where, text)
        assert english_in(text) == [], (where, text)


def test_the_check_finds_the_english_it_is_there_to_find() -> None:
    assert english_in("附件1: employer grade = highest factor grade (provisional)")[:2] == ["employer grade", "highest factor"]
    assert english_in("在 $OHS_RULES_DIR/penalty/ 中以 \"extends\": \"CN\" 的规则文件（rule_key：checklist:<自查项编号>、test_missing）") == []


@pytest.mark.parametrize("path", FILES, ids=lambda path: str(path.relative_to(REPO)))
def test_a_provisional_files_source_says_so_in_chinese(path: Path) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    if data.get("provisional"):
        assert re.search("暂定|项目自定|示例", data["source"]), data["source"]
    tables = [value for value in data.values() if isinstance(value, dict) and "provisional" in value and "source" in value]
    for table in tables:  # the assessment rule set's tables: 暂定 or 已确认, as their flag says
        assert ("暂定" in table["source"]) == table["provisional"] and ("已确认" in table["source"]) == (not table["provisional"]), table["source"]


def test_the_example_reports_trace_quotes_the_rule_set_in_chinese_without_exception() -> None:
    """test_chinese_first takes the quoted ``source`` out before looking for English: here nothing is taken out."""
    rules = load_assessment_rules().rule_book.for_region("141029", date(2023, 6, 1))
    classified = classify(Report.model_validate(EXAMPLE_REPORT), rules)
    assert isinstance(classified, Classified)
    quoting = [entry for entry in classified.trace if "source" in entry.params]
    assert len(quoting) >= 4  # the rule set, and each provisional table with its source
    for entry in classified.trace:
        assert HAN.search(entry.detail) and english_in(entry.detail) == [], entry.detail
    assert "附件1：用人单位的职业病危害风险等级取各危害因素风险等级中的最高者（暂定）" in "\n".join(e.detail for e in quoting)
    english = "\n".join(entry.text(i18n.EN) for entry in quoting)
    assert "source: 国疾控综监督二函〔2022〕50号（《职业卫生分类监督执法试点工作方案》，2022年方案）附件1–3。" in english  # quoted as it stands
