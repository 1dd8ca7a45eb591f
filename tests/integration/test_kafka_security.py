"""The secured cluster (deploy/kafka/cluster.sh: 3 KRaft nodes, SASL/SCRAM, StandardAuthorizer) with
the ACLs shared/kafka_security.py derives from the code: each service's principal writes only what it
produces and reads only what it consumes, so a forged event from the wrong principal is refused.

The cluster is started once for this module (about 25 s) and stopped after it."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import GroupAuthorizationFailedError, KafkaConnectionError, TopicAuthorizationFailedError
from faststream.security import SASLScram256, SASLScram512
from kafka.admin import ConfigResource, ConfigResourceType
from kafka.errors import ClusterAuthorizationFailedError
from kafka.errors import TopicAuthorizationFailedError as AdminTopicAuthorizationFailedError

from shared import architecture, topics
from shared.contracts import AssessmentClassified, ClassificationChanged, DeviceReadings, FactorGrade, Reading, RuleSetRef, TraceEntry
from shared.kafka_admin import admin_client, client_options
from shared.kafka_security import GATEWAY, SUPER_USER, all_grants, broker_security, principal, provision, service_grants, user_name
from shared.ports import free_port_run
from shared.settings import Settings, settings_for
from tests.support import eventually, new_credit_code, serving

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "deploy" / "kafka" / "cluster.sh"


@dataclass
class Cluster:
    bootstrap: str
    passwords: dict[str, str]
    env: dict[str, str]

    def security(self, user: str, password: str | None = None) -> dict[str, Any]:
        """Settings fields connecting as ``user`` (with its password unless another is given)."""
        return {
            "kafka_bootstrap_servers": self.bootstrap, "kafka_security_protocol": "SASL_PLAINTEXT",
            "kafka_sasl_mechanism": "SCRAM-SHA-512", "kafka_sasl_username": user,
            "kafka_sasl_password": self.passwords[user] if password is None else password,
        }

    def settings(self, user: str, **overrides: Any) -> Settings:
        return Settings(**{**self.security(user), **overrides})

    def client(self, user: str | None, password: str | None = None) -> dict[str, Any]:
        """aiokafka options for ``user`` (None: no credentials at all)."""
        if user is None:
            return {"bootstrap_servers": self.bootstrap}
        return {
            "bootstrap_servers": self.bootstrap, "security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "SCRAM-SHA-512",
            "sasl_plain_username": user, "sasl_plain_password": self.passwords[user] if password is None else password,
        }




@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    data = Path(tempfile.mkdtemp(prefix="ohs-kafka-cluster-"))
    env = dict(os.environ, KAFKA_DATA_DIR=str(data), KAFKA_CLUSTER_PORT=str(free_port_run(6)))
    try:
        started = subprocess.run([str(SCRIPT), "start"], env=env, capture_output=True, text=True, timeout=180)
        assert started.returncode == 0, started.stderr[-3000:]
        bootstrap = started.stdout.strip().splitlines()[-1]
        passwords = dict(line.split("=", 1) for line in (data / "credentials").read_text().splitlines())
        yield Cluster(bootstrap, passwords, env)
    finally:
        subprocess.run([str(SCRIPT), "stop"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def secured(cluster: Cluster) -> Cluster:
    """The admin has created the topics (RF 3, min ISR 2) and applied every service's ACLs."""
    topics_created, acls_created, _ = provision(cluster.settings(SUPER_USER, kafka_replication_factor=3, kafka_min_insync_replicas=2))
    assert topics.ASSESSMENTS_CLASSIFIED in topics_created and acls_created
    return cluster


def classified(code: str) -> AssessmentClassified:
    return AssessmentClassified(
        producer="assessment", credit_code=code, submission_id=uuid.uuid4(), enterprise_name=f"安全测试企业 {code[-4:]}",
        region_code="141029", industry_codes=["C3011"], employees=40, assessed_on=date.today() - timedelta(days=30),
        hazard_grade="Ⅱ", management_grade="B", score=80.5, category="乙",
        factors=[FactorGrade(factor="矽尘", nature="严重", nature_source="catalogue", compliant=True, exposed=12,
                             headcount_band="10–49", grade="Ⅱ")],
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="附件3", detail="Ⅱ × B → 乙")],
    )


async def publish(cluster: Cluster, user: str, topic: str, event: Any) -> None:
    producer = AIOKafkaProducer(**cluster.client(user), request_timeout_ms=10_000)
    await producer.start()
    try:
        await producer.send_and_wait(topic, event.model_dump_json().encode(), key=event.key)
    finally:
        await producer.stop()


