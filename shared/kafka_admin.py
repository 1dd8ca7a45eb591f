"""Topic administration with kafka-python: create the project's topics explicitly.

    python -m shared.kafka_admin create-topics [--bootstrap 127.0.0.1:9092]
"""

from __future__ import annotations

import argparse
import logging
import time

from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError

from shared.topics import all_topic_specs

log = logging.getLogger(__name__)


def ensure_topics(bootstrap_servers: str, timeout_s: float = 60.0) -> list[str]:
    """Create every missing topic (and its .dlq) with its partition count; returns those created."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="ohs-admin", request_timeout_ms=10_000)
            break
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)
    try:
        existing = set(admin.list_topics())
        wanted = {name: parts for name, parts in all_topic_specs().items() if name not in existing}
        if wanted:
            admin.create_topics(
                {name: {"num_partitions": parts, "replication_factor": 1} for name, parts in wanted.items()},
                wait_for_metadata=True,
            )
            log.info("created topics: %s", ", ".join(sorted(wanted)))
        return sorted(wanted)
    finally:
        admin.close()


def main() -> None:
    from shared.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["create-topics"])
    parser.add_argument("--bootstrap", default=Settings().kafka_bootstrap_servers)
    args = parser.parse_args()
    created = ensure_topics(args.bootstrap)
    print(f"{len(created)} topics created" + (f": {', '.join(created)}" if created else " (all existed)"))


if __name__ == "__main__":
    main()
