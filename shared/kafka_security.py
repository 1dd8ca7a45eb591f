"""Who may do what on Kafka: each service's principal and ACLs, derived from the code, and the
client security the settings ask for.

    python -m shared.kafka_security show                # the ACLs, one line each
    python -m shared.kafka_security apply               # as admin: create the topics, then make the ACLs so

The single development broker (deploy/kafka/kafka.sh) is open: PLAINTEXT, no authoriser. Everywhere
else (deploy/kafka/cluster.sh is the reference) Kafka authenticates with SASL/SCRAM and authorises with
ACLs, nothing allowed that no ACL allows:

* principals: ``User:admin`` (super user: creates topics, manages ACLs) and one per service,
  ``User:ohs-<service>`` (``ohs-assessment``, ``ohs-registry``, ``ohs-sampling``, ``ohs-penalty``, ``ohs-notification``, ``ohs-console``,
  ``ohs-monitoring``); and ``User:ohs-gateway`` for the provincial monitoring gateways outside the platform, which may
  only WRITE (and DESCRIBE) ``ohs.monitoring.readings``.
* a service may WRITE (and DESCRIBE) the topics it produces — ``producers`` of each
  :data:`shared.topics.TOPICS` entry — and READ (and DESCRIBE) those it consumes — the
  ``consumer.subscribe(topics.X, …)`` calls in ``services/<service>/bootstrap.py``, read with
  :mod:`ast` by :mod:`shared.architecture` — plus WRITE the ``<topic>.dlq`` of each topic it consumes
  (its dead letters). It may READ its consumer groups: ``<prefix>.<service>`` and
  ``<prefix>.<service>.<suffix>`` (prefix ``OHS_CONSUMER_GROUP_PREFIX``, default ``ohs``). Nothing
  else: no CREATE (the admin creates the topics), no cluster operations (producers are not
  idempotent; since Kafka 3.0 WRITE on a topic would cover IDEMPOTENT_WRITE anyway). So a service
  cannot forge another's events, and cannot read what it does not consume.
* ``apply`` makes the ACLs of the service principals exactly these: missing ones are created, others
  of those principals deleted (the admin's and other principals' ACLs are left alone).

Client settings (every process; see :class:`shared.settings.Settings`):

    KAFKA_SECURITY_PROTOCOL   PLAINTEXT (default) | SASL_PLAINTEXT | SASL_SSL
    KAFKA_SASL_MECHANISM      SCRAM-SHA-512 (default) | SCRAM-SHA-256
    KAFKA_SASL_USERNAME       ohs-<service> for a service, admin for ``apply`` and create-topics
    KAFKA_SASL_PASSWORD       its password (cluster.sh keeps them in KAFKA_DATA_DIR/credentials)
    KAFKA_SSL_CAFILE          SASL_SSL: the CA that signed the brokers' certificates (default: the system's)
    KAFKA_REPLICATION_FACTOR  topics the admin creates: replicas (default 1; 3 on the cluster)
    KAFKA_MIN_INSYNC_REPLICAS their min.insync.replicas (default 1; 2 on the cluster); above 1 the
                              services' producers also wait for all in-sync replicas (acks=all)

``deploy/kafka/cluster.sh env ohs-registry`` prints these for one principal. On a secured cluster a
service does not create topics at start-up (it may not): run ``apply`` as admin first.
"""

from __future__ import annotations

import argparse
import logging
import ssl
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from shared import architecture
from shared.topics import ACCESS_REVOKED, DEAD_LETTER_ACTIONS, TOPICS, dead_letter_topic

if TYPE_CHECKING:
    from faststream.security import BaseSecurity
    from kafka.admin import ACL, KafkaAdminClient

    from shared.settings import Settings

log = logging.getLogger(__name__)

SUPER_USER = "admin"
PRINCIPAL_PREFIX = "ohs-"
CLUSTER_RESOURCE = "kafka-cluster"
GATEWAY = "gateway"  # User:ohs-gateway: the provincial monitoring gateways, outside the platform


def user_name(service: str) -> str:
    """The SCRAM user a service connects as: ``ohs-<service>``."""
    return f"{PRINCIPAL_PREFIX}{service}"


def principal(service: str) -> str:
    return f"User:{user_name(service)}"


@dataclass(frozen=True, order=True)
class Grant:
    """One ALLOW ACL: ``principal`` may ``operation`` on the ``resource_type`` named ``name``
    (``pattern`` LITERAL: exactly that name; PREFIXED: every name starting with it), from any host."""

    principal: str
    resource_type: str  # TOPIC | GROUP | CLUSTER
    name: str
    pattern: str  # LITERAL | PREFIXED
    operation: str  # READ | WRITE | DESCRIBE | …

    def __str__(self) -> str:
        return f"{self.principal:<22} {self.operation:<9} {self.resource_type:<6} {self.pattern:<8} {self.name}"


def produced_topics(service: str) -> list[str]:
    """The topics ``service`` publishes (``Topic.producers`` in shared/topics.py)."""
    return [t.name for t in TOPICS if service in t.producers]


