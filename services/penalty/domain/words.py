"""The words of the penalty service's decisions: the rules a trace line cites, the names of statuses, steps,
harms and circumstances (domain terms: ``shared/i18n/locales/*/LC_MESSAGES/terms.po`` has each one with its
English translation, ``{name:term}`` in a text), and a coded problem. Pure, no I/O.

A decision says itself as message codes and parameters (``shared.i18n``): the Chinese text is what is stored
and what a supervisor reads; the English text is rendered on request from the same code."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shared import i18n
from shared.problems import InputProblem
from shared.i18n import Message

# --------------------------------------------------------------------------- the rules a trace line cites (TraceEntry.rule)

RULE_DATA = "规则数据"
RULE_LIST = "附件5 首次轻微违法行为不予处罚清单"
RULE_PRECONDITION = "事项前提条件"
RULE_FIRST_TIME = "初次违法"
RULE_HARM = "危害后果"
RULE_MAJOR = "重大违法"
RULE_CORRECTION = "按期改正"
RULE_DECISION = "处理结论"
RULE_ELIGIBILITY = "可否不予处罚"
RULE_DISCRETION = "裁量基准"
RULE_ESCALATION = "逾期处罚"
RULE_SHORTCOMING = "自报问题"
RULE_MAP = "违法行为对照表"
RULE_MAP_NOTE = "对照表说明"
RULE_RECOMMENDATION = "整改建议"
RULE_DEADLINE = "责令限期改正"
RULE_OUTCOME = "筛查结论"
RULE_CONTINUES = "延续"
RULE_RECTIFICATION = "整改"

# --------------------------------------------------------------------------- why no penalty does not apply (each a term)

FAIL_LIST = "未列入附件5清单"
FAIL_REPEAT = "非初次违法"
FAIL_HARM = "危害后果不属轻微"
FAIL_MAJOR = "重大违法"
FAIL_CORRECTION = "未按期改正"
FAIL_OVERDUE = "逾期未改正"

# --------------------------------------------------------------------------- values named in Chinese (each a term)

HARM = {"none": "无", "minor": "轻微", "serious": "严重"}
CIRCUMSTANCE = {"first_overdue": "首次逾期未改正", "repeated": "再次违法", "harm_caused": "造成危害后果"}
STATUS = {"open": "已立案", "educated": "已教育引导", "rectifying": "限期改正中", "committed": "承诺改正中",
          "penalty_pending": "待处罚", "closed": "已结案", "recorded": "已立案"}
ACTION = {"education": "教育引导", "commitment": "告知承诺", "rectification-order": "责令限期改正", "verification": "复查",
          "fine": "罚款", "escalation": "逾期处理"}
RECTIFICATION_STATUS = {"open": "待整改", "submitted": "已提交", "returned": "已退回", "cleared": "已解除", "overdue": "已逾期",
                        None: "尚未下达"}


def named(names: dict[Any, str], value: Any) -> str:
    """The Chinese name of a value (the value itself when it has none)."""
    return names.get(value, str(value) if value is not None else "—")


def harm(value: str) -> str:
    return named(HARM, value)


def versions(composed_of: Sequence[str], jurisdiction: str, version: str) -> str:
    """A rule file's jurisdiction and version, the same in every language: ``CN v2021.1``, or for an extension
    merged onto its base ``CN v2021.1 + 330000 v2022.1`` (the labels' parts before their parentheses)."""
    if composed_of:
        return " + ".join(label.split(" (")[0] for label in composed_of)
    return f"{jurisdiction} v{version}"


def messages_text(messages: Sequence[Message], locale: str = i18n.DEFAULT_LOCALE) -> list[str]:
    return [m.text(locale) for m in messages]


def said_by(problem: Any, fallback: str, **params: Any) -> tuple[str, dict[str, Any]]:
    """What a checker's problem says, as a message code: its own (``shared.problems.Problem``: ``code``, ``params``)
    when it has one, else ``fallback`` with ``params`` and the problem's text as ``problem``."""
    code = getattr(problem, "code", None)
    if isinstance(code, str) and i18n.has(code):
        return code, dict(getattr(problem, "params", None) or {})
    return fallback, {**params, "problem": str(problem)}


# --------------------------------------------------------------------------- a problem with one input


Problem = InputProblem  # what is wrong with one input (shared.problems)


class Coded(Exception):
    """An exception a person reads: its ``code`` and ``params`` (``shared.i18n``); ``str()`` is the Chinese text."""

    def __init__(self, code: str, params: dict[str, Any] | None = None) -> None:
        self.code = code
        self.params = dict(params or {})
        super().__init__(i18n.text(code, self.params))

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        return i18n.text(self.code, self.params, locale)