async def read(cluster: Cluster, user: str, topic: str, group: str | None, until: Callable[[list[Any]], bool],
               timeout: float = 20.0) -> list[Any]:
    """Records of ``topic`` from the beginning as ``user`` (in ``group``), until ``until(records)`` or the time is up."""
    consumer = AIOKafkaConsumer(topic, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False, **cluster.client(user))
    await consumer.start()
    records: list[Any] = []
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not until(records):
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                records.extend(batch)
        return records
    finally:
        await consumer.stop()


def test_the_acls_follow_the_topics_producers_and_the_bootstraps_subscriptions() -> None:
    registry = service_grants("registry")
    allowed = {(g.operation, g.name) for g in registry}
    assert ("READ", topics.ASSESSMENTS_CLASSIFIED) in allowed  # it consumes it …
    assert ("WRITE", topics.ASSESSMENTS_CLASSIFIED) not in allowed  # … and may not forge it
    assert ("WRITE", topics.ASSESSMENTS_CLASSIFIED + ".dlq") in allowed  # its dead letters
    assert ("WRITE", topics.CLASSIFICATION_CHANGED) in allowed and ("WRITE", topics.CREDIT_EVENTS) in allowed
    assert {g.name for g in registry if g.resource_type == "GROUP"} == {"ohs.registry", "ohs.registry."}
    assert ("WRITE", topics.ASSESSMENTS_CLASSIFIED) in {(g.operation, g.name) for g in service_grants("assessment")}
    grants = all_grants()
    assert {g.principal for g in grants} == {principal(s) for s in architecture.services()} | {principal(GATEWAY)}
    assert {(g.operation, g.name) for g in grants if g.principal == principal(GATEWAY)} == {
        ("WRITE", topics.MONITORING_READINGS), ("DESCRIBE", topics.MONITORING_READINGS)}, "a gateway only writes readings"
    assert not [g for g in grants if g.operation in {"CREATE", "ALTER", "DELETE", "ALL"} or g.resource_type == "CLUSTER"]
    for sub in architecture.subscriptions():  # every subscription can read its topic in its group
        who = principal(sub.service)
        assert any(g.principal == who and g.operation == "READ" and g.name == sub.topic for g in grants)


def test_the_settings_choose_the_client_security() -> None:
    assert broker_security(Settings()) is None and client_options(Settings()) == {}
    sasl = {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "ohs-penalty", "kafka_sasl_password": "pw"}
    secure = broker_security(Settings(**sasl))
    assert isinstance(secure, SASLScram512) and secure.use_ssl and secure.ssl_context is not None
    assert isinstance(broker_security(Settings(**{**sasl, "kafka_security_protocol": "SASL_PLAINTEXT",
                                                   "kafka_sasl_mechanism": "SCRAM-SHA-256"})), SASLScram256)
    assert client_options(Settings(**sasl, kafka_ssl_cafile="/etc/ca.pem")) == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "ohs-penalty",
        "sasl_plain_password": "pw", "ssl_cafile": "/etc/ca.pem",
    }
    with pytest.raises(ValueError, match="KAFKA_SASL_USERNAME"):
        broker_security(Settings(kafka_security_protocol="SASL_PLAINTEXT"))


