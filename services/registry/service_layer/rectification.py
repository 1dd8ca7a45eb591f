"""The rectification loop (整改 → 审核 → 解除): items raised from penalty's screenings, the employer's
corrections, staff's reviews and the daily deadline sweep. What may happen when is
``domain.rectification``; this module loads, stores, announces and commits.

Every step is a row of the item's history (``registry_rectification_step``) and a
:class:`RectificationProgressed` on ``ohs.registry.rectification-progressed``, written in the same
transaction (the outbox). A step's event id is derived from the item id and the step's number, so
a replay of the screenings into an empty registry announces the same steps with the same ids.

Items are raised by the consumer of ``ohs.penalty.screened`` in its own group
(:data:`GROUP_SUFFIX`); the handler does not commit (the consumer does, with the inbox mark).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, BinaryIO

from services.registry.adapters.attachments import AttachmentStore, key_for
from services.registry.adapters.orm_rectification import (
    RectificationAttachmentRecord,
    RectificationItem,
    RectificationStepRecord,
    RectificationSubmission,
)
from services.registry.adapters.rules import RectificationRulebook
from services.registry.domain import rectification as rules
from services.registry.domain.rectification import StepRefused  # noqa: F401  (re-exported: the routes' 409)
from services.registry.domain.words import Said, say
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Principal
from shared.contracts import RectificationAttachment, RectificationProgressed, ScreeningRecorded, ScreeningResult
from shared.errors import coded

log = logging.getLogger(__name__)

PRODUCER = "registry"
GROUP_SUFFIX = "rectification"  # consumer group <prefix>.registry.rectification for ohs.penalty.screened


class ItemNotFound(LookupError):
    """No such item, or not one the caller may see or act on (404 either way)."""


class ConcurrentChange(RuntimeError):
    """Another step was taken on the item meanwhile (409 over HTTP; the consumer retries)."""


class AttachmentsRefused(ValueError):
    """One or more attachments may not be stored: ``problems`` lists (field, why). Nothing was stored."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{field}: {why}" for field, why in problems))
        self.problems = problems


class ReviewProblem(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True)
class StagedFile:
    """An uploaded file read once (``adapters.attachments.inspect_upload``), not stored yet."""

    upload: rules.Upload
    sha256: str
    stream: BinaryIO


# --------------------------------------------------------------------------- steps


def employer_region(uow: RegistryUnitOfWork, credit_code: str, fallback: str) -> str:
    """The employer's region: the archive's when the registry has the employer, else ``fallback``."""
    record = uow.enterprises.get(credit_code)
    return record.region_code if record is not None else fallback


def archive_region(uow: RegistryUnitOfWork, item: RectificationItem) -> str:
    """The employer's region for access: the archive's when the registry has the employer, else the item's."""
    return employer_region(uow, item.credit_code, item.region_code)


def _identity(step: str, *, submission_id: str | None = None, submission_n: int | None = None, deadline: date | None = None) -> str:
    """What a step is, whatever its place in the history (``rules.step_event_id``)."""
    if step == "raised":
        return "raised"
    if step == "continued":
        return f"continued:{submission_id}"
    if step == "submitted":
        return f"submitted:{submission_n}"
    if step in ("returned", "cleared"):
        return f"review:{submission_n}"
    return f"{step}:{deadline.isoformat() if deadline else ''}"  # reminded, overdue: once per deadline


def _record(uow: RegistryUnitOfWork, item: RectificationItem, seq: int, step: str, on: date, actor: str, said: Said, *,
            submission_n: int | None = None, corrected_on: date | None = None,
            corrected_in_time: bool | None = None, **announced: Any) -> RectificationStepRecord:
    """Write the item's ``seq``-th step and announce it (``announced``: the event's step-specific fields). The step's
    detail is kept in Chinese; the event carries its code and parameters beside it."""
    detail = said.text()
    event_id = rules.step_event_id(item.id, _identity(step, submission_id=item.latest_submission_id, submission_n=submission_n,
                                                      deadline=item.deadline))
    row = RectificationStepRecord(
        item_id=item.id, seq=seq, step=step, status=item.status, taken_on=on, deadline=item.deadline, actor=actor, detail=detail,
        screening_id=item.screening_id, submission_n=submission_n, corrected_on=corrected_on, corrected_in_time=corrected_in_time,
        event_id=event_id,
    )
    uow.rectifications.add_step(row)
    uow.publish(RectificationProgressed(  # the employer's region now (the county to tell), which a transfer may have changed
        event_id=event_id, producer=PRODUCER, credit_code=item.credit_code, item_id=item.id, region_code=archive_region(uow, item),
        shortcoming_code=item.shortcoming_code, shortcoming_text=item.shortcoming_text, submission_id=item.submission_id,
        screening_id=item.screening_id, step=step, status=item.status, on=on, deadline=item.deadline,  # type: ignore[arg-type]
        corrected_on=corrected_on, corrected_in_time=corrected_in_time, actor=actor, detail=detail, **said.message, **announced,
    ))
    return row


