"""附件2 self-check checklist (职业卫生管理状况自查表): answers item by item → score out of 100.

An item answered ``"n/a"`` (不适用) is removed from both sides and the score rescaled:
score = earned / applicable × 100, rounded to one decimal half-up (provisional rule).
Pure: the answers and the checklist in, a :class:`ChecklistScore` or the reasons it cannot be scored out
(message codes and parameters, ``shared.i18n``; the field at fault in ``params["field"]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from services.assessment.domain.rules import ChecklistItem, SelfCheckChecklist
from shared.contracts import LostPoints
from shared.contracts.assessment import reason_text
from shared.i18n import Message

NOT_APPLICABLE = "n/a"  # 不适用
Answer = float | Literal["n/a"]
Answers = Mapping[str, Answer]  # item id → points earned, or "n/a"

ONE_DECIMAL = Decimal("0.1")
STATED_SCORE_TOLERANCE = Decimal("0.05")  # a stated score may differ from the computed one by at most this


@dataclass(frozen=True)
class ChecklistScore:
    score: Decimal  # rounded to one decimal, half-up
    exact: Decimal  # before rounding
    earned: Decimal  # points earned on applicable items
    applicable: Decimal  # points of the applicable items (n/a removed)
    lost: list[LostPoints]  # items that earned less than their points, checklist order
    not_applicable: list[ChecklistItem]  # items answered n/a, checklist order
    vetoed: list[ChecklistItem]  # enabled 否决项 that earned less than their points


def points(value: float) -> Decimal:
    """A point value as an exact decimal (2.5 stays 2.5, not 2.4999…)."""
    return Decimal(str(value))


def earned_points(answer: Answer) -> Decimal | None:
    """Points earned as an exact decimal; None for n/a (不适用)."""
    return None if isinstance(answer, str) else points(answer)


def round_half_up(value: Decimal) -> Decimal:
    return value.quantize(ONE_DECIMAL, rounding=ROUND_HALF_UP)


class _Index:
    """One checklist's items in order, by id, with their points as exact decimals: built once per checklist."""

    def __init__(self, checklist: SelfCheckChecklist) -> None:
        self.items = checklist.items()
        self.by_id = {}
        for item in self.items:
            self.by_id.setdefault(item.id, item)  # the first item with an id, as SelfCheckChecklist.item (ids are unique anyway)
        self.points = {item.id: points(item.points) for item in self.items}


_INDEXES: dict[int, tuple[SelfCheckChecklist, _Index]] = {}


def _index(checklist: SelfCheckChecklist) -> _Index:
    held = _INDEXES.get(id(checklist))
    if held is not None and held[0] is checklist:
        return held[1]
    index = _Index(checklist)
    if len(_INDEXES) >= 64:
        _INDEXES.pop(next(iter(_INDEXES)))
    _INDEXES[id(checklist)] = (checklist, index)  # the checklist is held too: its id is not reused while it is here
    return index


def checklist_messages(answers: Answers, checklist: SelfCheckChecklist) -> list[Message]:
    """Every reason the answers cannot be scored, each naming its field (``params["field"]``: self_check.items.<id>)."""
    index = _index(checklist)
    problems = [_answer_problem(item_id, answer, index) for item_id, answer in answers.items()]
    reasons = [problem for problem in problems if problem]
    missing = [item.id for item in index.items if item.id not in answers]
    if missing:
        reasons.append(Message(code="assessment.reject.checklist.not_answered", params={"field": "self_check.items", "items": missing}))
    known = [answer for item_id, answer in answers.items() if item_id in index.by_id]
    if known and all(earned_points(answer) is None for answer in known):
        reasons.append(Message(code="assessment.reject.checklist.all_not_applicable", params={"field": "self_check.items"}))
    return reasons


def checklist_problems(answers: Answers, checklist: SelfCheckChecklist) -> list[str]:
    """:func:`checklist_messages` in words (Chinese), each starting with its field."""
    return [reason_text(message) for message in checklist_messages(answers, checklist)]


def _answer_problem(item_id: str, answer: Answer, index: _Index) -> Message | None:
    field = f"self_check.items.{item_id}"
    item = index.by_id.get(item_id)
    if item is None:
        return Message(code="assessment.reject.checklist.unknown_item", params={"field": field, "item": item_id})
    earned = earned_points(answer)
    if earned is not None and not earned.is_finite():
        return Message(code="assessment.reject.checklist.not_a_number", params={"field": field, "item": item_id, "answer": str(answer)})
    if earned is not None and earned > index.points[item.id]:
        return Message(code="assessment.reject.checklist.over_points", params={
            "field": field, "item": item_id, "earned": float(earned), "points": item.points, "title": item.title})
    return None


