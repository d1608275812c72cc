"""A hostile web page, a careless client or a broken backend cannot hurt the workspace through the server."""

from __future__ import annotations

import hashlib
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from ember.backend import Backend
from ember.entities import RunCreate
from ember.server import create_app
from ember.server.auth import Identity, set_authenticator
from ember.wiring import open_backend
from support.server_harness import ServerProcess

API = "/api/v1"
JSON = {"Content-Type": "application/json"}
OCTETS = {"Content-Type": "application/octet-stream"}
SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cross-origin-resource-policy": "same-origin",
}


@pytest.fixture
def client(shared_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=shared_server.url, timeout=30) as c:
        yield c


@pytest.fixture
def run_id(shared_server: ServerProcess) -> str:
    """A new run on the shared server, so that a test sees only its own artifacts."""
    with open_backend(shared_server.url) as remote:
        exp = remote.tracking.get_or_create_experiment("security")
        return remote.tracking.create_run(RunCreate(experiment_id=exp.id)).info.id


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _experiment_names(client: httpx.Client) -> set[str]:
    page = client.get(f"{API}/experiments", params={"lifecycle": "all"}).json()
    return {e["name"] for e in page["experiments"]}


def _raw_request(port: int, method: str, target: str, body: bytes = b"", content_type: str = "") -> int:
    """Send a request line exactly as written (no client-side path normalisation); return the status."""
    head = f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: {len(body)}\r\n"
    if content_type:
        head += f"Content-Type: {content_type}\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1") + b"Connection: close\r\n\r\n" + body)
        answer = b""
        while b"\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return int(answer.split(b" ", 2)[1])


# -- Host header (DNS rebinding) -----------------------------------------------------------------
def test_a_foreign_host_header_is_refused(client: httpx.Client, shared_server: ServerProcess) -> None:
    refused = client.get(f"{API}/experiments", headers={"Host": f"evil.example:{shared_server.port}"})
    allowed = client.get(f"{API}/experiments", headers={"Host": f"localhost:{shared_server.port}"})

    assert refused.status_code == 400
    assert "invalid Host header" in refused.json()["error"]["message"]
    assert allowed.status_code == 200


# -- cross-site requests (CSRF) ------------------------------------------------------------------
def test_a_cross_origin_post_is_refused_and_changes_nothing(
    client: httpx.Client, shared_server: ServerProcess
) -> None:
    evil, cross_site, sandboxed, mine = (
        _unique("evil"),
        _unique("cross-site"),
        _unique("null"),
        _unique("mine"),
    )

    from_evil = client.post(
        f"{API}/experiments", json={"name": evil}, headers={"Origin": "http://evil.example"}
    )
    from_cross_site = client.post(
        f"{API}/experiments", json={"name": cross_site}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    from_sandbox = client.post(f"{API}/experiments", json={"name": sandboxed}, headers={"Origin": "null"})
    from_same_origin = client.post(
        f"{API}/experiments",
        json={"name": mine},
        headers={"Origin": shared_server.url, "Sec-Fetch-Site": "same-origin"},
    )

    assert (from_evil.status_code, from_cross_site.status_code, from_sandbox.status_code) == (403, 403, 403)
    assert from_evil.json()["error"]["code"] == "forbidden"
    assert from_same_origin.status_code == 201
    names = _experiment_names(client)
    assert mine in names
    assert not {evil, cross_site, sandboxed} & names


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"name": "from-a-text-post"}'),
        ("application/x-www-form-urlencoded", b"name=from-a-form"),
        (
            "multipart/form-data; boundary=x",
            b'--x\r\nContent-Disposition: form-data; name="name"\r\n\r\nfrom-a-multipart\r\n--x--',
        ),
    ],
)
def test_a_body_a_browser_form_could_send_is_refused(
    client: httpx.Client, content_type: str, body: bytes
) -> None:
    answer = client.post(f"{API}/experiments", content=body, headers={"Content-Type": content_type})

    assert answer.status_code == 403
    assert "application/json" in answer.json()["error"]["message"]
    assert not {"from-a-text-post", "from-a-form", "from-a-multipart"} & _experiment_names(client)


def test_an_empty_post_is_allowed_only_without_a_cross_site_signal(client: httpx.Client, run_id: str) -> None:
    client.delete(f"{API}/runs/{run_id}")

    from_evil = client.post(f"{API}/runs/{run_id}/restore", headers={"Origin": "http://evil.example"})
    still_deleted = client.get(f"{API}/runs/{run_id}").json()["info"]["lifecycle_stage"]
    from_sdk = client.post(f"{API}/runs/{run_id}/restore")

    assert from_evil.status_code == 403
    assert still_deleted == "deleted"
    assert from_sdk.status_code == 200
    assert from_sdk.json()["lifecycle_stage"] == "active"


