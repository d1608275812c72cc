"""The endpoints part of the Backend contract: online endpoints, their keys, traffic and deployments.

``LocalEndpoints`` holds the rules (names, keys stored hashed, traffic that sums to 100, deletion
protection of served models) and records the desired state; the serving host (``python -m
ember.hosting``, one per workspace and machine) reads that state, runs the replicas and routes requests.
``RemoteEndpoints`` is the HTTP client of the server's ``/api/v1/endpoints`` routes.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod

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

__all__ = ["EndpointsBackend"]


class EndpointsBackend(ABC):
    """Online endpoints of one workspace."""

    @abstractmethod
    def create_endpoint(self, request: EndpointCreate) -> EndpointInfo:
        """Create an endpoint with two new random keys (see ``get_keys``) and no deployments.

        Raises:
            InvalidInput: A field is malformed.
            Conflict: An endpoint has that name.
        """

    @abstractmethod
    def get_endpoint(self, name: str) -> EndpointInfo:
        """An endpoint with its deployments.

        Raises:
            NotFound: No endpoint has that name.
        """

    @abstractmethod
    def list_endpoints(self) -> builtins.list[EndpointInfo]:
        """Every endpoint, by name."""

    @abstractmethod
    def update_endpoint(self, name: str, update: EndpointUpdate) -> EndpointInfo:
        """Change the description, tags, traffic split or mirroring.

        Raises:
            InvalidInput: Traffic names an unknown deployment, is not whole percentages summing to 100 (or
                all 0), or mirrors to more than one deployment, more than 50%, or a deployment with live
                traffic.
        """

    @abstractmethod
    def delete_endpoint(self, name: str) -> None:
        """Delete an endpoint and all its deployments (their replicas stop)."""

    @abstractmethod
    def get_keys(self, name: str) -> EndpointKeys:
        """The endpoint's primary and secondary keys.

        Raises:
            InvalidInput: The endpoint uses token auth (it has no keys; use ``get_token``).
        """

    @abstractmethod
    def regenerate_key(self, name: str, key_type: str) -> EndpointKeys:
        """Replace one key with a new random one; the old key is refused from then on."""

    @abstractmethod
    def get_token(self, name: str) -> EndpointToken:
        """A scoring token for a ``token``-auth endpoint, valid for an hour.

        Raises:
            InvalidInput: The endpoint uses key auth.
        """

    @abstractmethod
    def deploy(self, endpoint: str, request: DeploymentCreate) -> DeploymentInfo:
        """Create a deployment, or update the one with that name (a new generation, zero downtime).

        The first deployment of an endpoint with no traffic takes 100% of it. Returns at once with status
        ``Creating``/``Updating``; the serving host brings the replicas up (see ``get_deployment``).

        Raises:
            InvalidInput: A field is malformed, the snapshot lacks the entry script, or an MLflow-only
                deployment does not serve exactly one MLflow-format model.
            NotFound: The endpoint, a model version or the environment does not exist.
        """

    @abstractmethod
    def get_deployment(self, endpoint: str, name: str) -> DeploymentInfo:
        """A deployment with the status its replicas last reported."""

    @abstractmethod
    def delete_deployment(self, endpoint: str, name: str) -> None:
        """Delete a deployment (its replicas stop).

        Raises:
            Conflict: The deployment takes live traffic or mirrored traffic: move it away first.
        """

    @abstractmethod
    def get_logs(self, endpoint: str, deployment: str, *, tail: int = 200) -> DeploymentLogs:
        """The last ``tail`` lines of each of the deployment's replica logs (and its startup messages)."""

    @abstractmethod
    def get_telemetry(self, endpoint: str) -> EndpointTelemetry:
        """Request counts, errors and latency histograms per deployment, from the running serving host."""

    @abstractmethod
    def invoke(self, name: str, request: EndpointInvoke) -> EndpointInvokeResult:
        """Send one scoring request through the endpoint's router with the endpoint's own credential.

        The answer is returned as it came (any status); the control plane never scores anything itself.

        Raises:
            Unavailable: The serving host is not running.
        """

    @abstractmethod
    def get_serving_host(self) -> ServingHostInfo:
        """Where this workspace's endpoints are served, and whether the serving host is alive."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
