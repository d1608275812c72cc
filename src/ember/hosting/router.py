"""The router of the serving host: one HTTP port for every endpoint of a workspace.

``POST /endpoints/<name>/score`` is authenticated (the endpoint's key or token as ``Authorization: Bearer``),
assigned to a deployment (``X-Ember-Deployment`` names one, otherwise the traffic split decides), and
forwarded to the ready replica of that deployment with the fewest requests in flight, over a pool of
keep-alive connections on the replica's Unix socket. A copy goes to the mirror deployment for the mirrored
share of requests. ``GET /endpoints/<name>/swagger.json`` answers the serving deployment's OpenAPI document.
``/healthz``, ``/metrics`` (Prometheus) and ``/-/telemetry/<name>`` (JSON, for the workspace API) are
open and hold no secrets.

Why it is written on asyncio protocols with httptools rather than an ASGI framework and an HTTP client:
every request crosses this process twice on the same cores as the replicas, and an ASGI app plus httpx
cost about ten times as much CPU per request as parsing with httptools and writing bytes (see
docs/performance.md, "Serving"). Requests are parsed whole (body included, up to the deployment's limit)
and forwarded with a ``Content-Length``; replicas always answer with one.

A request whose replica connection breaks before an answer (the replica crashed or was stopped) is sent
once more to another ready replica: scoring is expected to be free of side effects.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import random
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import cast

import httptools
import orjson

from ember.hosting.telemetry import DeploymentCounters, EndpointCounters, Telemetry
from ember.serving.keys import verify_token

__all__ = ["Replica", "RouteDeployment", "RouteEndpoint", "Router", "RouterProtocol"]

logger = logging.getLogger(__name__)

MAX_HEADER_COUNT = 100
MAX_PIPELINED = 16
REPLICA_WAIT_S = 10.0  # how long a request waits for a replica of its deployment to come back
MAX_ANY_BODY = 256 * 2**20
IDLE_CONNECTIONS_PER_REPLICA = 64
UPSTREAM_TIMEOUT_S = 300.0
_REASONS = {
    200: b"OK",
    204: b"No Content",
    400: b"Bad Request",
    401: b"Unauthorized",
    404: b"Not Found",
    405: b"Method Not Allowed",
    413: b"Payload Too Large",
    415: b"Unsupported Media Type",
    500: b"Internal Server Error",
    502: b"Bad Gateway",
    503: b"Service Unavailable",
    504: b"Gateway Timeout",
}


class UpstreamError(Exception):
    """The connection to a replica failed before its answer arrived."""


class _Upstream(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection to a replica; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.future: asyncio.Future[tuple[int, bytes, bytes]] | None = None
        self.closed = False
        self._content_type = b"application/json"
        self._body: list[bytes] = []

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.future is not None and not self.future.done():
            self.future.set_exception(UpstreamError(str(exc) if exc else "the replica closed the connection"))

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            if self.future is not None and not self.future.done():
                self.future.set_exception(UpstreamError(f"the replica's answer is not HTTP: {exc}"))
            self.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self._content_type = b"application/json"
        self._body = []

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"content-type":
            self._content_type = value

    def on_body(self, body: bytes) -> None:
        self._body.append(body)

    def on_message_complete(self) -> None:
        future = self.future
        if future is not None and not future.done():
            future.set_result((self.parser.get_status_code(), self._content_type, b"".join(self._body)))
        if not self.parser.should_keep_alive():
            self.close()

    def send(self, data: bytes) -> asyncio.Future[tuple[int, bytes, bytes]]:
        assert self.transport is not None
        self.future = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return self.future

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Replica:
    """A replica as the router sees it: its socket, its idle connections, its requests in flight."""

    def __init__(self, replica_id: str, socket_path: str) -> None:
        self.id = replica_id
        self.socket_path = socket_path
        self.in_flight = 0
        self.ready = False
        self.idle: deque[_Upstream] = deque()

    async def request(self, data: bytes, timeout: float) -> tuple[int, bytes, bytes]:
        """Send one request (bytes) and wait for the answer: status, content type, body."""
        conn: _Upstream | None = None
        while self.idle:
            candidate = self.idle.pop()
            if not candidate.closed:
                conn = candidate
                break
        if conn is None:
            loop = asyncio.get_running_loop()
            try:
                _, conn = await loop.create_unix_connection(_Upstream, self.socket_path)
            except OSError as exc:
                raise UpstreamError(f"cannot reach replica {self.id}: {exc}") from None
        self.in_flight += 1
        try:
            answer = await asyncio.wait_for(conn.send(data), timeout)
        except TimeoutError:
            conn.close()
            raise
        except BaseException:
            conn.close()
            raise
        finally:
            self.in_flight -= 1
        if not conn.closed and len(self.idle) < IDLE_CONNECTIONS_PER_REPLICA:
            self.idle.append(conn)
        elif not conn.closed:
            conn.close()
        return answer

    def close_idle(self) -> None:
        while self.idle:
            self.idle.pop().close()


@dataclass
class RouteDeployment:
    """A deployment as the router sees it."""

    name: str
    counters: DeploymentCounters
    max_body_bytes: int
    collect: bool = False
    replicas: list[Replica] = field(default_factory=list)  # ready replicas only
    status: str = "Creating"

    def pick(self, avoid: Replica | None = None) -> Replica | None:
        """The ready replica with the fewest requests in flight (ties broken at random)."""
        best: Replica | None = None
        for replica in self.replicas:
            if replica is avoid or not replica.ready:
                continue
            if (
                best is None
                or replica.in_flight < best.in_flight
                or (replica.in_flight == best.in_flight and random.random() < 0.5)
            ):
                best = replica
        return best


@dataclass
class RouteEndpoint:
    """An endpoint as the router sees it: credentials and traffic."""

    id: str
    name: str
    auth_mode: str
    key_hashes: frozenset[str]
    token_secret: str
    deployments: dict[str, RouteDeployment]
    counters: EndpointCounters
    traffic: list[tuple[float, RouteDeployment]] = field(default_factory=list)  # cumulative weights
    mirror: tuple[float, RouteDeployment] | None = None

    def authorized(self, authorization: bytes | None) -> bool:
        if not authorization:
            return False
        scheme, _, credential = authorization.decode("latin-1").partition(" ")
        credential = credential.strip()
        if scheme.lower() != "bearer" or not credential:
            return False
        if self.auth_mode == "token":
            return verify_token(self.token_secret, self.id, credential)
        digest = hashlib.sha256(credential.encode("utf-8", "surrogateescape")).hexdigest()
        return any(hmac.compare_digest(digest, known) for known in self.key_hashes)

    def choose(self) -> RouteDeployment | None:
        if not self.traffic:
            return None
        point = random.random() * self.traffic[-1][0]
        for bound, deployment in self.traffic:
            if point < bound:
                return deployment
        return self.traffic[-1][1]


Collect = Callable[[str, RouteDeployment, str, bytes, int, bytes, float], None]


class Router:
    """The routing table and the request handling shared by every client connection."""

    def __init__(self, telemetry: Telemetry, *, collect: Collect | None = None) -> None:
        self.telemetry = telemetry
        self.endpoints: dict[str, RouteEndpoint] = {}
        self.collect = collect
        self.connections: set[RouterProtocol] = set()
        self._background: set[asyncio.Task[None]] = set()

    def protocol(self) -> RouterProtocol:
        return RouterProtocol(self)

    # ---- handling ------------------------------------------------------------------------------------

    async def handle(self, request: _Request) -> bytes:
        path = request.path
        if path.startswith("/endpoints/"):
            name, _, action = path[len("/endpoints/") :].partition("/")
            endpoint = self.endpoints.get(name)
            if endpoint is None:
                return _error(404, "not_found", f"no endpoint named {name!r} on this host", request)
            if action == "score":
                if request.method != b"POST":
                    return _error(405, "method_not_allowed", "score with POST", request)
                return await self._score(endpoint, request)
            if action == "swagger.json":
                if request.method != b"GET":
                    return _error(405, "method_not_allowed", "fetch the document with GET", request)
                return await self._swagger(endpoint, request)
            return _error(404, "not_found", f"endpoint {name!r} has /score and /swagger.json", request)
        if path == "/healthz":
            return _answer(200, b"application/json", b'{"status":"alive"}', request)
        if path == "/metrics":
            return _answer(
                200, b"text/plain; version=0.0.4; charset=utf-8", self.telemetry.prometheus(), request
            )
        if path.startswith("/-/telemetry/"):
            snapshot = self.telemetry.snapshot(path[len("/-/telemetry/") :])
            return _answer(200, b"application/json", snapshot.model_dump_json().encode(), request)
        return _error(404, "not_found", "scoring URLs are /endpoints/<name>/score", request)

    def _refuse(self, endpoint: RouteEndpoint, request: _Request) -> bytes | None:
        if endpoint.authorized(request.authorization):
            return None
        endpoint.counters.unauthorized += 1
        what = "token" if endpoint.auth_mode == "token" else "key"
        if not request.authorization:
            message = f"endpoint {endpoint.name!r} needs its {what}: send 'Authorization: Bearer <{what}>'"
        else:
            message = f"the {what} is not valid for endpoint {endpoint.name!r} (it may have been regenerated)"
        return _error(401, "unauthorized", message, request, extra=b"WWW-Authenticate: Bearer\r\n")

    async def _swagger(self, endpoint: RouteEndpoint, request: _Request) -> bytes:
        refused = self._refuse(endpoint, request)
        if refused is not None:
            return refused
        deployment = self._target(endpoint, request)
        if isinstance(deployment, bytes):
            return deployment
        upstream = (
            f"GET /swagger.json HTTP/1.1\r\nHost: replica\r\nX-Request-Id: {request.request_id}\r\n\r\n"
        )
        return await self._forward(deployment, upstream.encode(), request, count=False)

    def _target(self, endpoint: RouteEndpoint, request: _Request) -> RouteDeployment | bytes:
        if request.deployment:
            named = endpoint.deployments.get(request.deployment)
            if named is None:
                return _error(
                    404,
                    "not_found",
                    f"endpoint {endpoint.name!r} has no deployment {request.deployment!r}",
                    request,
                )
            return named
        chosen = endpoint.choose()
        if chosen is None:
            return _error(
                503, "no_traffic", f"no deployment of endpoint {endpoint.name!r} takes traffic", request
            )
        return chosen

    async def _score(self, endpoint: RouteEndpoint, request: _Request) -> bytes:
        refused = self._refuse(endpoint, request)
        if refused is not None:
            return refused
        deployment = self._target(endpoint, request)
        if isinstance(deployment, bytes):
            return deployment
        refusal: tuple[int, str, str] | None = None
        media = request.content_type.split(b";", 1)[0].strip().lower()
        if len(request.body) > deployment.max_body_bytes or request.too_large:
            refusal = (413, "payload_too_large", f"the body is larger than {deployment.max_body_bytes} bytes")
        elif media not in (b"application/json", b"text/json"):
            shown = media.decode("latin-1") or "nothing"
            refusal = (
                415,
                "unsupported_media_type",
                f"send JSON (Content-Type: application/json), not {shown!r}",
            )
        if refusal is not None:
            status, code, message = refusal
            deployment.counters.observe(status, time.perf_counter() - request.started)
            return _error(status, code, message, request, deployment=deployment.name)
        head = (
            f"POST /score HTTP/1.1\r\nHost: replica\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(request.body)}\r\nX-Request-Id: {request.request_id}\r\n"
        )
        if request.debug:
            head += "X-Ember-Debug: true\r\n"
        upstream = head.encode() + b"\r\n" + request.body
        mirror = endpoint.mirror
        if mirror is not None and not request.deployment and random.random() * 100 < mirror[0]:
            task = asyncio.get_running_loop().create_task(
                self._mirror(endpoint, mirror[1], upstream, request)
            )
            self._background.add(task)
            task.add_done_callback(self._background.discard)
        return await self._forward(deployment, upstream, request, endpoint=endpoint)

    async def _mirror(
        self, endpoint: RouteEndpoint, deployment: RouteDeployment, upstream: bytes, request: _Request
    ) -> None:
        deployment.counters.mirrored += 1
        try:
            await self._forward(deployment, upstream, request, endpoint=endpoint)
        except Exception:  # a mirror never affects the live answer
            logger.debug("mirrored request to %s failed", deployment.name, exc_info=True)

    async def _forward(
        self,
        deployment: RouteDeployment,
        upstream: bytes,
        request: _Request,
        *,
        endpoint: RouteEndpoint | None = None,
        count: bool = True,
    ) -> bytes:
        counters = deployment.counters
        replica = deployment.pick()
        if replica is None:
            status_text = deployment.status
            answer = _error(
                503,
                "not_ready",
                f"deployment {deployment.name!r} has no ready replica (status {status_text})",
                request,
                deployment=deployment.name,
            )
            if count:
                counters.observe(503, time.perf_counter() - request.started)
            return answer
        counters.in_flight += 1
        try:
            try:
                status, content_type, body = await replica.request(upstream, UPSTREAM_TIMEOUT_S)
            except UpstreamError as first:
                retry = deployment.pick(avoid=replica)
                if retry is None:
                    # The only replica failed; wait for it to come back rather than failing at once.
                    retry = await self._wait_for_replica(deployment, avoid=replica)
                if retry is None:
                    raise first from None
                status, content_type, body = await retry.request(upstream, UPSTREAM_TIMEOUT_S)
        except UpstreamError as exc:
            logger.warning("deployment %s: %s", deployment.name, exc)
            status, content_type = 502, b"application/json"
            body = _error_body("replica_failed", f"the replica of {deployment.name!r} failed: {exc}", request)
        except TimeoutError:
            status, content_type = 504, b"application/json"
            body = _error_body(
                "timeout", f"{deployment.name!r} did not answer in {UPSTREAM_TIMEOUT_S:.0f} s", request
            )
        finally:
            counters.in_flight -= 1
        elapsed = time.perf_counter() - request.started
        if count:
            counters.observe(status, elapsed)
        if deployment.collect and self.collect is not None and endpoint is not None and status < 500:
            self.collect(endpoint.name, deployment, request.request_id, request.body, status, body, elapsed)
        return _answer(status, content_type, body, request, deployment=deployment.name)

    async def _wait_for_replica(self, deployment: RouteDeployment, *, avoid: Replica) -> Replica | None:
        deadline = time.monotonic() + REPLICA_WAIT_S
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            found = deployment.pick(avoid=avoid)
            if found is not None:
                return found
        return None


class _Request:
    __slots__ = (
        "authorization",
        "body",
        "content_type",
        "debug",
        "deployment",
        "keep_alive",
        "method",
        "path",
        "request_id",
        "started",
        "too_large",
    )

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.method = b""
        self.path = ""
        self.authorization: bytes | None = None
        self.content_type = b""
        self.deployment: str | None = None
        self.debug = False
        self.request_id = ""
        self.body = b""
        self.keep_alive = True
        self.too_large = False


def _error_body(code: str, message: str, request: _Request) -> bytes:
    return orjson.dumps({"error": {"code": code, "message": message, "request_id": request.request_id}})


def _error(
    status: int,
    code: str,
    message: str,
    request: _Request,
    *,
    deployment: str | None = None,
    extra: bytes = b"",
) -> bytes:
    return _answer(
        status,
        b"application/json",
        _error_body(code, message, request),
        request,
        deployment=deployment,
        extra=extra,
    )


def _answer(
    status: int,
    content_type: bytes,
    body: bytes,
    request: _Request,
    *,
    deployment: str | None = None,
    extra: bytes = b"",
) -> bytes:
    head = [
        b"HTTP/1.1 %d %s\r\n" % (status, _REASONS.get(status, b"Unknown")),
        b"Content-Type: %s\r\nContent-Length: %d\r\n" % (content_type, len(body)),
    ]
    if request.request_id:
        head.append(b"X-Request-Id: %s\r\n" % request.request_id.encode())
    if deployment:
        head.append(b"X-Ember-Deployment: %s\r\n" % deployment.encode())
    if not request.keep_alive:
        head.append(b"Connection: close\r\n")
    head.append(extra)
    head.append(b"\r\n")
    head.append(body)
    return b"".join(head)


class RouterProtocol(asyncio.Protocol):
    """One client connection: parses requests with httptools and answers them in order."""

    def __init__(self, router: Router) -> None:
        self.router = router
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.current: _Request | None = None
        self.body: list[bytes] = []
        self.size = 0
        self.headers = 0
        self.url = b""
        self.queue: deque[_Request] = deque()
        self.busy = False
        self.paused = False
        self.closing = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's transports are not subclasses
        self.router.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self.router.connections.discard(self)
        self.closing = True

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._fail(400, "protocol upgrades are not supported")
        except httptools.HttpParserError as exc:
            self._fail(400, f"malformed HTTP request: {exc}")

    def _fail(self, status: int, message: str) -> None:
        request = self.current or _Request()
        request.keep_alive = False
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_error(status, "bad_request", message, request))
            self.transport.close()

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.current = _Request()
        self.body = []
        self.size = 0
        self.headers = 0
        self.url = b""

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        request = self.current
        assert request is not None
        self.headers += 1
        if self.headers > MAX_HEADER_COUNT:
            raise httptools.HttpParserError("too many headers")
        lowered = name.lower()
        if lowered == b"authorization":
            request.authorization = value
        elif lowered == b"content-type":
            request.content_type = value
        elif lowered == b"x-ember-deployment":
            request.deployment = value.decode("latin-1").strip() or None
        elif lowered == b"x-ember-debug":
            request.debug = value.strip().lower() in (b"1", b"true", b"yes")
        elif lowered == b"x-request-id":
            cleaned = "".join(ch for ch in value.decode("latin-1")[:64] if ch.isalnum() or ch in "-_.")
            request.request_id = cleaned

    def on_body(self, body: bytes) -> None:
        request = self.current
        assert request is not None
        self.size += len(body)
        if self.size > MAX_ANY_BODY:
            request.too_large = True  # keep parsing, drop the bytes: the answer is a 413
            return
        self.body.append(body)

    def on_message_complete(self) -> None:
        request = self.current
        assert request is not None
        request.method = self.parser.get_method()
        request.keep_alive = self.parser.should_keep_alive()
        request.body = b"".join(self.body) if len(self.body) != 1 else self.body[0]
        try:
            url = httptools.parse_url(self.url)
            request.path = url.path.decode("latin-1")
        except httptools.HttpParserInvalidURLError:
            request.path = ""
        if not request.request_id:
            request.request_id = uuid.uuid4().hex[:16]
        self.current = None
        self.queue.append(request)
        if len(self.queue) >= MAX_PIPELINED and self.transport is not None:
            self.transport.pause_reading()  # a client pipelining without end waits for its answers
            self.paused = True
        if not self.busy:
            self.busy = True
            asyncio.get_running_loop().create_task(self._serve())

    async def _serve(self) -> None:
        try:
            while self.queue:
                request = self.queue.popleft()
                try:
                    answer = await self.router.handle(request)
                except Exception:
                    logger.exception("routing request %s failed", request.request_id)
                    answer = _error(500, "internal_error", "the router failed; see the host log", request)
                if self.transport is None or self.transport.is_closing():
                    return
                self.transport.write(answer)
                if not request.keep_alive:
                    self.transport.close()
                    return
        finally:
            self.busy = False
            if self.paused and self.transport is not None and not self.transport.is_closing():
                self.paused = False
                self.transport.resume_reading()
