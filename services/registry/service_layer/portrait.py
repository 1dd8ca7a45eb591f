"""The risk portrait (风险画像, 一企一案): a projection of the events, redrawn on every relevant one.

Consumed in a consumer group of its own (``<prefix>.registry.portrait``, ``GROUP_SUFFIX``), so its
inbox scope is apart from the archive's and the credit feed's:

* ``ohs.assessments.classified`` — a report: its grades, factors and shortcomings;
* ``ohs.registry.rectification-progressed`` — the rectification loop's steps (an item cleared, 解除,
  leaves the portrait);
* ``ohs.penalty.decided`` — the enforcement history;
* ``ohs.penalty.screened`` — the screenings, kept for the agency's figures only;
* ``ohs.monitoring.exceedances``, ``ohs.orgs.test-reports``, ``ohs.orgs.exam-summaries`` — non-site facts (issue 17):
  an exceedance episode, a test result filed as not compliant, an examination summary with suspected occupational
  disease weigh in the dimensions the rule data's ``nonsite`` section names, traced per kind.

Each handler folds its event into the projection's fact rows (keyed by the source ids: the same
event applied twice, or the topics replayed into an empty registry, gives the same rows) and
redraws the employer's portrait (``domain.portrait.draw``). A new version is kept — and announced
by ``PortraitChanged`` (its id a uuid5 of the employer, the version and the content hash) — only
when the content's canonical hash changed. The credit feed does not carry it: it is guidance, not
a sanction.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from services.registry.adapters.orm_portrait import (
    PortraitDecisionFact,
    PortraitItemFact,
    PortraitNonSiteFact,
    PortraitRecord,
    PortraitReportFact,
    PortraitScreeningFact,
    PortraitVersion,
)
from services.registry.domain.portrait import (
    DecisionFacts,
    DisclosedShortcoming,
    ExposedFactor,
    ItemFacts,
    NonSiteFacts,
    PortraitFacts,
    PortraitRuleBook,
    ReportFacts,
    content_hash,
    describe_change,
    draw,
    summary,
)
from services.registry.domain.words import Said, say
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.contracts import (
    AssessmentClassified,
    ExamSummaryFiled,
    ExceedanceDetected,
    PenaltyDecided,
    PortraitChanged,
    RectificationProgressed,
    ScreeningRecorded,
    TestReportFiled,
)
from shared.dates import china_today

GROUP_SUFFIX = "portrait"  # consumer group <prefix>.registry.portrait
STEP_WORDS = {  # a rectification step in words, as a portrait's reason names it
    "raised": "registry.portrait.step.raised", "continued": "registry.portrait.step.continued", "submitted": "registry.portrait.step.submitted",
    "returned": "registry.portrait.step.returned", "cleared": "registry.portrait.step.cleared", "reminded": "registry.portrait.step.reminded",
    "overdue": "registry.portrait.step.overdue",
}
PRODUCER = "registry"
_NAMESPACE = uuid.UUID("7b0e4f52-93a1-4c2d-8e55-2f6a1c9d4b13")  # fixed: ids must not change between releases


def _later(at: datetime, event_id: str, than_at: datetime | None, than_id: str | None) -> bool:
    """Is the step (``at``, ``event_id``) the later one? Time first, the event id breaks a tie: any order of
    application folds to the same row."""
    return than_at is None or (at, event_id) >= (than_at, than_id or "")


# --------------------------------------------------------------------------- the facts


def _record_report(uow: RegistryUnitOfWork, event: AssessmentClassified) -> None:
    submission_id = str(event.submission_id)
    row = uow.portrait_facts.report(submission_id)
    if row is not None and not _later(event.occurred_at, str(event.event_id), row.classified_at, ""):
        return
    row = row or PortraitReportFact(submission_id=submission_id, credit_code=event.credit_code, region_code=event.region_code,
                                    enterprise_name=event.enterprise_name, assessed_on=event.assessed_on,
                                    classified_on=china_today(event.occurred_at), classified_at=event.occurred_at,
                                    hazard_grade=event.hazard_grade, management_grade=event.management_grade, score=event.score)
    row.region_code, row.enterprise_name = event.region_code, event.enterprise_name
    row.assessed_on, row.classified_on, row.classified_at = event.assessed_on, china_today(event.occurred_at), event.occurred_at
    row.hazard_grade, row.management_grade, row.score = event.hazard_grade, event.management_grade, event.score
    row.factors = [{"factor": f.factor, "nature": f.nature, "exposed": f.exposed, "compliant": f.compliant} for f in event.factors]
    row.shortcomings = [{"code": s.code, "text": s.text, **({"message": {"code": s.message_code, "params": dict(s.params)}} if s.params else {})}
                        for s in event.shortcomings]
    uow.portrait_facts.add_report(row)


def _record_step(uow: RegistryUnitOfWork, event: RectificationProgressed) -> None:
    item_id, event_id = str(event.item_id), str(event.event_id)
    row = uow.portrait_facts.item(item_id)
    if row is None:
        row = PortraitItemFact(item_id=item_id, credit_code=event.credit_code, region_code=event.region_code,
                               shortcoming_code=event.shortcoming_code, shortcoming_text=event.shortcoming_text,
                               submission_id=str(event.submission_id), status=event.status, deadline=event.deadline,
                               last_on=event.on, last_at=event.occurred_at, last_event_id=event_id)
    elif _later(event.occurred_at, event_id, row.last_at, row.last_event_id):
        row.region_code, row.status, row.deadline = event.region_code, event.status, event.deadline
        row.shortcoming_text, row.last_on, row.last_at, row.last_event_id = event.shortcoming_text, event.on, event.occurred_at, event_id
    if event.step == "raised":
        row.raised_on = min(row.raised_on or event.on, event.on)
    elif event.step == "overdue":
        row.overdue_on = min(row.overdue_on or event.on, event.on)
    elif event.step == "cleared":
        row.cleared_on = max(row.cleared_on or event.on, event.on)
    uow.portrait_facts.add_item(row)


def screening_row_id(submission_id: str, shortcoming_code: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"screening|{submission_id}|{shortcoming_code}"))


def _record_decision(uow: RegistryUnitOfWork, event: PenaltyDecided, region_code: str | None) -> None:
    case_id, event_id = str(event.case_id), str(event.event_id)
    row = uow.portrait_facts.decision(case_id)
    if row is not None and not _later(event.occurred_at, event_id, row.decided_at, row.event_id):
        return
    row = row or PortraitDecisionFact(case_id=case_id, credit_code=event.credit_code, item_code=event.item_code, decision=event.decision,
                                      decided_on=china_today(event.occurred_at), decided_at=event.occurred_at, event_id=event_id)
    row.region_code, row.item_code, row.case_code = region_code, event.item_code, event.case_code
    row.decision, row.major = event.decision, event.major
    row.decided_on, row.decided_at, row.event_id = china_today(event.occurred_at), event.occurred_at, event_id
    uow.portrait_facts.add_decision(row)


def facts_of(uow: RegistryUnitOfWork, credit_code: str) -> PortraitFacts:
    """Everything the projection holds about the employer, as the domain reads it."""
    reports = tuple(
        ReportFacts(
            submission_id=r.submission_id, region_code=r.region_code, enterprise_name=r.enterprise_name, assessed_on=r.assessed_on, classified_on=r.classified_on,
            classified_at=r.classified_at, hazard_grade=r.hazard_grade, management_grade=r.management_grade, score=r.score,
            factors=tuple(ExposedFactor(f["factor"], f["nature"], f["exposed"], f["compliant"]) for f in r.factors),
            shortcomings=tuple(DisclosedShortcoming(s["code"], s["text"], s.get("message")) for s in r.shortcomings),
        )
        for r in uow.portrait_facts.reports(credit_code)
    )
    items = tuple(
        ItemFacts(i.item_id, i.shortcoming_code, i.shortcoming_text, i.submission_id, i.status, i.raised_on, i.cleared_on, i.last_on)
        for i in uow.portrait_facts.items(credit_code)
    )
    decisions = tuple(
        DecisionFacts(d.case_id, d.case_code, d.item_code, d.decision, d.major, d.decided_on) for d in uow.portrait_facts.decisions(credit_code)
    )
    nonsite = tuple(NonSiteFacts(f.key, f.kind, f.fact_on, f.status, dict(f.details)) for f in uow.portrait_facts.nonsite_facts(credit_code))
    return PortraitFacts(reports, items, decisions, nonsite)


# --------------------------------------------------------------------------- drawing and versioning


def redraw(uow: RegistryUnitOfWork, credit_code: str, rules: PortraitRuleBook, at: datetime, trigger: Said,
           region_code: str | None = None) -> PortraitVersion | None:
    """Draw the employer's portrait from the projection; keep and announce a new version when its content
    changed (None: unchanged, or nothing known yet). ``at``: the time of the event that triggered it (``trigger``
    says which, in words); ``region_code``: the event's county, when the projection holds no report to tell it.
    The version keeps its reason in Chinese; the announcement carries its code and parameters beside it."""
    facts = facts_of(uow, credit_code)
    as_of = facts.as_of()
    if as_of is None:
        return None
    record = uow.portraits.get(credit_code)
    archived = uow.enterprises.get(credit_code)
    report = facts.latest_report()
    region = (report.region_code if report is not None else None) or region_code or (record.region_code if record else None) \
        or (archived.region_code if archived is not None else None)
    if region is None:
        return None  # a decision about an employer the registry knows nothing of yet: the next event draws it
    name = (report.enterprise_name if report is not None else None) or (archived.name if archived is not None else None) \
        or (record.enterprise_name if record is not None else credit_code)

    portrait = draw(facts, rules.in_force(region, as_of), as_of)
    content = portrait.content()
    digest = content_hash(content)
    if record is not None and record.content_hash == digest:
        return None
    previous_row = uow.portraits.version(credit_code, record.version) if record is not None else None
    previous = {"rule_set": previous_row.rule_set, "dimensions": previous_row.dimensions} if previous_row is not None else None
    version = (record.version if record is not None else 0) + 1
    said = describe_change(previous, content, trigger)
    reason = said.text()
    event_id = uuid.uuid5(_NAMESPACE, f"portrait|{credit_code}|{version}|{digest}")
    row = PortraitVersion(
        credit_code=credit_code, version=version, content_hash=digest, rule_set=content["rule_set"], dimensions=content["dimensions"],
        trace=[entry.model_dump(mode="json") for entry in portrait.trace], as_of=as_of, computed_at=at, reason=reason,
        event_id=str(event_id),
    )
    uow.portraits.add_version(row)
    record = record or PortraitRecord(credit_code=credit_code, region_code=region, enterprise_name=name, version=version,
                                      content_hash=digest, computed_at=at)
    record.region_code, record.enterprise_name, record.version, record.content_hash, record.computed_at = region, name, version, digest, at
    uow.portraits.add(record)
    uow.publish(PortraitChanged(
        event_id=event_id, producer=PRODUCER, credit_code=credit_code, region_code=region, enterprise_name=name, version=version,
        dimensions=summary(content["dimensions"]), reason=reason, **said.message,  # type: ignore[arg-type]
    ))
    return row


# --------------------------------------------------------------------------- consumer handlers


def classified(uow: RegistryUnitOfWork, event: AssessmentClassified, rules: PortraitRuleBook) -> None:
    """``ohs.assessments.classified``: the report's grades and shortcomings enter the portrait."""
    _record_report(uow, event)
    redraw(uow, event.credit_code, rules, event.occurred_at,
           say("registry.portrait.trigger.report", submission_id=str(event.submission_id), assessed_on=event.assessed_on.isoformat()),
           event.region_code)


