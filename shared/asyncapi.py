"""The AsyncAPI 3.0 description of every topic, generated from the event contracts.

    python -m shared.asyncapi > docs/asyncapi.yaml     (or: make asyncapi)

A unit test fails when docs/asyncapi.yaml is out of date with the contracts.
"""

from __future__ import annotations

import sys
from typing import Any

import yaml
from pydantic import BaseModel

from shared import topics
from shared import architecture
from shared.architecture import subscriptions
from shared.contracts import EVENT_TYPES, CreditCloudEvent

EXTERNAL = "external"  # systems outside the platform

# Topics read by systems outside the platform (credit-regulation systems, the public publication).
READ_OUTSIDE = frozenset({topics.PLAN_COMMITTED, topics.DRAW_PUBLISHED, topics.CREDIT_EVENTS})


def flows() -> dict[str, tuple[str, list[str]]]:
    """topic -> (its producers, its consumers), from shared/topics.py and the services' bootstraps
    (shared.architecture reads their subscriptions): a consumer named service.suffix has a group of its own."""
    found: dict[str, tuple[str, list[str]]] = {}
    every = subscriptions()
    for topic in topics.TOPICS:
        consumers = [s.service + (f".{s.group_suffix}" if s.group_suffix else "") for s in every if s.topic == topic.name]
        found[topic.name] = (", ".join(topic.producers), consumers + ([EXTERNAL] if topic.name in READ_OUTSIDE else []))
    return found


# Topics whose payload is not an Event: the credit feed's CloudEvents.
PAYLOADS: dict[str, type[BaseModel]] = {topics.CREDIT_EVENTS: CreditCloudEvent}


def _receiver_summary(consumer: str) -> str:
    if consumer == EXTERNAL:
        return ("consumed by systems outside the platform (credit-regulation systems, publication portals), in groups of "
                "their own; dedupe by (source, id) for CloudEvents, by event_id otherwise")
    return f"consumed by {consumer} (group ohs.{consumer}; at-least-once, idempotent by event_id)"


def _channel_id(topic: str) -> str:
    return topic.replace(".", "_").replace("-", "_")


def document() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    flow = flows()
    for topic in topics.TOPICS:
        model = EVENT_TYPES.get(topic.name) or PAYLOADS[topic.name]
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas[name] = definition
        schemas[model.__name__] = schema
        messages[model.__name__] = {
            "name": model.__name__,
            "title": model.__name__,
            "contentType": topic.content_type,
            "summary": topic.description,
            "bindings": {"kafka": {"key": {"type": "string", "description": getattr(model, "key_description", "统一社会信用代码 of the employer")}}},
            "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
        }
        cid = _channel_id(topic.name)
        channels[cid] = {
            "address": topic.name,
            "description": f"{topic.description} Partitions: {topic.partitions}; key: {getattr(model, 'key_description', 'credit code')}. Dead letters: {topic.dlq}.",
            "messages": {model.__name__: {"$ref": f"#/components/messages/{model.__name__}"}},
        }
        producers, consumers = flow[topic.name]
        for producer in producers.split(", "):
            operations[f"{producer}_sends_{cid}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{cid}"},
                "summary": ("published by provincial monitoring gateways outside the platform (SCRAM user ohs-gateway: WRITE on this "
                            "topic only); the monitoring service screens every reading" if producer == architecture.OUTSIDE
                            else f"published by {producer} (from its outbox, after its transaction commits)"),
            }
        for consumer in consumers:
            operations[f"{_channel_id(consumer)}_receives_{cid}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{cid}"},
                "summary": _receiver_summary(consumer),
            }
        dlq_id = _channel_id(topic.dlq)
        channels[dlq_id] = {
            "address": topic.dlq,
            "description": (
                f"Dead letters of {topic.name}: the original bytes and key, with headers x-dlq-original-topic, "
                "x-dlq-partition, x-dlq-offset, x-dlq-consumer-group, x-dlq-attempts, x-dlq-error-type, "
                "x-dlq-reason, x-dlq-failed-at."
            ),
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Occupational-health classified supervision (职业卫生分类监督执法) events",
            "version": "1",
            "description": "Every event carries event_id, schema_version, occurred_at and producer; an employer's event carries its credit_code (the Kafka key), an agency's event (plan, draw) its region_code (the key).",
        },
        "servers": {"local": {"host": "127.0.0.1:9092", "protocol": "kafka", "description": "make run's broker"}},
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render() -> str:
    return yaml.safe_dump(document(), allow_unicode=True, sort_keys=True, width=120)


if __name__ == "__main__":
    sys.stdout.write(render())
