"""The HTTP client speaks the server's wire format, retries only what is safe, and keeps the token secret."""

from __future__ import annotations

import math

import httpx
import orjson
import pytest

from ember.entities import ExperimentUpdate, MetricSeries
from ember.errors import Conflict, EmberError
from ember.transport import HttpClient, ServerUnreachable


def _client(handler: httpx.MockTransport, token: str | None = None) -> HttpClient:
    return HttpClient("http://ember.test:5000", token=token, transport=handler)


def test_requests_carry_the_token_the_agent_and_nan_safe_json() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    client = _client(httpx.MockTransport(handler), token="t0ken")
    answer = client.post("/api/v1/x", json={"series": [MetricSeries(key="m", values=[math.nan, -math.inf])]})
    client.patch("/api/v1/y", json=ExperimentUpdate(tags={"a": "b"}))

    assert answer is None
    first, second = seen
    assert first.headers["authorization"] == "Bearer t0ken"
    assert first.headers["user-agent"].startswith("ember/")
    assert first.headers["content-type"] == "application/json"
    assert orjson.loads(first.content)["series"][0]["values"] == ["NaN", "-Infinity"]
    # Fields the caller left out stay out, so the server can tell "unchanged" from "cleared".
    assert orjson.loads(second.content) == {"tags": {"a": "b"}}


def test_error_answers_become_typed_errors() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/conflict":
            return httpx.Response(
                409, json={"error": {"code": "conflict", "message": "name taken", "details": {}}}
            )
        return httpx.Response(502, text="<html>bad gateway</html>")

    client = _client(httpx.MockTransport(handler))

    with pytest.raises(Conflict, match="name taken"):
        client.post("/conflict", json={})
    with pytest.raises(EmberError, match="502"):
        client.get("/proxy")


def test_only_reads_are_retried_after_a_connection_error() -> None:
    calls: dict[str, int] = {"GET": 0, "POST": 0}

    def handler(request: httpx.Request) -> httpx.Response:
        calls[request.method] += 1
        if calls[request.method] < 3:
            raise httpx.ConnectError("connection refused", request=request)
        return httpx.Response(200, json={"ok": True})

    client = _client(httpx.MockTransport(handler), token="s3cret")

    assert client.get("/api/v1/workspace") == {"ok": True}
    with pytest.raises(ServerUnreachable) as caught:
        client.post("/api/v1/experiments", json={"name": "x"})

    assert calls == {"GET": 3, "POST": 1}
    assert "http://ember.test:5000" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_credentials_in_the_url_are_never_shown() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = HttpClient("http://user:hunter2@ember.test:5000", transport=httpx.MockTransport(handler))

    with pytest.raises(ServerUnreachable) as caught:
        client.get("/healthz")

    assert "hunter2" not in str(caught.value)
    assert "hunter2" not in repr(client)
    assert "ember.test:5000" in str(caught.value)


def test_downloads_stream_and_uploads_are_sent_as_octet_streams() -> None:
    uploaded: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "PUT":
            assert request.headers["content-type"] == "application/octet-stream"
            uploaded.append(request.read())
            return httpx.Response(201, json={"stored": True})
        return httpx.Response(200, content=b"abc" * 1000, headers={"x-ember-digest": "d"})

    client = _client(httpx.MockTransport(handler))

    assert client.upload("/a", iter([b"one", b"two"])) == {"stored": True}
    with client.download("/a", chunk_size=1000) as (headers, chunks):
        parts = list(chunks)

    assert uploaded == [b"onetwo"]
    assert headers["x-ember-digest"] == "d"
    assert b"".join(parts) == b"abc" * 1000
    assert max(len(p) for p in parts) <= 1000
