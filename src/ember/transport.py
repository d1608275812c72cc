"""The HTTP client that ``RemoteBackend`` uses to talk to ``ember server``.

One keep-alive ``httpx.Client`` per backend. Bodies are JSON (pydantic models keep NaN and +-inf as
strings) except artifact bytes, which stream both ways and are never held in memory as a whole. Error
answers become the same typed ``ember.errors`` exceptions a local backend raises.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from types import TracebackType
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import httpx
import orjson
import pydantic_core
from pydantic import BaseModel

from ember.errors import EmberError, error_from_payload
from ember.version import __version__

__all__ = ["DOWNLOAD_CHUNK_SIZE", "Download", "HttpClient", "ServerUnreachable", "url_path", "url_segment"]

logger = logging.getLogger(__name__)

DOWNLOAD_CHUNK_SIZE = 1 << 20
_GET_RETRIES = 3
_BACKOFF_SECONDS = 0.1
_JSON = "application/json"
_OCTETS = "application/octet-stream"


class ServerUnreachable(EmberError):
    """No connection to the Ember server could be made."""

    code = "server_unreachable"
    http_status = 503


def url_segment(value: str) -> str:
    """``value`` as one URL path segment: every reserved character escaped, and '.'/'..' too."""
    quoted = quote(value, safe="")
    # httpx (like browsers) removes "." and ".." segments; escaped dots survive to the server.
    return quoted.replace(".", "%2E") if quoted.strip(".") == "" else quoted


def url_path(path: str) -> str:
    """A file path in a URL: '/' kept, each segment escaped, so the server sees the path as given."""
    return "/".join(url_segment(part) for part in path.split("/"))


class Download(Iterator[bytes]):
    """A streamed answer's bytes; closes the answer when exhausted, closed or garbage-collected."""

    def __init__(self, stack: ExitStack, body: Iterator[bytes]) -> None:
        self._stack = stack
        self._body = body

    def __next__(self) -> bytes:
        try:
            return next(self._body)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Release the connection without reading the rest."""
        self._stack.close()

    def __enter__(self) -> Download:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()


def _display_url(url: str) -> str:
    """The URL without any user:password part, safe for messages and logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def _encode(body: Any) -> bytes:
    """JSON bytes of a request body; NaN and +-inf travel as "NaN", "Infinity", "-Infinity"."""
    if isinstance(body, BaseModel):
        # exclude_unset keeps "left out" distinct from "set to null" across the wire.
        return body.model_dump_json(exclude_unset=True).encode()
    return pydantic_core.to_json(body, inf_nan_mode="strings")


