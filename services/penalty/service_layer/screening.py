"""Screening use cases (issue 13, RULES §7): every classified report's shortcomings screened against
附件5 (``ohs.assessments.classified`` → ``ohs.penalty.screened``), the registry's rectification items
followed (``ohs.registry.rectification-progressed``), and a case opened from a screening by the county.

The Kafka handlers :func:`screen_report` and :func:`record_rectification` do not commit (the consumer
commits with the inbox mark); :func:`open_case_from_screening` is a command and commits. Nothing is
penalised by a screening: only a case opened from it is judged, by the existing judgement."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from uuid import NAMESPACE_URL, UUID, uuid5

from services.penalty.adapters.orm import Case
from services.penalty.adapters.orm_screening import ScreenedReport, Screening
from services.penalty.adapters.rules import Rulebook
from services.penalty.domain import words
from services.penalty.domain.no_penalty import EarlierCase
from services.penalty.domain.screening import OUTCOME, EarlierScreening, provisions_of, screen
from services.penalty.domain.words import Coded
from services.penalty.service_layer import handlers
from services.penalty.service_layer.unit_of_work import AbstractPenaltyUnitOfWork
from shared.auth import Principal
from shared.contracts import (
    AssessmentClassified,
    RectificationProgressed,
    RuleSetRef,
    ScreeningRecorded,
    TraceEntry,
    ViolationRecorded,
    utc_now,
)
from shared import i18n
from shared.contracts.assessment import Shortcoming
from shared.dates import china_today

Uow = AbstractPenaltyUnitOfWork
PRODUCER = handlers.PRODUCER
SCREENED_NAMESPACE = uuid5(NAMESPACE_URL, "urn:ohs:penalty:screened")


class ScreeningNotFound(Coded, LookupError):
    """No such screening, or one the caller may not act for: it reads the same (404)."""

    def __init__(self, screening_id: str):
        self.screening_id = screening_id
        super().__init__("penalty.error.screening_not_found", {"screening_id": screening_id})


class NothingToOpen(Coded, ValueError):
    """A no_violation screening: a recommendation only, no case (422)."""


class CaseAlreadyOpened(Coded):
    """The screening already has its case (409, naming it)."""

    def __init__(self, screening: Screening):
        self.case_id, self.case_code = screening.case_id, screening.case_code
        super().__init__("penalty.error.case_already_opened", {"screening_id": screening.id, "case_code": screening.case_code,
                                                                "case_id": screening.case_id})


def region_of(uow: Uow, credit_code: str, fallback: str) -> str:
    """The employer's county: the registry's archive's as penalty knows it (RULES §5a), else ``fallback``."""
    archived = uow.archived_employers.get(credit_code)
    return archived.region_code if archived is not None else fallback


# --------------------------------------------------------------------------- ohs.assessments.classified


def screen_report(uow: Uow, event: AssessmentClassified, rulebook: Rulebook | None = None) -> None:
    """Screen the report's shortcomings against the list in force on the day it was classified (China date of
    ``occurred_at``): one row per shortcoming (ids from the submission and the shortcoming code) and ONE
    ``ScreeningRecorded`` (its event id from the submission; results may be empty). A report screened already
    changes nothing."""
    rulebook = rulebook or handlers.packaged_rulebook()
    submission = str(event.submission_id)
    if uow.screenings.report(submission) is not None:
        return
    day = china_today(event.occurred_at)
    region = region_of(uow, event.credit_code, event.region_code)
    duties = rulebook.shortcomings.in_force(region, day)
    rules = rulebook.no_penalty.in_force(region, day)
    deadline = rulebook.calendar.add_working_days(day, rules.rules_procedure.rectification_working_days)
    shortcomings = list(event.shortcomings)
    results = screen(event.submission_id, shortcomings, duties, rules,
                     _earlier_cases(uow, event.credit_code, provisions_of(duties, shortcomings), day),
                     _earlier_screenings(uow, event.credit_code, shortcomings), day, deadline, observed_on=event.assessed_on)
    for seq, result in enumerate(results, start=1):
        entry = duties.entry(result.shortcoming.rule_key)
        uow.screenings.add(Screening(
            id=str(result.screening_id), submission_id=submission, seq=seq, credit_code=event.credit_code, region_code=region,
            screened_on=day, shortcoming_code=result.shortcoming.code, shortcoming=result.shortcoming.model_dump(mode="json"),
            outcome=result.outcome, item_code=result.item_code, provision_code=result.provision_code, duty=result.duty,
            major=bool(entry and entry.violation and entry.major), deadline=deadline, reasons=result.reasons, earlier=result.earlier,
            trace=[t.model_dump(mode="json") for t in result.trace],
        ))
    announced = ScreeningRecorded(
        event_id=uuid5(SCREENED_NAMESPACE, submission), producer=PRODUCER, credit_code=event.credit_code,
        submission_id=event.submission_id, region_code=region, screened_on=day, results=results,
        rule_set=RuleSetRef(**duties.rule_set()),  # type: ignore[arg-type]
    )
    uow.screenings.add_report(ScreenedReport(
        submission_id=submission, credit_code=event.credit_code, region_code=region, screened_on=day, results=len(results),
        rule_set={"shortcoming_map": duties.label(), "no_penalty_list": rules.label()}, event_id=str(announced.event_id),
    ))
    uow.publish(announced)


