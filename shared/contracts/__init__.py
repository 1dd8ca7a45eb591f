"""Contracts: the only thing services share about each other — one module per owner.

* :mod:`~shared.contracts.envelope` — the envelope every event carries and the shared value types
  (``Category``, grades, ``TraceEntry``, ``RuleSetRef``);
* :mod:`~shared.contracts.assessment` — the report (附件4) and the assessment's events;
* :mod:`~shared.contracts.registry`, :mod:`~shared.contracts.sampling`,
  :mod:`~shared.contracts.penalty` — each service's events;
* :mod:`~shared.contracts.credit` — the CloudEvents credit feed for credit-regulation systems.

Every name is re-exported here, so ``from shared.contracts import AssessmentClassified`` works.
``EVENT_TYPES`` maps each topic to its event model.
"""

from __future__ import annotations

from shared.contracts.envelope import AgencyEvent, CATEGORIES, Category, CreditCode, Decision, Envelope, Event, FieldProblem, Harm, HazardGrade, ManagementGrade, Nature, NonNegativeInt, RuleSetRef, TraceEntry, utc_now, validate_county_code, validate_credit_code  # noqa: F401
from shared.contracts.envelope import EARLIEST_DATE, LATEST_DATE, MAX_HEADCOUNT, NAME_LENGTH, REF_LENGTH, TEXT_LENGTH, FreeText, Headcount, Name, Points, Ref, SaneDate  # noqa: F401
from shared.contracts.assessment import AssessmentClassified, Assessor, Enterprise, FactorGrade, Flag, Hazard, LostPoints, Publicity, Report, ReportRejected, ReportSubmitted, SelfCheck  # noqa: F401
from shared.contracts.registry import ClassificationChanged, ExemptionChanged, ReminderDue, ReminderKind  # noqa: F401
from shared.contracts.penalty import CaseProgressed, CaseStep, OrgDisqualified, PenaltyDecided  # noqa: F401
from shared.contracts.sampling import DrawPublished, InspectionRecorded, InspectorRef, PlanCommitted, TaskAssigned, ViolationRecorded  # noqa: F401
from shared.contracts.credit import CREDIT_EVENT_KINDS, CREDIT_SOURCE_PENALTY, CREDIT_SOURCE_REGISTRY, CreditClassificationData, CreditCloudEvent, CreditDataSchema, CreditEventType, CreditExemptionData, CreditOrgDisqualifiedData, CreditPenaltyData  # noqa: F401

EVENT_TYPES: dict[str, type[Envelope]] = {
    cls.topic: cls
    for cls in (
        ReportSubmitted, ReportRejected, AssessmentClassified, ClassificationChanged, ViolationRecorded, PenaltyDecided,
        OrgDisqualified, ExemptionChanged, ReminderDue, CaseProgressed, TaskAssigned, PlanCommitted, DrawPublished,
        InspectionRecorded,
    )
}
