"""Endpoint keys and tokens open scoring URLs only: the workspace API refuses them on every route, and
shows keys only to a role that may write."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from ember.backend import Backend
from ember.entities.serving import EndpointCreate
from ember.server.app import API_PREFIX, create_app
from ember.server.auth import LOCAL_IDENTITY, Identity, set_authenticator
from ember.server.security import is_artifact_upload

JSON = {"Content-Type": "application/json"}
OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.fixture(autouse=True)
def _no_serving_host(monkeypatch: pytest.MonkeyPatch) -> None:
    """Creating an endpoint must not start a serving host process here."""
    monkeypatch.setenv("EMBER_SERVING_AUTOSTART", "0")


@pytest.fixture
def credentials(local_backend: Backend) -> dict[str, str]:
    """A key of a key-auth endpoint and a token of a token-auth one."""
    keyed = local_backend.endpoints.create_endpoint(EndpointCreate(name="keyed"))
    tokened = local_backend.endpoints.create_endpoint(EndpointCreate(name="tokened", auth_mode="token"))
    return {
        "key": local_backend.endpoints.get_keys(keyed.name).secondary_key,
        "token": local_backend.endpoints.get_token(tokened.name).access_token,
    }


def _api_calls(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the API's OpenAPI document, its path parameters filled in."""
    calls = []
    for path, operations in app.openapi()["paths"].items():
        filled = re.sub(r"\{[^}]+\}", "x", path)
        calls.extend((method.upper(), filled) for method in sorted(operations))
    return calls


@pytest.mark.parametrize("kind", ["key", "token"])
def test_every_api_route_refuses_an_endpoint_credential(
    kind: str,
    local_backend: Backend,
    credentials: dict[str, str],
    serve_app: Callable[[FastAPI], str],
) -> None:
    app = create_app(local_backend)
    url = serve_app(app)
    bearer = {"Authorization": f"Bearer {credentials[kind]}"}
    calls = _api_calls(app)
    assert len(calls) > 50

    answers = {}
    with httpx.Client(base_url=url) as client:
        for method, path in calls:
            if method == "GET":
                answer = client.get(path, headers=bearer)
            elif is_artifact_upload(method, path):
                answer = client.request(method, path, content=b"x", headers={**bearer, **OCTETS})
            else:
                answer = client.request(method, path, content=b"{}", headers={**bearer, **JSON})
            answers[f"{method} {path}"] = answer

    wrong = {call: answer.status_code for call, answer in answers.items() if answer.status_code != 401}
    assert wrong == {}
    error = answers[f"GET {API_PREFIX}/endpoints"].json()["error"]
    assert error["code"] == "unauthorized"
    assert "only for scoring" in error["message"]
    assert credentials[kind] not in answers[f"GET {API_PREFIX}/endpoints"].text


def test_an_installed_authenticator_cannot_accept_an_endpoint_key(
    local_backend: Backend, credentials: dict[str, str], serve_app: Callable[[FastAPI], str]
) -> None:
    url = serve_app(create_app(local_backend))
    try:
        set_authenticator(lambda request: LOCAL_IDENTITY)  # would let anyone in
        with_key = httpx.get(
            f"{url}{API_PREFIX}/endpoints/keyed/keys",
            headers={"Authorization": f"Bearer {credentials['key']}"},
        )
        with_other = httpx.get(f"{url}{API_PREFIX}/endpoints", headers={"Authorization": "Bearer user-token"})
    finally:
        set_authenticator(None)

    assert with_key.status_code == 401
    assert credentials["key"] not in with_key.text
    assert with_other.status_code == 200
    assert sorted(e["name"] for e in with_other.json()) == ["keyed", "tokened"]


def test_a_reader_sees_an_endpoint_but_not_its_keys(
    local_backend: Backend, credentials: dict[str, str], serve_app: Callable[[FastAPI], str]
) -> None:
    url = serve_app(create_app(local_backend))
    try:
        set_authenticator(lambda request: Identity(name="ann", roles=frozenset({"Reader"})))
        endpoint = httpx.get(f"{url}{API_PREFIX}/endpoints/keyed")
        keys = httpx.get(f"{url}{API_PREFIX}/endpoints/keyed/keys")
        token = httpx.post(f"{url}{API_PREFIX}/endpoints/tokened/token", json={})
    finally:
        set_authenticator(None)

    assert endpoint.status_code == 200
    assert (keys.status_code, token.status_code) == (403, 403)
    assert credentials["key"] not in keys.text
