"""The online endpoints REST API (`/api/v1`): endpoints, their keys, traffic, deployments and test calls.

Scoring itself never goes through here: scoring URLs are served by the workspace's serving host, and this
API refuses endpoint keys and tokens as credentials (see ``ember.server.auth``).
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel
from starlette.responses import Response

from ember.backend import Backend
from ember.contracts.endpoints import EndpointsBackend
from ember.entities.serving import (
    DeploymentCreate,
    DeploymentInfo,
    DeploymentLogs,
    EndpointCreate,
    EndpointInfo,
    EndpointInvoke,
    EndpointInvokeResult,
    EndpointKeys,
    EndpointTelemetry,
    EndpointToken,
    EndpointUpdate,
    KeyRegenerate,
    ServingHostInfo,
)
from ember.errors import InvalidInput
from ember.server.auth import authorize, require
from ember.server.routes.tracking import _json, _no_content
from ember.server.schemas import ERROR_RESPONSES

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authorize)], tags=["endpoints"], responses=ERROR_RESPONSES)

MAX_TAIL = 10_000


def get_endpoints(request: Request) -> EndpointsBackend:
    """The endpoints backend of the workspace this app serves."""
    backend: Backend = request.app.state.backend
    return backend.endpoints


Endpoints = Annotated[EndpointsBackend, Depends(get_endpoints)]


def _list(items: list[EndpointInfo]) -> Response:
    return Response(
        json.dumps([json.loads(i.model_dump_json()) for i in items]), media_type="application/json"
    )


def _secret(model: BaseModel) -> Response:
    """An answer holding a key or token: never stored by a cache."""
    response = _json(model)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/endpoints", status_code=201, response_model=EndpointInfo)
def create_endpoint(body: EndpointCreate, endpoints: Endpoints) -> Response:
    """Create an endpoint with two new keys (read them with ``GET /endpoints/{name}/keys``)."""
    return _json(endpoints.create_endpoint(body), status_code=201)


@router.get("/endpoints", response_model=list[EndpointInfo])
def list_endpoints(endpoints: Endpoints) -> Response:
    """Every endpoint with its deployments, by name."""
    return _list(endpoints.list_endpoints())


@router.get("/endpoints/{name}", response_model=EndpointInfo)
def get_endpoint(name: str, endpoints: Endpoints) -> Response:
    """An endpoint with its URLs, traffic and deployments (never its keys)."""
    return _json(endpoints.get_endpoint(name))


@router.patch("/endpoints/{name}", response_model=EndpointInfo)
def update_endpoint(name: str, body: EndpointUpdate, endpoints: Endpoints) -> Response:
    """Change the description, tags, traffic split or mirroring."""
    return _json(endpoints.update_endpoint(name, body))


@router.delete("/endpoints/{name}", status_code=204)
def delete_endpoint(name: str, endpoints: Endpoints) -> Response:
    """Delete an endpoint and all its deployments."""
    endpoints.delete_endpoint(name)
    return _no_content()


# Reading a key is as good as holding it: like regenerating one, it takes a role that may change the
# workspace (a Reader sees the endpoint, never its keys).
@router.get("/endpoints/{name}/keys", response_model=EndpointKeys, dependencies=[Depends(require("write"))])
def get_keys(name: str, endpoints: Endpoints) -> Response:
    """The primary and secondary keys of a key-auth endpoint (needs a role that may write)."""
    return _secret(endpoints.get_keys(name))


@router.post("/endpoints/{name}/keys/regenerate", response_model=EndpointKeys)
def regenerate_key(name: str, body: KeyRegenerate, endpoints: Endpoints) -> Response:
    """Replace one key with a new random one; the old one is refused from then on."""
    return _secret(endpoints.regenerate_key(name, body.key_type))


@router.post("/endpoints/{name}/token", response_model=EndpointToken)
def get_token(name: str, endpoints: Endpoints) -> Response:
    """A scoring token of a token-auth endpoint, valid for an hour."""
    return _secret(endpoints.get_token(name))


@router.post("/endpoints/{name}/invoke", response_model=EndpointInvokeResult)
def invoke(name: str, body: EndpointInvoke, endpoints: Endpoints) -> Response:
    """Send one test request through the endpoint's router with the endpoint's own credential."""
    return _json(endpoints.invoke(name, body))


@router.get("/endpoints/{name}/telemetry", response_model=EndpointTelemetry)
def get_telemetry(name: str, endpoints: Endpoints) -> Response:
    """Request counts, errors and latency histograms per deployment."""
    return _json(endpoints.get_telemetry(name))


@router.put("/endpoints/{name}/deployments/{deployment}", response_model=DeploymentInfo)
def deploy(name: str, deployment: str, body: DeploymentCreate, endpoints: Endpoints) -> Response:
    """Create a deployment, or update it in place (a new generation) when it exists."""
    if body.name != deployment:
        raise InvalidInput(
            f"the body names deployment {body.name!r} but the URL {deployment[:100]!r}: they must agree"
        )
    return _json(endpoints.deploy(name, body))


@router.get("/endpoints/{name}/deployments/{deployment}", response_model=DeploymentInfo)
def get_deployment(name: str, deployment: str, endpoints: Endpoints) -> Response:
    """A deployment with the status its replicas last reported."""
    return _json(endpoints.get_deployment(name, deployment))


@router.delete("/endpoints/{name}/deployments/{deployment}", status_code=204)
def delete_deployment(name: str, deployment: str, endpoints: Endpoints) -> Response:
    """Delete a deployment; refused (409) while it takes live or mirrored traffic."""
    endpoints.delete_deployment(name, deployment)
    return _no_content()


@router.get("/endpoints/{name}/deployments/{deployment}/logs", response_model=DeploymentLogs)
def get_logs(
    name: str,
    deployment: str,
    endpoints: Endpoints,
    tail: Annotated[int, Query(ge=1, le=MAX_TAIL, description="Lines from the end of each log.")] = 200,
) -> Response:
    """The last lines of the deployment's host events and replica logs."""
    return _json(endpoints.get_logs(name, deployment, tail=tail))


@router.get("/serving-host", response_model=ServingHostInfo)
def get_serving_host(endpoints: Endpoints) -> Response:
    """Where this workspace's endpoints are served, and whether the serving host is alive."""
    return _json(endpoints.get_serving_host())
