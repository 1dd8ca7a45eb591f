"""Registry events as the notification service receives them, for the tests."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Any

from shared.contracts import ClassificationChanged, PortraitChanged, PortraitDimensionSummary, RectificationProgressed, ReminderDue

OCCURRED = datetime.now(timezone.utc)  # news: a week-old event is not e-mailed (a replay)


def archived(credit_code: str, name: str, region_code: str = "141029", version: int = 1) -> ClassificationChanged:
    return ClassificationChanged(producer="registry", credit_code=credit_code, enterprise_name=name, region_code=region_code,
                                 archive_version=version, previous_category=None, category="乙", hazard_grade="Ⅱ",
                                 management_grade="B", submission_id=uuid.uuid4(), reason="first report archived", occurred_at=OCCURRED)


def rectification(credit_code: str, step: str, region_code: str = "141029", item_id: uuid.UUID | None = None, **changes: Any) -> RectificationProgressed:
    status = {"raised": "open", "continued": "open", "reminded": "open", "submitted": "submitted", "returned": "returned",
              "cleared": "cleared", "overdue": "overdue"}[step]
    fields: dict[str, Any] = dict(
        producer="registry", credit_code=credit_code, item_id=item_id or uuid.uuid4(), region_code=region_code,
        shortcoming_code="checklist.4.3", shortcoming_text="检测结果未公布", submission_id=uuid.uuid4(), step=step, status=status,
        on=date(2026, 3, 2), deadline=date(2026, 3, 16), actor="system", detail="", occurred_at=OCCURRED,
    )
    fields.update(changes)
    return RectificationProgressed(**fields)


def portrait(credit_code: str, name: str, region_code: str = "141029", version: int = 3) -> PortraitChanged:
    return PortraitChanged(producer="registry", credit_code=credit_code, region_code=region_code, enterprise_name=name, version=version,
                           dimensions=[PortraitDimensionSummary(name="testing", level="high", shortcomings=2),
                                       PortraitDimensionSummary(name="training", level="low", shortcomings=0)],
                           reason="report archived", occurred_at=OCCURRED)


def reminder(credit_code: str, name: str, kind: str = "reassessment_due_soon", region_code: str = "141029", days: int = 30) -> ReminderDue:
    return ReminderDue(producer="registry", credit_code=credit_code, kind=kind, region_code=region_code, due_on=date(2026, 4, 1), days=days,
                       enterprise_name=name, reason="re-assessment every 3 years", occurred_at=OCCURRED)
