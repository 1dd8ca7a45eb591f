"""One error body for every service, in the reader's language, and an OpenAPI that says so.

Every 4xx (and the rare 5xx) answers::

    {"detail": "请求有误：……",
     "code": "errors.request.invalid",
     "errors": [{"field": "hazards[0].exposed", "code": "errors.field.greater_than_equal", "message": "应大于或等于 0"}, …]}

``detail`` says what went wrong in a sentence, ``code`` says it for a program (a stable message code of
the catalogue, ``shared/i18n/locales/*/LC_MESSAGES/errors.po``). ``errors`` lists the field-level
problems (empty when the problem is not about one field: a missing token, a record that does not exist,
a step not allowed now), each with its own code. ``field`` is the dotted path of the offending input as
the client sent it (``body``, ``query`` and ``path`` left out).

Texts are in Chinese (zh-CN) unless the request asks for English with ``Accept-Language: en``
(``shared.i18n.negotiate``); the answer says which with ``Content-Language`` (``zh-CN`` or ``en``).
The codes are the same in both languages.

* A route refuses with :class:`Refusal` (``raise Refusal(409, "errors.exemption.ended", {...})``;
  ``field=`` for one field's problem, ``errors=`` for several :class:`Issue`).
* Pydantic's validation errors are rendered from their ``type`` and ``ctx`` (``string_too_long`` →
  ``errors.field.string_too_long`` with ``max_length``); a validator of ours raises
  ``shared.problems.refusal("errors.…", **params)``, whose type IS the code. A type without a text of
  its own is ``errors.field.invalid`` with pydantic's English message as written.
* An ``HTTPException`` raised with a plain text keeps its text, with the code of its status
  (``errors.http.conflict`` …); the status phrases Starlette writes itself (``Not Found``, ``Method Not
  Allowed``) are rendered from the catalogue.

413 answers a request body larger than the service accepts (``shared/limits.py``); 409 also answers
two identical requests that raced for the same record (the database's unique constraint is named).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field as dataclass_field
from datetime import date, datetime, time
from http import HTTPStatus
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from shared import i18n

log = logging.getLogger(__name__)
T = TypeVar("T")

INVALID_REQUEST = "errors.request.invalid"
INVALID_FIELD = "errors.field.invalid"  # a problem without a text of its own: the message as its checker wrote it
CONTENT_LANGUAGE = {i18n.ZH: "zh-CN", i18n.EN: "en"}


class FieldError(BaseModel):
    field: str = Field(description="dotted path of the input, e.g. hazards[0].exposed; (body) for the whole body")
    code: str = Field(description="stable machine code of the problem, e.g. errors.field.string_too_long (the same in every language)")
    message: str = Field(description="why it is refused, in the reader's language (zh-CN by default; en with Accept-Language: en)")


class ErrorBody(BaseModel):
    """The body of every error answer."""

    detail: str = Field(description="what went wrong, in a sentence in the reader's language (Content-Language says which)")
    code: str = Field(description="stable machine code of what went wrong, e.g. errors.request.invalid, errors.auth.token_expired")
    errors: list[FieldError] = Field(default_factory=list, description="field-level problems, if any, each with its code")


# --------------------------------------------------------------------------- the reader's language


def request_locale(request: Request) -> str:
    """The reader's language: ``Accept-Language`` (zh_CN or en), Chinese when unsure."""
    return i18n.negotiate(request.headers.get("accept-language"))


def language_headers(locale: str) -> dict[str, str]:
    """``Content-Language`` of an answer written in ``locale`` (it varies with ``Accept-Language``)."""
    return {"Content-Language": CONTENT_LANGUAGE.get(locale, "zh-CN"), "Vary": "Accept-Language"}


# --------------------------------------------------------------------------- problems and refusals


