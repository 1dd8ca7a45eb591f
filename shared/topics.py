"""Every Kafka topic in one place, with its partition count.

All events are keyed by the employer's 统一社会信用代码 so one employer's events stay in order
on one partition. Each topic has a dead-letter twin ``<topic>.dlq``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topic:
    name: str
    partitions: int
    description: str
    producers: tuple[str, ...] = ()  # the services that publish it (docs/architecture.md is drawn from this and the bootstraps)
    content_type: str = "application/json"  # the records' content-type header

    @property
    def dlq(self) -> str:
        return dead_letter_topic(self.name)


def dead_letter_topic(topic: str) -> str:
    return f"{topic}.dlq"


REPORTS_SUBMITTED = "ohs.reports.submitted"
REPORTS_REJECTED = "ohs.reports.rejected"
ASSESSMENTS_CLASSIFIED = "ohs.assessments.classified"
CLASSIFICATION_CHANGED = "ohs.registry.classification-changed"
VIOLATION_RECORDED = "ohs.inspections.violation-recorded"
PENALTY_DECIDED = "ohs.penalty.decided"
ORGS_DISQUALIFIED = "ohs.orgs.disqualified"
EXEMPTION_CHANGED = "ohs.registry.exemption-changed"
REMINDER_DUE = "ohs.registry.reminder-due"
CASE_PROGRESSED = "ohs.penalty.case-progressed"
TASK_ASSIGNED = "ohs.sampling.task-assigned"
PLAN_COMMITTED = "ohs.sampling.plan-committed"
DRAW_PUBLISHED = "ohs.sampling.draw-published"
INSPECTION_RECORDED = "ohs.sampling.inspection-recorded"
SCREENED = "ohs.penalty.screened"
RECTIFICATION_PROGRESSED = "ohs.registry.rectification-progressed"
PORTRAIT_CHANGED = "ohs.registry.portrait-changed"
ACCESS_REVOKED = "ohs.console.access-revoked"  # tokens of a subject refused from an instant (shared.revocations)
# non-site supervision (非现场执法): readings from provincial gateways, exceedance episodes, coverage; and what
# organisations file, with their star rating
MONITORING_READINGS = "ohs.monitoring.readings"
MONITORING_EXCEEDANCES = "ohs.monitoring.exceedances"
MONITORING_COVERAGE = "ohs.monitoring.coverage"
ORGS_TEST_REPORTS = "ohs.orgs.test-reports"
ORGS_EXAM_SUMMARIES = "ohs.orgs.exam-summaries"
ORGS_RATED = "ohs.orgs.rated"
# what operators did with each dead letter (replayed, discarded), written by `ohs ops dlq`; compacted, key
# "<dlq topic>:<partition>:<offset>"; no dead-letter topic of its own (shared/dead_letters.py)
DEAD_LETTER_ACTIONS = "ohs.ops.dead-letter-actions"
CREDIT_EVENTS = "ohs.credit.events"  # for external credit-regulation systems: CloudEvents 1.0, not an Event
CLOUDEVENTS_JSON = "application/cloudevents+json; charset=UTF-8"

TOPICS: tuple[Topic, ...] = (
    Topic(REPORTS_SUBMITTED, 6, "A report (附件4) accepted for classification; produced by assessment's HTTP API.", ("assessment",)),
    Topic(REPORTS_REJECTED, 6, "A submitted report that could not be classified, with the reasons.", ("assessment",)),
    Topic(ASSESSMENTS_CLASSIFIED, 6, "A report classified 甲/乙/丙 with hazard grade, management grade and trace.", ("assessment",)),
    Topic(CLASSIFICATION_CHANGED, 6, "What other services hold about an employer changed in the archive: its category (first archive or change), region, name, industry codes or headcount.", ("registry",)),
    Topic(VIOLATION_RECORDED, 6, "A violation found at inspection, recorded as a case by penalty.", ("sampling", "penalty",)),
    Topic(PENALTY_DECIDED, 6, "The decision on a case: no_penalty (初次轻微不予处罚) or penalty, with the trace.", ("penalty",)),
    Topic(EXEMPTION_CHANGED, 6, "An employer's 免检 (exemption from inspection) came into force (exempt) or ended: revoked or expired.", ("registry",)),
    Topic(REMINDER_DUE, 6, "An employer's re-assessment is due soon or overdue, or a new employer's first assessment is overdue (RULES §1).", ("registry",)),
    Topic(CASE_PROGRESSED, 6, "A case moved one step of the procedure (三步法): opened, educated, rectification ordered, commitment signed, correction verified or failed, escalated, penalty proposed, decided, closed.", ("penalty",)),
    Topic(PLAN_COMMITTED, 3, "A sampling plan was created with the SHA-256 commitment of its secret seed; key: the agency's region code.", ("sampling",)),
    Topic(DRAW_PUBLISHED, 3, "A plan's draw, published (一公开) with the seed, pool hash and algorithm version; key: the agency's region code.", ("sampling",)),
    Topic(TASK_ASSIGNED, 6, "A target drawn for inspection, with its inspectors (双随机); key: the target's credit code.", ("sampling",)),
    Topic(INSPECTION_RECORDED, 6, "The outcome of one inspection task: compliant, violations found (item codes) or not inspected (reason).", ("sampling",)),
    Topic(
        CREDIT_EVENTS, 6,
        "The credit feed: classification changes, 免检 start and end, penalty decisions, organisations disqualified, as CloudEvents 1.0 "
        "(structured JSON mode) for credit-regulation systems; subject: the credit code.",
        ("registry",),
        CLOUDEVENTS_JSON,
    ),
    Topic(SCREENED, 6, "A classified report's shortcomings screened against the no-penalty list (附件5): per shortcoming, the duty, "
          "the outcome (eligible if corrected, not eligible, no violation), the deadline and the trace.", ("penalty",)),
    Topic(RECTIFICATION_PROGRESSED, 6, "A step of an employer's rectification item (整改): raised, continued, submitted, returned, cleared (解除), "
          "reminded, overdue (listed for enforcement).", ("registry",)),
    Topic(PORTRAIT_CHANGED, 6, "An employer's risk portrait (风险画像) has a new version: guidance, not carried by the credit feed.", ("registry",)),
    Topic(ACCESS_REVOKED, 1, "A person's access ended (an account disabled in the console): every service refuses the subject's tokens "
          "issued before not_before; key: the token subject. Every service reads it whole at start-up, without a consumer group.",
          ("console",)),
    Topic(ORGS_DISQUALIFIED, 3, "A technical service organisation disqualified from comprehensive risk assessment work.", ("penalty",)),
    Topic(MONITORING_READINGS, 6, "Online monitoring readings of one device (噪声, 粉尘, 化学毒物, 高温), sent by a provincial gateway; "
          "key: the device id.", ("outside",)),  # provincial gateways: the "outside" node of the diagram
    Topic(MONITORING_EXCEEDANCES, 6, "An exceedance episode of a monitored device (a shift's TWA, a STEL or peak over the limit, a device "
          "gone silent), with the readings that prove it; opened, then closed.", ("monitoring",)),
    Topic(MONITORING_COVERAGE, 6, "What online monitoring covered of an employer's hazards over a period: devices, reporting, exceedances "
          "per factor (the sampling rule data decides what it is worth in a draw).", ("monitoring",)),
    Topic(ORGS_TEST_REPORTS, 6, "A technical service organisation's test report (检测报告) on an employer's hazard, filed by the organisation.",
          ("penalty",)),
    Topic(ORGS_EXAM_SUMMARIES, 6, "An examination institution's summary of an employer's occupational health examinations.", ("penalty",)),
    Topic(ORGS_RATED, 3, "An organisation's star rating (星级评定) changed, with the trace of its inputs.", ("penalty",)),
)


def content_type(topic: str) -> str:
    """The content-type header for records on ``topic`` (application/json unless the topic says otherwise)."""
    return next((t.content_type for t in TOPICS if t.name == topic), "application/json")


def all_topic_specs() -> dict[str, int]:
    """Topic name -> partitions, dead-letter topics included (they share the partition count)."""
    specs: dict[str, int] = {}
    for topic in TOPICS:
        specs[topic.name] = topic.partitions
        specs[topic.dlq] = topic.partitions
    specs[DEAD_LETTER_ACTIONS] = 1
    return specs
