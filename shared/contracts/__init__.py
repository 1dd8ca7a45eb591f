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

from shared.contracts.access import AccessRevoked  # noqa: F401
from shared.contracts.monitoring import (  # noqa: F401
    DeviceReadings,
    ExamSummaryFiled,
    ExceedanceDetected,
    FactorCoverage,
    MonitoringCoverage,
    OrgRated,
    Reading,
    TestReportFiled,
)
from shared.contracts.assessment import (  # noqa: F401
    AssessmentClassified,
    Assessor,
    Enterprise,
    FactorGrade,
    Flag,
    Hazard,
    LostPoints,
    Publicity,
    Report,
    ReportRejected,
    ReportSubmitted,
    SelfCheck,
    Shortcoming,
    ShortcomingKind,
    disclosed_shortcomings,
)
from shared.contracts.credit import (  # noqa: F401
    CREDIT_EVENT_KINDS,
    CREDIT_SOURCE_PENALTY,
    CREDIT_SOURCE_REGISTRY,
    CreditClassificationData,
    CreditCloudEvent,
    CreditDataSchema,
    CreditEventType,
    CreditExemptionData,
    CreditOrgDisqualifiedData,
    CreditPenaltyData,
)
from shared.contracts.envelope import (  # noqa: F401  # noqa: F401
    CATEGORIES,
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_HEADCOUNT,
    NAME_LENGTH,
    REF_LENGTH,
    TEXT_LENGTH,
    AgencyEvent,
    Category,
    CreditCode,
    Decision,
    Envelope,
    Event,
    FieldProblem,
    FreeText,
    Harm,
    HazardGrade,
    Headcount,
    ManagementGrade,
    Name,
    Nature,
    NonNegativeInt,
    Points,
    Ref,
    RequestModel,
    RuleSetRef,
    SaneDate,
    TraceEntry,
    iso_date,
    utc_now,
    validate_county_code,
    validate_credit_code,
)
from shared.contracts.penalty import (  # noqa: F401
    CaseProgressed,
    CaseStep,
    OrgDisqualified,
    PenaltyDecided,
    ScreeningOutcome,
    ScreeningRecorded,
    ScreeningResult,
)
from shared.contracts.registry import (  # noqa: F401
    ClassificationChanged,
    ExemptionChanged,
    PortraitChanged,
    PortraitDimensionSummary,
    PortraitLevel,
    RectificationAttachment,
    RectificationProgressed,
    RectificationStatus,
    RectificationStep,
    ReminderDue,
    ReminderKind,
)
from shared.contracts.sampling import (  # noqa: F401
    DrawPublished,
    InspectionRecorded,
    InspectorRef,
    PlanCommitted,
    TaskAssigned,
    ViolationRecorded,
)

EVENT_TYPES: dict[str, type[Envelope]] = {
    cls.topic: cls
    for cls in (
        ReportSubmitted, ReportRejected, AssessmentClassified, ClassificationChanged, ViolationRecorded, PenaltyDecided,
        OrgDisqualified, ExemptionChanged, ReminderDue, CaseProgressed, TaskAssigned, PlanCommitted, DrawPublished,
        InspectionRecorded, ScreeningRecorded, RectificationProgressed, PortraitChanged, AccessRevoked,
        DeviceReadings, ExceedanceDetected, MonitoringCoverage, TestReportFiled, ExamSummaryFiled, OrgRated,
    )
}