@dataclass(frozen=True)
class Issue:
    """One field's problem said with a message code: rendered per language by :meth:`message`.

    ``written`` is the text as its checker wrote it, for a problem whose code has no text of its own
    (``errors.field.invalid``: a value_error of a validator not yet given a code); ``alternatives`` are the
    problems of the same value tried against the other members of a union ("…; or: …")."""

    field: str
    code: str
    params: Mapping[str, Any] = dataclass_field(default_factory=dict)
    written: str | None = None
    alternatives: tuple["Issue", ...] = ()

    def message(self, locale: str = i18n.DEFAULT_LOCALE) -> str:
        if self.written is not None and (self.code == INVALID_FIELD or not i18n.has(self.code)):
            text = self.written
        else:
            text = i18n.text(self.code, self.params, locale)
        for other in self.alternatives:
            text = i18n.text("errors.field.or", {"first": text, "second": other.message(locale)}, locale)
        return text

    def view(self, locale: str = i18n.DEFAULT_LOCALE) -> dict[str, str]:
        return {"field": self.field, "code": self.code if i18n.has(self.code) else INVALID_FIELD, "message": self.message(locale)}

    @classmethod
    def of(cls, problem: Any, field: str | None = None) -> "Issue":
        """An issue from a problem that names its field (``shared.contracts.FieldProblem``, a ``Problem`` …):
        its ``code`` and ``params`` when it has them, else ``errors.field.invalid`` with its text as written."""
        code = getattr(problem, "code", None)
        written = str(problem) if isinstance(problem, str) else str(getattr(problem, "message", None) or problem)
        where = field if field is not None else str(getattr(problem, "field", "") or "(body)")
        if code and i18n.has(code):
            return cls(where, code, dict(getattr(problem, "params", None) or {}), written)
        return cls(where, INVALID_FIELD, {}, written)


class Refusal(StarletteHTTPException):
    """A refused request said with a message code (``shared.i18n``): answered in the reader's language
    (``Accept-Language``; Chinese by default), the code beside the text.

    ``raise Refusal(404, "errors.archive.not_found", {"credit_code": credit_code})``; with ``field`` the
    problem is also listed in ``errors`` under that field (a 422 about one input); ``errors`` lists
    several fields' problems (:class:`Issue`) under one headline. ``detail`` holds the Chinese text (logs)."""

    def __init__(self, status_code: int, code: str, params: Mapping[str, Any] | None = None, *, field: str | None = None,
                 headers: dict[str, str] | None = None, errors: Iterable[Issue] = ()) -> None:
        self.code = code
        self.params = dict(params or {})
        self.field = field
        self.issues: list[Issue] = ([Issue(field, code, self.params)] if field else []) + list(errors)
        super().__init__(status_code=status_code, detail=i18n.text(code, self.params), headers=headers)

    def body(self, locale: str = i18n.DEFAULT_LOCALE) -> dict[str, Any]:
        return {"detail": i18n.text(self.code, self.params, locale), "code": self.code,
                "errors": [issue.view(locale) for issue in self.issues]}


def refusal_of(error: BaseException, status_code: int, code: str, params: Mapping[str, Any] | None = None, *,
               field: str | None = None) -> Refusal:
    """The refusal a use case's exception says: its own ``code`` and ``params`` when it carries them
    (:func:`coded`, or raised with a ``shared.problems.Problem`` as its message), else ``code`` and ``params``."""
    said = error if isinstance(getattr(error, "code", None), str) else (error.args[0] if error.args else None)
    own = getattr(said, "code", None)
    if isinstance(own, str) and i18n.has(own):
        return Refusal(status_code, own, getattr(said, "params", None) or {}, field=getattr(error, "field", None) or field)
    return Refusal(status_code, code, params, field=field)


E = TypeVar("E", bound=BaseException)


def coded(error: E, code: str, /, **params: Any) -> E:
    """``error`` carrying the message code and parameters that say it to people (``raise coded(Conflict("…"),
    "errors.exemption.overlaps", exemption_id=…)``): its ``str`` stays the English text of logs."""
    error.code = code  # type: ignore[attr-defined]
    error.params = params  # type: ignore[attr-defined]
    return error


def invalid(errors: list[dict[str, str]], detail: str = "the request is invalid") -> JSONResponse:
    """A 422 of field problems written as text (a route not yet said with codes): each without a code
    gets ``errors.field.invalid``. Prefer ``raise Refusal(422, …, errors=[Issue(…)])``."""
    coded_errors = [{"field": e.get("field", "(body)"), "code": e.get("code") or INVALID_FIELD, "message": e.get("message", "")} for e in errors]
    return JSONResponse(status_code=422, content={"detail": detail, "code": INVALID_REQUEST, "errors": coded_errors})