def test_an_artifact_upload_must_be_an_octet_stream(client: httpx.Client, run_id: str) -> None:
    as_text = client.put(
        f"{API}/runs/{run_id}/artifacts/a.txt", content=b"hi", headers={"Content-Type": "text/plain"}
    )
    as_json = client.put(f"{API}/runs/{run_id}/artifacts/a.txt", content=b"{}", headers=JSON)

    assert (as_text.status_code, as_json.status_code) == (403, 403)
    assert client.get(f"{API}/runs/{run_id}/artifacts").json() == []


# -- what the server serves ----------------------------------------------------------------------
def test_every_answer_carries_the_security_headers(client: httpx.Client) -> None:
    answers = [
        client.get("/healthz"),
        client.get(f"{API}/experiments"),
        client.get(f"{API}/runs/{'0' * 32}"),
        client.get(f"{API}/no-such-route"),
        client.post(f"{API}/experiments", content=b"x", headers={"Content-Type": "text/plain"}),
    ]

    assert [a.status_code for a in answers] == [200, 200, 404, 404, 403]
    for answer in answers:
        assert {k: answer.headers.get(k) for k in SECURITY_HEADERS} == SECURITY_HEADERS


@pytest.mark.parametrize(
    ("path", "content_type", "disposition"),
    [
        ("report.html", "text/html", "attachment"),
        ("plot.svg", "image/svg+xml", "attachment"),
        ("app.js", "application/javascript", "attachment"),
        ("data.xml", "application/xml", "attachment"),
        ("blob.weird-ext", "application/octet-stream", "attachment"),
        ("notes.txt", "text/plain", "inline"),
        ("plot.png", "image/png", "inline"),
    ],
)
def test_active_content_is_served_only_as_an_attachment(
    client: httpx.Client, run_id: str, path: str, content_type: str, disposition: str
) -> None:
    payload = b"<script>alert(document.cookie)</script>"
    client.put(f"{API}/runs/{run_id}/artifacts/files/{path}", content=payload, headers=OCTETS)

    answer = client.get(f"{API}/runs/{run_id}/artifacts/files/{path}")

    assert answer.status_code == 200
    assert answer.content == payload
    assert answer.headers["content-type"].split(";")[0] in (content_type, "text/javascript")
    assert answer.headers["content-disposition"] == f"{disposition}; filename*=UTF-8''{path}"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in answer.headers["content-security-policy"]


# -- paths and ids -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "evil_path",
    [
        "../../../evil.txt",
        "a/../../evil.txt",
        "%2e%2e/%2e%2e/evil.txt",
        "%252e%252e/%252e%252e/evil.txt",
        "..%2f..%2fevil.txt",
        "..\\..\\evil.txt",
        "..%5c..%5cevil.txt",
        "evil.txt;.png",
        "evil.txt%3b.png",
        "/etc/evil.txt",
        "%2fetc%2fevil.txt",
        "evil%00.txt",
    ],
)
def test_path_traversal_in_an_artifact_url_is_refused_and_writes_nothing(
    shared_server: ServerProcess, client: httpx.Client, run_id: str, evil_path: str
) -> None:
    target = f"{API}/runs/{run_id}/artifacts/{evil_path}"
    content = f"owned by {evil_path}".encode()
    digest = hashlib.sha256(content).hexdigest()

    upload = _raw_request(shared_server.port, "PUT", target, content, "application/octet-stream")
    download = _raw_request(shared_server.port, "GET", target)

    assert upload == 400
    assert download in (400, 404)
    assert client.get(f"{API}/runs/{run_id}/artifacts").json() == []
    root = shared_server.workspace.parent
    assert [p for p in root.rglob("*") if p.is_file() and "evil" in p.name] == []
    assert not (shared_server.workspace / "artifacts" / "blobs" / digest[:2] / digest[2:]).exists()


@pytest.mark.parametrize("bad_id", ["..%2F..%2Fetc", "....", "ABCDEF" * 6, "0" * 31, "0" * 32 + "%00"])
def test_an_id_that_is_not_an_id_is_refused(shared_server: ServerProcess, bad_id: str) -> None:
    assert _raw_request(shared_server.port, "GET", f"{API}/runs/{bad_id}") in (400, 404)
    assert _raw_request(shared_server.port, "GET", f"{API}/experiments/{bad_id}") in (400, 404)


def test_an_unknown_run_is_404_and_a_malformed_id_is_400(client: httpx.Client) -> None:
    unknown = client.get(f"{API}/runs/{'a' * 32}")
    malformed = client.get(f"{API}/runs/not-an-id")

    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert malformed.status_code == 400
    assert "run id must be 32 hexadecimal characters" in malformed.json()["error"]["message"]