def _earlier_cases(uow: Uow, credit_code: str, provisions: list[str], day: date) -> dict[str, list[EarlierCase]]:
    """The employer's cases of each provision found before now (the same query as a case's first-time check)."""
    found: dict[str, list[EarlierCase]] = {}
    for provision in provisions:
        probe = Case(id="", credit_code=credit_code, item_code=provision, found_on=day, harm="none", created_at=utc_now())
        found[provision] = [EarlierCase(c.id, c.found_on, c.case_code) for c in uow.cases.earlier(probe)]
    return found


def _earlier_screenings(uow: Uow, credit_code: str, shortcomings: list[Shortcoming]) -> dict[str, list[EarlierScreening]]:
    found: dict[str, list[EarlierScreening]] = defaultdict(list)
    for row in uow.screenings.of_employer(credit_code, [s.code for s in shortcomings]):
        found[row.shortcoming_code].append(EarlierScreening(row.id, row.submission_id, row.screened_on, row.rectification_status,
                                                            row.corrected_on, row.case_id))
    return found


# --------------------------------------------------------------------------- ohs.registry.rectification-progressed


def record_rectification(uow: Uow, event: RectificationProgressed) -> None:
    """Keep the rectification item's progress on the screenings it follows: the one the event names, those
    already linked to the item, and the employer's unlinked uncleared screenings of the same shortcoming
    screened by the step's day. ``cleared``: corrected on (the accepted correction's day) and whether by the
    screening's deadline — a self-disclosed shortcoming corrected by then counts as corrected promptly;
    ``overdue``: listed for enforcement."""
    named = str(event.screening_id) if event.screening_id else None
    item = str(event.item_id)
    for screening in uow.screenings.of_employer(event.credit_code, [event.shortcoming_code]):
        follows = (screening.id == named or screening.item_id == item
                   or (screening.item_id is None and screening.rectification_status != "cleared" and screening.screened_on <= event.on))
        if follows:
            _progress(screening, event)


def _progress(screening: Screening, event: RectificationProgressed) -> None:
    screening.item_id = str(event.item_id)
    screening.rectification_status = event.status
    added: list[TraceEntry] = []
    if event.step == "cleared":
        corrected_on = event.corrected_on or event.on
        in_time = corrected_on <= screening.deadline
        if (screening.corrected_on, screening.corrected_in_time) != (corrected_on, in_time):
            screening.corrected_on, screening.corrected_in_time = corrected_on, in_time
            cleared = {"item_id": str(event.item_id), "on": event.on.isoformat(), "actor": event.actor,
                       "corrected_on": corrected_on.isoformat(), "deadline": screening.deadline.isoformat()}
            added.append(TraceEntry.of(words.RULE_RECTIFICATION, "penalty.screening.trace.rectification.cleared_in_time" if in_time
                                       else "penalty.screening.trace.rectification.cleared_late", **cleared))
    elif event.step == "overdue" and screening.listed_on is None:
        screening.listed_on = event.on
        added.append(TraceEntry.of(words.RULE_RECTIFICATION, "penalty.screening.trace.rectification.overdue", item_id=str(event.item_id),
                                   deadline=event.deadline.isoformat() if event.deadline else None, on=event.on.isoformat()))
    if added:
        screening.trace = list(screening.trace) + [t.model_dump(mode="json") for t in added]  # a new list: the JSON column sees the change


# --------------------------------------------------------------------------- a case opened from a screening (staff)


def case_id_for(screening: Screening) -> UUID:
    """The case opened from a screening: one id, so two racing requests meet at the same row."""
    return uuid5(UUID(screening.id), "case")


def open_case_from_screening(uow: Uow, principal: Principal, screening_id: str, rulebook: Rulebook | None = None,
                             today: date | None = None) -> Case:
    """``POST /screenings/{id}/case``: open the case through the existing path (:func:`handlers.open_case`, then
    :func:`handlers.judge_case`, as :func:`handlers.record_violation` does), the screening's provision as its item,
    found on the screening day, no harm, the screening's deadline, its correction when in time; the opened step
    carries the screening's trace, and the screening names its case. Committed."""
    rulebook = rulebook or handlers.packaged_rulebook()
    screening = uow.screenings.get(screening_id)
    if screening is None:
        raise ScreeningNotFound(screening_id)
    county = region_of(uow, screening.credit_code, screening.region_code)
    if not principal.can_act_for(screening.credit_code, county):
        raise ScreeningNotFound(screening_id)
    if screening.outcome == "no_violation" or not screening.provision_code:
        raise NothingToOpen("penalty.error.nothing_to_open", {"screening_id": screening.id, "shortcoming": screening.shortcoming_code})
    if screening.case_id is not None:
        raise CaseAlreadyOpened(screening)
    text = str(screening.shortcoming.get("text") or screening.shortcoming_code)
    event = ViolationRecorded(
        producer=PRODUCER, credit_code=screening.credit_code, case_id=case_id_for(screening), region_code=county,
        item_code=screening.provision_code, found_on=screening.screened_on, harm="none",
        corrected_on=screening.corrected_on if screening.corrected_in_time else None, rectification_deadline=screening.deadline,
        major=screening.major,
        description=i18n.text("penalty.screening.case_description", {"text": text, "submission_id": screening.submission_id}),
    )
    lines = "；".join(f"【{t['rule']}】{t['detail']}" for t in screening.trace)
    origin = {"screening_id": screening.id, "submission_id": screening.submission_id,
              "outcome": words.named(OUTCOME, screening.outcome), "trace": lines}
    case = handlers.open_case(uow, event, actor=principal.name, today=today, origin=origin)
    screening.case_id, screening.case_code = case.id, case.case_code
    handlers.judge_case(uow, case, rulebook, principal.name, today)
    uow.publish(event)
    uow.commit()
    return case
