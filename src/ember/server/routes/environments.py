"""The environments REST API (``/api/v1/environments``): register, read, list, delete; Dockerfiles."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from starlette.responses import Response

from ember.backend import Backend
from ember.contracts.environments import EnvironmentsBackend
from ember.entities.environments import EnvironmentInfo, EnvironmentRegister
from ember.environments.dockerfile import dockerfile
from ember.server.auth import authorize
from ember.server.routes.tracking import _no_content
from ember.server.schemas import ERROR_RESPONSES

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authorize)], tags=["environments"], responses=ERROR_RESPONSES)


def get_environments(request: Request) -> EnvironmentsBackend:
    """The environments backend of the workspace this app serves."""
    backend: Backend = request.app.state.backend
    return backend.environments


Environments = Annotated[EnvironmentsBackend, Depends(get_environments)]
Version = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="The version; latest when left out.")]
VersionNumber = Annotated[int, Path(ge=1, le=2**31 - 1, description="The version number.")]


def _json(info: EnvironmentInfo) -> Response:
    return Response(info.model_dump_json(), media_type="application/json")


@router.post("/environments", response_model=EnvironmentInfo)
def register_environment(body: EnvironmentRegister, environments: Environments) -> Response:
    """Register a spec under a name: a new spec is the next version, a known one answers its version."""
    return _json(environments.register(body))


@router.get("/environments", response_model=list[EnvironmentInfo])
def list_environments(
    environments: Environments,
    name: Annotated[str | None, Query(description="List every version of this environment.")] = None,
) -> Response:
    """The latest version of every environment, by name; with ``name``, its versions, newest first."""
    found = [json.loads(e.model_dump_json()) for e in environments.list(name)]
    return Response(json.dumps(found), media_type="application/json")


@router.get("/environments/{name}", response_model=EnvironmentInfo)
def get_environment(name: str, environments: Environments, version: Version = None) -> Response:
    """One version of an environment (the latest unless ``version`` is given)."""
    return _json(environments.get(name, version))


@router.get(
    "/environments/{name}/dockerfile",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}, "description": "The Dockerfile"}},
)
def get_environment_dockerfile(name: str, environments: Environments, version: Version = None) -> Response:
    """The Dockerfile of an environment version, as text."""
    info = environments.get(name, version)
    return Response(dockerfile(info.name, info.version, info.spec), media_type="text/plain; charset=utf-8")


@router.delete("/environments/{name}/versions/{version}", status_code=204)
def delete_environment(name: str, version: VersionNumber, environments: Environments) -> Response:
    """Delete one version of an environment; refused (409) while a deployment uses it."""
    environments.delete(name, version)
    return _no_content()
