"""Topic administration with kafka-python: create the project's topics explicitly.

    python -m shared.kafka_admin create-topics [--bootstrap 127.0.0.1:9092]

The connection follows the settings (KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_*; see
shared/kafka_security.py): on a secured cluster run it as ``admin`` — the services' principals may
not create topics. New topics get KAFKA_REPLICATION_FACTOR replicas and, above 1,
KAFKA_MIN_INSYNC_REPLICAS as their ``min.insync.replicas`` (1 and 1 by default: the development
broker; 3 and 2 on deploy/kafka/cluster.sh).
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import TYPE_CHECKING, Any

from kafka.admin import KafkaAdminClient
from kafka.errors import KafkaError, SaslAuthenticationFailedError

from shared.topics import DEAD_LETTER_ACTIONS, all_topic_specs

if TYPE_CHECKING:
    from shared.settings import Settings

log = logging.getLogger(__name__)

# topic-level configs beyond the defaults: the operators' dead-letter marks keep the last record per key
# (shared/dead_letters.py), so the topic is compacted, not deleted by retention
TOPIC_CONFIGS: dict[str, dict[str, str]] = {DEAD_LETTER_ACTIONS: {"cleanup.policy": "compact"}}


def client_options(settings: Settings | None) -> dict[str, Any]:
    """kafka-python's connection options for ``settings`` (nothing for PLAINTEXT or no settings)."""
    if settings is None or settings.kafka_security_protocol == "PLAINTEXT":
        return {}
    if not settings.kafka_sasl_username or not settings.kafka_sasl_password:
        raise ValueError(f"KAFKA_SECURITY_PROTOCOL={settings.kafka_security_protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
    options: dict[str, Any] = {
        "security_protocol": settings.kafka_security_protocol,
        "sasl_mechanism": settings.kafka_sasl_mechanism,
        "sasl_plain_username": settings.kafka_sasl_username,
        "sasl_plain_password": settings.kafka_sasl_password,
    }
    if settings.kafka_security_protocol == "SASL_SSL" and settings.kafka_ssl_cafile:
        options["ssl_cafile"] = str(settings.kafka_ssl_cafile)
    return options


def admin_client(bootstrap_servers: str, settings: Settings | None = None, timeout_s: float = 60.0,
                 client_id: str = "ohs-admin") -> KafkaAdminClient:
    """An admin client, waiting up to ``timeout_s`` for the cluster to answer; refused credentials
    fail at once (waiting cannot fix them)."""
    deadline = time.monotonic() + timeout_s
    options = client_options(settings)
    while True:
        try:
            return KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id=client_id, request_timeout_ms=10_000, **options)
        except SaslAuthenticationFailedError:
            raise
        except KafkaError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def ensure_topics(bootstrap_servers: str | None = None, timeout_s: float = 60.0, settings: Settings | None = None, *,
                  replication_factor: int | None = None, min_insync_replicas: int | None = None) -> list[str]:
    """Create every missing topic (and its .dlq) with its partition count; returns those created.

    ``settings`` gives the connection (security), and by default the bootstrap servers, the
    replication factor and the minimum in-sync replicas; without settings: PLAINTEXT, 1 and 1."""
    bootstrap_servers = bootstrap_servers or (settings.kafka_bootstrap_servers if settings else "127.0.0.1:9092")
    replicas = replication_factor or (settings.kafka_replication_factor if settings else 1)
    min_isr = min_insync_replicas or (settings.kafka_min_insync_replicas if settings else 1)
    if min_isr > replicas:
        raise ValueError(f"min.insync.replicas {min_isr} cannot exceed the replication factor {replicas}")
    admin = admin_client(bootstrap_servers, settings, timeout_s)
    try:
        existing = set(admin.list_topics())
        wanted = {name: parts for name, parts in all_topic_specs().items() if name not in existing}
        if wanted:
            configs = {"min.insync.replicas": str(min_isr)} if min_isr > 1 else {}
            admin.create_topics(
                {name: {"num_partitions": parts, "replication_factor": replicas,
                        **({"configs": {**configs, **TOPIC_CONFIGS.get(name, {})}} if configs or name in TOPIC_CONFIGS else {})}
                 for name, parts in wanted.items()},
                wait_for_metadata=True,
            )
            log.info("created topics: %s", ", ".join(sorted(wanted)))
        return sorted(wanted)
    finally:
        admin.close()


def main() -> None:
    from shared.settings import Settings

    settings = Settings()
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["create-topics"])
    parser.add_argument("--bootstrap", default=settings.kafka_bootstrap_servers)
    args = parser.parse_args()
    created = ensure_topics(args.bootstrap, settings=settings)
    print(f"{len(created)} topics created" + (f": {', '.join(created)}" if created else " (all existed)"))


if __name__ == "__main__":
    main()
