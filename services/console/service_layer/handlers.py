"""The console's use cases: accounts, sign-in and sessions. Each runs in one unit of work and writes its
audit entry in the same transaction as its change."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from services.console.adapters.orm import SessionRow
from services.console.adapters.passwords import hash_password, password_matches
from services.console.domain.accounts import (
    Account,
    AccountRefused,
    LockoutPolicy,
    after_failed_sign_in,
    after_sign_in,
    may_manage,
    new_account_problem,
    password_problem,
    username_problem,
)
from services.console.domain.audit import AuditEntry
from services.console.service_layer.unit_of_work import AbstractConsoleUnitOfWork
from shared.contracts.access import AccessRevoked

PRODUCER = "console"
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most once a minute per session


@dataclass(frozen=True)
class SessionPolicy:
    idle: timedelta
    maximum: timedelta


@dataclass(frozen=True)
class SignedIn:
    account: Account
    session_secret: str  # the cookie's value (only its hash is stored)
    csrf_token: str


@dataclass(frozen=True)
class ActiveSession:
    account: Account
    id_hash: str
    csrf_token: str


def session_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _audit(uow: AbstractConsoleUnitOfWork, now: datetime, actor: str, action: str, target: str = "", detail: str = "",
           client: str = "") -> None:
    uow.audit.append(AuditEntry(now, actor[:200], action, target[:200], detail[:1000], client[:64]))


def create_account(uow: AbstractConsoleUnitOfWork, *, actor: Account | None, actor_label: str, username: str, password: str,
                   display_name: str, role: str, scope: str, admin: bool, now: datetime, client: str = "",
                   employer_region: str | None = None, replace_existing: bool = False) -> Account:
    """A new account. ``actor`` None: the CLI (an operator on the host), which may create any account, and
    with ``replace_existing`` give an existing username this role, scope and password (enabled again).
    Otherwise the actor must be an administrator whose jurisdiction covers the new account."""
    for problem in (username_problem(username), password_problem(password, username),
                    new_account_problem(role, scope, display_name, admin)):
        if problem:
            raise problem
    if actor is not None and not may_manage(actor, role, scope, employer_region):
        raise AccountRefused("console.account.outside_jurisdiction", "scope", scope=scope)
    with uow:
        existing = uow.accounts.by_username(username)
        if existing is not None and not (replace_existing and actor is None):
            raise AccountRefused("console.account.username_taken", "username", username=username)
        account = Account(
            id=existing.id if existing else str(uuid.uuid4()), username=username.lower(), display_name=display_name.strip(), role=role,
            region_code=employer_region if role == "employer" else scope, credit_code=scope if role == "employer" else None,
            password_hash=hash_password(password), admin=admin, created_by=actor_label, created_at=now,
        )
        uow.accounts.save(account)
        _audit(uow, now, actor_label, "account_replaced" if existing else "account_created", account.username,
               f"role={role} scope={scope} admin={admin}", client)
        uow.commit()
    return account


class SignInRefused(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def sign_in(uow: AbstractConsoleUnitOfWork, username: str, password: str, *, now: datetime, client: str,
            lockout: LockoutPolicy, sessions: SessionPolicy) -> SignedIn:
    """A session for the right password of an enabled, unlocked account; otherwise :class:`SignInRefused`
    (a wrong password and an unknown username answer alike, and take as long: the hash is checked anyway)."""
    with uow:
        account = uow.accounts.by_username(username)
        matches = password_matches(account.password_hash if account else None, password)
        if account is None:
            _audit(uow, now, username, "sign_in_failed", username, "no such account", client)
            uow.commit()
            raise SignInRefused("console.sign_in.wrong")
        if account.locked(now):
            _audit(uow, now, username, "sign_in_locked", account.username, f"locked until {account.locked_until}", client)
            uow.commit()
            raise SignInRefused("console.sign_in.locked")
        if not matches:
            account = after_failed_sign_in(account, now, lockout)
            uow.accounts.save(account)
            detail = f"account locked until {account.locked_until}" if account.locked(now) else f"failure {account.failed_sign_ins} in a row"
            _audit(uow, now, username, "sign_in_failed", account.username, detail, client)
            uow.commit()
            raise SignInRefused("console.sign_in.locked" if account.locked(now) else "console.sign_in.wrong")
        if account.disabled:
            _audit(uow, now, username, "sign_in_failed", account.username, "account disabled", client)
            uow.commit()
            raise SignInRefused("console.sign_in.disabled")
        uow.accounts.save(after_sign_in(account))
        secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
        uow.sessions.add(SessionRow(id_hash=session_hash(secret), account_id=account.id, csrf_token=csrf, created_at=now,
                                    last_seen_at=now, expires_at=now + sessions.maximum))
        _audit(uow, now, account.username, "sign_in", account.username, "", client)
        uow.commit()
    return SignedIn(after_sign_in(account), secret, csrf)


def active_session(uow: AbstractConsoleUnitOfWork, secret: str, *, now: datetime, policy: SessionPolicy) -> ActiveSession | None:
    """The session of a cookie, if it is still good: not ended, not past its maximum, not idle too long,
    its account enabled. A good session's last_seen_at moves on (at most once a minute)."""
    id_hash = session_hash(secret)
    with uow:
        row = uow.sessions.get(id_hash)
        if row is None or row.ended_at is not None or now >= _aware(row.expires_at) or now - _aware(row.last_seen_at) > policy.idle:
            return None
        account = uow.accounts.get(row.account_id)
        if account is None or account.disabled:
            return None
        if now - _aware(row.last_seen_at) >= TOUCH_EVERY:
            row.last_seen_at = now
            uow.sessions.add(row)
            uow.commit()
        return ActiveSession(account, id_hash, row.csrf_token)


