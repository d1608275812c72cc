"""``RemoteEnvironments``: the environments contract over the REST API of ``ember server``, no rules here."""

from __future__ import annotations

import builtins
from typing import Any
from urllib.parse import quote

from ember.contracts.environments import EnvironmentsBackend
from ember.entities.environments import EnvironmentInfo, EnvironmentRegister, check_environment_name
from ember.transport import HttpClient

__all__ = ["RemoteEnvironments"]

_API = "/api/v1/environments"


class RemoteEnvironments(EnvironmentsBackend):
    """Registered environments through the server; every rule runs there."""

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    def register(self, request: EnvironmentRegister) -> EnvironmentInfo:
        # mode="json" keeps the spec's fields as sent even when the request skipped validation.
        body = request.model_dump(mode="json")
        return EnvironmentInfo.model_validate(self._client.post(_API, json=body))

    def get(self, name: str, version: int | None = None) -> EnvironmentInfo:
        params: dict[str, Any] | None = None if version is None else {"version": version}
        # The name becomes a path segment: refuse what would address another route ("", "a/b").
        path = f"{_API}/{quote(check_environment_name(name), safe='')}"
        return EnvironmentInfo.model_validate(self._client.get(path, params=params))

    def list(self, name: str | None = None) -> builtins.list[EnvironmentInfo]:
        params: dict[str, Any] | None = None if name is None else {"name": name}
        return [EnvironmentInfo.model_validate(e) for e in self._client.get(_API, params=params)]

    def delete(self, name: str, version: int) -> None:
        path = f"{_API}/{quote(check_environment_name(name), safe='')}"
        self._client.delete(f"{path}/versions/{quote(str(version), safe='')}")
