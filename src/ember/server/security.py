"""Browser-facing protections of the server, as one pure ASGI middleware (it never buffers a stream).

A local server is reachable from every web page the user opens, so before any route runs it refuses:

- a ``Host`` header that is not one of the server's names (DNS rebinding: a hostile name that resolves
  to 127.0.0.1 would otherwise make the browser treat the API as that page's own origin);
- state-changing requests (POST, PUT, PATCH, DELETE) that a browser could send from another site: an
  ``Origin`` other than the server's own, ``Sec-Fetch-Site`` other than ``same-origin``/``none``, or a
  content type a cross-site form or "simple" fetch can send. The API takes only ``application/json``
  (and ``application/octet-stream`` for artifact uploads); both make browsers send a CORS preflight,
  which the server never answers with an allowance;
- bodies above the size limits (413), counted as they stream in.

Every answer carries ``nosniff``, ``DENY`` framing, ``no-referrer`` and a same-origin resource policy.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from urllib.parse import urlsplit

import orjson
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "LOOPBACK_HOSTS",
    "BodyTooLarge",
    "SecurityMiddleware",
    "is_artifact_upload",
    "split_host",
]

logger = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-resource-policy", b"same-origin"),
)

_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_TRUSTED_FETCH_SITES = frozenset({"same-origin", "none"})
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# Streamed uploads: run artifacts and content-addressed blobs (snapshot files).
_UPLOAD_PATH = re.compile(r"/api/v1/(runs/[^/]+/artifacts/.*|blobs/[^/]*)", re.DOTALL)
_JSON = "application/json"
_OCTETS = "application/octet-stream"


class BodyTooLarge(HTTPException):
    """The request body grew past the limit while it streamed in (answered 413)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            status_code=413,
            detail=f"the request body is larger than this server's limit of {limit} bytes; "
            "send less per request",
        )


def is_artifact_upload(method: str, path: str) -> bool:
    """Tell whether a request is a streamed upload: a run artifact or a content-addressed blob."""
    return method == "PUT" and _UPLOAD_PATH.fullmatch(path) is not None


def split_host(value: str) -> tuple[str, int | None] | None:
    """Split a ``Host`` value (``name``, ``name:port``, ``[v6]:port``) into a lowercase name and port.

    Returns:
        ``(name, port)``, ``port`` None when absent; None when the value is malformed.
    """
    value = value.strip().lower()
    if value.startswith("["):
        end = value.find("]")
        if end < 0:
            return None
        name, rest = value[1:end], value[end + 1 :]
    elif value.count(":") > 1:
        name, rest = value, ""  # a bare IPv6 address, as written in --allowed-host
    else:
        name, sep, port = value.partition(":")
        rest = sep + port
    if not name or (rest and not (rest.startswith(":") and rest[1:].isdigit())):
        return None
    return name, int(rest[1:]) if rest else None


class SecurityMiddleware:
    """Refuses requests that fail the host, cross-site or size checks, and sets the security headers.

    Args:
        app: The application to protect.
        allowed_hosts: Extra names the ``Host`` header may carry (``"name"`` for any port,
            ``"name:port"`` for one, ``"*"`` for any name), on top of the loopback names.
        max_body_bytes: Largest body of a JSON request.
        max_upload_bytes: Largest body of an artifact upload.
    """

    def __init__(
        self, app: ASGIApp, *, allowed_hosts: Iterable[str] = (), max_body_bytes: int, max_upload_bytes: int
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.max_upload_bytes = max_upload_bytes
        self.any_host = False
        self.hosts: set[tuple[str, int | None]] = set()
        for entry in (*LOOPBACK_HOSTS, *allowed_hosts):
            if entry.strip() == "*":
                self.any_host = True
                continue
            parsed = split_host(entry)
            if parsed is None:
                raise ValueError(f"invalid allowed host {entry!r}: use 'name', 'name:port' or '[v6]:port'")
            self.hosts.add(parsed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        method: str = scope["method"]
        path: str = scope["path"]
        upload = is_artifact_upload(method, path)
        refusal = self._check_host(headers)
        if refusal is None and method in _UNSAFE_METHODS:
            refusal = self._check_cross_site(scope, headers, upload=upload)
        limit = self.max_upload_bytes if upload else self.max_body_bytes
        if refusal is None and _content_length(headers) > limit:
            refusal = (413, "payload_too_large", BodyTooLarge(limit).detail)
        if refusal is not None:
            status, code, message = refusal
            logger.warning("refused %s %s: %s", method, path[:200], message)
            await _send_error(send, status, code, message)
            return

        received = 0

        async def receive_with_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {name.lower() for name, _ in message.get("headers", [])}
                extra = [(name, value) for name, value in SECURITY_HEADERS if name not in present]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive_with_limit, send_with_headers)

    def _check_host(self, headers: Headers) -> tuple[int, str, str] | None:
        if self.any_host:
            return None
        parsed = split_host(headers.get("host", ""))
        if parsed is not None and (parsed in self.hosts or (parsed[0], None) in self.hosts):
            return None
        return (
            400,
            "invalid_input",
            "invalid Host header: this server answers only to its own names; "
            "start it with --allowed-host NAME to add one",
        )

    def _check_cross_site(
        self, scope: Scope, headers: Headers, *, upload: bool
    ) -> tuple[int, str, str] | None:
        origin = headers.get("origin")
        if origin is not None and not _same_origin(
            origin, headers.get("host", ""), scope.get("scheme", "http")
        ):
            return 403, "forbidden", "cross-origin request refused: the Origin is not this server"
        fetch_site = headers.get("sec-fetch-site")
        if fetch_site is not None and fetch_site.lower() not in _TRUSTED_FETCH_SITES:
            return 403, "forbidden", f"cross-site request refused (Sec-Fetch-Site: {fetch_site[:40]})"
        content_type = headers.get("content-type")
        expected = _OCTETS if upload else _JSON
        if content_type is None:
            if upload or _has_body(headers):
                return 403, "forbidden", f"a request body must be sent with Content-Type: {expected}"
        elif content_type.split(";", 1)[0].strip().lower() != expected:
            return 403, "forbidden", f"Content-Type {content_type[:80]!r} refused: send {expected}"
        return None


def _same_origin(origin: str, host: str, scheme: str) -> bool:
    try:
        parts = urlsplit(origin)
        origin_port = parts.port or _DEFAULT_PORTS.get(parts.scheme)
    except ValueError:
        return False
    if not parts.hostname or origin_port is None:
        return False  # includes "null", sent by sandboxed frames and file:// pages
    target = split_host(host)
    if target is None:
        return False
    name, port = target
    return parts.hostname.lower() == name and origin_port == (port or _DEFAULT_PORTS.get(scheme))


def _content_length(headers: Headers) -> int:
    try:
        return int(headers.get("content-length", "0"))
    except ValueError:
        return 0


def _has_body(headers: Headers) -> bool:
    return _content_length(headers) > 0 or "transfer-encoding" in headers


async def _send_error(send: Send, status: int, code: str, message: str) -> None:
    body = orjson.dumps({"error": {"code": code, "message": message, "details": {}}})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                *SECURITY_HEADERS,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