# -- bodies --------------------------------------------------------------------------------------
def test_an_invalid_body_is_400_naming_the_field(client: httpx.Client, run_id: str) -> None:
    wrong_type = client.post(f"{API}/experiments", json={"name": 5})
    unknown_field = client.post(f"{API}/experiments", json={"name": "ok", "colour": "red"})
    not_json = client.post(f"{API}/experiments", content=b"{nope", headers=JSON)
    bad_metrics = client.post(f"{API}/runs/{run_id}/metrics", json={"series": [{"key": "loss"}]})
    bad_query = client.get(f"{API}/experiments", params={"max_results": "many"})

    answers = [wrong_type, unknown_field, not_json, bad_metrics, bad_query]
    assert [a.status_code for a in answers] == [400] * 5
    assert {a.json()["error"]["code"] for a in answers} == {"invalid_input"}
    assert "name" in wrong_type.json()["error"]["message"]
    assert "colour" in unknown_field.json()["error"]["message"]
    assert "not valid JSON" in not_json.json()["error"]["message"]
    assert "values" in bad_metrics.json()["error"]["message"]
    assert "max_results" in bad_query.json()["error"]["message"]


def test_the_api_is_documented_with_its_real_error_statuses(client: httpx.Client) -> None:
    document = client.get(f"{API}/openapi.json").json()

    assert client.get(f"{API}/docs").status_code == 200
    assert f"{API}/runs/{{run_id}}/metrics" in document["paths"]
    assert "MetricBatch" in document["components"]["schemas"]
    statuses = {s for ops in document["paths"].values() for op in ops.values() for s in op["responses"]}
    assert "422" not in statuses
    assert "400" in statuses


# -- in-process apps: a broken backend, small limits, roles --------------------------------------
def test_an_unexpected_error_is_a_500_without_its_text(
    local_backend: Backend, serve_app: Callable[[FastAPI], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def explode() -> None:
        raise RuntimeError("password=hunter2 leaked from the database driver")

    monkeypatch.setattr(local_backend.tracking, "get_workspace_info", explode)
    url = serve_app(create_app(local_backend))

    answer = httpx.get(f"{url}{API}/workspace")

    assert answer.status_code == 500
    error = answer.json()["error"]
    assert error["code"] == "internal_error"
    assert "hunter2" not in answer.text
    assert "RuntimeError" not in answer.text
    assert error["details"]["request_id"] == answer.headers["x-request-id"]
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_uploads_and_bodies_above_the_limits_are_413_and_store_nothing(
    local_backend: Backend, serve_app: Callable[[FastAPI], str], tmp_path: Path
) -> None:
    url = serve_app(create_app(local_backend, max_artifact_bytes=4096, max_json_body_bytes=2048))
    exp = local_backend.tracking.get_or_create_experiment("limits")
    run = local_backend.tracking.create_run(RunCreate(experiment_id=exp.id)).info.id

    def chunks() -> Iterator[bytes]:
        yield from [b"x" * 1024] * 8  # no Content-Length: the limit is enforced as the bytes stream in

    with httpx.Client(base_url=url) as client:
        declared = client.put(f"{API}/runs/{run}/artifacts/big.bin", content=b"x" * 5000, headers=OCTETS)
        streamed = client.put(f"{API}/runs/{run}/artifacts/big.bin", content=chunks(), headers=OCTETS)
        fits = client.put(f"{API}/runs/{run}/artifacts/small.bin", content=b"x" * 4096, headers=OCTETS)
        metrics = client.post(
            f"{API}/runs/{run}/metrics", json={"series": [{"key": "m", "values": [1.0] * 1000}]}
        )

    assert (declared.status_code, streamed.status_code, metrics.status_code) == (413, 413, 413)
    assert streamed.json()["error"]["code"] == "payload_too_large"
    assert fits.status_code == 201
    assert [a.path for a in local_backend.tracking.list_artifacts(run)] == ["small.bin"]
    leftovers = [p for p in (tmp_path / "ws" / "artifacts" / "tmp").glob("*") if p.is_file()]
    assert leftovers == []
    assert local_backend.tracking.get_metrics(run).series == {}


def test_every_route_goes_through_the_role_check(
    local_backend: Backend, serve_app: Callable[[FastAPI], str]
) -> None:
    url = serve_app(create_app(local_backend))
    try:
        set_authenticator(lambda request: Identity(name="ann", roles=frozenset({"Reader"})))
        as_reader = (
            httpx.get(f"{url}{API}/experiments").status_code,
            httpx.post(f"{url}{API}/experiments", json={"name": "nope"}).status_code,
        )
        set_authenticator(lambda request: Identity(name="bob", roles=frozenset({"Contributor"})))
        created = httpx.post(
            f"{url}{API}/runs",
            json={"experiment_id": local_backend.tracking.get_or_create_experiment("roles").id},
        )
        gc = httpx.post(f"{url}{API}/gc", json={"older_than_seconds": 0})
    finally:
        set_authenticator(None)

    assert as_reader == (200, 403)
    assert created.status_code == 201
    assert created.json()["info"]["user"] == "bob"
    assert gc.status_code == 403
    assert "bob" in gc.json()["error"]["message"]
