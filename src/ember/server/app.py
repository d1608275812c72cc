"""The FastAPI application of ``ember server``: a thin HTTP layer over a local ``Backend``.

Errors leave the server in one shape, ``{"error": {"code", "message", "details"}}``, which
``ember.errors.error_from_payload`` turns back into the typed exception on the client:

- ``EmberError`` → its ``http_status``;
- a request that does not match the API's schema → 400 ``invalid_input`` naming the fields;
- an unknown route or method → 404 / 405;
- anything else → 500 with a request id; the traceback goes to the log, never to the client.
"""

from __future__ import annotations

import logging
import os
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ember.backend import Backend
from ember.errors import EmberError
from ember.server.routes.data import router as data_router
from ember.server.routes.endpoints import router as endpoints_router
from ember.server.routes.environments import router as environments_router
from ember.server.routes.jobs import router as jobs_router
from ember.server.routes.registry import router as registry_router
from ember.server.routes.tracking import add_raw_body_schemas
from ember.server.routes.tracking import router as tracking_router
from ember.server.security import SecurityMiddleware
from ember.server.studio import STUDIO_DIST, studio_routes
from ember.version import __version__

__all__ = ["API_PREFIX", "DEFAULT_MAX_ARTIFACT_BYTES", "MAX_JSON_BODY_BYTES", "create_app", "error_response"]

logger = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
MAX_JSON_BODY_BYTES = 256 * 2**20
DEFAULT_MAX_ARTIFACT_BYTES = 50 * 2**30

_CODE_BY_STATUS = {
    400: "invalid_input",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
}