class HttpClient:
    """A JSON-over-HTTP client of one Ember server.

    Args:
        base_url: The server's URL, such as ``"http://127.0.0.1:5000"``.
        token: Sent as ``Authorization: Bearer <token>`` when given; never logged or put in messages.
        transport: An ``httpx`` transport to use instead of the network (tests plug in a fake here).
    """

    def __init__(
        self, base_url: str, *, token: str | None = None, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = base_url.rstrip("/")
        self._shown_url = _display_url(self.url)
        headers = {"User-Agent": f"ember/{__version__}", "Accept": _JSON}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._client = httpx.Client(
            base_url=self.url,
            headers=headers,
            timeout=httpx.Timeout(300.0, connect=10.0),
            transport=transport,
            follow_redirects=False,
        )

    def __repr__(self) -> str:
        return f"HttpClient({self._shown_url!r})"

    def close(self) -> None:
        """Close the pooled connections."""
        self._client.close()

    # -- JSON calls ----------------------------------------------------------------------------
    def get(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        """GET ``path`` and return the parsed JSON answer; retried on connection errors."""
        return self.request("GET", path, params=params)

    def post(self, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """POST a JSON body (a pydantic model or plain data) and return the parsed answer."""
        return self.request("POST", path, json=json, params=params)

    def put(self, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """PUT a JSON body and return the parsed answer."""
        return self.request("PUT", path, json=json, params=params)

    def patch(self, path: str, *, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        """PATCH a JSON body and return the parsed answer."""
        return self.request("PATCH", path, json=json, params=params)

    def delete(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        """DELETE ``path`` and return the parsed answer (None for 204)."""
        return self.request("DELETE", path, params=params)

    def request(
        self, method: str, path: str, *, json: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        """Send one request and return its parsed JSON answer, or None when it has no body.

        Raises:
            EmberError: The typed error the server answered with, or ``ServerUnreachable``.
        """
        headers = {}
        content = None
        if json is not None:
            content = _encode(json)
            headers["Content-Type"] = _JSON
        request = self._client.build_request(method, path, content=content, headers=headers, params=params)
        response = self._send(request, retry=method == "GET")
        try:
            return _parse(response)
        finally:
            response.close()

    # -- streams -------------------------------------------------------------------------------
    def upload(self, path: str, chunks: Iterable[bytes], *, params: dict[str, Any] | None = None) -> Any:
        """PUT a stream of bytes (chunked transfer, never buffered) and return the parsed answer."""
        request = self._client.build_request(
            "PUT", path, content=iter(chunks), headers={"Content-Type": _OCTETS}, params=params
        )
        # Not retried: the chunks may already be consumed.
        response = self._send(request, retry=False, uploading=True)
        try:
            return _parse(response)
        finally:
            response.close()

    @contextmanager
    def download(
        self, path: str, *, params: dict[str, Any] | None = None, chunk_size: int = DOWNLOAD_CHUNK_SIZE
    ) -> Iterator[tuple[httpx.Headers, Iterator[bytes]]]:
        """GET ``path`` as a stream: yields the answer's headers and an iterator over its bytes.

        The connection goes back to the pool when the ``with`` block ends.
        """
        request = self._client.build_request("GET", path, params=params)
        response = self._send(request, retry=True, stream=True)
        try:
            yield response.headers, self._iter_bytes(response, chunk_size)
        finally:
            response.close()

    def open_download(
        self, path: str, *, params: dict[str, Any] | None = None
    ) -> tuple[httpx.Headers, Download]:
        """Like ``download`` without a ``with`` block: the ``Download`` frees the connection when done."""
        stack = ExitStack()
        headers, body = stack.enter_context(self.download(path, params=params))
        return headers, Download(stack, body)

    # -- internals -----------------------------------------------------------------------------
    def _iter_bytes(self, response: httpx.Response, chunk_size: int) -> Iterator[bytes]:
        try:
            yield from response.iter_bytes(chunk_size)
        except httpx.TransportError as exc:
            raise EmberError(
                f"the download from the Ember server at {self._shown_url} was interrupted: {exc}"
            ) from exc

    def _send(
        self, request: httpx.Request, *, retry: bool, stream: bool = False, uploading: bool = False
    ) -> httpx.Response:
        attempts = 1 + (_GET_RETRIES if retry else 0)
        for attempt in range(attempts):
            try:
                response = self._client.send(request, stream=stream)
            except httpx.TimeoutException as exc:
                raise EmberError(
                    f"the Ember server at {self._shown_url} did not answer {request.method} "
                    f"{request.url.path} in time ({type(exc).__name__}); try again later"
                ) from exc
            except httpx.TransportError as exc:
                if attempt + 1 < attempts:
                    logger.debug("retrying %s %s after %r", request.method, request.url.path, exc)
                    time.sleep(_BACKOFF_SECONDS * 2**attempt)
                    continue
                raise self._transport_error(exc, uploading=uploading) from exc
            if response.is_success:
                return response
            try:
                response.read()
                raise _error(response)
            finally:
                response.close()
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _transport_error(self, exc: httpx.TransportError, *, uploading: bool) -> EmberError:
        if isinstance(exc, httpx.ConnectError):
            return ServerUnreachable(
                f"cannot reach Ember server at {self._shown_url}: is `ember server` running? ({exc})"
            )
        if uploading:
            return EmberError(
                f"the Ember server at {self._shown_url} closed the connection during an upload ({exc}); "
                "the file may be larger than the server's limit"
            )
        return EmberError(f"the connection to the Ember server at {self._shown_url} failed: {exc}")


def _parse(response: httpx.Response) -> Any:
    if response.status_code == 204 or not response.content:
        return None
    return orjson.loads(response.content)


def _error(response: httpx.Response) -> EmberError:
    payload: object
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        payload = response.text[:500]
    return error_from_payload(response.status_code, payload)
