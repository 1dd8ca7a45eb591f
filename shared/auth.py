"""Who is calling, and what they may see: bearer tokens and jurisdiction scopes.

Tokens are issued by an operator (``python -m shared.auth issue …``) and signed with the
province's secret (``OHS_AUTH_SECRET``, the same for every service), so each service checks
them on its own, without reading another service's tables. A token names a person (``sub``,
``name``), a role, and the scope the role works in:

=========  ==========================================  =======================================
role       scope                                       may
=========  ==========================================  =======================================
employer   its own 统一社会信用代码                     read its own records, submit its own reports
county     a county code (e.g. 141029)                 read and act for employers of that county
city       a city code (e.g. 141000)                   … of every county of the city, and reports routed to it
province   a province code (e.g. 140000)               … of every county of the province
auditor    a region code (any level)                   read only
organisa-  its own 统一社会信用代码 and the province    file test reports / exam summaries for employers of
tion       or city where it is accredited              that region; read its own filings and star rating only
=========  ==========================================  =======================================

An organisation (职业卫生技术服务机构 / 职业健康检查机构, issue 17) reads no employer's records: it covers no
region (:meth:`Principal.covers_region` is False) and reads or acts for no employer; it files for employers of
its accreditation region (penalty's ``POST /org/test-reports`` and ``/org/exam-summaries`` check it). The console
has no pages for it, and cannot create its accounts (its scope is a credit code and a region at once).

Out-of-scope records answer 404, exactly like records that do not exist, so a scope cannot be
probed for what lies outside it. A missing, malformed, forged or expired token answers 401.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField

from shared.errors import Refusal
from shared.identifiers import credit_code_problem, region_problem
from shared.jurisdiction import jurisdiction_level, region_prefix

Role = Literal["employer", "county", "city", "province", "auditor", "organisation"]
ROLES: tuple[Role, ...] = ("employer", "county", "city", "province", "auditor", "organisation")
ORGANISATION = "organisation"  # a technical service organisation or examination institution (issue 17): files, reads its own
_ORGANISATION_LEVELS = (1, 2)  # accredited by a province or a city
STAFF: frozenset[str] = frozenset({"county", "city", "province"})
TOKEN_PREFIX = "ohs1"
_LEVEL_OF_ROLE = {"county": 3, "city": 2, "province": 1}


MIN_SECRET_LENGTH = 16


class InvalidToken(ValueError):
    """Why a token is not trusted: ``str`` the reason in English (logs), ``code`` its message code (the 401's)."""

    def __init__(self, reason: str, code: str = "errors.auth.token_invalid") -> None:
        super().__init__(reason)
        self.code = code


def auth_secret_problem(secret: str) -> str | None:
    """Why ``secret`` cannot sign tokens, or None. Every service refuses to start without one."""
    if not secret.strip():
        return (
            "OHS_AUTH_SECRET is not set: every API needs it to verify bearer tokens "
            "(`python -m shared.auth secret` prints a new one; `make run` keeps one in .run/auth_secret)"
        )
    if len(secret) < MIN_SECRET_LENGTH:
        return f"OHS_AUTH_SECRET is too short ({len(secret)} characters, at least {MIN_SECRET_LENGTH}): use `python -m shared.auth secret`"
    return None


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    subject: str  # a stable user id
    name: str  # shown in audit trails: who did it
    role: Role
    region_code: str | None = None  # staff and auditors; an organisation's accreditation region
    credit_code: str | None = None  # employers; an organisation's own code
    issued_at: int | None = field(default=None, compare=False)  # the token's iat (None for tokens from before it was written): revocation compares it

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF

    def covers_region(self, region_code: str) -> bool:
        """Staff and auditors: is this county-level region inside my jurisdiction? (An organisation has none.)"""
        if self.region_code is None or self.role == ORGANISATION:
            return False
        return region_code.startswith(region_prefix(self.region_code))

    def can_read(self, credit_code: str, region_code: str | None) -> bool:
        if self.role == ORGANISATION:
            return False  # no employer's records: only its own filings and rating, on their own routes
        if self.role == "employer":
            return credit_code == self.credit_code
        return region_code is not None and self.covers_region(region_code)

    def can_act_for(self, credit_code: str, region_code: str | None) -> bool:
        """Submit a report or record a violation for this employer."""
        if self.role in ("auditor", ORGANISATION):
            return False
        return self.can_read(credit_code, region_code)

    def describe(self) -> str:
        scope = self.credit_code if self.role == "employer" else (
            f"{self.credit_code}@{self.region_code}" if self.role == ORGANISATION else self.region_code)
        return f"{self.name} ({self.role} {scope}, {self.subject})"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(secret: str, payload: str) -> str:
    return _b64(hmac.new(secret.encode(), f"{TOKEN_PREFIX}.{payload}".encode(), hashlib.sha256).digest())


def scope_problem(role: str, region_code: str | None, credit_code: str | None) -> str | None:
    if role not in ROLES:
        return f"role must be one of {', '.join(ROLES)}"
    if role == "employer":
        if not credit_code:
            return "an employer token needs the employer's credit code"
        return credit_code_problem(credit_code)
    if role == ORGANISATION:
        if not credit_code:
            return "an organisation token needs the organisation's credit code"
        if problem := credit_code_problem(credit_code):
            return problem
        if not region_code:
            return "an organisation token needs the province or city where it is accredited"
        if problem := region_problem(region_code):
            return problem
        if jurisdiction_level(region_code) not in _ORGANISATION_LEVELS:
            return f"an organisation token needs a province- or city-level region code (got {region_code})"
        return None
    if not region_code:
        return f"a {role} token needs a region code"
    if problem := region_problem(region_code):
        return problem
    if role in _LEVEL_OF_ROLE and jurisdiction_level(region_code) != _LEVEL_OF_ROLE[role]:
        return f"a {role} token needs a {role}-level region code (got {region_code})"
    return None


def issue_token(
    secret: str,
    role: Role,
    name: str,
    *,
    region_code: str | None = None,
    credit_code: str | None = None,
    subject: str | None = None,
    valid_days: int = 365,
    valid_seconds: int | None = None,
    now: float | None = None,
) -> str:
    """A signed token; it expires after ``valid_seconds`` when given (the console's few minutes), else ``valid_days``."""
    if problem := auth_secret_problem(secret):
        raise ValueError(problem)
    if problem := scope_problem(role, region_code, credit_code):
        raise ValueError(problem)
    claims = {
        "sub": subject or str(uuid.uuid4()),
        "name": name,
        "role": role,
        "region": region_code,
        "credit_code": credit_code,
        "iat": int(issued := now if now is not None else time.time()),
        "exp": int(issued) + (valid_seconds if valid_seconds is not None else valid_days * 86400),
    }
    payload = _b64(json.dumps(claims, ensure_ascii=False, separators=(",", ":")).encode())
    return f"{TOKEN_PREFIX}.{payload}.{_signature(secret, payload)}"


MAX_TOKEN_LENGTH = 4096  # a real token is a few hundred characters; anything longer is refused unread


class _Claims(BaseModel):
    """The claims of a token, strictly typed: a token whose claims do not fit is invalid (401), never a 500."""

    model_config = ConfigDict(extra="ignore", strict=True)

    sub: str = PydanticField(min_length=1, max_length=200)
    name: str = PydanticField(min_length=1, max_length=200)
    role: Role
    region: str | None = PydanticField(default=None, max_length=12)
    credit_code: str | None = PydanticField(default=None, max_length=18)
    exp: int
    iat: int | None = None


def verify_token(secret: str, token: str, now: float | None = None) -> Principal:
    """The principal a token names, or :class:`InvalidToken` — whatever the token's bytes are."""
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("too long", "errors.auth.token_too_long")
    if not token.isascii():
        raise InvalidToken("not an ohs token", "errors.auth.token_malformed")
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise InvalidToken("not an ohs token", "errors.auth.token_malformed")
    _, payload, signature = parts
    if not hmac.compare_digest(signature.encode(), _signature(secret, payload).encode()):
        raise InvalidToken("bad signature", "errors.auth.token_signature")
    try:
        claims = _Claims.model_validate(json.loads(_unb64(payload)))
    except (ValueError, TypeError) as error:  # not base64, not JSON, or claims of the wrong shape
        raise InvalidToken("unreadable claims", "errors.auth.token_claims") from error
    if claims.exp < (now if now is not None else time.time()):
        raise InvalidToken("expired", "errors.auth.token_expired")
    if scope_problem(claims.role, claims.region, claims.credit_code):
        raise InvalidToken("invalid scope", "errors.auth.token_scope")
    return Principal(claims.sub, claims.name, claims.role, claims.region, claims.credit_code, claims.iat)


_bearer = HTTPBearer(auto_error=False, description="a token from `python -m shared.auth issue` (make run writes .run/tokens.json)")


async def authenticate(request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> Principal:
    """FastAPI dependency: the caller, or 401 (its code says why: errors.auth.token_required, …_expired …)."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if credentials is None:
        raise Refusal(401, "errors.auth.token_required", headers=challenge)
    secret = request.app.state.runtime.settings.auth_secret
    if auth_secret_problem(secret):  # never verify against an empty secret: anyone could sign with it
        raise Refusal(503, "errors.auth.not_configured")
    try:
        principal = verify_token(secret, credentials.credentials)
    except InvalidToken as error:
        previous = getattr(request.app.state.runtime.settings, "auth_secret_previous", "")
        if error.code != "errors.auth.token_signature" or not previous or auth_secret_problem(previous):
            raise Refusal(401, error.code, headers=challenge) from error
        try:  # during a rotation: a token signed with the previous secret, still accepted until it expires
            principal = verify_token(previous, credentials.credentials)
        except InvalidToken as again:
            raise Refusal(401, again.code, headers=challenge) from again
    revocations = getattr(request.app.state.runtime, "revocations", None)
    if revocations is not None and revocations.refuses(principal.subject, principal.issued_at):
        raise Refusal(401, "errors.auth.token_revoked", headers=challenge)
    return principal


def not_found(what: str, code: str | None = None, params: Mapping[str, Any] | None = None) -> HTTPException:
    """The answer for a record outside the caller's scope: the same as for a missing one.

    With a message ``code`` (``not_found("archive", "errors.archive.not_found", {"credit_code": …})``) a
    :class:`~shared.errors.Refusal` in the reader's language; without, the English ``no {what}`` of a route
    not yet said with codes."""
    if code is not None:
        return Refusal(404, code, params)
    return HTTPException(status_code=404, detail=f"no {what}")


def main() -> None:
    from shared.settings import Settings

    parser = argparse.ArgumentParser(description="Issue a bearer token (signed with OHS_AUTH_SECRET).")
    sub = parser.add_subparsers(dest="command", required=True)
    issue = sub.add_parser("issue")
    issue.add_argument("--role", choices=ROLES, required=True)
    issue.add_argument("--name", required=True, help="the person, as audit trails will show them")
    issue.add_argument("--region", help="county / city / province code (staff, auditor; an organisation's accreditation province or city)")
    issue.add_argument("--credit-code", help="the employer's 统一社会信用代码 (employer; an organisation's own)")
    issue.add_argument("--days", type=int, default=365)
    sub.add_parser("secret", help="print a new random secret for OHS_AUTH_SECRET")
    args = parser.parse_args()
    if args.command == "secret":
        print(secrets.token_urlsafe(32))
        return
    settings = Settings()
    if problem := auth_secret_problem(settings.auth_secret):
        parser.error(problem)
    try:
        print(issue_token(settings.auth_secret, args.role, args.name, region_code=args.region, credit_code=args.credit_code, valid_days=args.days))
    except ValueError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