def _advance(uow: RegistryUnitOfWork, item: RectificationItem, **values: Any) -> int:
    seq = uow.rectifications.advance(item, **values)
    if seq is None:
        raise coded(ConcurrentChange(f"rectification item {item.id} changed meanwhile: read it again and retry"),
                    "errors.rectification.changed_meanwhile", item_id=item.id)
    return seq


# --------------------------------------------------------------------------- raised / continued (from penalty's screening)


def _screening_facts(event: ScreeningRecorded, result: ScreeningResult) -> dict[str, Any]:
    return {
        "duty": result.duty, "provision_code": result.provision_code, "reasons": list(result.reasons), "earlier": result.earlier,
        "deadline": result.deadline.isoformat() if result.deadline else None, "screened_on": event.screened_on.isoformat(),
        "trace": [t.model_dump(mode="json") for t in result.trace], "rule_set": event.rule_set.model_dump(mode="json"),
    }


def _outcome_words(result: ScreeningResult) -> Said:
    return rules.screened(result.outcome, result.item_code, result.provision_code)


def raise_from_screening(uow: RegistryUnitOfWork, event: ScreeningRecorded, rulebook: RectificationRulebook) -> list[str]:
    """One item per screened shortcoming (``raised``), or one more step on the employer's item for the same
    shortcoming when it is not cleared yet (``continued``: deadline unchanged). Idempotent: a report
    already raised or continued is skipped. Returns the ids of the items touched. Does not commit."""
    credit_code, submission_id = event.credit_code, str(event.submission_id)
    region = employer_region(uow, credit_code, event.region_code)  # the archive's, not the report's claim
    in_force = rulebook.rules.in_force(region, event.screened_on)
    touched: list[str] = []
    for result in event.results:
        shortcoming = result.shortcoming
        new_id = rules.item_id(credit_code, shortcoming.code, submission_id)
        existing = uow.rectifications.get(new_id)
        if existing is not None:  # raised from this report already (a replay, a re-published screening, or restored from the log)
            _keep_screening_facts(existing, event, result, in_force, rulebook)
            continue
        if uow.rectifications.screening_recorded(str(result.screening_id)):
            # continued from this screening already: a registry rebuilt from the topics restored that step first
            latest = uow.rectifications.item_by_screening(str(result.screening_id))
            if latest is not None:
                _keep_screening_facts(latest, event, result, in_force, rulebook)
            continue
        current = uow.rectifications.not_cleared(credit_code, shortcoming.code)
        if current is not None:
            if submission_id in (current.submission_id, current.latest_submission_id):
                continue  # this report already continued it
            seq = _advance(uow, current, screening_id=str(result.screening_id), latest_submission_id=submission_id,
                           outcome=result.outcome, item_code=result.item_code, provision_code=result.provision_code,
                           screening=_screening_facts(event, result), updated_on=event.screened_on)
            _record(uow, current, seq, "continued", event.screened_on, rules.SYSTEM,
                    rules.continued_detail(submission_id, _outcome_words(result), current.deadline),
                    outcome=result.outcome, item_code=result.item_code, report_id=submission_id)
            touched.append(current.id)
            continue
        deadline, basis = rules.deadline_for(result.deadline, event.screened_on, in_force, rulebook.calendar.add_working_days)
        item = RectificationItem(
            id=new_id, credit_code=credit_code, region_code=region, shortcoming_code=shortcoming.code, shortcoming_kind=shortcoming.kind,
            shortcoming_subject=shortcoming.subject, shortcoming_text=shortcoming.text, submission_id=submission_id,
            latest_submission_id=submission_id, screening_id=str(result.screening_id), outcome=result.outcome, item_code=result.item_code,
            provision_code=result.provision_code, screening=_screening_facts(event, result), status=rules.OPEN, deadline=deadline,
            deadline_basis=basis.text(), raised_on=event.screened_on, updated_on=event.screened_on, steps=1,
        )
        uow.rectifications.add(item)
        _record(uow, item, 1, "raised", event.screened_on, rules.SYSTEM,
                rules.raised_detail(rules.shortcoming_said(shortcoming.text, shortcoming.message_code, shortcoming.params),
                                    _outcome_words(result), deadline, basis),
                outcome=result.outcome, item_code=result.item_code, shortcoming_kind=shortcoming.kind,
                shortcoming_subject=shortcoming.subject)
        touched.append(item.id)
    return touched


