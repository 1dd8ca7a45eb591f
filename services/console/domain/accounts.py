"""Console accounts: who may sign in, in which role and scope, who may create whom, and when an account
locks after failed sign-ins. Pure: no I/O; the password's hash is an opaque string here (adapters/passwords.py).

An account's *scope* is what its bearer tokens carry (shared/auth.py): a region code for staff and auditors,
a 统一社会信用代码 for an employer. Administrators are province or city staff with ``admin``; they create and
disable the accounts of their own jurisdiction (a city administrator: its city's counties, employers and
auditors; a province administrator: anyone of the province). The first administrator is made from the CLI.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from shared.auth import ROLES, STAFF, scope_problem
from shared.i18n import Message
from shared.jurisdiction import region_prefix

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{2,63}$")
PASSWORD_MIN, PASSWORD_MAX = 10, 128
DISPLAY_NAME_MAX = 100
ADMIN_ROLES = frozenset({"province", "city"})


class AccountRefused(ValueError):
    """Why an account change is refused: a message code and its parameters, and the form field at fault."""

    def __init__(self, code: str, field: str | None = None, **params: object) -> None:
        super().__init__(code)
        self.message = Message(code=code, params=dict(params))
        self.field = field


@dataclass(frozen=True)
class Account:
    id: str
    username: str
    display_name: str  # shown in audit trails and the services' records of who did what
    role: str  # employer | county | city | province | auditor
    region_code: str | None  # staff and auditors: their region; an employer: the county of its archive when the account was made
    credit_code: str | None  # an employer
    password_hash: str
    admin: bool = False  # may create and disable accounts of its jurisdiction (province and city only)
    disabled: bool = False
    failed_sign_ins: int = 0  # in a row; back to 0 on a successful sign-in
    locked_until: datetime | None = None
    created_by: str = ""
    created_at: datetime | None = None

    @property
    def subject(self) -> str:
        """The token subject the services know this person by (and revoke)."""
        return f"console:{self.id}"

    @property
    def scope(self) -> str:
        """What its tokens are scoped to: the credit code of an employer, else the region code."""
        return (self.credit_code if self.role == "employer" else self.region_code) or ""

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def locked(self, now: datetime) -> bool:
        return self.locked_until is not None and now < self.locked_until


def username_problem(username: str) -> AccountRefused | None:
    if not USERNAME.match(username):
        return AccountRefused("console.account.username_invalid", "username")
    return None


def password_problem(password: str, username: str) -> AccountRefused | None:
    if len(password) < PASSWORD_MIN:
        return AccountRefused("console.account.password_short", "password", min=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        return AccountRefused("console.account.password_long", "password", max=PASSWORD_MAX)
    if username.lower() in password.lower():
        return AccountRefused("console.account.password_has_username", "password")
    if len(set(password)) < 4:
        return AccountRefused("console.account.password_simple", "password")
    return None


def new_account_problem(role: str, scope: str, display_name: str, admin: bool) -> AccountRefused | None:
    """What is wrong with an account's role, scope and name, whoever creates it."""
    if role not in ROLES:
        return AccountRefused("console.account.role_invalid", "role")
    if not display_name.strip() or len(display_name) > DISPLAY_NAME_MAX:
        return AccountRefused("console.account.name_invalid", "display_name", max=DISPLAY_NAME_MAX)
    region, credit = (None, scope) if role == "employer" else (scope, None)
    if problem := scope_problem(role, region, credit):
        return AccountRefused("console.account.scope_invalid", "scope", reason=problem)
    if admin and role not in ADMIN_ROLES:
        return AccountRefused("console.account.admin_role", "admin")
    return None


def may_manage(administrator: Account, role: str, scope: str, employer_region: str | None = None) -> bool:
    """May ``administrator`` create, disable or reset an account of ``role`` in ``scope``?

    Only an enabled administrator, only inside its own jurisdiction. An employer's account belongs to the
    county of the employer's archive (``employer_region``, looked up by the caller in the registry): an
    employer not archived in the jurisdiction cannot be given an account by it. A city administrator may
    not create province accounts or other administrators of its own level."""
    if not administrator.admin or administrator.disabled or administrator.region_code is None:
        return False
    prefix = region_prefix(administrator.region_code)
    if role == "employer":
        return employer_region is not None and employer_region.startswith(prefix)
    if role == "province" and administrator.role != "province":
        return False
    return scope.startswith(prefix) and (administrator.role == "province" or scope != administrator.region_code or role == "auditor")


@dataclass(frozen=True)
class LockoutPolicy:
    failures: int  # in a row before the account locks
    minutes: int  # how long it stays locked


def after_failed_sign_in(account: Account, now: datetime, policy: LockoutPolicy) -> Account:
    """One more failure: the count grows; at the threshold the account locks for ``policy.minutes`` and the
    count starts again (so the next lock needs as many failures again)."""
    failures = account.failed_sign_ins + 1
    if failures >= policy.failures:
        return replace(account, failed_sign_ins=0, locked_until=now + timedelta(minutes=policy.minutes))
    return replace(account, failed_sign_ins=failures)


def after_sign_in(account: Account) -> Account:
    return replace(account, failed_sign_ins=0, locked_until=None)
