"""``RemoteRegistry``: the registry contract over the REST API of ``ember server``, no rules here."""

from __future__ import annotations

import builtins
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

from ember.contracts.registry import RegistryBackend
from ember.entities.registry import ModelFile, ModelInfo, ModelRegister, ModelSearch, ModelUpdate
from ember.errors import EmberError
from ember.transport import HttpClient, url_path, url_segment

__all__ = ["RemoteRegistry"]

_API = "/api/v1"


def _version(model_id: str) -> str:
    return f"{_API}/model-versions/{url_segment(model_id)}"


class RemoteRegistry(RegistryBackend):
    """Registered models through the server; every rule runs there."""

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    def register_model(self, request: ModelRegister) -> ModelInfo:
        return ModelInfo.model_validate(
            self._client.post(f"{_API}/models", json=request.model_dump(mode="json"))
        )

    def get_model(self, name: str, version: int | str | None = None) -> ModelInfo:
        params: dict[str, Any] | None = None if version is None else {"version": str(version)}
        return ModelInfo.model_validate(self._client.get(f"{_API}/models/{url_segment(name)}", params=params))

    def get_model_by_id(self, model_id: str) -> ModelInfo:
        return ModelInfo.model_validate(self._client.get(_version(model_id)))

    def list_models(self, search: ModelSearch | None = None) -> builtins.list[ModelInfo]:
        search = search or ModelSearch()
        params: dict[str, Any] = {"latest": search.latest}
        for key in ("name", "run_id", "dataset_id"):
            if getattr(search, key) is not None:
                params[key] = getattr(search, key)
        params["tag"] = [k if v is None else f"{k}={v}" for k, v in search.tags]
        params["property"] = [k if v is None else f"{k}={v}" for k, v in search.properties]
        return [ModelInfo.model_validate(m) for m in self._client.get(f"{_API}/models", params=params)]

    def get_model_files(self, model_id: str) -> builtins.list[ModelFile]:
        return [ModelFile.model_validate(f) for f in self._client.get(f"{_version(model_id)}/files")]

    def open_model_file(self, model_id: str, path: str) -> tuple[ModelFile, Iterator[bytes]]:
        headers, body = self._client.open_download(f"{_version(model_id)}/files/{url_path(path)}")
        try:
            info = ModelFile(
                path=unquote(headers["x-ember-path"]),
                size=int(headers["content-length"]),
                digest=headers["x-ember-digest"],
                executable=headers.get("x-ember-executable") == "true",
            )
        except (KeyError, ValueError) as exc:
            body.close()
            raise EmberError(f"the server's model file answer lacks a valid header: {exc}") from exc
        return info, body

    def update_model(self, model_id: str, update: ModelUpdate) -> ModelInfo:
        return ModelInfo.model_validate(
            self._client.patch(_version(model_id), json=update.model_dump(mode="json"))
        )

    def set_alias(self, name: str, alias: str, version: int) -> ModelInfo:
        path = f"{_API}/models/{url_segment(name)}/aliases/{url_segment(alias)}"
        return ModelInfo.model_validate(self._client.put(path, json={"version": version}))

    def delete_alias(self, name: str, alias: str) -> None:
        self._client.delete(f"{_API}/models/{url_segment(name)}/aliases/{url_segment(alias)}")

    def delete_model(self, model_id: str) -> None:
        self._client.delete(_version(model_id))
