"""The pure parts of ``ohs ops`` (shared/ops_cli.py) and the dead-letter bookkeeping (shared/dead_letters.py):
no broker here (tests/integration/test_ops_cli.py has the rest)."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from kafka import TopicPartition
from sqlalchemy import text
from typer.testing import CliRunner

from services.cli import app as ohs
from shared import dead_letters, ops_cli, topics
from shared.architecture import services
from shared.db import make_engine
from shared.migrations import upgrade

ENGLISH = {"LANG": "en_US.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""}


def test_a_group_lag_is_committed_vs_end_per_topic_and_a_partition_never_committed_counts_from_its_first_record():
    a0, a1, b0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)
    committed = {a0: SimpleNamespace(offset=7), b0: SimpleNamespace(offset=-1)}
    assert ops_cli.group_lag(committed, {a0: 10, a1: 5, b0: 4}, {a0: 0, a1: 2, b0: 1}) == {"a": 3 + 3, "b": 3}
    assert ops_cli.group_lag({a0: SimpleNamespace(offset=12)}, {a0: 10}, {}) == {"a": 0}  # never negative


def test_a_dead_letter_is_read_from_the_headers_the_consumer_writes():
    record = SimpleNamespace(
        topic="ohs.penalty.decided.dlq", partition=3, offset=41, key=b"91140000MA0000000X", value=b'{"x": 1}', timestamp=1,
        headers=[("x-dlq-original-topic", b"ohs.penalty.decided"), ("x-dlq-partition", b"2"), ("x-dlq-offset", b"17"),
                 ("x-dlq-consumer-group", b"ohs.registry"), ("x-dlq-attempts", b"5"), ("x-dlq-error-type", b"KeyError"),
                 ("x-dlq-reason", b"handler failed 5 times"), ("x-dlq-failed-at", b"2026-05-01T02:00:00+00:00"),
                 ("traceparent", b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")],
    )
    mark = dead_letters.Mark("discarded", "Wang", "junk", "2026-05-01T10:00:00+08:00", "ohs.penalty.decided")
    letter = dead_letters._letter(record, {"ohs.penalty.decided.dlq:3:41": mark})
    assert (letter.original_topic, letter.original_partition, letter.original_offset) == ("ohs.penalty.decided", 2, 17)
    assert (letter.group, letter.attempts, letter.error_type, letter.action) == ("ohs.registry", 5, "KeyError", mark)
    assert letter.failed_at is not None and letter.failed_at.isoformat() == "2026-05-01T02:00:00+00:00"
    assert letter.ref == "ohs.penalty.decided.dlq:3:41" and not letter.body_truncated and not letter.key_truncated
    summary = letter.as_dict(with_body=True)
    assert summary["action"]["by"] == "Wang" and summary["headers"]["traceparent"].startswith("00-") and summary["body"] == '{"x": 1}'
    assert dead_letters.parse_ref(letter.ref) == ("ohs.penalty.decided.dlq", 3, 41)
    with pytest.raises(ValueError):
        dead_letters.parse_ref("no-ref")


def test_every_topic_has_its_dlq_in_the_list_and_the_marks_topic_is_compacted():
    from shared.kafka_admin import TOPIC_CONFIGS

    assert dead_letters.dlq_topics() == [t.dlq for t in topics.TOPICS]
    assert topics.all_topic_specs()[topics.DEAD_LETTER_ACTIONS] == 1
    assert TOPIC_CONFIGS[topics.DEAD_LETTER_ACTIONS] == {"cleanup.policy": "compact"}


def test_a_body_is_shown_as_indented_json_when_it_is_json():
    assert ops_cli.pretty_body('{"a":{"b":"甲"}}'.encode()) == '{\n  "a": {\n    "b": "甲"\n  }\n}'
    assert ops_cli.pretty_body(b"{not json \xff") == "{not json \ufffd"


def test_every_service_is_either_rebuildable_with_what_is_lost_said_or_refused():
    assert set(ops_cli.NOT_REBUILT) | set(ops_cli.REFUSED) == set(services())
    assert not set(ops_cli.NOT_REBUILT) & set(ops_cli.REFUSED)
    for service in ops_cli.NOT_REBUILT:
        assert ops_cli.rebuild_groups(service, "ohs"), f"{service} consumes nothing: nothing to rebuild it from"


@pytest.mark.parametrize(("service", "says"), [("console", "restore it from a backup"), ("notification", "send every notification again"),
                                              ("nope", "unknown service nope")])
def test_a_rebuild_of_a_service_whose_state_is_its_own_is_refused_before_touching_anything(service, says, tmp_path: Path):
    result = CliRunner().invoke(ohs, ["ops", "rebuild", service, "--into", f"sqlite:///{tmp_path / 'x.db'}"], env=ENGLISH)
    assert result.exit_code == 1 and says in result.output
    assert not (tmp_path / "x.db").exists()


def test_the_registry_rebuild_groups_follow_its_bootstrap():
    groups = ops_cli.rebuild_groups("registry", "p")
    assert topics.ASSESSMENTS_CLASSIFIED in groups["p.registry"] and topics.ASSESSMENTS_CLASSIFIED in groups["p.registry.portrait"]


def test_outbox_list_and_requeue_on_a_service_database(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    engine = make_engine(url)
    upgrade("registry", engine)
    with engine.begin() as connection:
        for n, failed in enumerate([True, True, False]):
            connection.execute(text("INSERT INTO outbox (event_id, topic, key, payload, created_at, failed_at, error) VALUES "
                                    "(:e, 'ohs.credit.events', 'k', '{}', CURRENT_TIMESTAMP, "
                                    + ("CURRENT_TIMESTAMP, 'too large'" if failed else "NULL, NULL") + ")"), {"e": f"e{n}"})
    runner = CliRunner()
    listed = runner.invoke(ohs, ["ops", "outbox", "list", "--service", "registry", "--database-url", url, "--json"], env=ENGLISH)
    assert listed.exit_code == 0, listed.output
    assert [r["id"] for r in json.loads(listed.output)] == [1, 2]
    assert runner.invoke(ohs, ["ops", "outbox", "requeue", "--service", "registry", "--database-url", url], env=ENGLISH).exit_code == 2
    assert runner.invoke(ohs, ["ops", "outbox", "requeue", "--service", "registry", "--database-url", url, "--id", "3"], env=ENGLISH).exit_code == 1
    done = runner.invoke(ohs, ["ops", "outbox", "requeue", "--service", "registry", "--database-url", url, "--all"], env=ENGLISH)
    assert done.exit_code == 0 and "2 rows of registry back in the queue" in done.output
    assert ops_cli.set_aside_rows(engine) == []
    engine.dispose()


def test_ops_is_a_group_of_the_command_line_and_speaks_chinese_by_default():
    result = CliRunner().invoke(ohs, ["ops", "--help"], env={"LANG": "zh_CN.UTF-8", "LANGUAGE": "", "LC_ALL": "", "LC_MESSAGES": ""})
    assert result.exit_code == 0
    for command in ("status", "dlq", "rebuild", "rules", "outbox"):
        assert command in result.output


def test_rules_asks_every_service_with_a_province_token_issued_from_the_secret(monkeypatch, tmp_path: Path):
    """The sampling service answers (its real app, no broker); the others are down: said, exit code 2."""
    import httpx
    from fastapi.testclient import TestClient

    from services.sampling.bootstrap import bootstrap as sampling_app
    from tests.support import app_without_broker

    client = TestClient(app_without_broker(sampling_app, "sampling", tmp_path))
    asked = []

    def get(url: str, params: dict, headers: dict, timeout: float):
        asked.append(url)
        if url.startswith("http://sampling.test"):
            return client.get(url.removeprefix("http://sampling.test"), params=params, headers=headers)
        raise httpx.ConnectError("connection refused")

    monkeypatch.setattr(httpx, "get", get)
    monkeypatch.delenv("OHS_TOKEN", raising=False)
    env = {**ENGLISH, "OHS_SAMPLING_URL": "http://sampling.test"}
    result = CliRunner().invoke(ohs, ["ops", "rules", "--region", "141029", "--on", "2026-05-01", "--json"], env=env)
    assert result.exit_code == 2, result.output
    found = {entry["service"]: entry for entry in json.loads(result.output)}
    assert set(found) == set(ops_cli.RULE_SERVICES) and len(asked) == len(ops_cli.RULE_SERVICES)
    assert found["sampling"]["on"] == "2026-05-01" and found["sampling"]["rule_sets"]
    assert all(r["missing"] or r["version"] for r in found["sampling"]["rule_sets"])
    assert "ConnectError" in found["registry"]["error"]
    said = CliRunner().invoke(ohs, ["ops", "rules", "--region", "141029"], env=env).output
    assert "sampling 141029: " in said and "registry 141029: ConnectError" in said