# --------------------------------------------------------------------------- a registry rebuilt from the topics


class StepNotRestorable(ValueError):
    """A step on the log whose item the registry does not hold and cannot raise from it (dead-lettered)."""


def restore_step(uow: RegistryUnitOfWork, event: RectificationProgressed) -> None:
    """Keep a step announced on ``ohs.registry.rectification-progressed`` (the items' own log): nothing
    when the registry holds it already (every step it took itself); otherwise — a registry rebuilt from
    the topics into an empty database — the step is restored as it was taken: the employer's corrections
    and staff's reviews, the sweep's reminders, the items raised. Nothing is announced again. Does not commit."""
    event_id = str(event.event_id)
    known = uow.rectifications.step_by_event(event_id)
    if known is not None:
        # taken here already; in a rebuild the screening's consumer may have continued the item before the log
        # restored the steps that came first: the step then keeps the status the log says it left the item in
        if known.status != event.status:
            known.status = event.status
        return
    item = uow.rectifications.get(str(event.item_id))
    if item is None:
        if event.step != "raised":
            raise StepNotRestorable(f"step {event.step} of rectification item {event.item_id}: the item was never raised here")
        item = RectificationItem(
            id=str(event.item_id), credit_code=event.credit_code, region_code=event.region_code, shortcoming_code=event.shortcoming_code,
            shortcoming_kind=event.shortcoming_kind or event.shortcoming_code.split(":")[0], shortcoming_subject=event.shortcoming_subject,
            shortcoming_text=event.shortcoming_text, submission_id=str(event.submission_id), latest_submission_id=str(event.submission_id),
            screening_id=str(event.screening_id or ""), outcome=event.outcome or "no_violation", item_code=event.item_code,
            status=event.status, deadline=event.deadline, deadline_basis=RESTORED_BASIS,
            raised_on=event.on, updated_on=event.on, steps=0,
        )
        uow.rectifications.add(item)
    changes: dict[str, Any] = {"status": event.status, "deadline": event.deadline, "updated_on": event.on}
    submission_n: int | None = None
    submissions = uow.rectifications.submissions_of(item.id)
    if event.step == "continued":
        changes.update(screening_id=str(event.screening_id or item.screening_id), latest_submission_id=_continued_report(event, item))
        if event.outcome:
            changes["outcome"] = event.outcome
        changes["item_code"] = event.item_code
    elif event.step == "reminded":
        changes["reminded_for"] = event.deadline
    seq = _advance(uow, item, **changes)
    if event.step == "submitted":
        submission_n = len(submissions) + 1
        uow.rectifications.add_submission(RectificationSubmission(item_id=item.id, n=submission_n, text=event.correction_text or "",
                                                                  submitted_on=event.on, actor=event.actor))
        numbered = len(uow.rectifications.attachments_of(item.id))
        for i, attachment in enumerate(event.attachments, start=1):
            uow.rectifications.add_attachment(RectificationAttachmentRecord(
                item_id=item.id, submission_n=submission_n, n=numbered + i, filename=attachment.filename,
                content_type=attachment.content_type, size=attachment.size, sha256=attachment.sha256, storage_key=attachment.key,
            ))
    elif event.step in ("returned", "cleared"):
        pending = next((p for p in reversed(submissions) if p.decision is None), None)
        if pending is not None:
            submission_n = pending.n
            pending.decision = "accepted" if event.step == "cleared" else "returned"
            pending.reviewed_on, pending.reviewed_by, pending.review_reason = event.on, event.actor, event.reason
    uow.rectifications.add_step(RectificationStepRecord(
        item_id=item.id, seq=seq, step=event.step, status=event.status, taken_on=event.on, deadline=event.deadline, actor=event.actor,
        detail=event.detail, screening_id=str(event.screening_id) if event.screening_id else None, submission_n=submission_n,
        corrected_on=event.corrected_on, corrected_in_time=event.corrected_in_time, event_id=event_id,
    ))


