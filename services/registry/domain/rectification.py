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


class StepRefused(Exception):
    """The step does not fit the item's status (409)."""


def after_submission(status: str) -> str:
    """The status once the employer submits a correction; :class:`StepRefused` when it may not."""
    if status not in SUBMITTABLE:
        why = {SUBMITTED: "a correction already awaits review", CLEARED: "it is cleared (解除)"}.get(status, f"it is {status}")
        raise StepRefused(f"the item cannot take a correction now: {why}")
    return SUBMITTED


def after_review(status: str, decision: Decision) -> str:
    """The status once staff review the pending correction; only a submitted item can be reviewed."""
    if status != SUBMITTED:
        raise StepRefused(f"only an item with a correction awaiting review can be reviewed; this one is {status}")
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

    def label(self) -> str:
        return f"rectification rules {self.jurisdiction} {self.version}{' (provisional)' if self.provisional else ''}"

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


def deadline_for(screening_deadline: date | None, screened_on: date, rules: RectificationRules,
                 add_working_days: Callable[[date, int], date]) -> tuple[date, str]:
    """The item's deadline and, in words for the trace, how it was set: the screening's (责令限期改正)
    when it gives one, else ``default_working_days`` working days from the screening day."""
    if screening_deadline is not None:
        return screening_deadline, f"the screening's deadline (责令限期改正): {screening_deadline.isoformat()}"
    days = rules.default_working_days
    deadline = add_working_days(screened_on, days)
    return deadline, (f"the screening set none: {days} working days from the screening of {screened_on.isoformat()} "
                      f"({rules.label()}), by {deadline.isoformat()}")


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


def reminder_detail(status: str, deadline: date, today: date, working_days_left: int, rules: RectificationRules) -> str:
    when = "today" if deadline == today else f"in {working_days_left} working day{'' if working_days_left == 1 else 's'}"
    pending = " (a correction awaits review)" if status == SUBMITTED else ""
    return (f"deadline {deadline.isoformat()} {when}, not cleared yet{pending}: reminded once "
            f"({rules.label()}: {rules.remind_working_days} working days before the deadline)")


def overdue_detail(deadline: date, today: date, outcome: str | None = None) -> str:
    days = (today - deadline).days
    passed = f"deadline {deadline.isoformat()} passed {days} day{'' if days == 1 else 's'} ago without an accepted correction: "
    if outcome == "no_violation":  # a recommendation: nothing to open a case for
        return passed + "listed for the county to follow up (a recommendation, not a violation: no case)"
    return passed + "listed for enforcement (the county may open a case from penalty's screening)"


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


def _kinds(types: Sequence[str]) -> str:
    return ", ".join(SIGNATURES[t][1] for t in types)


def filename_problem(name: str) -> str | None:
    """Why ``name`` is not a sane file name to keep and offer for download, or None."""
    if not name or not name.strip():
        return "the file has no name"
    if len(name) > MAX_FILENAME_LENGTH:
        return f"the file name is {len(name)} characters long, at most {MAX_FILENAME_LENGTH}"
    if any(unicodedata.category(c).startswith("C") for c in name):
        return "the file name contains control or invisible format characters"
    if any(c in name for c in '/\\:*?"<>|'):
        return 'the file name may not contain / \\ : * ? " < > |'
    if name.strip(". ") == "" or name != name.strip():
        return "the file name may not be only dots or start or end with spaces"
    return None


def attachment_problems(uploads: Sequence[Upload], allowed_types: Sequence[str], max_bytes: int, max_files: int) -> list[tuple[str, str]]:
    """Every problem of the uploads, as (field, why): ``files`` for too many, ``files[i]`` naming the
    file for each bad one. Empty: every file may be stored."""
    problems: list[tuple[str, str]] = []
    if len(uploads) > max_files:
        problems.append(("files", f"{len(uploads)} files: at most {max_files} may be attached to one correction"))
    for upload in uploads:
        field = f"files[{upload.index}]"
        label = repr(upload.filename[:MAX_FILENAME_LENGTH]) if upload.filename else "(no name)"

        def refuse(why: str) -> None:
            problems.append((field, f"{label}: {why}"))

        if problem := filename_problem(upload.filename):
            refuse(problem)
        if upload.content_type not in allowed_types:
            refuse(f"type {upload.content_type or '(none)'} is not allowed: {_kinds(allowed_types)} only "
                   f"({', '.join(allowed_types)})")
            continue
        kind = SIGNATURES[upload.content_type][1]
        if upload.too_big:
            refuse(f"larger than {max_bytes} bytes, the most one attachment may have")
        elif upload.size == 0:
            refuse("the file is empty")
        elif not upload.head.startswith(SIGNATURES[upload.content_type][0]):
            found = _format_of(upload.head)
            refuse(f"declared {upload.content_type} but the content is not a {kind}"
                   + (f" (it is a {found})" if found else f" (a {kind} starts with {SIGNATURES[upload.content_type][0]!r})"))
        if upload.filename and not upload.filename.lower().endswith(EXTENSIONS[upload.content_type]):
            refuse(f"a {kind} file's name ends in {' or '.join(EXTENSIONS[upload.content_type])}")
    return problems
