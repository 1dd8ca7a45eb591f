"""The rectification loop (整改 → 审核 → 解除, RULES §7 and §10): pure rules, no I/O.

Every shortcoming a classified report discloses, once penalty has screened it, becomes a
**rectification item** (整改事项) for the employer, with a deadline in working days. The employer
submits its correction (text and attachments), supervision staff review it: accept → **cleared
(解除)**, or return with a reason → the employer submits again. The daily sweep reminds of a
deadline that is near and lists an item whose deadline passed uncorrected for enforcement.

=========  ======================================  ==============================================
status     means                                    next
=========  ======================================  ==============================================
open       raised, nothing submitted yet            submitted (employer), overdue (sweep)
submitted  a correction awaits review               cleared / returned (staff); never overdue
returned   staff returned the correction            submitted (employer), overdue (sweep)
overdue    the deadline passed uncorrected: listed  submitted (employer: a late correction)
cleared    解除: staff accepted a correction          (final; a later report raises a new item)
=========  ======================================  ==============================================

An item is identified by ``uuid5(credit code, shortcoming code, origin submission)``: a replay of
the screenings into an empty registry raises the same ids. A later report disclosing a
shortcoming the employer has not yet cleared continues the item (deadline unchanged); once it is
cleared, the same shortcoming in a later report is a new item.

The values an agency may change (the default deadline, the reminder horizon, the attachment types)
are versioned rule data (``services/registry/rules/rectification-*.json``, marked provisional);
the file formats the registry can recognise by their content are facts of the formats, here.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import ConfigDict, Field, field_validator

from services.registry.domain.words import Said, days as in_days, say, working_days
from shared import i18n
from shared.problems import Problem
from shared.rules_in_force import FromRuleFile, in_force

WHAT = "rectification rule file"

# --------------------------------------------------------------------------- statuses and steps

OPEN, SUBMITTED, RETURNED, CLEARED, OVERDUE = "open", "submitted", "returned", "cleared", "overdue"
STATUSES = (OPEN, SUBMITTED, RETURNED, CLEARED, OVERDUE)
SUBMITTABLE = (OPEN, RETURNED, OVERDUE)  # the employer may (re)submit from these
NOT_CLEARED = (OPEN, SUBMITTED, RETURNED, OVERDUE)
SYSTEM = "system"  # the actor of the daily sweep and of steps raised from events

Decision = Literal["accept", "return"]

ITEM_NAMESPACE = uuid.UUID("0c6e1f3a-7d2b-5a4e-9f81-3b5d2c7e4a10")  # fixed: item ids must not change between releases


def item_id(credit_code: str, shortcoming_code: str, submission_id: str) -> str:
    """The item raised for ``shortcoming_code`` by the report ``submission_id``: the same in every replay."""
    return str(uuid.uuid5(ITEM_NAMESPACE, f"{credit_code}|{shortcoming_code}|{submission_id}"))


def step_event_id(item: str, identity: str) -> str:
    """The event id of an item's step, from what the step is rather than where it falls in the history
    (``raised``, ``continued:<report>``, ``submitted:<n>``, ``review:<n>``, ``reminded:<deadline>``,
    ``overdue:<deadline>``): a replay announces the same step with the same id, and a registry rebuilt
    from the topics recognises a step whichever of its consumers restores it first."""
    return str(uuid.uuid5(uuid.UUID(item), f"step:{identity}"))


# each status as a domain term (docs/glossary.md): 待整改 open, 已提交 submitted, 已退回 returned, 已解除 cleared, 已逾期 overdue
STATUS_TERMS = {OPEN: "待整改", SUBMITTED: "已提交", RETURNED: "已退回", CLEARED: "已解除", OVERDUE: "已逾期"}
# each screening outcome as a domain term
OUTCOME_TERMS = {"eligible_if_corrected": "改正后可不予处罚", "not_eligible": "不适用首违不罚", "no_violation": "不构成违法"}
CLEARED_TERM = "解除"


def status_term(status: str) -> str:
    return STATUS_TERMS.get(status, status)


class StepRefused(Exception):
    """The step does not fit the item's status (409). Said with a message code (``code``, ``params``;
    ``text(locale)``: Chinese by default); ``str()`` is the English text (logs). A plain text is kept as it is."""

    def __init__(self, problem: Problem | str) -> None:
        super().__init__(str(problem))
        self.code: str | None = getattr(problem, "code", None)
        self.params: dict[str, object] = dict(getattr(problem, "params", None) or {})

    def text(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        return i18n.text_or(self.code, self.params, str(self), locale)


def after_submission(status: str) -> str:
    """The status once the employer submits a correction; :class:`StepRefused` when it may not."""
    if status not in SUBMITTABLE:
        if status == SUBMITTED:
            raise StepRefused(Problem("registry.rectification.refused.awaits_review"))
        if status == CLEARED:
            raise StepRefused(Problem("registry.rectification.refused.cleared", cleared=CLEARED_TERM))
        raise StepRefused(Problem("registry.rectification.refused.status", status=status_term(status)))
    return SUBMITTED


def after_review(status: str, decision: Decision) -> str:
    """The status once staff review the pending correction; only a submitted item can be reviewed."""
    if status != SUBMITTED:
        raise StepRefused(Problem("registry.rectification.refused.not_submitted", status=status_term(status)))
    return CLEARED if decision == "accept" else RETURNED


def corrected_in_time(corrected_on: date, deadline: date) -> bool:
    """A correction submitted by the deadline (included) counts as promptly corrected (行政处罚法 §33)."""
    return corrected_on <= deadline


# --------------------------------------------------------------------------- rule data


AttachmentType = Literal["application/pdf", "image/png", "image/jpeg"]  # the types whose content the registry can check


class RectificationRules(FromRuleFile):
    """One version of the rectification rules for a jurisdiction (``rules/rectification-*.json``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["rectification"]
    jurisdiction: str = Field(min_length=1)
    version: str = Field(min_length=1)
    effective_from: date
    provisional: bool
    source: str = Field(min_length=1)
    note: str | None = None
    default_working_days: int = Field(ge=1, le=250, description="deadline when the screening sets none, in working days from the screening day")
    remind_working_days: int = Field(ge=0, le=60, description="remind once when the deadline is this many working days away or fewer")
    attachment_types: tuple[AttachmentType, ...] = Field(min_length=1)

    @field_validator("attachment_types")
    @classmethod
    def _once_each(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        doubled = sorted({t for t in value if value.count(t) > 1})
        if doubled:
            raise ValueError(f"listed more than once: {', '.join(doubled)}")
        return value

    def label_said(self) -> Said:
        code = "registry.rectification.rules.label_provisional" if self.provisional else "registry.rectification.rules.label"
        return say(code, jurisdiction=self.jurisdiction, version=self.version)

    def label(self) -> str:
        """``整改规则 140000 2025.1（暂定）``."""
        return self.label_said().text()

    @property
    def ref(self) -> dict[str, object]:
        return {"jurisdiction": self.jurisdiction, "version": self.version, "effective_from": self.effective_from.isoformat(),
                "provisional": self.provisional}


class RectificationRuleSets:
    """Every loaded version; the one in force for a region on a day (the most specific jurisdiction)."""

    def __init__(self, rules: Iterable[RectificationRules]) -> None:
        self._rules = tuple(rules)

    def in_force(self, region_code: str, on: date) -> RectificationRules:
        return in_force(self._rules, region_code, on, "rectification rules for", "rule files")

    @property
    def all(self) -> tuple[RectificationRules, ...]:
        return self._rules


# --------------------------------------------------------------------------- deadlines


ORDER_TERM = "责令限期改正"


def deadline_for(screening_deadline: date | None, screened_on: date, rules: RectificationRules,
                 add_working_days: Callable[[date, int], date]) -> tuple[date, Said]:
    """The item's deadline and, in words for the trace, how it was set: the screening's (责令限期改正)
    when it gives one, else ``default_working_days`` working days from the screening day. The item keeps
    ``.text()`` (Chinese); a step's detail names it."""
    if screening_deadline is not None:
        return screening_deadline, say("registry.rectification.deadline.screening", order=ORDER_TERM, deadline=screening_deadline.isoformat())
    days = rules.default_working_days
    deadline = add_working_days(screened_on, days)
    return deadline, say("registry.rectification.deadline.default", days=working_days(days), screened_on=screened_on.isoformat(),
                         rules=rules.label_said(), deadline=deadline.isoformat())


def screened(outcome: str, item_code: str | None, provision_code: str | None) -> Said:
    """A screening's outcome in words: the outcome, the 附件5 item and the provision when there are."""
    term = OUTCOME_TERMS.get(outcome, outcome)
    if item_code and provision_code:
        return say("registry.rectification.screened.item_provision", outcome=term, item_code=item_code, provision=provision_code)
    if item_code:
        return say("registry.rectification.screened.item", outcome=term, item_code=item_code)
    if provision_code:
        return say("registry.rectification.screened.provision", outcome=term, provision=provision_code)
    return say("registry.rectification.screened.outcome", outcome=term)


def shortcoming_said(text: str, code: str | None = None, params: dict[str, object] | None = None) -> Said | str:
    """A shortcoming as a step names it: its own message (assessment's code and parameters) when it has one,
    else its text as written."""
    if code and params and i18n.has(code):
        return Said(code, dict(params))
    return text


def raised_detail(shortcoming: Said | str, screening: Said, deadline: date, basis: Said) -> Said:
    return say("registry.rectification.step.raised", shortcoming=shortcoming, screened=screening, deadline=deadline.isoformat(), basis=basis)


def continued_detail(report_id: str, screening: Said, deadline: date) -> Said:
    return say("registry.rectification.step.continued", report=report_id, screened=screening, deadline=deadline.isoformat())


def submitted_detail(n: int, attachments: int, late: bool, was: str) -> Said:
    files = (say("registry.rectification.files.none") if attachments == 0 else say("registry.rectification.files.one") if attachments == 1
             else say("registry.rectification.files.some", count=attachments))
    code = "registry.rectification.step.submitted_late" if late else "registry.rectification.step.submitted"
    return say(code, n=n, files=files, was=status_term(was))


def cleared_detail(n: int, submitted_on: date, in_time: bool, deadline: date, reason: str | None) -> Said:
    timing = say("registry.rectification.timing.in_time" if in_time else "registry.rectification.timing.late")
    values = {"n": n, "submitted_on": submitted_on.isoformat(), "timing": timing, "deadline": deadline.isoformat(), "cleared": CLEARED_TERM}
    if reason:
        return say("registry.rectification.step.cleared_reason", **values, reason=reason)
    return say("registry.rectification.step.cleared", **values)


def returned_detail(n: int, reason: str | None) -> Said:
    if reason:
        return say("registry.rectification.step.returned_reason", n=n, reason=reason)
    return say("registry.rectification.step.returned", n=n)


SweepStep = Literal["reminded", "overdue"]


def sweep_step(status: str, deadline: date, reminded_for: date | None, today: date, working_days_left: int,
               remind_working_days: int) -> SweepStep | None:
    """What the daily sweep does to one item on ``today``: nothing, remind once, or list it as overdue.

    ``working_days_left``: the working days after today up to the deadline (included); 0 when the
    deadline is today or past. An item awaiting review is not overdue (the review decides), nor is
    one cleared or already overdue; a returned item past its deadline is."""
    if status in (CLEARED, OVERDUE):
        return None
    if deadline < today:
        return "overdue" if status in (OPEN, RETURNED) else None
    if working_days_left <= remind_working_days and reminded_for != deadline:
        return "reminded"
    return None


def reminder_detail(status: str, deadline: date, today: date, working_days_left: int, rules: RectificationRules) -> Said:
    when = say("registry.rectification.when.today") if deadline == today else say("registry.rectification.when.in", days=working_days(working_days_left))
    code = "registry.rectification.step.reminded_pending" if status == SUBMITTED else "registry.rectification.step.reminded"
    return say(code, deadline=deadline.isoformat(), when=when, rules=rules.label_said(), remind=working_days(rules.remind_working_days))


def overdue_detail(deadline: date, today: date, outcome: str | None = None) -> Said:
    passed = {"deadline": deadline.isoformat(), "days": in_days((today - deadline).days)}
    if outcome == "no_violation":  # a recommendation: nothing to open a case for
        return say("registry.rectification.step.overdue_recommendation", **passed)
    return say("registry.rectification.step.overdue", **passed)


# --------------------------------------------------------------------------- attachments

MAX_FILENAME_LENGTH = 200

# The formats the registry recognises by their first bytes, with the extensions their names may have.
SIGNATURES: dict[str, tuple[bytes, str]] = {
    "application/pdf": (b"%PDF-", "PDF"),
    "image/png": (b"\x89PNG\r\n\x1a\n", "PNG"),
    "image/jpeg": (b"\xff\xd8\xff", "JPEG"),
}
EXTENSIONS: dict[str, tuple[str, ...]] = {"application/pdf": (".pdf",), "image/png": (".png",), "image/jpeg": (".jpg", ".jpeg")}
HEAD_BYTES = max(len(signature) for signature, _ in SIGNATURES.values())


@dataclass(frozen=True)
class Upload:
    """What the registry knows of one uploaded file before storing it."""

    index: int  # its position in the request (files[i])
    filename: str
    content_type: str  # as declared by the client, without parameters
    size: int  # bytes read, up to the cap + 1
    head: bytes  # its first HEAD_BYTES bytes
    too_big: bool  # more bytes than the cap


def _format_of(head: bytes) -> str | None:
    return next((name for signature, name in SIGNATURES.values() if head.startswith(signature)), None)


def filename_problem(name: str) -> Problem | None:
    """Why ``name`` is not a sane file name to keep and offer for download, naming the file (``str()`` English,
    ``code``/``params``, ``text(locale)`` Chinese by default), or None."""
    file = repr(name[:MAX_FILENAME_LENGTH])
    if not name or not name.strip():
        return Problem("registry.attachment.no_name", file=file)
    if len(name) > MAX_FILENAME_LENGTH:
        return Problem("registry.attachment.name_too_long", file=file, length=len(name), max=MAX_FILENAME_LENGTH)
    if any(unicodedata.category(c).startswith("C") for c in name):
        return Problem("registry.attachment.name_control", file=file)
    if any(c in name for c in '/\\:*?"<>|'):
        return Problem("registry.attachment.name_forbidden", file=file)
    if name.strip(". ") == "" or name != name.strip():
        return Problem("registry.attachment.name_dots", file=file)
    return None


def attachment_problems(uploads: Sequence[Upload], allowed_types: Sequence[str], max_bytes: int, max_files: int) -> list[tuple[str, Problem]]:
    """Every problem of the uploads, as (field, why): ``files`` for too many, ``files[i]`` naming the
    file for each bad one. Empty: every file may be stored. Each ``why`` is a message naming the file first
    (``shared.problems.Problem``: ``str()`` English, ``code``/``params``, ``text(locale)`` Chinese by default)."""
    problems: list[tuple[str, Problem]] = []
    if len(uploads) > max_files:
        problems.append(("files", Problem("registry.attachment.too_many", count=len(uploads), max=max_files)))
    for upload in uploads:
        field = f"files[{upload.index}]"
        file = repr(upload.filename[:MAX_FILENAME_LENGTH])

        def refuse(code: str, **params: object) -> None:
            problems.append((field, Problem(code, file=file, **params)))

        if problem := filename_problem(upload.filename):
            problems.append((field, problem))
        if upload.content_type not in allowed_types:
            kinds = [SIGNATURES[t][1] for t in allowed_types]
            if upload.content_type:
                refuse("registry.attachment.type_not_allowed", type=upload.content_type, kinds=kinds, types=list(allowed_types))
            else:
                refuse("registry.attachment.type_missing", kinds=kinds, types=list(allowed_types))
            continue
        kind = SIGNATURES[upload.content_type][1]
        if upload.too_big:
            refuse("registry.attachment.too_big", max_bytes=max_bytes)
        elif upload.size == 0:
            refuse("registry.attachment.empty")
        elif not upload.head.startswith(SIGNATURES[upload.content_type][0]):
            found = _format_of(upload.head)
            if found:
                refuse("registry.attachment.content_other", type=upload.content_type, kind=kind, found=found)
            else:
                refuse("registry.attachment.content_unknown", type=upload.content_type, kind=kind, signature=repr(SIGNATURES[upload.content_type][0]))
        if upload.filename and not upload.filename.lower().endswith(EXTENSIONS[upload.content_type]):
            refuse("registry.attachment.extension", kind=kind, extensions=list(EXTENSIONS[upload.content_type]))
    return problems