def _continued_report(event: RectificationProgressed, item: RectificationItem) -> str:
    """The report a continued step came from (announced since the step carried it; else the item's latest)."""
    return str(event.report_id) if event.report_id else item.latest_submission_id


RESTORED_BASIS = say("registry.rectification.restored").text()  # marks an item restored from the log (its deadline's basis unknown)
RESTORED_BASES = (RESTORED_BASIS, "restored from ohs.registry.rectification-progressed")  # the mark as earlier releases wrote it too


def _keep_screening_facts(item: RectificationItem, event: ScreeningRecorded, result: ScreeningResult, in_force: Any,
                          rulebook: RectificationRulebook) -> None:
    """What the items' log does not carry (the screening's facts, the provision, how the deadline was set),
    kept on an item restored from the log once its screenings arrive. Nothing is announced."""
    if item.deadline_basis in RESTORED_BASES and str(event.submission_id) == item.submission_id:
        _, basis = rules.deadline_for(result.deadline, event.screened_on, in_force, rulebook.calendar.add_working_days)
        item.deadline_basis = basis.text()
    if item.screening_id == str(result.screening_id) and not item.screening:
        item.screening = _screening_facts(event, result)
        item.provision_code = result.provision_code


# --------------------------------------------------------------------------- the employer's correction


def _employers_item(uow: RegistryUnitOfWork, principal: Principal, item_id: str) -> RectificationItem:
    item = uow.rectifications.get(item_id)
    if item is None or principal.role != "employer" or item.credit_code != principal.credit_code:
        raise ItemNotFound(item_id)
    return item


def submit_correction(uow: RegistryUnitOfWork, store: AttachmentStore, principal: Principal, item_id: str, text: str,
                      files: Sequence[StagedFile], rulebook: RectificationRulebook, *, max_bytes: int, max_files: int,
                      today: date) -> RectificationItem:
    """The employer's correction of its item: text and attachments, committed. Every file is checked
    before any is stored (:class:`AttachmentsRefused`: nothing stored); a file stored before a failed
    commit is deleted again. :class:`ItemNotFound` for another's item, :class:`StepRefused` when the
    item takes no correction now (submitted, cleared)."""
    item = _employers_item(uow, principal, item_id)
    try:
        status = rules.after_submission(item.status)
    except StepRefused as error:
        code = {rules.SUBMITTED: "errors.rectification.awaits_review", rules.CLEARED: "errors.rectification.cleared"}.get(
            item.status, "errors.rectification.no_correction_now")
        raise coded(error, code, item_id=item.id) from None
    allowed = rulebook.rules.in_force(item.region_code, today).attachment_types
    problems = rules.attachment_problems([f.upload for f in files], allowed, max_bytes, max_files)
    if problems:
        raise AttachmentsRefused(problems)
    was = item.status
    seq = _advance(uow, item, status=status, updated_on=today)
    n = len(uow.rectifications.submissions_of(item.id)) + 1
    uow.rectifications.add_submission(RectificationSubmission(item_id=item.id, n=n, text=text, submitted_on=today, actor=principal.describe()))
    numbered = len(uow.rectifications.attachments_of(item.id))
    stored: list[str] = []
    try:
        announced: list[RectificationAttachment] = []
        for i, staged in enumerate(files, start=1):
            key = key_for(item.id, staged.sha256)
            if store.put(key, staged.stream, staged.upload.content_type):
                stored.append(key)
            uow.rectifications.add_attachment(RectificationAttachmentRecord(
                item_id=item.id, submission_n=n, n=numbered + i, filename=staged.upload.filename, content_type=staged.upload.content_type,
                size=staged.upload.size, sha256=staged.sha256, storage_key=key,
            ))
            announced.append(RectificationAttachment(filename=staged.upload.filename, content_type=staged.upload.content_type,
                                                     size=staged.upload.size, sha256=staged.sha256, key=key))
        _record(uow, item, seq, "submitted", today, principal.describe(), rules.submitted_detail(n, len(files), today > item.deadline, was),
                submission_n=n, correction_text=text, attachments=announced)
        uow.commit()
    except BaseException:
        for key in stored:  # the row never came to be: neither does the file
            try:
                store.delete(key)
            except Exception:  # noqa: BLE001 - the commit's error is the one to report
                log.exception("could not delete attachment %s from %s after a failed submission", key, store.describe())
        raise
    return item