def rectification_progressed(uow: RegistryUnitOfWork, event: RectificationProgressed, rules: PortraitRuleBook) -> None:
    """``ohs.registry.rectification-progressed``: an item raised, moved on, or cleared (解除: it leaves the portrait)."""
    _record_step(uow, event)
    redraw(uow, event.credit_code, rules, event.occurred_at,
           say("registry.portrait.trigger.rectification", item_id=str(event.item_id), step=say(STEP_WORDS[event.step]),
               shortcoming_code=event.shortcoming_code, on=event.on.isoformat()), event.region_code)


def penalty_decided(uow: RegistryUnitOfWork, event: PenaltyDecided, rules: PortraitRuleBook) -> None:
    """``ohs.penalty.decided``: the enforcement history. The county is the case's, else the archive's."""
    archived = uow.enterprises.get(event.credit_code)
    region = event.region_code or (archived.region_code if archived is not None else None)
    _record_decision(uow, event, region)
    redraw(uow, event.credit_code, rules, event.occurred_at,
           say("registry.portrait.trigger.case", case=event.case_code or str(event.case_id),
               decision=say("registry.decision.penalty" if event.decision == "penalty" else "registry.decision.no_penalty")), region)


def screened(uow: RegistryUnitOfWork, event: ScreeningRecorded) -> None:
    """``ohs.penalty.screened``: one fact per screened shortcoming (the figures' screenings by outcome)."""
    submission_id, event_id = str(event.submission_id), str(event.event_id)
    for result in event.results:
        row_id = screening_row_id(submission_id, result.shortcoming.code)
        row = uow.portrait_facts.screening(row_id)
        if row is not None and not _later(event.occurred_at, event_id, row.screened_at, row.event_id):
            continue
        row = row or PortraitScreeningFact(id=row_id, screening_id=str(result.screening_id), submission_id=submission_id,
                                           shortcoming_code=result.shortcoming.code, credit_code=event.credit_code,
                                           region_code=event.region_code, screened_on=event.screened_on, outcome=result.outcome,
                                           screened_at=event.occurred_at, event_id=event_id)
        row.screening_id, row.region_code, row.screened_on = str(result.screening_id), event.region_code, event.screened_on
        row.outcome, row.item_code, row.screened_at, row.event_id = result.outcome, result.item_code, event.occurred_at, event_id
        uow.portrait_facts.add_screening(row)