def consumed_topics(service: str, root: Path = architecture.SERVICES_DIR) -> list[str]:
    """The topics ``service`` subscribes to in its bootstrap (in any of its consumer groups)."""
    return sorted({s.topic for s in architecture.subscriptions(root) if s.service == service})


def service_grants(service: str, group_prefix: str = "ohs", root: Path = architecture.SERVICES_DIR) -> list[Grant]:
    """Everything ``service``'s principal is allowed, derived from the topics and its subscriptions."""
    who = principal(service)
    grants: set[Grant] = set()
    for topic in produced_topics(service):
        grants |= {Grant(who, "TOPIC", topic, "LITERAL", op) for op in ("WRITE", "DESCRIBE")}
    for topic in consumed_topics(service, root):
        grants |= {Grant(who, "TOPIC", topic, "LITERAL", op) for op in ("READ", "DESCRIBE")}
        grants |= {Grant(who, "TOPIC", dead_letter_topic(topic), "LITERAL", op) for op in ("WRITE", "DESCRIBE")}
    # every service reads the revocations whole, without a group (shared/revocations.py)
    grants |= {Grant(who, "TOPIC", ACCESS_REVOKED, "LITERAL", op) for op in ("READ", "DESCRIBE")}
    # … and the operators' dead-letter marks, to count the dead letters nobody has handled (shared/lag.py)
    grants |= {Grant(who, "TOPIC", DEAD_LETTER_ACTIONS, "LITERAL", op) for op in ("READ", "DESCRIBE")}
    # its own group <prefix>.<service>, and the extra groups <prefix>.<service>.<suffix> (not <prefix>.<service>x…)
    group = f"{group_prefix}.{service}"
    grants |= {Grant(who, "GROUP", group, "LITERAL", op) for op in ("READ", "DESCRIBE")}
    grants |= {Grant(who, "GROUP", f"{group}.", "PREFIXED", op) for op in ("READ", "DESCRIBE")}
    return sorted(grants)


def gateway_grants() -> list[Grant]:
    """What the provincial monitoring gateways (outside the platform, one SCRAM user ``ohs-gateway``) may do: WRITE
    and DESCRIBE the topics published from outside (``ohs.monitoring.readings``); nothing else, no group."""
    who = principal(GATEWAY)
    return sorted({Grant(who, "TOPIC", topic, "LITERAL", op) for topic in produced_topics(architecture.OUTSIDE) for op in ("WRITE", "DESCRIBE")})


def all_grants(group_prefix: str = "ohs", root: Path = architecture.SERVICES_DIR) -> list[Grant]:
    """The ACLs of every service of the platform (every services/<service>/bootstrap.py), and of the gateways."""
    return [g for service in architecture.services(root) for g in service_grants(service, group_prefix, root)] + gateway_grants()


def managed_principals(root: Path = architecture.SERVICES_DIR) -> list[str]:
    """The principals whose ACLs ``apply`` makes exactly :func:`all_grants`: the services' and the gateways'."""
    return sorted({principal(s) for s in architecture.services(root)} | {principal(GATEWAY)})


def _acl(grant: Grant) -> ACL:
    from kafka.admin import ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern, ResourceType

    return ACL(
        principal=grant.principal, host="*", operation=ACLOperation[grant.operation], permission_type=ACLPermissionType.ALLOW,
        resource_pattern=ResourcePattern(ResourceType[grant.resource_type], grant.name, ACLResourcePatternType[grant.pattern]),
    )


def _grant(acl: ACL) -> Grant | None:
    """The Grant an existing ACL is, or None for what this module never makes (DENY, a host)."""
    from kafka.admin import ACLPermissionType

    if acl.permission_type != ACLPermissionType.ALLOW or acl.host != "*":
        return None
    pattern = acl.resource_pattern
    return Grant(acl.principal, pattern.resource_type.name, pattern.resource_name, pattern.pattern_type.name, acl.operation.name)


def _existing(admin: KafkaAdminClient, who: str) -> list[ACL]:
    from kafka.admin import ACLFilter, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePatternFilter, ResourceType

    acls, _ = admin.describe_acls(ACLFilter(
        principal=who, host=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
        resource_pattern=ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY),
    ))
    return acls