# --------------------------------------------------------------------------- staff's review


def review_correction(uow: RegistryUnitOfWork, principal: Principal, item_id: str, decision: rules.Decision, reason: str | None,
                      today: date) -> RectificationItem:
    """Staff accept the pending correction (cleared, 解除) or return it with a reason, committed.
    :class:`ItemNotFound` outside the caller's jurisdiction; :class:`StepRefused` unless a correction
    awaits review; :class:`ReviewProblem` for a return without a reason."""
    item = uow.rectifications.get(item_id)
    if item is None or not principal.can_act_for(item.credit_code, archive_region(uow, item)):
        raise ItemNotFound(item_id)
    try:
        status = rules.after_review(item.status, decision)
    except StepRefused as error:
        code = "errors.rectification.review_cleared" if item.status == rules.CLEARED else "errors.rectification.not_awaiting_review"
        raise coded(error, code, item_id=item.id) from None
    if decision == "return" and not (reason or "").strip():
        raise coded(ReviewProblem("reason", "a returned correction needs the reason, for the employer"), "errors.rectification.return_needs_reason")
    pending = next((s for s in reversed(uow.rectifications.submissions_of(item.id)) if s.decision is None), None)
    if pending is None:  # a submitted item always has one: a database edited by hand
        raise coded(StepRefused(f"rectification item {item.id} is submitted but no correction awaits review"),
                    "errors.rectification.not_awaiting_review", item_id=item.id)
    deadline = item.deadline
    seq = _advance(uow, item, status=status, updated_on=today)
    pending.decision = "accepted" if decision == "accept" else "returned"
    pending.reviewed_on, pending.reviewed_by, pending.review_reason = today, principal.describe(), reason or None
    if decision == "accept":
        in_time = rules.corrected_in_time(pending.submitted_on, deadline)
        _record(uow, item, seq, "cleared", today, principal.describe(),
                rules.cleared_detail(pending.n, pending.submitted_on, in_time, deadline, reason),
                submission_n=pending.n, corrected_on=pending.submitted_on, corrected_in_time=in_time, reason=reason or None)
    else:
        _record(uow, item, seq, "returned", today, principal.describe(), rules.returned_detail(pending.n, reason),
                submission_n=pending.n, reason=reason or None)
    uow.commit()
    return item


# --------------------------------------------------------------------------- the daily sweep


def sweep(uow: RegistryUnitOfWork, today: date, rulebook: RectificationRulebook) -> list[str]:
    """Remind once of a deadline that is near (``remind_working_days`` in the rules in force) and list an
    item whose deadline passed uncorrected as overdue. Idempotent: a second run on the same day changes
    nothing. Returns one line per step taken; the caller commits."""
    calendar = rulebook.calendar
    longest = max((r.remind_working_days for r in rulebook.rules.all), default=0)  # how far ahead any region reminds
    horizon = calendar.add_working_days(today, longest) if longest else today
    done: list[str] = []
    for item in uow.rectifications.sweep_candidates(horizon):
        in_force = rulebook.rules.in_force(item.region_code, today)
        left = calendar.working_days_in(today + timedelta(days=1), item.deadline) if item.deadline > today else 0
        step = rules.sweep_step(item.status, item.deadline, item.reminded_for, today, left, in_force.remind_working_days)
        if step is None:
            continue
        if step == "overdue":
            detail = rules.overdue_detail(item.deadline, today, item.outcome)
            seq = uow.rectifications.advance(item, status=rules.OVERDUE, updated_on=today)
        else:
            detail = rules.reminder_detail(item.status, item.deadline, today, left, in_force)
            seq = uow.rectifications.advance(item, reminded_for=item.deadline, updated_on=today)
        if seq is None:
            continue  # another step (a submission, another sweep) came first: the next run looks again
        _record(uow, item, seq, step, today, rules.SYSTEM, detail)
        done.append(f"{item.credit_code} {item.shortcoming_code} ({item.id}): {step}, {detail.text()}")
    return done


def run_sweep(uow: RegistryUnitOfWork, today: date, rulebook: RectificationRulebook) -> list[str]:
    """One rectification sweep, committed (the timer, ``ohs registry sweep``, the tests)."""
    done = sweep(uow, today, rulebook)
    uow.commit()
    return done