# --------------------------------------------------------------------------- non-site facts (issue 17)


def _record_nonsite(uow: RegistryUnitOfWork, credit_code: str, kind: str, key: str, on: Any, status: str, details: dict[str, Any],
                    at: datetime, event_id: str) -> None:
    row_id = f"{kind}|{key}"
    row = uow.portrait_facts.nonsite_fact(row_id)
    if row is not None and (row.status == "closed" or not _later(at, event_id, row.at, row.event_id)):
        return  # a closed episode stays closed; an older event arriving late changes nothing
    row = row or PortraitNonSiteFact(id=row_id, credit_code=credit_code, kind=kind, key=key, fact_on=on, status=status, at=at, event_id=event_id)
    row.fact_on, row.status, row.details, row.at, row.event_id = on, status, details, at, event_id
    uow.portrait_facts.add_nonsite_fact(row)


def exceedance(uow: RegistryUnitOfWork, event: ExceedanceDetected, rules: PortraitRuleBook) -> None:
    """``ohs.monitoring.exceedances``: an episode opened or closed."""
    details = {"device_id": event.device_id, "factor": event.factor, "post": event.post, "measure": event.measure, "observed": event.observed,
               "limit": event.limit, "unit": event.unit}
    _record_nonsite(uow, event.credit_code, "exceedance", str(event.episode_id), event.shift_day, event.status, details, event.occurred_at,
                    str(event.event_id))
    redraw(uow, event.credit_code, rules, event.occurred_at,
           say("registry.portrait.trigger.exceedance", episode_id=str(event.episode_id), factor=event.factor, status=event.status),
           event.region_code)