def score_checklist(answers: Answers, checklist: SelfCheckChecklist) -> ChecklistScore:
    """Score answers that have no :func:`checklist_problems` (ValueError otherwise)."""
    if problems := checklist_problems(answers, checklist):
        raise ValueError("; ".join(problems))
    return score_checked_checklist(answers, checklist)


@dataclass(frozen=True)
class _Tally:
    """Answered items summed up: what the score of all of them, or of those answered so far, is made of."""

    earned: Decimal
    applicable: Decimal
    lost: list[LostPoints]
    not_applicable: list[ChecklistItem]
    vetoed: list[ChecklistItem]


def _tally(answered: list[tuple[ChecklistItem, Decimal | None]], item_points: Mapping[str, Decimal]) -> _Tally:
    applicable = [(item, got) for item, got in answered if got is not None]
    short = [(item, got) for item, got in applicable if got < item_points[item.id]]
    return _Tally(
        earned=sum((got for _, got in applicable), Decimal(0)),
        applicable=sum((item_points[item.id] for item, _ in applicable), Decimal(0)),
        lost=[LostPoints(item=item.id, title=item.title, earned=float(got), points=item.points) for item, got in short],
        not_applicable=[item for item, got in answered if got is None],
        vetoed=[item for item, _ in short if item.veto],
    )


def score_checked_checklist(answers: Answers, checklist: SelfCheckChecklist) -> ChecklistScore:
    """:func:`score_checklist` for answers the caller has just found free of :func:`checklist_problems`."""
    index = _index(checklist)
    tally = _tally([(item, earned_points(answers[item.id])) for item in index.items], index.points)
    exact = tally.earned / tally.applicable * 100
    return ChecklistScore(
        score=round_half_up(exact),
        exact=exact,
        earned=tally.earned,
        applicable=tally.applicable,
        lost=tally.lost,
        not_applicable=tally.not_applicable,
        vetoed=tally.vetoed,
    )


@dataclass(frozen=True)
class RunningScore:
    """A checklist answered in part (a form being filled in): the score of the items answered so far, scored
    exactly as :func:`score_checked_checklist` scores them all (n/a removed from both sides), and what is left."""

    items: int  # on the checklist
    answered: int
    unanswered: list[str]  # item ids, checklist order
    earned: Decimal
    applicable: Decimal  # points of the answered items that apply (n/a removed)
    score: Decimal | None  # earned / applicable × 100, one decimal half-up; None while no applicable item is answered
    lost: list[LostPoints]
    not_applicable: list[ChecklistItem]
    vetoed: list[ChecklistItem]  # enabled 否决项 answered below their points: the grade will be C whatever the rest


def running_score(answers: Answers, checklist: SelfCheckChecklist) -> RunningScore | list[Message]:
    """The score so far of answers that may leave items unanswered, or every reason the answers given cannot
    be scored (:func:`checklist_messages` without "not answered" and "all n/a": a form in progress has those)."""
    index = _index(checklist)
    problems = [problem for item_id, answer in answers.items() if (problem := _answer_problem(item_id, answer, index))]
    if problems:
        return problems
    answered = [(item, earned_points(answers[item.id])) for item in index.items if item.id in answers]
    tally = _tally(answered, index.points)
    return RunningScore(
        items=len(index.items),
        answered=len(answered),
        unanswered=[item.id for item in index.items if item.id not in answers],
        earned=tally.earned,
        applicable=tally.applicable,
        score=round_half_up(tally.earned / tally.applicable * 100) if tally.applicable else None,
        lost=tally.lost,
        not_applicable=tally.not_applicable,
        vetoed=tally.vetoed,
    )


def stated_score_message(stated: float, computed: Decimal) -> Message | None:
    """A stated self_check.score more than 0.05 away from the computed one is a misstatement."""
    if abs(points(stated) - computed) > STATED_SCORE_TOLERANCE:
        return Message(code="assessment.reject.checklist.stated_score_differs", params={
            "field": "self_check.score", "stated": stated, "computed": f"{computed:f}", "tolerance": f"{STATED_SCORE_TOLERANCE:f}"})
    return None


def stated_score_problem(stated: float, computed: Decimal) -> str | None:
    """:func:`stated_score_message` in words (Chinese), starting with its field."""
    message = stated_score_message(stated, computed)
    return reason_text(message) if message else None
