"""The console's own tables: accounts, sessions and the audit log. It holds nothing of another service."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from shared.contracts import utc_now


class AccountRow(SQLModel, table=True):
    __tablename__ = "console_account"

    id: str = Field(primary_key=True, max_length=36)
    username: str = Field(unique=True, max_length=64)  # stored lower-case: sign-in is case-insensitive
    display_name: str = Field(max_length=100)
    role: str = Field(max_length=10)
    region_code: str | None = Field(default=None, index=True, max_length=6)
    credit_code: str | None = Field(default=None, index=True, max_length=18)
    password_hash: str = Field(max_length=200)  # argon2id, PHC string
    admin: bool = False
    disabled: bool = False
    failed_sign_ins: int = 0
    locked_until: datetime | None = None
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utc_now)


class SessionRow(SQLModel, table=True):
    """A signed-in browser. The cookie holds a random secret; only its SHA-256 is stored here, so a copy
    of the database does not sign anyone in."""

    __tablename__ = "console_session"

    id_hash: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(index=True, max_length=36)
    csrf_token: str = Field(max_length=64)  # every form and htmx request of the session carries it
    created_at: datetime = Field(default_factory=utc_now)
    last_seen_at: datetime = Field(default_factory=utc_now)
    expires_at: datetime  # created_at + the absolute maximum; idleness is judged from last_seen_at
    ended_at: datetime | None = None  # signed out, or ended by an administrator


class AuditRow(SQLModel, table=True):
    """Sign-ins (good and bad) and account changes, append-only and hash-chained: each entry's hash covers
    the previous entry's, so an edited or deleted entry breaks every later link (views.verify_audit)."""

    __tablename__ = "console_audit"

    seq: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utc_now)
    actor: str = Field(max_length=200)  # username (or "cli:<user>") who did it; for a failed sign-in, the name tried
    action: str = Field(max_length=40)  # sign_in, sign_in_failed, sign_in_locked, sign_out, account_created, …
    target: str = Field(default="", max_length=200)  # the account concerned (username)
    detail: str = Field(default="", max_length=1000)
    client: str = Field(default="", max_length=64)  # the client's address
    previous_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


MODELS = [AccountRow, SessionRow, AuditRow]
