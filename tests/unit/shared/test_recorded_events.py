"""Events as they were recorded on the wire still read, keep every field and keep their key.

``data/events/`` holds one payload per event type of ``shared.contracts.EVENT_TYPES`` and one
CloudEvent per credit-feed type (``credit/``), each exactly as the producers sent it when recorded
(``model_dump_json()`` of the models of that day), plus older payloads that must still read (a
ClassificationChanged from before ``employees`` and ``changed``). ``index.json`` names each file's
topic and Kafka key. A contract change that breaks one of them breaks consumers reading the topics
from offset 0 (a replay, a rebuild) — change the contract compatibly instead, or add a schema version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from shared import topics
from shared.contracts import (
    CREDIT_EVENT_KINDS,
    EVENT_TYPES,
    ClassificationChanged,
    CreditCloudEvent,
    Envelope,
)

RECORDED = Path(__file__).parent / "data" / "events"
INDEX: dict[str, dict[str, str]] = json.loads((RECORDED / "index.json").read_text(encoding="utf-8"))
OLDER_CLASSIFICATION_CHANGED = "ohs.registry.classification-changed.before-employees-and-changed.json"


def recorded(name: str) -> str:
    return (RECORDED / name).read_text(encoding="utf-8").strip()


def model_for(name: str) -> type[BaseModel]:
    topic = INDEX[name]["topic"]
    return CreditCloudEvent if topic == topics.CREDIT_EVENTS else EVENT_TYPES[topic]


def kept(recorded_value: Any, dumped: Any, where: str = "$") -> list[str]:
    """Where ``dumped`` lost or changed something ``recorded_value`` had (fields added since may be extra)."""
    if isinstance(recorded_value, dict):
        if not isinstance(dumped, dict):
            return [f"{where}: was an object, now {dumped!r}"]
        problems = []
        for key, value in recorded_value.items():
            if key not in dumped:
                problems.append(f"{where}.{key}: dropped")
            else:
                problems.extend(kept(value, dumped[key], f"{where}.{key}"))
        return problems
    if isinstance(recorded_value, list):
        if not isinstance(dumped, list) or len(dumped) != len(recorded_value):
            return [f"{where}: was {recorded_value!r}, now {dumped!r}"]
        return [problem for i, (r, d) in enumerate(zip(recorded_value, dumped)) for problem in kept(r, d, f"{where}[{i}]")]
    return [] if recorded_value == dumped and type(recorded_value) is type(dumped) else [f"{where}: was {recorded_value!r}, now {dumped!r}"]


def test_every_event_type_and_every_credit_feed_type_has_a_recorded_payload() -> None:
    names = {name: entry["topic"] for name, entry in INDEX.items()}
    assert {topic for topic in names.values() if topic != topics.CREDIT_EVENTS} == set(EVENT_TYPES)
    credit_types = {json.loads(recorded(name))["type"] for name, topic in names.items() if topic == topics.CREDIT_EVENTS}
    assert credit_types == set(CREDIT_EVENT_KINDS)
    assert {str(p.relative_to(RECORDED)) for p in RECORDED.rglob("*.json")} - {"index.json"} == set(INDEX), "index.json names every file"


@pytest.mark.parametrize("name", sorted(INDEX))
def test_a_recorded_payload_still_validates_keeps_every_field_and_its_key(name: str) -> None:
    payload = recorded(name)
    model = model_for(name)
    event = model.model_validate_json(payload)
    assert kept(json.loads(payload), json.loads(event.model_dump_json())) == []
    if isinstance(event, Envelope):
        assert type(event).topic == INDEX[name]["topic"]
        assert event.partition_key == INDEX[name]["key"] and event.key == INDEX[name]["key"].encode()
    else:  # a CloudEvent: keyed by its subject, the credit code
        assert isinstance(event, CreditCloudEvent)
        assert event.subject == INDEX[name]["key"]
        assert name == f"credit/{event.type}.json"


def test_a_classification_change_from_before_employees_and_changed_still_reads() -> None:
    payload = json.loads(recorded(OLDER_CLASSIFICATION_CHANGED))
    assert "employees" not in payload and "changed" not in payload
    event = ClassificationChanged.model_validate(payload)
    assert (event.employees, event.changed) == (None, None)
    assert (event.category, event.previous_category, event.archive_version, event.industry_codes) == ("丙", None, 1, ["C3011"])