# --------------------------------------------------------------------------- plain HTTPExceptions

# the code beside the text of an HTTPException raised with a plain text (one not said with a code yet)
STATUS_CODES: dict[int, str] = {
    400: "errors.http.bad_request",
    401: "errors.http.unauthorized",
    403: "errors.http.forbidden",
    404: "errors.http.not_found",
    405: "errors.http.method_not_allowed",
    406: "errors.http.not_acceptable",
    409: "errors.http.conflict",
    413: "errors.http.too_large",
    415: "errors.http.unsupported_media_type",
    422: INVALID_REQUEST,
    429: "errors.http.too_many_requests",
    500: "errors.http.internal",
    503: "errors.http.unavailable",
}
GENERIC_STATUS_CODE = "errors.http.error"

# "credit_code: 统一社会信用代码 …" — a route's one-field 422 names its field first
_FIELD_FIRST = re.compile(r"^([A-Za-z_][\w.\[\]]{0,80}): (.+)$", re.S)


def status_code_of(status: int) -> str:
    return STATUS_CODES.get(status, GENERIC_STATUS_CODE)


def error_response(status: int, detail: Any, headers: dict[str, str] | None = None, locale: str | None = None) -> JSONResponse:
    """The error body of an HTTPException raised with a plain text: the text as written (or, for the bare status
    phrase Starlette writes itself — ``Not Found`` —, the status's text in ``locale``), the status's code."""
    text = detail if isinstance(detail, str) else str(detail)
    code = status_code_of(status)
    if locale is not None and _is_status_phrase(status, text):
        text = i18n.text(code, {}, locale)
    errors: list[dict[str, str]] = []
    if status == 422 and (match := _FIELD_FIRST.match(text)):
        errors = [{"field": match.group(1), "code": INVALID_FIELD, "message": match.group(2)}]
    if locale is not None:
        headers = {**(headers or {}), **language_headers(locale)}
    return JSONResponse(status_code=status, content={"detail": text, "code": code, "errors": errors}, headers=headers)


def _is_status_phrase(status: int, text: str) -> bool:
    try:
        return text == HTTPStatus(status).phrase
    except ValueError:
        return False


