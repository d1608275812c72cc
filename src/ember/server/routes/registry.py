"""The model registry REST API (`/api/v1`): register, find, change and delete model versions and aliases."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response, StreamingResponse

from ember.backend import Backend
from ember.contracts.registry import RegistryBackend
from ember.entities.registry import ModelFile, ModelInfo, ModelRegister, ModelSearch, ModelUpdate
from ember.entities.validation import build
from ember.errors import InvalidInput
from ember.server.auth import authorize
from ember.server.routes.tracking import _json, _no_content, file_response
from ember.server.schemas import ERROR_RESPONSES

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authorize)], tags=["models"], responses=ERROR_RESPONSES)


def get_registry(request: Request) -> RegistryBackend:
    """The registry backend of the workspace this app serves."""
    backend: Backend = request.app.state.backend
    return backend.registry


Registry = Annotated[RegistryBackend, Depends(get_registry)]


class AliasBody(BaseModel):
    """The version an alias points at."""

    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=2**31 - 1)


def _pairs(values: list[str], what: str) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = []
    for item in values:
        key, sep, value = item.partition("=")
        if not key:
            raise InvalidInput(f"a {what} filter is KEY or KEY=VALUE, not {item[:100]!r}")
        pairs.append((key, value if sep else None))
    return pairs


def _list(items: list[ModelInfo] | list[ModelFile]) -> Response:
    return Response(
        json.dumps([json.loads(i.model_dump_json()) for i in items]), media_type="application/json"
    )


@router.post("/models", response_model=ModelInfo)
def register_model(body: ModelRegister, registry: Registry) -> Response:
    """Register uploaded blobs, or a run's stored outputs, as the next version of a model."""
    return _json(registry.register_model(body))


@router.get("/models", response_model=list[ModelInfo])
def list_models(
    registry: Registry,
    name: Annotated[str | None, Query(description="Only this model's versions.")] = None,
    tag: Annotated[list[str], Query(description="KEY or KEY=VALUE; repeat to require several.")] = [],  # noqa: B006
    property: Annotated[list[str], Query(description="KEY or KEY=VALUE; repeat to require several.")] = [],  # noqa: B006
    latest: Annotated[bool, Query(description="Only the latest version of each model.")] = False,
    run_id: Annotated[str | None, Query(description="Models registered from this run.")] = None,
    dataset_id: Annotated[str | None, Query(description="Models trained on this dataset version.")] = None,
) -> Response:
    """Model versions matching every filter, by name and newest version first."""
    search = build(
        ModelSearch,
        name=name,
        tags=_pairs(tag, "tag"),
        properties=_pairs(property, "property"),
        latest=latest,
        run_id=run_id,
        dataset_id=dataset_id,
    )
    return _list(registry.list_models(search))


@router.get("/models/{name}", response_model=ModelInfo)
def get_model(
    name: str,
    registry: Registry,
    version: Annotated[
        str | None, Query(max_length=63, description="A number or an alias; latest if left out.")
    ] = None,
) -> Response:
    """One version of a model, by number or alias (the latest unless ``version`` is given)."""
    return _json(registry.get_model(name, version))


@router.put("/models/{name}/aliases/{alias}", response_model=ModelInfo)
def set_alias(name: str, alias: str, body: AliasBody, registry: Registry) -> Response:
    """Point an alias at a version (moving it from another)."""
    return _json(registry.set_alias(name, alias, body.version))


@router.delete("/models/{name}/aliases/{alias}", status_code=204)
def delete_alias(name: str, alias: str, registry: Registry) -> Response:
    """Remove an alias."""
    registry.delete_alias(name, alias)
    return _no_content()


@router.get("/model-versions/{model_id}", response_model=ModelInfo)
def get_model_by_id(model_id: str, registry: Registry) -> Response:
    """A model version by id."""
    return _json(registry.get_model_by_id(model_id))


@router.patch("/model-versions/{model_id}", response_model=ModelInfo)
def update_model(model_id: str, body: ModelUpdate, registry: Registry) -> Response:
    """Change the description, add or remove tags, add properties."""
    return _json(registry.update_model(model_id, body))


@router.delete("/model-versions/{model_id}", status_code=204)
def delete_model(model_id: str, registry: Registry) -> Response:
    """Delete a model version; refused (409) while a deployment serves it."""
    registry.delete_model(model_id)
    return _no_content()


@router.get("/model-versions/{model_id}/files", response_model=list[ModelFile])
def get_model_files(model_id: str, registry: Registry) -> Response:
    """The files of a model version."""
    return _list(registry.get_model_files(model_id))


@router.get(
    "/model-versions/{model_id}/files/{path:anypath}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    },
)
def download_model_file(model_id: str, path: str, registry: Registry) -> StreamingResponse:
    """One file of a model version, streamed (HTML and scripts only as attachments)."""
    info, chunks = registry.open_model_file(model_id, path)
    headers = {
        "Cache-Control": "private, max-age=31536000, immutable",  # a version's files never change
        "X-Ember-Executable": "true" if info.executable else "false",
    }
    return file_response(path=info.path, size=info.size, digest=info.digest, chunks=chunks, headers=headers)
