"""The console's ASGI application: pages, ``/api/``, ``/metrics``, ``/healthz`` and ``/readyz``.

``create_app(console)`` wires the routes to one ``Console`` (read model, spool, broker, guard). The
middleware checks the guard on every request, adds the security headers, counts requests, and turns
any unhandled error into a plain 500 (JSON under ``/api/``) without a traceback.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from prometheus_client.exposition import choose_encoder
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.console import api, pages
from services.console.context import Console
from services.console.filters import BadFilter
from services.console.metrics import create_console_metrics
from services.console.security import COOKIE
from shared import __version__
from shared.logging import get_logger
from shared.metrics import Metrics, create_metrics
from shared.observability import Check, run_checks

log = get_logger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
# No scripts at all; styles and forms only from the console itself; never framed.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path in ("/metrics", "/openapi.json")


def _error(request: Request, status: int, message: str) -> Response:
    if _is_api(request) or request.url.path.startswith("/docs"):
        return JSONResponse({"error": message}, status_code=status)
    return pages.render(request, "error.html", status_code=status, status=status, message=message)


def create_app(
    console: Console, checks: dict[str, Check] | None = None, metrics: Metrics | None = None
) -> FastAPI:
    metrics = metrics or create_metrics()
    own = create_console_metrics(metrics.registry)
    app = FastAPI(
        title="dropwire console",
        version=__version__,
        description='Read what the pipeline stored; act on failed files. Errors are JSON: {"error": ...}.',
        docs_url=None,
        redoc_url=None,
    )
    app.state.console = console
    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    @app.get("/readyz", include_in_schema=False)
    def readyz() -> JSONResponse:
        results = run_checks(checks or {})
        ready = all(r.ok for r in results)
        body = {"status": "ready" if ready else "not ready", "checks": {r.name: r.ok for r in results}}
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get("/metrics", include_in_schema=False)
    def prometheus(request: Request) -> Response:
        encoder, content_type = choose_encoder(request.headers.get("accept", ""))
        return Response(encoder(metrics.registry), media_type=content_type)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return _error(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg')}" for e in exc.errors()
        )
        return _error(request, 422, problems or "invalid request")

    @app.exception_handler(BadFilter)
    async def bad_filter(request: Request, exc: BadFilter) -> Response:
        return _error(request, 400, str(exc))

    @app.middleware("http")
    async def guard_and_count(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        guard = console.guard
        if not guard.host_ok(request.headers.get("host")):
            response: Response = _plain(403, "forbidden host: use 127.0.0.1 or localhost")
        elif not guard.allowed(
            request.url.path, request.headers.get("authorization"), request.cookies.get(COOKIE)
        ):
            if _is_api(request) or request.method != "GET":
                response = JSONResponse(
                    {"error": "token required (Authorization: Bearer …)"}, status_code=401
                )
            else:
                response = RedirectResponse("/login", status_code=303)
        else:
            try:
                response = await call_next(request)
            except Exception:
                log.exception("console.request_failed", path=request.url.path, method=request.method)
                response = _error(request, 500, "internal error (the console's log has the details)")
        route = request.scope.get("route")
        template = getattr(route, "path", "unmatched")
        own.requests.labels(route=template, status=f"{response.status_code // 100}xx").inc()
        own.duration.labels(route=template).observe(time.perf_counter() - started)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


def _plain(status: int, message: str) -> Response:
    return PlainTextResponse(message, status_code=status)