def refusal_response(exc: Refusal, locale: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(status_code=exc.status_code, content=exc.body(locale), headers={**(headers or {}), **language_headers(locale)})


# --------------------------------------------------------------------------- pydantic's validation errors


def problem_field(loc: Iterable[object]) -> str:
    """('body', 'hazards', 0, 'exposed') -> 'hazards[0].exposed'."""
    path = ""
    for part in loc:
        if part in ("body", "query", "path", "header"):
            continue
        if isinstance(part, str) and _UNION_MEMBER.match(part):
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += ("." if path else "") + str(part)
    return path or "(body)"


def constraint_of(error: IntegrityError) -> str:
    """The constraint a concurrent insert broke, as the database names it (SQLite: the columns)."""
    lines = str(getattr(error, "orig", None) or error).strip().splitlines()
    return (lines[0][:200] if lines else "") or "a unique constraint"


# pydantic's names for the member of a union a value was tried against ("constrained-float", "literal['n/a']"):
# not a field the client sent
_UNION_MEMBER = re.compile(r"^(constrained-\w+|literal\[.*\]|function-(after|before|wrap|plain)\[.*\])$")


async def once_more_after_a_race(call: Callable[[], Awaitable[T]]) -> T:
    """Await ``call()``; when a concurrent identical request won the race to insert the same record (a unique
    constraint: IntegrityError), once more: the second attempt finds the record and answers as the contract says
    for it (the duplicate, the existing decision). A second race is the caller's 409."""
    try:
        return await call()
    except IntegrityError:
        return await call()


# pydantic's error type → our message code; the parameters are taken from the error's ctx (see _params)
PYDANTIC_CODES: dict[str, str] = {
    "missing": "errors.field.missing",
    "extra_forbidden": "errors.field.extra_forbidden",
    "json_invalid": "errors.field.json_invalid",
    "json_type": "errors.field.json_type",
    "model_type": "errors.field.model_type",
    "model_attributes_type": "errors.field.model_type",
    "dataclass_type": "errors.field.model_type",
    "dict_type": "errors.field.dict_type",
    "mapping_type": "errors.field.dict_type",
    "list_type": "errors.field.list_type",
    "tuple_type": "errors.field.list_type",
    "set_type": "errors.field.list_type",
    "frozen_set_type": "errors.field.list_type",
    "iterable_type": "errors.field.list_type",
    "string_type": "errors.field.string_type",
    "string_unicode": "errors.field.string_unicode",
    "string_not_ascii": "errors.field.string_not_ascii",
    "string_too_short": "errors.field.string_too_short",
    "string_too_long": "errors.field.string_too_long",
    "string_pattern_mismatch": "errors.field.string_pattern_mismatch",
    "bytes_type": "errors.field.bytes_type",
    "bytes_too_short": "errors.field.bytes_too_short",
    "bytes_too_long": "errors.field.bytes_too_long",
    "too_short": "errors.field.too_short",
    "too_long": "errors.field.too_long",
    "int_type": "errors.field.int_type",
    "int_parsing": "errors.field.int_parsing",
    "int_parsing_size": "errors.field.int_parsing_size",
    "int_from_float": "errors.field.int_from_float",
    "float_type": "errors.field.float_type",
    "float_parsing": "errors.field.float_parsing",
    "finite_number": "errors.field.finite_number",
    "bool_type": "errors.field.bool_type",
    "bool_parsing": "errors.field.bool_parsing",
    "none_required": "errors.field.none_required",
    "greater_than": "errors.field.greater_than",
    "greater_than_equal": "errors.field.greater_than_equal",
    "less_than": "errors.field.less_than",
    "less_than_equal": "errors.field.less_than_equal",
    "multiple_of": "errors.field.multiple_of",
    "literal_error": "errors.field.literal_error",
    "enum": "errors.field.literal_error",
    "date_type": "errors.field.date_type",
    "date_parsing": "errors.field.date_parsing",
    "date_from_datetime_parsing": "errors.field.date_parsing",
    "date_from_datetime_inexact": "errors.field.date_from_datetime_inexact",
    "date_past": "errors.field.date_past",
    "date_future": "errors.field.date_future",
    "datetime_type": "errors.field.datetime_type",
    "datetime_parsing": "errors.field.datetime_parsing",
    "datetime_from_date_parsing": "errors.field.datetime_parsing",
    "datetime_object_invalid": "errors.field.datetime_parsing",
    "datetime_past": "errors.field.datetime_past",
    "datetime_future": "errors.field.datetime_future",
    "timezone_naive": "errors.field.timezone_naive",
    "timezone_aware": "errors.field.timezone_aware",
    "timezone_offset": "errors.field.timezone_aware",
    "time_type": "errors.field.time_parsing",
    "time_parsing": "errors.field.time_parsing",
    "time_delta_type": "errors.field.time_delta_parsing",
    "time_delta_parsing": "errors.field.time_delta_parsing",
    "uuid_type": "errors.field.uuid_type",
    "uuid_parsing": "errors.field.uuid_parsing",
    "uuid_version": "errors.field.uuid_version",
    "url_type": "errors.field.url_parsing",
    "url_parsing": "errors.field.url_parsing",
    "url_syntax_violation": "errors.field.url_parsing",
    "url_too_long": "errors.field.url_too_long",
    "url_scheme": "errors.field.url_scheme",
    "decimal_type": "errors.field.decimal_parsing",
    "decimal_parsing": "errors.field.decimal_parsing",
    "decimal_max_digits": "errors.field.decimal_max_digits",
    "decimal_max_places": "errors.field.decimal_max_places",
    "decimal_whole_digits": "errors.field.decimal_whole_digits",
    "union_tag_invalid": "errors.field.union_tag_invalid",
    "union_tag_not_found": "errors.field.union_tag_not_found",
    "invalid_key": "errors.field.invalid_key",
}
# a bound of a date field (SaneDate: 1949-10-01 … 2100-12-31) is said as a date, not as a number
_DATE_BOUNDS = {"greater_than": "errors.field.date_after", "greater_than_equal": "errors.field.date_from",
                "less_than": "errors.field.date_before", "less_than_equal": "errors.field.date_until"}
_BOUND_KEYS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}