def _aware(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes of what was stored as UTC."""
    from datetime import timezone

    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def sign_out(uow: AbstractConsoleUnitOfWork, session: ActiveSession, *, now: datetime, client: str) -> None:
    with uow:
        row = uow.sessions.get(session.id_hash)
        if row is not None and row.ended_at is None:
            row.ended_at = now
            uow.sessions.add(row)
            _audit(uow, now, session.account.username, "sign_out", session.account.username, "", client)
            uow.commit()


def _managed(uow: AbstractConsoleUnitOfWork, actor: Account, username: str) -> Account:
    account = uow.accounts.by_username(username)
    if account is None or account.id == actor.id or not may_manage(actor, account.role, account.scope, account.region_code):
        raise AccountRefused("console.account.not_found", "username", username=username)
    return account


def _end_access(uow: AbstractConsoleUnitOfWork, account: Account, now: datetime, actor: str, reason: str) -> None:
    """End the account's sessions here and its tokens everywhere (every service reads the revocation)."""
    uow.sessions.end_all_of(account.id, now)
    uow.publish(AccessRevoked(producer=PRODUCER, subject=account.subject, not_before=now, reason=reason, by=actor))


def set_disabled(uow: AbstractConsoleUnitOfWork, actor: Account, username: str, disabled: bool, *, now: datetime,
                 client: str = "") -> Account:
    with uow:
        account = _managed(uow, actor, username)
        if account.disabled == disabled:
            return account
        account = replace(account, disabled=disabled, failed_sign_ins=0, locked_until=None)
        uow.accounts.save(account)
        if disabled:
            _end_access(uow, account, now, actor.username, "account disabled")
        _audit(uow, now, actor.username, "account_disabled" if disabled else "account_enabled", account.username, "", client)
        uow.commit()
    return account


def reset_password(uow: AbstractConsoleUnitOfWork, actor: Account, username: str, new_password: str, *, now: datetime,
                   client: str = "") -> Account:
    """An administrator sets a new password (the person forgot theirs, or it leaked): every session and
    token of the account ends, and a lock is lifted."""
    if problem := password_problem(new_password, username):
        raise problem
    with uow:
        account = _managed(uow, actor, username)
        account = replace(account, password_hash=hash_password(new_password), failed_sign_ins=0, locked_until=None)
        uow.accounts.save(account)
        _end_access(uow, account, now, actor.username, "password reset")
        _audit(uow, now, actor.username, "password_reset", account.username, "", client)
        uow.commit()
    return account


def change_own_password(uow: AbstractConsoleUnitOfWork, account_id: str, current: str, new_password: str, *, now: datetime,
                        client: str = "") -> Account:
    with uow:
        account = uow.accounts.get(account_id)
        if account is None or not password_matches(account.password_hash, current):
            raise AccountRefused("console.account.current_password_wrong", "current_password")
        if problem := password_problem(new_password, account.username):
            raise problem
        account = replace(account, password_hash=hash_password(new_password))
        uow.accounts.save(account)
        _audit(uow, now, account.username, "password_changed", account.username, "", client)
        uow.commit()
    return account


def disable_by_operator(uow: AbstractConsoleUnitOfWork, username: str, *, now: datetime, operator: str) -> Account:
    """The operator on the host disables an account (``ohs console disable``): as an administrator would."""
    with uow:
        account = uow.accounts.by_username(username)
        if account is None:
            raise AccountRefused("console.account.not_found", "username", username=username)
        if not account.disabled:
            account = replace(account, disabled=True)
            uow.accounts.save(account)
            _end_access(uow, account, now, operator, "account disabled")
            _audit(uow, now, operator, "account_disabled", account.username, "", "cli")
            uow.commit()
    return account