def create_app(
    backend: Backend,
    *,
    allowed_hosts: list[str] | None = None,
    max_artifact_bytes: int = DEFAULT_MAX_ARTIFACT_BYTES,
    max_json_body_bytes: int = MAX_JSON_BODY_BYTES,
    sweep_interval: float | None = None,
    studio_dir: Path = STUDIO_DIST,
) -> FastAPI:
    """Build the server application around a backend (which the caller opens and closes).

    Args:
        backend: The workspace to serve; a ``LocalBackend`` in ``ember server``.
        allowed_hosts: Names the ``Host`` header may carry besides the loopback names (``"*"``: any).
        max_artifact_bytes: Largest artifact upload; larger ones are refused with 413, nothing stored.
        max_json_body_bytes: Largest JSON request body (a metric batch is the biggest).
        sweep_interval: Seconds between sweeps that fail runs whose runner went silent, start queued
            runs and restart a serving host that stopped (default ``$EMBER_SWEEP_INTERVAL`` or 15).
        studio_dir: The studio's build (``index.html`` and ``assets/``), served at every path outside
            ``/api/``; when it is missing those paths answer a page that says how to build it.

    Returns:
        The ASGI application; run it with one uvicorn worker.
    """
    app = FastAPI(
        title="Ember",
        version=__version__,
        summary="Experiments, runs, metrics and artifacts of an Ember workspace.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
        lifespan=_sweeper(backend, sweep_interval),
    )
    app.state.backend = backend
    app.include_router(tracking_router, prefix=API_PREFIX)
    app.include_router(jobs_router, prefix=API_PREFIX)
    app.include_router(environments_router, prefix=API_PREFIX)
    app.include_router(data_router, prefix=API_PREFIX)
    app.include_router(registry_router, prefix=API_PREFIX)
    app.include_router(endpoints_router, prefix=API_PREFIX)
    build_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            _tidy_openapi(build_openapi())
        return build_openapi()

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend it

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    # Last: the studio's catch-all answers every GET path no route above took (except /api/...).
    app.router.routes.extend(studio_routes(studio_dir))

    app.add_exception_handler(EmberError, _ember_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    # add_middleware puts the last one outermost: security wraps the catch-all, so even a 500 gets
    # the security headers (Starlette's own 500 handler sits outside every user middleware).
    app.add_middleware(_UnexpectedErrors)
    app.add_middleware(
        SecurityMiddleware,
        allowed_hosts=allowed_hosts or (),
        max_body_bytes=max_json_body_bytes,
        max_upload_bytes=max_artifact_bytes,
    )
    return app


def _sweeper(
    backend: Backend, interval: float | None
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """A lifespan that sweeps the workspace in the background while the server runs.

    Each sweep fails silent runs and starts queued ones; on a local workspace it also starts the serving
    host when none is alive, so endpoints come back after a restart of ``ember server`` or a host crash
    (once at startup too).
    """
    every = interval if interval is not None else float(os.environ.get("EMBER_SWEEP_INTERVAL", "15"))
    # Not in the contract: only the local endpoints area starts serving hosts.
    ensure_host: Callable[[], None] | None = (
        getattr(getattr(backend, "endpoints", None), "ensure_host", None)
        if getattr(backend, "kind", None) == "local"
        else None
    )

    async def serve_endpoints() -> None:
        if ensure_host is None:
            return
        try:
            await anyio.to_thread.run_sync(ensure_host)
        except Exception:  # the next sweep tries again; never take the server down
            logger.exception("starting the serving host failed")

    async def loop() -> None:
        await serve_endpoints()
        while True:
            await anyio.sleep(every)
            try:
                await anyio.to_thread.run_sync(backend.jobs.sweep)
            except Exception:  # the next sweep tries again; never take the server down
                logger.exception("sweeping runs failed")
            await serve_endpoints()

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        async with anyio.create_task_group() as group:
            group.start_soon(loop)
            yield
            group.cancel_scope.cancel()

    return lifespan


def _tidy_openapi(document: dict[str, Any]) -> None:
    """Document what the server really does: 400 (not FastAPI's 422) and the hand-parsed bodies."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            operation.get("responses", {}).pop("422", None)
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    add_raw_body_schemas(document)


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> Response:
    """The JSON error answer every failure path sends."""
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def _ember_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EmberError)
    if exc.http_status >= 500:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc.message)
    return Response(
        orjson.dumps(exc.to_payload()), status_code=exc.http_status, media_type="application/json"
    )


def describe_request_errors(errors: Sequence[Any]) -> str:
    """One ``field: problem`` per error, without the rejected input (it may hold a secret)."""
    parts = []
    for err in errors[:10]:
        if err.get("type") == "json_invalid":
            problem = err.get("ctx", {}).get("error", "malformed")
            parts.append(f"the body is not valid JSON ({problem}); send Content-Type: application/json")
            continue
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "path", "query", "header")]
        parts.append(f"{'.'.join(loc) or 'body'}: {err.get('msg', 'invalid')}")
    if len(errors) > 10:
        parts.append(f"and {len(errors) - 10} more")
    return "; ".join(parts)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    return error_response(400, "invalid_input", describe_request_errors(exc.errors()))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = _CODE_BY_STATUS.get(exc.status_code, "http_error")
    message = str(exc.detail)
    if exc.status_code in (404, 405) and message in ("Not Found", "Method Not Allowed"):
        message = (
            f"{message.lower()}: no API route {request.method} {request.url.path[:200]}; "
            f"the API is described at {API_PREFIX}/docs"
        )
    response = error_response(exc.status_code, code, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


class _UnexpectedErrors:
    """Answers 500 with a request id for any exception no handler took, and logs its traceback."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except ClientDisconnect:
            # Nobody is left to answer: an interrupted upload is normal, not a server error.
            logger.info("client went away during %s %s", scope["method"], scope["path"][:200])
        except Exception:
            request_id = uuid.uuid4().hex[:16]
            logger.exception(
                "unexpected error in %s %s (request id %s)", scope["method"], scope["path"][:200], request_id
            )
            if started:
                raise  # the answer is half sent: only dropping the connection tells the client
            response = error_response(
                500,
                "internal_error",
                f"internal server error; the server log has the details under request id {request_id}",
                {"request_id": request_id},
            )
            response.headers["X-Request-ID"] = request_id
            await response(scope, receive, send)