def issue_of(item: Mapping[str, Any]) -> Issue:
    """One pydantic error as an :class:`Issue`: its code from its ``type`` (a validator of ours raises its code as the
    type: ``shared.problems.refusal``), its parameters from its ``ctx``."""
    kind = str(item.get("type", ""))
    ctx = dict(item.get("ctx") or {})
    loc = tuple(item.get("loc", ()))
    written = str(item.get("msg", "")).removeprefix("Value error, ").removeprefix("Assertion failed, ")
    where = problem_field(loc)
    if kind.startswith("errors.") and i18n.has(kind):
        return Issue(where, kind, {k: _json(v) for k, v in ctx.items()}, written)
    if kind in _BOUND_KEYS and (day := _bound_date(ctx.get(_BOUND_KEYS[kind]))) is not None:
        return Issue(where, _DATE_BOUNDS[kind], {"bound": day.isoformat()}, written)
    code = PYDANTIC_CODES.get(kind)
    if code is None:
        return Issue(where, INVALID_FIELD, {}, written)
    if kind == "json_invalid":
        position = loc[-1] if loc and isinstance(loc[-1], int) else 0
        return Issue("(body)", code, {"position": position}, written)
    params = {k: _json(v) for k, v in ctx.items() if k != "error"}
    if kind in ("literal_error", "enum", "union_tag_invalid"):
        params["expected"] = _choices(str(ctx.get("expected", ctx.get("expected_tags", ""))))
    if kind == "url_scheme":
        params["expected_schemes"] = _choices(str(ctx.get("expected_schemes", "")))
    return Issue(where, code, params, written)


def validation_issues(items: Iterable[Mapping[str, Any]]) -> list[Issue]:
    """Pydantic's errors as the error body names them, the tries of one value against each member of a union
    joined in one issue ("…; or: …")."""
    issues: list[Issue] = []
    for item in items:
        issue = issue_of(item)
        if issues and issues[-1].field == issue.field:  # one value tried against each member of a union
            last = issues[-1]
            issues[-1] = Issue(last.field, last.code, last.params, last.written, (*last.alternatives, issue))
            continue
        issues.append(issue)
    return issues


def field_errors(items: Iterable[Any]) -> list[tuple[str, str]]:
    """Pydantic's errors as (dotted field, message as pydantic wrote it, without its prefix), the tries of one
    value against each member of a union joined in one problem (logs, the English of older callers)."""
    errors: list[tuple[str, str]] = []
    for item in items:
        message = str(item.get("msg", "")).removeprefix("Value error, ")
        field = problem_field(item.get("loc", ()))
        if errors and errors[-1][0] == field:  # one value tried against each member of a union
            errors[-1] = (field, f"{errors[-1][1]}; or: {message}")
            continue
        errors.append((field, message))
    return errors


def _json(value: Any) -> Any:
    """A ctx value as a JSON value (a parameter of a text)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)  # a bound of a float field: 100, not 100.0
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (date, datetime, time)):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json(v) for v in value]
    return str(value)


_DATE_REPR = re.compile(r"^datetime\.date\((\d{1,4}), (\d{1,2}), (\d{1,2})\)$")


def _bound_date(value: Any) -> date | None:
    """The date a bound of a date field names: pydantic gives it as a date, or as its repr ("datetime.date(1949, 10, 1)")."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and (match := _DATE_REPR.match(value)):
        try:
            return date(*(int(part) for part in match.groups()))
        except ValueError:
            return None
    return None


_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def _choices(expected: str) -> list[str]:
    """pydantic's "'self' or 'organisation'" / "1 or 2" as the list of the values allowed."""
    quoted = _QUOTED.findall(expected)
    if quoted:
        return quoted
    return [part for part in re.split(r",\s*|\s+or\s+", expected) if part]


