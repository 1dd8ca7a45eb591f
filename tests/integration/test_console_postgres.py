"""The console's accounts, sessions and audit log on PostgreSQL: concurrent sign-ins keep one unbroken
audit chain (the advisory lock), and a session made on one console replica is honoured by another."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from services.console import views
from services.console.domain.accounts import LockoutPolicy
from services.console.service_layer import handlers
from services.console.service_layer.unit_of_work import ConsoleUnitOfWork
from shared.contracts import utc_now
from shared.db import make_engine
from shared.migrations import upgrade
from shared.unit_of_work import sql_unit_of_work_factory

pytestmark = pytest.mark.integration

LOCKOUT = LockoutPolicy(failures=5, minutes=15)
SESSIONS = handlers.SessionPolicy(idle=timedelta(minutes=30), maximum=timedelta(hours=10))


def test_concurrent_sign_ins_on_two_replicas_keep_one_audit_chain_and_share_sessions(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade("console", engine)
    replica_a = sql_unit_of_work_factory(engine, lambda: None, ConsoleUnitOfWork)
    replica_b = sql_unit_of_work_factory(make_engine(postgres_url), lambda: None, ConsoleUnitOfWork)
    for n in range(4):
        handlers.create_account(replica_a(), actor=None, actor_label="test", username=f"officer{n}", password="a-long-pass-9",
                                display_name=f"officer {n}", role="county", scope="141029", admin=False, now=utc_now())

    def sign_in_many(n: int) -> list[str]:
        uow = replica_a if n % 2 else replica_b
        secrets = []
        for i in range(10):
            password = "a-long-pass-9" if i % 3 else "wrong-password-1"
            try:
                signed = handlers.sign_in(uow(), f"officer{n}", password, now=utc_now(), client="test", lockout=LOCKOUT, sessions=SESSIONS)
                secrets.append(signed.session_secret)
            except handlers.SignInRefused:
                pass
        return secrets

    with ThreadPoolExecutor(4) as pool:
        made = [secret for secrets in pool.map(sign_in_many, range(4)) for secret in secrets]

    entries, total = views.audit_log(engine, limit=200)
    assert total == 4 + 40  # four accounts made, forty sign-in attempts
    assert views.verify_audit(engine) is None  # one chain, no fork, whatever the interleaving
    # a session made through one replica is good on the other (they share the database)
    assert all(handlers.active_session(replica_b(), secret, now=utc_now(), policy=SESSIONS) for secret in made)
    assert len(made) == 4 * 6