def test_report_filed(uow: RegistryUnitOfWork, event: TestReportFiled, rules: PortraitRuleBook) -> None:
    """``ohs.orgs.test-reports``: a test result an organisation filed."""
    details = {"org_id": event.org_id, "report_no": event.report_no, "factor": event.factor, "post": event.post, "compliant": event.compliant,
               "result": event.result}
    _record_nonsite(uow, event.credit_code, "test_report", f"{event.org_id}|{event.report_no}|{event.factor}", event.tested_on, "filed",
                    details, event.occurred_at, str(event.event_id))
    redraw(uow, event.credit_code, rules, event.occurred_at,
           say("registry.portrait.trigger.test_report", org_id=event.org_id, report_no=event.report_no, factor=event.factor))


def exam_summary_filed(uow: RegistryUnitOfWork, event: ExamSummaryFiled, rules: PortraitRuleBook) -> None:
    """``ohs.orgs.exam-summaries``: an examination summary an institution filed."""
    details = {"org_id": event.org_id, "summary_no": event.summary_no, "examined": event.examined, "abnormal": event.abnormal,
               "suspected_occupational_disease": event.suspected_occupational_disease}
    _record_nonsite(uow, event.credit_code, "exam_summary", f"{event.org_id}|{event.summary_no}", event.examined_on, "filed", details,
                    event.occurred_at, str(event.event_id))
    redraw(uow, event.credit_code, rules, event.occurred_at,
           say("registry.portrait.trigger.exam_summary", org_id=event.org_id, summary_no=event.summary_no))