# --------------------------------------------------------------------------- the handlers


def install(app: FastAPI) -> None:
    """Every error of ``app`` answers with :class:`ErrorBody` in the reader's language, and its OpenAPI documents it."""

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        locale = request_locale(request)
        refusal = Refusal(422, INVALID_REQUEST, errors=validation_issues(exc.errors()))
        return refusal_response(refusal, locale)

    @app.exception_handler(IntegrityError)
    async def _integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        # two identical requests at the same moment: the second one's insert hits the first one's row
        log.info("a concurrent request holds the same record: %s", exc.orig)
        return refusal_response(Refusal(409, "errors.conflict.concurrent", {"constraint": constraint_of(exc)}), request_locale(request))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        locale = request_locale(request)
        if exc.status_code == 405:  # Allow: every method of the path, not only those of the first route that matched it
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(app, request.scope))}
            if not isinstance(exc, Refusal):
                exc = Refusal(405, "errors.http.method_not_allowed", {"method": request.method[:16]}, headers=headers)
        if isinstance(exc, Refusal):
            return refusal_response(exc, locale, headers)
        return error_response(exc.status_code, exc.detail, headers, locale)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            app.openapi_schema = document_errors(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def allowed_methods(app: FastAPI, scope: dict[str, Any]) -> list[str]:
    """The methods some route of ``app`` takes on the scope's path (FastAPI has one route per method)."""
    methods = set(_methods_on(app.router.routes, {**scope, "method": "__none__"}))
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _methods_on(routes: Any, scope: dict[str, Any]) -> Any:
    """The methods of the routes matching the scope's path, looking into included routers (FastAPI keeps an
    included router as one route: its ``original_router`` under the include's ``prefix``)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            prefix = getattr(getattr(route, "include_context", None), "prefix", "") or ""
            if scope["path"].startswith(prefix):
                yield from _methods_on(included.routes, {**scope, "path": scope["path"][len(prefix):]})
            continue
        match, _ = route.matches(scope)
        if match != Match.NONE:
            yield from getattr(route, "methods", None) or ()


_ERROR_REF = {"$ref": "#/components/schemas/ErrorBody"}
_GENERIC = {
    "400": "the body could not be read (not UTF-8, broken multipart …)",
    "401": "no bearer token, or a malformed, forged or expired one",
    "403": "the token's role or jurisdiction may not do this (the detail says why)",
    "404": "no such record, or one outside the token's jurisdiction",
    "409": "conflicts with the record's current state (the detail names it and what is allowed)",
    "413": "the request body is larger than the service accepts (8 MiB unless the route says otherwise)",
    "422": "the request is invalid: `errors` names each field, its code and why",
}
_CONTENT_LANGUAGE_HEADER = {"Content-Language": {
    "description": "the language of `detail` and of each message: zh-CN (the default) or en (asked with Accept-Language: en)",
    "schema": {"type": "string", "enum": ["zh-CN", "en"]},
}}


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Point every error response at ErrorBody and add the ones every route of its kind can give."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorBody"] = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    defs = components["ErrorBody"].pop("$defs", {})
    components.update(defs)
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            has_input = bool(operation.get("parameters")) or "requestBody" in operation
            wanted = []
            if "requestBody" in operation:
                wanted += ["400", "413"]
            if operation.get("security"):
                wanted += ["401", "403"]
                if method in ("post", "put", "patch", "delete"):
                    wanted.append("409")
            if "{" in path or (operation.get("security") and operation.get("parameters")):
                wanted.append("404")  # a path id, or an id in the query (plan_id, credit_code), may name nothing the token sees
            if has_input:
                wanted.append("422")
            for code in wanted:
                responses.setdefault(code, {"description": _GENERIC[code]})
            for code, response in responses.items():
                if code.startswith(("4", "5")):
                    if code == "422":
                        response["description"] = _GENERIC["422"]
                    response["content"] = {"application/json": {"schema": _ERROR_REF}}
                    response.setdefault("headers", {}).update(_CONTENT_LANGUAGE_HEADER)
    return schema
