"""Wires the console: its accounts and sessions (its own database), the other services' APIs, the pages,
the static files (served from here: agency networks have no internet), and the HTML error pages."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.console.adapters.services import ServiceApis, ServiceDown
from services.console.domain.accounts import LockoutPolicy
from services.console.entrypoints import web
from services.console.entrypoints.http import routers
from services.console.service_layer.handlers import SessionPolicy
from services.console.service_layer.unit_of_work import ConsoleUnitOfWork
from shared import i18n
from shared.errors import Refusal, validation_issues
from shared.runtime import build_runtime, create_app, use_unit_of_work
from shared.settings import Settings, settings_for

STATIC = Path(__file__).resolve().parent / "static"
# Scripts only from this site, never inline (styles may be inline: ECharts and htmx set them); nothing framed; forms post only here.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; "
                           "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'")


def bootstrap(settings: Settings | None = None, create_topics: bool = True) -> FastAPI:
    settings = settings or settings_for("console")
    runtime = build_runtime(settings, create_topics)
    use_unit_of_work(runtime, ConsoleUnitOfWork)
    app = create_app(
        runtime,
        title="Console 控制台",
        description="The platform in a browser for county, city and province staff, employers, auditors and the public (一公开): "
        "sign-in with accounts and sessions, pages that call the other services' APIs with the person's own short-lived token.",
    )
    app.state.apis = ServiceApis({"assessment": settings.assessment_url, "registry": settings.registry_url,
                                  "sampling": settings.sampling_url, "penalty": settings.penalty_url,
                                  "notification": settings.notification_url, "monitoring": settings.monitoring_url}, settings.api_timeout_s)
    app.state.session_policy = SessionPolicy(idle=timedelta(minutes=settings.session_idle_minutes),
                                             maximum=timedelta(hours=settings.session_max_hours))
    app.state.lockout_policy = LockoutPolicy(failures=settings.lockout_failures, minutes=settings.lockout_minutes)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    for router in routers():
        app.include_router(router)
    _install_pages_for_errors(app)

    @app.middleware("http")
    async def _security_headers(request: Request, call_next):  # noqa: ANN001, ANN202
        response = await call_next(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")  # pages hold personal data: never cached
        return response

    return app


def _install_pages_for_errors(app: FastAPI) -> None:
    """Errors as pages in the console's words, never a stack trace (the APIs answer JSON; the console, HTML)."""

    async def page(request: Request, status: int, title: str, detail: str, problems: list[dict] | None = None) -> Response:
        visitor = None
        if not request.url.path.startswith(("/static/", "/public/", "/login")):  # with the person's menu when signed in
            try:
                visitor = await web.visitor_if_any(request)
            except Exception:  # noqa: BLE001 - an error page must render whatever else is broken
                visitor = None
        return web.render(request, "error.html", visitor, status, status=status, title=title, detail=detail, problems=problems or [])

    @app.exception_handler(web.NotSignedIn)
    async def _not_signed_in(request: Request, _: web.NotSignedIn) -> Response:
        return web.login_redirect(request)

    @app.exception_handler(web.CsrfRefused)
    async def _csrf(request: Request, _: web.CsrfRefused) -> Response:
        return await page(request, 403, i18n.text("console.error.csrf_title"), i18n.text("console.error.csrf"))

    @app.exception_handler(ServiceDown)
    async def _down(request: Request, down: ServiceDown) -> Response:
        return await page(request, 503, i18n.text("console.error.down_title"), i18n.text("console.error.down", {"service": down.title}))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> Response:
        problems = [issue.view() for issue in validation_issues(error.errors())]
        return await page(request, 422, i18n.text("console.error.invalid_title"), i18n.text("console.error.invalid"), problems)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> Response:
        if request.url.path in ("/healthz", "/readyz", "/metrics"):
            return Response(status_code=error.status_code)
        if isinstance(error, Refusal):
            detail = error.body()["detail"]
        elif error.status_code == 404:
            detail = i18n.text("console.page.not_found")
        elif error.status_code == 405:
            detail = i18n.text("errors.http.method_not_allowed", {"method": request.method[:16]})
        else:
            detail = str(error.detail)[:300]
        return await page(request, error.status_code, i18n.text("console.error.title", {"status": error.status_code}), detail)