def apply_acls(settings: Settings, group_prefix: str | None = None, root: Path = architecture.SERVICES_DIR,
               prune: bool = True, timeout_s: float = 60.0, wait_s: float = 60.0) -> tuple[list[Grant], list[Grant]]:
    """Make the service principals' ACLs exactly :func:`all_grants`, connected as ``settings`` says
    (the super user), and wait (up to ``wait_s``) until every broker enforces them: a broker busy
    creating many partitions applies new ACLs seconds after the controller accepted them, and until
    then refuses the services. Returns (created, deleted)."""
    from kafka.admin import ACLFilter, ResourcePatternFilter

    from shared.kafka_admin import admin_client

    wanted = all_grants(group_prefix or settings.consumer_group_prefix, root)
    principals = managed_principals(root)
    admin = admin_client(settings.kafka_bootstrap_servers, settings, timeout_s)
    try:
        existing = [acl for who in principals for acl in _existing(admin, who)]
        have = {_grant(acl) for acl in existing}
        created = [g for g in wanted if g not in have]
        if created:
            result = admin.create_acls([_acl(g) for g in created])
            if result["failed"]:
                raise RuntimeError(f"could not create {len(result['failed'])} ACLs: {result['failed'][:3]}")
        stale = [acl for acl in existing if _grant(acl) not in set(wanted)] if prune else []
        if stale:
            filters = [ACLFilter(acl.principal, acl.host, acl.operation, acl.permission_type,
                                 ResourcePatternFilter(acl.resource_pattern.resource_type, acl.resource_pattern.resource_name,
                                                       acl.resource_pattern.pattern_type)) for acl in stale]
            for _, _, error in admin.delete_acls(filters):
                if error.errno:  # NoError has errno 0
                    raise RuntimeError(f"could not delete an ACL: {error}")
        deleted = sorted(g for g in (_grant(a) for a in stale) if g is not None)
        if wait_s and (created or stale):
            _wait_for_every_broker(admin, principals, set(wanted), wait_s)
        log.info("ACLs: %d created, %d deleted, %d in force", len(created), len(stale), len(wanted))
        return created, deleted
    finally:
        admin.close()


def _wait_for_every_broker(admin: KafkaAdminClient, principals: list[str], wanted: set[Grant], wait_s: float) -> None:
    """Until each broker's own view of the principals' ACLs is ``wanted`` (kafka-python has no public
    call for one node, hence its connection manager)."""
    from kafka.admin import ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourceType
    from kafka.protocol.admin import DescribeAclsRequest

    request = DescribeAclsRequest(
        resource_type_filter=ResourceType.ANY, resource_name_filter=None, pattern_type_filter=ACLResourcePatternType.ANY,
        principal_filter=None, host_filter=None, operation=ACLOperation.ANY, permission_type=ACLPermissionType.ANY,
    )
    pending = [b["broker_id"] for b in admin.describe_cluster()["brokers"]]
    deadline = time.monotonic() + wait_s
    while pending:
        node = pending[0]
        try:
            acls, _ = admin._convert_describe_acls_response_to_acls(admin._manager.run(admin._manager.send, request, node))
            if {_grant(a) for a in acls if a.principal in principals} == wanted:
                pending.pop(0)
                continue
        except Exception:  # noqa: BLE001 - a broker not answering yet: ask again
            log.debug("broker %s did not describe its ACLs yet", node, exc_info=True)
        if time.monotonic() > deadline:
            raise TimeoutError(f"brokers {pending} do not enforce the new ACLs after {wait_s} s")
        time.sleep(0.5)


def provision(settings: Settings) -> tuple[list[str], list[Grant], list[Grant]]:
    """As the super user: create the missing topics (with the settings' replication), then apply the ACLs."""
    from shared.kafka_admin import ensure_topics

    topics = ensure_topics(settings.kafka_bootstrap_servers, settings=settings)
    created, deleted = apply_acls(settings)
    return topics, created, deleted


def broker_security(settings: Settings) -> BaseSecurity | None:
    """The FastStream security object for the settings: None for PLAINTEXT, else SCRAM (256 or 512)
    with the principal's credentials, over TLS (trusting KAFKA_SSL_CAFILE, else the system CAs) for SASL_SSL."""
    if settings.kafka_security_protocol == "PLAINTEXT":
        return None
    from faststream.security import SASLScram256, SASLScram512

    if not settings.kafka_sasl_username or not settings.kafka_sasl_password:
        raise ValueError(f"KAFKA_SECURITY_PROTOCOL={settings.kafka_security_protocol} needs KAFKA_SASL_USERNAME and KAFKA_SASL_PASSWORD")
    context = None
    if settings.kafka_security_protocol == "SASL_SSL":
        context = ssl.create_default_context(cafile=str(settings.kafka_ssl_cafile) if settings.kafka_ssl_cafile else None)
    scram = SASLScram512 if settings.kafka_sasl_mechanism == "SCRAM-SHA-512" else SASLScram256
    return scram(settings.kafka_sasl_username, settings.kafka_sasl_password, ssl_context=context,
                 use_ssl=settings.kafka_security_protocol == "SASL_SSL")


def main(argv: list[str] | None = None) -> int:
    from shared.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m shared.kafka_security", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["show", "apply"])
    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "show":
        for grant in all_grants(settings.consumer_group_prefix):
            print(grant)
        return 0
    if settings.kafka_security_protocol == "PLAINTEXT":
        print("error: apply needs a secured cluster: set KAFKA_SECURITY_PROTOCOL and the admin's KAFKA_SASL_* "
              "(deploy/kafka/cluster.sh env admin)", file=sys.stderr)
        return 1
    topics, created, deleted = provision(settings)
    print(f"{len(topics)} topics created; ACLs: {len(created)} created, {len(deleted)} deleted")
    return 0


if __name__ == "__main__":
    sys.exit(main())
