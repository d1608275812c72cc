"""``RemoteEndpoints``: the endpoints contract over the REST API of ``ember server``, no rules here."""

from __future__ import annotations

import builtins

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
    ServingHostInfo,
)
from ember.transport import HttpClient, url_segment

__all__ = ["RemoteEndpoints"]

_API = "/api/v1"


def _endpoint(name: str) -> str:
    return f"{_API}/endpoints/{url_segment(name)}"


def _deployment(endpoint: str, name: str) -> str:
    return f"{_endpoint(endpoint)}/deployments/{url_segment(name)}"


class RemoteEndpoints(EndpointsBackend):
    """Online endpoints through the server; every rule runs there."""

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    def create_endpoint(self, request: EndpointCreate) -> EndpointInfo:
        return EndpointInfo.model_validate(
            self._client.post(f"{_API}/endpoints", json=request.model_dump(mode="json"))
        )

    def get_endpoint(self, name: str) -> EndpointInfo:
        return EndpointInfo.model_validate(self._client.get(_endpoint(name)))

    def list_endpoints(self) -> builtins.list[EndpointInfo]:
        return [EndpointInfo.model_validate(e) for e in self._client.get(f"{_API}/endpoints")]

    def update_endpoint(self, name: str, update: EndpointUpdate) -> EndpointInfo:
        return EndpointInfo.model_validate(
            self._client.patch(_endpoint(name), json=update.model_dump(mode="json", exclude_none=True))
        )

    def delete_endpoint(self, name: str) -> None:
        self._client.delete(_endpoint(name))

    def get_keys(self, name: str) -> EndpointKeys:
        return EndpointKeys.model_validate(self._client.get(f"{_endpoint(name)}/keys"))

    def regenerate_key(self, name: str, key_type: str) -> EndpointKeys:
        return EndpointKeys.model_validate(
            self._client.post(f"{_endpoint(name)}/keys/regenerate", json={"key_type": key_type})
        )

    def get_token(self, name: str) -> EndpointToken:
        return EndpointToken.model_validate(self._client.post(f"{_endpoint(name)}/token"))

    def deploy(self, endpoint: str, request: DeploymentCreate) -> DeploymentInfo:
        return DeploymentInfo.model_validate(
            self._client.put(_deployment(endpoint, request.name), json=request.model_dump(mode="json"))
        )

    def get_deployment(self, endpoint: str, name: str) -> DeploymentInfo:
        return DeploymentInfo.model_validate(self._client.get(_deployment(endpoint, name)))

    def delete_deployment(self, endpoint: str, name: str) -> None:
        self._client.delete(_deployment(endpoint, name))

    def get_logs(self, endpoint: str, deployment: str, *, tail: int = 200) -> DeploymentLogs:
        return DeploymentLogs.model_validate(
            self._client.get(f"{_deployment(endpoint, deployment)}/logs", params={"tail": tail})
        )

    def get_telemetry(self, endpoint: str) -> EndpointTelemetry:
        return EndpointTelemetry.model_validate(self._client.get(f"{_endpoint(endpoint)}/telemetry"))

    def invoke(self, name: str, request: EndpointInvoke) -> EndpointInvokeResult:
        return EndpointInvokeResult.model_validate(
            self._client.post(f"{_endpoint(name)}/invoke", json=request.model_dump(mode="json"))
        )

    def get_serving_host(self) -> ServingHostInfo:
        return ServingHostInfo.model_validate(self._client.get(f"{_API}/serving-host"))
