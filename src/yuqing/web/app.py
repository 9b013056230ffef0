"""The web application: REST API under /api/v1, server-rendered pages, static files.

``create_app(ctx)`` builds a FastAPI app over an :class:`AppContext` (``app.state.ctx``). Every
route except the public ones (login, language switch, health, static files, the OpenAPI
schema, the alert acknowledge link and the ingest webhook with its own token) declares a role
dependency; unsafe requests are written to the audit log.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from yuqing.core.context import AppContext
from yuqing.web import problems

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
API_PREFIX = "/api/v1"

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Domain routers included when their module exists (built alongside the domains).
API_MODULES = (
    "auth",
    "sources",
    "mentions",
    "stats",
    "events",
    "alerts",
    "incidents",
    "org",
    "users",
)


def _include_optional(app: FastAPI, module: str, prefix: str = "") -> bool:
    try:
        mod = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name == module:
            return False
        raise
    router = getattr(mod, "router", None)
    if isinstance(router, APIRouter):
        if prefix == API_PREFIX:
            app.include_router(router, prefix=prefix, responses=problems.PROBLEM_RESPONSES)
        else:
            app.include_router(router, prefix=prefix)
        return True
    return False


def create_app(ctx: AppContext) -> FastAPI:
    app = FastAPI(
        title="yuqing 舆情 API",
        version="1",
        description="舆情监测与应急处置 REST API / public-opinion monitoring and emergency response",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.ctx = ctx
    problems.install(app)

    for name in API_MODULES:
        _include_optional(app, f"yuqing.web.api.{name}", API_PREFIX)
    # The ingest webhook (its own bearer-token auth), written by the ingest engineer.
    _include_optional(app, "yuqing.sources.api")

    from yuqing.web.pages import routes as page_routes

    app.include_router(page_routes.router)
    for name in ("alerts", "events", "incidents", "resources", "reviews"):
        _include_optional(app, f"yuqing.web.pages.{name}")
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    from yuqing.web.deps import require_role

    @app.get("/metrics", include_in_schema=False, dependencies=[Depends(require_role("admin"))])
    def prometheus_metrics() -> Response:
        """Prometheus metrics for an admin session or an admin API token (scrapers use a token)."""
        from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

        from yuqing.core.metrics import REGISTRY

        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    from yuqing.web.search import handle_ingested

    app.state.search_handler = handle_ingested

    from yuqing.web.guard import InputGuard

    app.add_middleware(InputGuard)

    @app.middleware("http")
    async def _headers_and_audit(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        for key, value in SECURITY_HEADERS.items():
            response.headers.setdefault(key, value)
        if request.url.path.startswith(API_PREFIX) or "text/html" in response.headers.get("content-type", ""):
            response.headers.setdefault("Cache-Control", "no-store")
        if request.method in UNSAFE:
            await run_in_threadpool(_audit_request, ctx, request, response.status_code)
        return response

    return app


def _audit_request(ctx: AppContext, request: Request, status: int) -> None:
    from yuqing.web.auth import audit

    path = request.url.path
    if path in ("/login", f"{API_PREFIX}/auth/login"):
        return  # logins are audited by auth.login with their outcome
    principal = getattr(request.state, "principal", None)
    try:
        audit(
            ctx,
            f"{request.method.lower()} {path}",
            principal,
            method=request.method,
            path=path,
            status=status,
            ip=request.client.host if request.client else None,
        )
    except Exception:  # the audit write must not turn a done action into an error
        log.exception("audit write failed")
