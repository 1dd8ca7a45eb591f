"""The hash-chained change log (RULES §8): built, verified, tampered with, detected."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from pathlib import Path
from uuid import uuid4

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session, select

from services.registry.adapters.orm import ChainHeadRecord, ChangeLogEntry
from services.registry.bootstrap import bootstrap
from services.registry.chain import main as chain_cli
from services.registry.domain.chain import GENESIS_HASH, ChainHead, canonical_bytes, entry_hash, hashed_fields, verify
from services.registry.service_layer import chain_log, transfers
from services.registry.service_layer.handlers import archive_classification
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Principal, issue_token
from shared.contracts import AssessmentClassified, FactorGrade, RuleSetRef, TraceEntry
from shared.db import make_engine
from shared.identifiers import credit_code_check_character
from shared.migrations import upgrade
from shared.settings import settings_for

uow_of = RegistryUnitOfWork.joining  # the registry's use cases in a session the test owns and commits

CREDIT_CODE = "91141029MA0GRT8U3L"
SECRET = "test-secret-for-the-chain-tests"  # at least 16 characters


# ---------------------------------------------------------------------------- pure functions


def build_chain(n: int, region: str = "141029", first_seq: int = 1, step: int = 1) -> list[dict]:
    entries, prev = [], GENESIS_HASH
    for i in range(n):
        fields = {
            "seq": first_seq + i * step,
            "region_code": region,
            "credit_code": CREDIT_CODE,
            "change": "archived",
            "category_before": None if i == 0 else "丙",
            "category_after": "丙",
            "actor": f"system:assessment event {i}",
            "reason": f"report S-{i}",
            "payload": {"version": i + 1, "score": 82.5, "名称": "乡宁"},
            "recorded_at": datetime(2026, 1, 1, 8, 0, i, 123456, tzinfo=timezone.utc),
            "prev_hash": prev,
        }
        prev = entry_hash(fields)
        entries.append({**fields, "hash": prev})
    return entries


def test_the_canonical_form_is_sorted_compact_utf8_json_with_an_iso_utc_time() -> None:
    entry = build_chain(1)[0]
    raw = canonical_bytes(hashed_fields(entry))
    assert raw.startswith(b'{"actor":"system:assessment event 0","category_after":"\xe4\xb8\x99"')
    assert b'"recorded_at":"2026-01-01T08:00:00.123456+00:00"' in raw
    assert b'", "' not in raw and b'": ' not in raw  # no separator spaces
    document = json.loads(raw)
    assert list(document) == sorted(document) and "hash" not in document
    assert entry["hash"] == hashlib.sha256(raw).hexdigest()


def test_the_same_instant_in_another_time_zone_hashes_the_same() -> None:
    fields = hashed_fields(build_chain(1)[0])
    shifted = {**fields, "recorded_at": fields["recorded_at"].astimezone(timezone.utc).astimezone(timezone.max)}
    assert entry_hash(shifted) == entry_hash(fields)


def test_an_intact_chain_verifies_and_reports_its_head() -> None:
    chain = build_chain(5, first_seq=3, step=7)  # seqs are shared by all regions: gaps between a region's seqs are normal
    result = verify(chain, ChainHead(chain[-1]["seq"], chain[-1]["hash"]))
    assert (result.ok, result.checked, result.first_broken, result.head_hash) == (True, 5, None, chain[-1]["hash"])
    assert verify([]).ok


def test_an_edited_field_is_a_hash_mismatch_at_that_entry() -> None:
    chain = build_chain(5)
    chain[2]["category_after"] = "甲"
    result = verify(chain)
    assert (result.ok, result.first_broken, result.checked, result.credit_code) == (False, 3, 3, CREDIT_CODE)
    assert result.reason == "hash mismatch: entry 3's stored hash differs from its content"


def test_a_deleted_middle_entry_breaks_the_link_of_the_next() -> None:
    chain = build_chain(5)
    del chain[2]
    result = verify(chain)
    assert (result.ok, result.first_broken) == (False, 4)
    assert result.reason == "link broken: entry 4's prev_hash is not entry 2's hash"


def test_a_deleted_first_entry_breaks_the_genesis_link() -> None:
    result = verify(build_chain(3)[1:])
    assert (result.ok, result.first_broken) == (False, 2)
    assert "genesis" in (result.reason or "")


def test_a_rehashed_edited_entry_breaks_the_link_of_the_next_one() -> None:
    chain = build_chain(5)
    chain[1]["category_after"] = "甲"
    chain[1]["hash"] = entry_hash(hashed_fields(chain[1]))  # the attacker recomputes the hash
    result = verify(chain)
    assert (result.ok, result.first_broken) == (False, 3)
    assert result.reason == "link broken: entry 3's prev_hash is not entry 2's hash"


def test_a_removed_tail_is_caught_against_the_head() -> None:
    chain = build_chain(4)
    head = ChainHead(chain[-1]["seq"], chain[-1]["hash"])
    result = verify(chain[:-1], head)
    assert (result.ok, result.first_broken) == (False, 4)
    assert result.reason is not None and result.reason.startswith("sequence gap")


def test_entries_out_of_order_or_repeated_are_caught() -> None:
    chain = build_chain(3)
    swapped = verify([chain[0], chain[2], chain[1]])
    assert (swapped.first_broken, swapped.reason) == (3, "link broken: entry 3's prev_hash is not entry 1's hash")
    duplicated = verify([chain[0], chain[0]])
    assert (duplicated.first_broken, (duplicated.reason or "").split(":")[0]) == (1, "sequence gap")


# ---------------------------------------------------------------------------- handler on SQLite


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path}/registry.db")
    upgrade("registry", engine)
    yield engine
    engine.dispose()


def classified(category: str, assessed_on: date, region: str = "141029", credit_code: str = CREDIT_CODE) -> AssessmentClassified:
    hazard, management = {"丙": ("Ⅲ", "B"), "乙": ("Ⅱ", "B"), "甲": ("Ⅰ", "A")}[category]
    return AssessmentClassified(
        producer="assessment",
        credit_code=credit_code,
        submission_id=uuid4(),
        enterprise_name="乡宁县示例水泥有限公司",
        region_code=region,
        industry_codes=["C3011"],
        employees=86,
        assessed_on=assessed_on,
        hazard_grade=hazard,
        management_grade=management,
        score=82.5,
        category=category,
        factors=[
            FactorGrade(factor="矽尘", nature="严重", nature_source="catalogue", compliant=False, exposed=24, headcount_band="10-49", grade=hazard)
        ],
        rule_set=RuleSetRef(jurisdiction="CN", version="2022.1", effective_from=date(2022, 11, 1), provisional=True),
        trace=[TraceEntry(rule="附件3 matrix", detail=f"{hazard} × {management} → {category}")],
    )


def apply(engine: Engine, *events: AssessmentClassified) -> None:
    for event in events:
        with Session(engine) as session:
            archive_classification(uow_of(session), event)
            session.commit()


def entries(engine: Engine, region: str | None = None) -> list[ChangeLogEntry]:
    with Session(engine) as session:
        statement = select(ChangeLogEntry).order_by(ChangeLogEntry.seq)
        if region:
            statement = statement.where(ChangeLogEntry.region_code == region)
        return list(session.exec(statement))


def verify_db(engine: Engine, region: str = "141029"):  # noqa: ANN201
    with Session(engine) as session:
        return chain_log.verify_region(session, region)


def test_archiving_two_classifications_chains_two_entries_with_before_and_after(engine: Engine) -> None:
    first, second = classified("丙", date(2023, 6, 1)), classified("乙", date(2024, 6, 1))
    apply(engine, first, second)

    one, two = entries(engine)
    assert (one.change, one.category_before, one.category_after, one.prev_hash) == ("archived", None, "丙", GENESIS_HASH)
    assert (two.change, two.category_before, two.category_after, two.prev_hash) == ("archived", "丙", "乙", one.hash)
    assert one.actor == f"system:assessment event {first.event_id}"
    assert two.payload == {
        "submission_id": str(second.submission_id),
        "version": 2,
        "category": "乙",
        "hazard_grade": "Ⅱ",
        "management_grade": "B",
        "score": 82.5,
        "assessed_on": "2024-06-01",
        "rule_set": {"jurisdiction": "CN", "version": "2022.1", "effective_from": "2022-11-01", "provisional": True},
        "became_current": True,
    }
    assert two.reason == f"评估报告 {second.submission_id} 将综合风险类别由 丙 调整为 乙"
    assert all(e.hash == entry_hash(hashed_fields(e)) for e in (one, two))  # the stored row hashes as it was written

    with Session(engine) as session:
        head = session.get(ChainHeadRecord, "141029")
        assert head is not None and (head.last_seq, head.last_hash) == (two.seq, two.hash)
    result = verify_db(engine)
    assert (result.ok, result.checked) == (True, 2)


def test_a_late_older_report_is_logged_as_history_with_the_category_unchanged(engine: Engine) -> None:
    apply(engine, classified("乙", date(2024, 6, 1)), classified("丙", date(2023, 6, 1)))
    late = entries(engine)[-1]
    assert (late.category_before, late.category_after, late.payload["category"], late.payload["became_current"]) == ("乙", "乙", "丙", False)


def test_a_redelivered_report_adds_no_entry(engine: Engine) -> None:
    event = classified("丙", date(2023, 6, 1))
    apply(engine, event, event.model_copy(update={"event_id": uuid4()}))
    assert len(entries(engine)) == 1


def test_chains_of_two_regions_are_independent(engine: Engine) -> None:
    other = "91141081MA0GRT8U3" + credit_code_check_character("91141081MA0GRT8U3")  # an employer of 侯马市
    apply(
        engine,
        classified("丙", date(2023, 6, 1)),
        classified("乙", date(2023, 6, 2), region="141081", credit_code=other),
        classified("甲", date(2024, 6, 1)),
        classified("丙", date(2024, 6, 2), region="141081", credit_code=other),
    )
    xiangning, houma = entries(engine, "141029"), entries(engine, "141081")
    assert [e.seq for e in xiangning] == [1, 3] and [e.seq for e in houma] == [2, 4]
    assert xiangning[0].prev_hash == houma[0].prev_hash == GENESIS_HASH
    assert xiangning[1].prev_hash == xiangning[0].hash and houma[1].prev_hash == houma[0].hash

    with engine.begin() as connection:  # tamper with 141081 only
        connection.execute(text("UPDATE registry_change_log SET category_after = '甲' WHERE seq = 4"))
    assert verify_db(engine, "141029").ok
    assert verify_db(engine, "141081").first_broken == 4


def test_an_employer_moving_county_is_logged_in_both_chains(engine: Engine) -> None:
    apply(engine, classified("丙", date(2023, 6, 1)), classified("丙", date(2024, 6, 1), region="141081"))
    with Session(engine) as session:  # the report asks for the move (RULES §5a); 侯马市 accepts it
        houma = Principal("u-h", "侯马市 王五", "county", "141081")
        transfers.decide_by_staff(uow_of(session), houma, CREDIT_CODE, "accept", None)
    left = entries(engine, "141029")[-1]
    arrived = entries(engine, "141081")[-1]
    assert (left.change, left.category_before, left.category_after, left.payload["to_region_code"]) == ("region_left", "丙", None, "141081")
    assert (arrived.change, arrived.category_before, arrived.category_after, arrived.prev_hash) == ("archived", "丙", "丙", GENESIS_HASH)
    assert verify_db(engine, "141029").ok and verify_db(engine, "141081").ok


def three_entries(engine: Engine) -> list[ChangeLogEntry]:
    apply(engine, classified("丙", date(2023, 6, 1)), classified("乙", date(2024, 6, 1)), classified("甲", date(2025, 6, 1)))
    return entries(engine)


def test_a_field_edited_in_the_database_is_detected_at_that_entry(engine: Engine) -> None:
    three_entries(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE registry_change_log SET category_after = '甲' WHERE seq = 2"))
    result = verify_db(engine)
    assert (result.ok, result.first_broken, result.credit_code) == (False, 2, CREDIT_CODE)
    assert result.reason == "hash mismatch: entry 2's stored hash differs from its content"


def test_an_edited_payload_is_detected(engine: Engine) -> None:
    three_entries(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE registry_change_log SET payload = json_set(payload, '$.score', 95.0) WHERE seq = 1"))
    assert verify_db(engine).first_broken == 1


def test_a_middle_entry_deleted_in_the_database_breaks_the_link(engine: Engine) -> None:
    three_entries(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM registry_change_log WHERE seq = 2"))
    result = verify_db(engine)
    assert (result.ok, result.first_broken) == (False, 3)
    assert result.reason == "link broken: entry 3's prev_hash is not entry 1's hash"


def test_a_rehashed_entry_in_the_database_breaks_the_next_link(engine: Engine) -> None:
    rows = three_entries(engine)
    forged = {**hashed_fields(rows[1]), "category_after": "丙"}
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE registry_change_log SET category_after = '丙', hash = :h WHERE seq = 2"), {"h": entry_hash(forged)}
        )
    result = verify_db(engine)
    assert (result.ok, result.first_broken) == (False, 3)
    assert result.reason == "link broken: entry 3's prev_hash is not entry 2's hash"


def test_a_deleted_last_entry_is_caught_against_the_head(engine: Engine) -> None:
    three_entries(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM registry_change_log WHERE seq = 3"))
    result = verify_db(engine)
    assert (result.ok, result.first_broken) == (False, 3)
    assert (result.reason or "").startswith("sequence gap")


# ---------------------------------------------------------------------------- CLI


def test_the_cli_says_ok_then_exits_1_naming_the_tampered_entry(engine: Engine, capsys: pytest.CaptureFixture[str],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")  # the command line speaks Chinese (English under LANG=en_*)
    three_entries(engine)
    url = str(engine.url)
    assert chain_cli(["verify", "--region", "141029", "--database-url", url]) == 0
    assert capsys.readouterr().out.startswith("完好 141029：已校验 3 条记录，链头哈希 ")

    with engine.begin() as connection:
        connection.execute(text("UPDATE registry_change_log SET reason = 'nothing to see' WHERE seq = 2"))
    assert chain_cli(["verify", "--region", "141029", "--database-url", url]) == 1
    assert f"断裂 141029：第 2 条记录（统一社会信用代码 {CREDIT_CODE}）：" in capsys.readouterr().out
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    assert chain_cli(["verify", "--region", "141029", "--database-url", url]) == 1
    out = capsys.readouterr().out
    assert f"BROKEN 141029: entry 2 (credit code {CREDIT_CODE}): hash mismatch" in out

    assert chain_cli(["verify", "--all", "--database-url", url]) == 1
    assert "BROKEN 141029" in capsys.readouterr().out


def test_the_cli_runs_as_a_module(engine: Engine) -> None:
    import os
    import subprocess
    import sys

    three_entries(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE registry_change_log SET actor = 'someone else' WHERE seq = 1"))
    english = {name: value for name, value in os.environ.items() if name not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    done = subprocess.run(
        [sys.executable, "-m", "services.registry.chain", "verify", "--all", "--database-url", str(engine.url)],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[3],
        env={**english, "LANG": "en_US.UTF-8"},
    )
    assert done.returncode == 1, done.stderr
    assert "BROKEN 141029: entry 1" in done.stdout


# ---------------------------------------------------------------------------- HTTP (no Kafka: the app's lifespan is not run)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = bootstrap(settings_for("registry", data_dir=tmp_path, auth_secret=SECRET), create_topics=False)
    engine = app.state.runtime.engine
    upgrade("registry", engine)
    apply(engine, classified("丙", date(2023, 6, 1)), classified("乙", date(2024, 6, 1)))
    yield TestClient(app)  # not entered: no start-up, so no broker is contacted
    engine.dispose()


def bearer(role: str, scope: str) -> dict[str, str]:
    where = {"credit_code": scope} if role == "employer" else {"region_code": scope}
    return {"Authorization": f"Bearer {issue_token(SECRET, role, f'test {role}', **where)}"}  # type: ignore[arg-type]


def test_the_verify_endpoint_answers_for_staff_and_auditors_of_the_region(client: TestClient) -> None:
    for role, scope in [("county", "141029"), ("city", "141000"), ("province", "140000"), ("auditor", "141000")]:
        answer = client.get("/audit/chain/141029/verify", headers=bearer(role, scope))
        assert answer.status_code == 200, (role, answer.text)
        assert answer.json() == {"region_code": "141029", "ok": True, "checked": 2, "first_broken": None}


def test_the_verify_endpoint_names_the_first_broken_entry(client: TestClient) -> None:
    with client.app.state.runtime.engine.begin() as connection:  # type: ignore[attr-defined]
        connection.execute(text("UPDATE registry_change_log SET category_before = '甲' WHERE seq = 2"))
    answer = client.get("/audit/chain/141029/verify", headers=bearer("auditor", "141029"))
    assert answer.json() == {
        "region_code": "141029",
        "ok": False,
        "checked": 2,
        "first_broken": {"seq": 2, "credit_code": CREDIT_CODE, "code": "registry.chain.hash_mismatch", "params": {"seq": 2},
                         "reason": "哈希不符：第2条记录保存的哈希与其内容不一致（内容被改动）"},
    }
    english = client.get("/audit/chain/141029/verify", headers={**bearer("auditor", "141029"), "Accept-Language": "en"})
    assert english.json()["first_broken"]["reason"] == "hash mismatch: entry 2's stored hash differs from its content"


def test_the_audit_endpoints_hide_other_regions_from_employers_and_outsiders(client: TestClient) -> None:
    for headers in (bearer("county", "141081"), bearer("employer", CREDIT_CODE), bearer("auditor", "140100")):
        assert client.get("/audit/chain/141029/verify", headers=headers).status_code == 404
        assert client.get("/audit/chain/141029", headers=headers).status_code == 404
    assert client.get("/audit/chain/141029/verify").status_code == 401
    assert client.get("/audit/chain/141000/verify", headers=bearer("auditor", "141000")).status_code == 422


def test_the_chain_lists_entries_page_by_page(client: TestClient) -> None:
    headers = bearer("auditor", "141029")
    first = client.get("/audit/chain/141029", params={"limit": 1}, headers=headers).json()
    assert [e["category_after"] for e in first["items"]] == ["丙"] and first["next_from_seq"] == 2
    rest = client.get("/audit/chain/141029", params={"from_seq": first["next_from_seq"]}, headers=headers).json()
    assert [(e["seq"], e["category_before"], e["category_after"]) for e in rest["items"]] == [(2, "丙", "乙")]
    assert rest["items"][0]["prev_hash"] == first["items"][0]["hash"] and rest["next_from_seq"] is None
    assert rest["head"] == {"last_seq": 2, "last_hash": rest["items"][0]["hash"]}
