"""The serving host's router at the HTTP level: a real replica app on a Unix socket, the router on a port.

These check what the end-to-end tests do not reach: pipelined and HTTP/1.0 requests, chunked bodies,
malformed requests, unknown paths and methods, and a replica that goes away.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

import ember.hosting.router as router_module
from ember.hosting.router import Replica, RouteDeployment, RouteEndpoint, Router
from ember.hosting.telemetry import Telemetry
from ember.serving.scoring import Scorer, create_scoring_app

KEY = "emk_router-test-key"


class Echo(Scorer):
    name = "echo"

    def score(self, body: str) -> Any:
        return {"echo": json.loads(body)}


class RouterHarness:
    def __init__(self, tmp: Path) -> None:
        self.sock = str(tmp / "r.sock")
        self.replica = uvicorn.Server(
            uvicorn.Config(create_scoring_app(Echo()), uds=self.sock, log_level="warning", lifespan="on")
        )
        threading.Thread(target=self.replica.run, daemon=True).start()
        deadline = time.monotonic() + 10
        while not self.replica.started and time.monotonic() < deadline:
            time.sleep(0.01)
        self.telemetry = Telemetry()
        self.router = Router(self.telemetry)
        counters = self.telemetry.endpoint("echo")
        self.deployment = RouteDeployment(
            name="blue", counters=counters.deployment("blue"), max_body_bytes=4096
        )
        self.upstream = Replica("r0", self.sock)
        self.upstream.ready = True
        self.deployment.replicas.append(self.upstream)
        self.router.endpoints["echo"] = RouteEndpoint(
            id="e1",
            name="echo",
            auth_mode="key",
            key_hashes=frozenset({hashlib.sha256(KEY.encode()).hexdigest()}),
            token_secret="",
            deployments={"blue": self.deployment},
            counters=counters,
            traffic=[(100.0, self.deployment)],
        )
        self.loop = asyncio.new_event_loop()
        self.port = 0
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            server = self.loop.run_until_complete(
                self.loop.create_server(self.router.protocol, "127.0.0.1", 0)
            )
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            self.loop.run_forever()

        threading.Thread(target=serve, daemon=True).start()
        ready.wait(10)
        self.url = f"http://127.0.0.1:{self.port}"

    def raw(self, data: bytes, *, expect: int = 1) -> list[bytes]:
        """Send bytes, read ``expect`` answers (each with a Content-Length body)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=10) as conn:
            conn.sendall(data)
            buffer = b""
            answers: list[bytes] = []
            while len(answers) < expect:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                buffer += chunk
                while b"\r\n\r\n" in buffer:
                    head, _, rest = buffer.partition(b"\r\n\r\n")
                    length = next(
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    )
                    if len(rest) < length:
                        break
                    answers.append(head + b"\r\n\r\n" + rest[:length])
                    buffer = rest[length:]
            return answers

    def close(self) -> None:
        self.replica.should_exit = True
        self.loop.call_soon_threadsafe(self.loop.stop)


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[RouterHarness]:
    made = RouterHarness(tmp_path)
    try:
        yield made
    finally:
        made.close()


def _post(body: bytes, *, extra: str = "") -> bytes:
    return (
        f"POST /endpoints/echo/score HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {KEY}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


def test_pipelined_requests_are_answered_in_order(harness: RouterHarness) -> None:
    answers = harness.raw(b"".join(_post(json.dumps({"n": i}).encode()) for i in range(20)), expect=20)

    assert [json.loads(a.split(b"\r\n\r\n", 1)[1])["echo"]["n"] for a in answers] == list(range(20))


def test_http_10_and_connection_close_end_the_connection(harness: RouterHarness) -> None:
    body = b'{"a": 1}'
    request = _post(body).replace(b"HTTP/1.1", b"HTTP/1.0", 1)
    with socket.create_connection(("127.0.0.1", harness.port), timeout=10) as conn:
        conn.sendall(request)
        received = b""
        while chunk := conn.recv(65536):
            received += chunk

    assert received.startswith(b"HTTP/1.1 200")
    assert b"Connection: close" in received


def test_a_chunked_body_is_forwarded_whole(harness: RouterHarness) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"parts": '
        yield b"[1, 2, 3]}"

    answer = httpx.post(
        f"{harness.url}/endpoints/echo/score",
        content=chunks(),
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )

    assert answer.status_code == 200
    assert answer.json() == {"echo": {"parts": [1, 2, 3]}}


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/endpoints/echo/score", 405),
        ("POST", "/endpoints/nope/score", 404),
        ("POST", "/endpoints/echo/other", 404),
        ("GET", "/elsewhere", 404),
    ],
)
def test_unknown_paths_and_methods_are_4xx_with_a_message(
    harness: RouterHarness, method: str, path: str, status: int
) -> None:
    answer = httpx.request(method, harness.url + path, headers={"Authorization": f"Bearer {KEY}"})

    assert answer.status_code == status
    assert answer.json()["error"]["message"]


def test_malformed_http_is_a_400_and_the_connection_closes(harness: RouterHarness) -> None:
    (answer,) = harness.raw(b"POST /endpoints/echo/score HTTP/1.1\r\nContent-Length: nope\r\n\r\n")

    assert answer.startswith(b"HTTP/1.1 400")


def test_bodies_over_the_deployments_limit_are_413_and_not_forwarded(harness: RouterHarness) -> None:
    answer = httpx.post(
        f"{harness.url}/endpoints/echo/score",
        content=b'{"x": "' + b"y" * 5000 + b'"}',
        headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
    )

    assert answer.status_code == 413
    assert answer.headers["x-ember-deployment"] == "blue"


def test_a_request_id_is_kept_and_counted_in_telemetry(harness: RouterHarness) -> None:
    answer = httpx.post(
        f"{harness.url}/endpoints/echo/score",
        json={"a": 1},
        headers={"Authorization": f"Bearer {KEY}", "X-Request-Id": "my-id-1"},
    )
    metrics = httpx.get(f"{harness.url}/metrics").text

    assert answer.headers["x-request-id"] == "my-id-1"
    assert 'ember_endpoint_requests_total{code="200",deployment="blue",endpoint="echo"} 1.0' in metrics
    assert httpx.get(f"{harness.url}/-/telemetry/echo").json()["deployments"][0]["requests"] == 1


def test_a_replica_that_is_gone_is_a_502_naming_the_deployment(
    harness: RouterHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(router_module, "REPLICA_WAIT_S", 0.3)  # not the 10 s a restarting replica gets
    harness.upstream.socket_path = harness.sock + ".missing"
    harness.upstream.close_idle()

    answer = httpx.post(
        f"{harness.url}/endpoints/echo/score",
        json={"a": 1},
        headers={"Authorization": f"Bearer {KEY}"},
        timeout=30,
    )

    assert answer.status_code == 502
    assert "blue" in answer.json()["error"]["message"]
