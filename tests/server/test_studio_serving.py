"""The server serves the studio: the app at every page path, its assets cached for good, the API untouched."""

from __future__ import annotations

import gzip
import socket
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from ember.backend import Backend
from ember.server import create_app

INDEX = '<!doctype html><html><head><script type="module" src="/assets/app-1a2b.js"></script></head>'
INDEX += '<body><div id="root"></div></body></html>'
SECRET = "do-not-serve-this-secret"


@pytest.fixture
def studio_dist(tmp_path: Path) -> Path:
    """A studio build as Vite writes it, and a file outside it that must never be served."""
    dist = tmp_path / "site" / "studio_dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text(INDEX)
    (dist / "favicon.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    (dist / "assets" / "app-1a2b.js").write_text("console.log('ember');\n")
    (dist / "assets" / "app-3c4d.css").write_text("body { color: red }\n")
    (tmp_path / "site" / "secret.txt").write_text(SECRET)
    (dist / ".hidden").write_text(SECRET)
    return dist


@pytest.fixture
def studio_url(local_backend: Backend, serve_app: Callable[[FastAPI], str], studio_dist: Path) -> str:
    return serve_app(create_app(local_backend, studio_dir=studio_dist))


def _raw_get(url: str, target: str) -> tuple[int, bytes]:
    """GET a request target exactly as written (clients would normalise the dots away)."""
    port = httpx.URL(url).port
    assert port is not None
    head = f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head.encode("latin-1"))
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1]), answer


def _assert_is_the_app(response: httpx.Response) -> None:
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert '<div id="root">' in response.text
    assert response.headers["cache-control"] == "no-cache"  # a new build shows on the next load
    csp = response.headers["content-security-policy"]
    assert "default-src 'self'" in csp
    assert "img-src 'self' data: blob:" in csp
    assert "http" not in csp  # no remote origin
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-disposition" not in response.headers


def test_the_studio_is_served_at_the_root(studio_url: str) -> None:
    _assert_is_the_app(httpx.get(f"{studio_url}/"))


@pytest.mark.parametrize(
    "path", ["/experiments", "/experiments/abc", "/runs/xyz", "/runs/xyz/metrics", "/compare?runs=a,b"]
)
def test_a_deep_link_loads_the_app(studio_url: str, path: str) -> None:
    _assert_is_the_app(httpx.get(f"{studio_url}{path}"))


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("app-1a2b.js", "text/javascript; charset=utf-8"), ("app-3c4d.css", "text/css; charset=utf-8")],
)
def test_assets_have_their_type_and_are_cached_for_good(
    studio_url: str, name: str, content_type: str
) -> None:
    response = httpx.get(f"{studio_url}/assets/{name}")

    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert "content-disposition" not in response.headers  # shown, not downloaded
    assert response.headers["x-content-type-options"] == "nosniff"


def test_an_asset_with_a_gzipped_copy_is_sent_gzipped_to_browsers_that_accept_it(
    studio_url: str, studio_dist: Path
) -> None:
    plain = (studio_dist / "assets" / "app-1a2b.js").read_bytes()
    (studio_dist / "assets" / "app-1a2b.js.gz").write_bytes(gzip.compress(plain))

    packed = httpx.get(f"{studio_url}/assets/app-1a2b.js", headers={"Accept-Encoding": "gzip, br"})
    refused = httpx.get(f"{studio_url}/assets/app-1a2b.js", headers={"Accept-Encoding": "gzip;q=0"})
    identity = httpx.get(f"{studio_url}/assets/app-1a2b.js", headers={"Accept-Encoding": "identity"})

    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["content-type"].startswith("text/javascript")
    assert packed.content == plain  # httpx decodes it
    assert "Accept-Encoding" in packed.headers["vary"]
    for answer in (refused, identity):
        assert "content-encoding" not in answer.headers
        assert answer.content == plain


def test_a_file_at_the_top_of_the_build_is_served(studio_url: str) -> None:
    response = httpx.get(f"{studio_url}/favicon.svg")

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"


def test_a_missing_asset_is_a_404_not_the_app(studio_url: str) -> None:
    response = httpx.get(f"{studio_url}/assets/app-0000.js")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert "make studio" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "target",
    [
        "/assets/../../secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt",
        "/assets/..%2f..%2fsecret.txt",
        "/assets/../index.html",
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/.hidden",
        "/assets/..\\..\\secret.txt",
    ],
)
def test_paths_that_leave_the_build_are_refused(studio_url: str, target: str) -> None:
    status, answer = _raw_get(studio_url, target)

    assert SECRET.encode() not in answer
    if target.startswith("/assets/"):
        assert status in (400, 404)
    else:
        assert status in (200, 400, 404)  # at most the app itself, which then shows its 404 page


def test_unknown_api_paths_stay_json_404s(studio_url: str) -> None:
    for method in ("GET", "POST"):
        response = httpx.request(
            method, f"{studio_url}/api/v1/nonexistent", headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 404, method
        assert response.headers["content-type"] == "application/json"
        assert response.json()["error"]["code"] == "not_found"
    assert httpx.get(f"{studio_url}/api").status_code == 404
    assert httpx.get(f"{studio_url}/api/v1/gc").status_code == 405  # POST only, as before


def test_the_api_still_answers_beside_the_studio(studio_url: str) -> None:
    assert httpx.get(f"{studio_url}/api/v1/workspace").json()["name"]
    assert httpx.get(f"{studio_url}/healthz").json() == {"status": "ok"}
    assert "/" not in httpx.get(f"{studio_url}/api/v1/openapi.json").json()["paths"]


def test_without_a_build_every_page_says_how_to_build_it(
    local_backend: Backend, serve_app: Callable[[FastAPI], str], tmp_path: Path
) -> None:
    url = serve_app(create_app(local_backend, studio_dir=tmp_path / "not-built"))

    for path in ("/", "/experiments/abc"):
        response = httpx.get(f"{url}{path}")
        assert response.status_code == 503
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "make studio" in response.text
        assert "npm ci" in response.text
        assert response.headers["cache-control"] == "no-store"
    assert httpx.get(f"{url}/api/v1/workspace").status_code == 200
