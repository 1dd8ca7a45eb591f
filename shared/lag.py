"""Consumer lag and dead letters as the broker sees them, measured on a timer (``OHS_LAG_INTERVAL_S``).

For every consumer group of the service and every partition of the topics it reads: the partition's log
end offset minus the group's committed offset (a group that has committed nothing yet: the end minus the
earliest retained offset, since the groups start at the earliest). Measured from the broker, not from the
records a consumer last handled, so a consumer that has stopped — hung, crashed, fenced, its pod gone —
shows a lag that grows as producers go on. The same probe counts the dead letters of the topics the
service reads that no operator has replayed or discarded (``shared.dead_letters``), and remembers each
group's state for the readiness check. Blocking (kafka-python); the runtime runs it in a thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from shared.dead_letters import group_less_consumer, unhandled_dead_letters
from shared.kafka_admin import admin_client
from shared.metrics import ServiceMetrics
from shared.settings import Settings
from shared.topics import dead_letter_topic


@dataclass
class LagProbe:
    settings: Settings
    metrics: ServiceMetrics
    subscriptions: Callable[[], Iterable[tuple[str, str]]]  # (group, topic) pairs the service consumes
    # the last probe's view of each group's state, in the broker's words: Stable, PreparingRebalance, Empty, Dead …
    groups: dict[str, str] = field(default_factory=dict)
    _admin: Any = field(default=None, init=False, repr=False)
    _consumer: Any = field(default=None, init=False, repr=False)

    def _clients(self) -> tuple[Any, Any]:
        if self._admin is None:
            self._admin = admin_client(self.settings.kafka_bootstrap_servers, self.settings, timeout_s=10,
                                       client_id=f"ohs-{self.settings.service_name}-lag")
        if self._consumer is None:
            self._consumer = group_less_consumer(self.settings, client_id=f"ohs-{self.settings.service_name}-lag", request_timeout_ms=10_000)
        return self._admin, self._consumer

    def close(self) -> None:
        for client in (self._admin, self._consumer):
            try:
                if client is not None:
                    client.close()
            except Exception:  # noqa: BLE001 - closing what may already be broken
                pass
        self._admin = self._consumer = None

    def measure(self) -> dict[tuple[str, str, int], int]:
        """One probe: sets the gauges and returns {(group, topic, partition): lag}. On a broker error the
        clients are dropped (made again next time) and the error raised to the periodic job, which logs it."""
        from kafka import TopicPartition

        pairs = sorted(set(self.subscriptions()))
        try:
            admin, consumer = self._clients()
            by_group: dict[str, list[str]] = {}
            for group, topic in pairs:
                by_group.setdefault(group, []).append(topic)
            partitions = {topic: sorted(consumer.partitions_for_topic(topic) or ()) for _, topic in pairs}
            wanted = [TopicPartition(topic, p) for topic, ps in partitions.items() for p in ps]
            ends = consumer.end_offsets(wanted) if wanted else {}
            starts = consumer.beginning_offsets(wanted) if wanted else {}
            lags: dict[tuple[str, str, int], int] = {}
            offsets = admin.list_group_offsets(list(by_group)) if by_group else {}
            for group, group_topics in by_group.items():
                committed = offsets.get(group) or {}
                for topic in group_topics:
                    for p in partitions[topic]:
                        tp = TopicPartition(topic, p)
                        position = committed.get(tp)
                        offset = position.offset if position is not None and position.offset >= 0 else starts.get(tp, 0)
                        lag = max(ends.get(tp, 0) - offset, 0)
                        lags[(group, topic, p)] = lag
                        self.metrics.consumer_lag.labels(topic=topic, group=group, partition=str(p)).set(lag)
            if by_group:
                for group, description in admin.describe_groups(list(by_group)).items():
                    self.groups[group] = str(description.get("group_state") or description.get("state") or "Unknown")
            dlq_topics = sorted({dead_letter_topic(topic) for _, topic in pairs})
            if dlq_topics:  # on the same connection: the dead letters of what the service reads, not yet handled
                for topic, count in unhandled_dead_letters(self.settings, dlq_topics, consumer).items():
                    self.metrics.dead_letters_unhandled.labels(topic=topic).set(count)
        except Exception:
            self.close()
            raise
        self.metrics.lag_probe_last_success.set(time.time())
        return lags