def test_the_cluster_has_three_nodes_the_users_and_replicated_topics(secured: Cluster) -> None:
    status = subprocess.run([str(SCRIPT), "status"], env=secured.env, capture_output=True, text=True, timeout=30)
    assert status.returncode == 0 and status.stdout.count("serving") == 3, status.stdout
    credentials = Path(secured.env["KAFKA_DATA_DIR"]) / "credentials"
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    assert set(secured.passwords) == {SUPER_USER, user_name(GATEWAY)} | {user_name(s) for s in architecture.services()}

    admin = admin_client(secured.bootstrap, secured.settings(SUPER_USER))
    try:
        assert len(admin.describe_cluster()["brokers"]) == 3
        [described] = admin.describe_topics([topics.ASSESSMENTS_CLASSIFIED])
        assert {len(p["replica_nodes"]) for p in described["partitions"]} == {3}
        configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topics.PENALTY_DECIDED + ".dlq")])
        assert configs["topic"][topics.PENALTY_DECIDED + ".dlq"]["min.insync.replicas"]["value"] == "2"
    finally:
        admin.close()
    # applying again, as an operator would (cluster.sh env admin, then the module's command), changes nothing
    exports = subprocess.run([str(SCRIPT), "env", SUPER_USER], env=secured.env, capture_output=True, text=True, timeout=30).stdout
    admin_env = dict(line.removeprefix("export ").split("=", 1) for line in exports.splitlines())
    assert admin_env["KAFKA_BOOTSTRAP_SERVERS"] == secured.bootstrap and admin_env["KAFKA_REPLICATION_FACTOR"] == "3"
    again = subprocess.run([sys.executable, "-m", "shared.kafka_security", "apply"], env={**secured.env, **admin_env}, cwd=REPO,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 0 and "0 topics created; ACLs: 0 created, 0 deleted" in again.stdout, again.stderr[-2000:]


def test_a_service_principal_may_not_create_topics(secured: Cluster) -> None:
    admin = admin_client(secured.bootstrap, secured.settings("ohs-registry"))
    try:
        with pytest.raises((AdminTopicAuthorizationFailedError, ClusterAuthorizationFailedError)):
            admin.create_topics({"ohs.registry.forged-topic": {"num_partitions": 1, "replication_factor": 3}})
    finally:
        admin.close()


async def test_a_forged_classification_is_refused_and_never_read(secured: Cluster) -> None:
    genuine, forged = classified(new_credit_code()), classified(new_credit_code())
    await publish(secured, "ohs-assessment", topics.ASSESSMENTS_CLASSIFIED, genuine)
    with pytest.raises(TopicAuthorizationFailedError):
        await publish(secured, "ohs-registry", topics.ASSESSMENTS_CLASSIFIED, forged)

    keys = lambda records: {r.key for r in records}  # noqa: E731
    seen = await read(secured, "ohs-registry", topics.ASSESSMENTS_CLASSIFIED, f"ohs.registry.it-{uuid.uuid4().hex[:8]}",
                      lambda rs: genuine.key in keys(rs))
    assert genuine.key in keys(seen) and forged.key not in keys(seen)

    with pytest.raises(GroupAuthorizationFailedError):  # the registry may not read in another service's group
        await read(secured, "ohs-registry", topics.ASSESSMENTS_CLASSIFIED, "ohs.sampling", bool, timeout=10)
    with pytest.raises(TopicAuthorizationFailedError):  # sampling does not consume classifications
        await read(secured, "ohs-sampling", topics.ASSESSMENTS_CLASSIFIED, "ohs.sampling.it", bool, timeout=10)


async def test_a_gateway_may_publish_readings_and_nothing_else(secured: Cluster) -> None:
    readings = DeviceReadings(producer="gateway", gateway_id="gw-it", device_id="it-dust-1",
                              readings=[Reading(device_id="it-dust-1", at=datetime.now(UTC), value=0.5)])
    await publish(secured, user_name(GATEWAY), topics.MONITORING_READINGS, readings)
    with pytest.raises(TopicAuthorizationFailedError):  # it cannot forge what the platform decides …
        await publish(secured, user_name(GATEWAY), topics.ASSESSMENTS_CLASSIFIED, classified(new_credit_code()))
    with pytest.raises((TopicAuthorizationFailedError, GroupAuthorizationFailedError)):  # … nor read anything
        await read(secured, user_name(GATEWAY), topics.MONITORING_READINGS, "ohs.gateway.it", bool, timeout=10)


async def test_a_wrong_password_or_no_credentials_are_refused(secured: Cluster, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="aiokafka")
    for options in (secured.client("ohs-assessment", password="not-the-password"), secured.client(None)):
        producer = AIOKafkaProducer(**options, request_timeout_ms=5_000)
        with pytest.raises(KafkaConnectionError):
            await asyncio.wait_for(producer.start(), 30)
        await producer.stop()
    assert "SaslAuthenticationFailed" in caplog.text


async def test_the_registry_runs_as_its_principal(secured: Cluster, tmp_path: Path) -> None:
    """The registry service, connected as ohs-registry, archives a classification the assessment principal
    published and announces the change, which sampling's principal may read (and the credit feed, in the
    registry's second consumer group, turns into a CloudEvent)."""
    from services.registry.bootstrap import bootstrap as registry_app

    settings = settings_for("registry", data_dir=tmp_path, consumer_retry_backoff_s=0.05, kafka_min_insync_replicas=2,
                            **secured.security("ohs-registry"))
    code = new_credit_code()
    async with serving(registry_app(settings)) as client:
        health = (await client.get("/readyz")).json()
        assert health["checks"]["kafka"] == "ok", health
        await publish(secured, "ohs-assessment", topics.ASSESSMENTS_CLASSIFIED, classified(code))

        async def archived() -> bool:
            return (await client.get(f"/enterprises/{code}")).status_code == 200

        await eventually(archived, timeout=40, what="the classification archived by the registry")
        ours = lambda records: [r for r in records if r.key == code.encode()]  # noqa: E731
        changes = ours(await read(secured, "ohs-sampling", topics.CLASSIFICATION_CHANGED, "ohs.sampling.it-security",
                                  lambda rs: bool(ours(rs)), timeout=30))
        feed = ours(await read(secured, SUPER_USER, topics.CREDIT_EVENTS, None, lambda rs: bool(ours(rs)), timeout=30))
    assert [ClassificationChanged.model_validate_json(r.value).category for r in changes] == ["乙"]
    assert len(feed) == 1
