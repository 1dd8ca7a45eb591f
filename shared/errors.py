"""One error body for every service, and an OpenAPI that says so.

Every 4xx (and the rare 5xx) answers::

    {"detail": "what went wrong, in a sentence",
     "errors": [{"field": "hazards[0].exposed", "message": "why"}, …]}

``errors`` lists field-level problems (empty when the problem is not about one field: a missing
token, a record that does not exist, a step not allowed now). ``field`` is the dotted path of the
offending input as the client sent it (``body``, ``query`` and ``path`` left out).

413 answers a request body larger than the service accepts (``shared/limits.py``); 409 also answers
two identical requests that raced for the same record (the database's unique constraint is named).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

log = logging.getLogger(__name__)
T = TypeVar("T")


class FieldError(BaseModel):
    field: str = Field(description="dotted path of the input, e.g. hazards[0].exposed; (body) for the whole body")
    message: str = Field(description="why it is refused")


class ErrorBody(BaseModel):
    """The body of every error answer."""

    detail: str = Field(description="what went wrong")
    errors: list[FieldError] = Field(default_factory=list, description="field-level problems, if any")


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


def invalid(errors: list[dict[str, str]], detail: str = "the request is invalid") -> JSONResponse:
    return JSONResponse(status_code=422, content={"detail": detail, "errors": errors})


# "credit_code: 统一社会信用代码 …" — a route's one-field 422 names its field first
_FIELD_FIRST = re.compile(r"^([A-Za-z_][\w.\[\]]{0,80}): (.+)$", re.S)


def error_response(status: int, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
    text = detail if isinstance(detail, str) else str(detail)
    errors: list[dict[str, str]] = []
    if status == 422 and (match := _FIELD_FIRST.match(text)):
        errors = [{"field": match.group(1), "message": match.group(2)}]
    return JSONResponse(status_code=status, content={"detail": text, "errors": errors}, headers=headers)


def field_errors(items: Iterable[Any]) -> list[tuple[str, str]]:
    """Pydantic's errors as the error body names them: (dotted field, message without pydantic's prefix),
    the tries of one value against each member of a union joined in one problem."""
    errors: list[tuple[str, str]] = []
    for item in items:
        message = str(item.get("msg", "")).removeprefix("Value error, ")
        field = problem_field(item.get("loc", ()))
        if errors and errors[-1][0] == field:  # one value tried against each member of a union
            errors[-1] = (field, f"{errors[-1][1]}; or: {message}")
            continue
        errors.append((field, message))
    return errors


def install(app: FastAPI) -> None:
    """Every error of ``app`` answers with :class:`ErrorBody`, and its OpenAPI documents it."""

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> JSONResponse:
        return invalid([{"field": field, "message": message} for field, message in field_errors(exc.errors())])

    @app.exception_handler(IntegrityError)
    async def _integrity_error(_: Request, exc: IntegrityError) -> JSONResponse:
        # two identical requests at the same moment: the second one's insert hits the first one's row
        log.info("a concurrent request holds the same record: %s", exc.orig)
        return error_response(409, f"a concurrent request created the same record ({constraint_of(exc)}); "
                              "read it, or send the request again")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:  # Allow: every method of the path, not only those of the first route that matched it
            headers = {**(headers or {}), "Allow": ", ".join(allowed_methods(app, request.scope))}
        return error_response(exc.status_code, exc.detail, headers)

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
    "422": "the request is invalid: `errors` names each field and why",
}


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
    return schema
