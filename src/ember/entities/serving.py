"""Entities of online endpoints: an endpoint (stable scoring URL, auth, traffic) and its deployments."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ember.entities.jobs import EnvironmentRef
from ember.entities.tracking import MAX_DESCRIPTION, MAX_TAG_VALUE, check_mapping

__all__ = [
    "DEPLOYMENT_NAME_PATTERN",
    "ENDPOINT_NAME_PATTERN",
    "AuthMode",
    "Autoscale",
    "DeploymentCreate",
    "DeploymentInfo",
    "DeploymentLogs",
    "DeploymentModel",
    "DeploymentStatus",
    "DeploymentTelemetry",
    "EndpointCreate",
    "EndpointInfo",
    "EndpointInvoke",
    "EndpointInvokeResult",
    "EndpointKeys",
    "EndpointTelemetry",
    "EndpointToken",
    "EndpointUpdate",
    "Interpreter",
    "KeyRegenerate",
    "ReplicaStatus",
    "RoutedEndpoint",
    "ServingHostInfo",
    "ServingState",
]

# Endpoint and deployment names travel in URLs, file names and metric labels: lower-case DNS-like labels.
ENDPOINT_NAME_PATTERN = r"^[a-z][a-z0-9\-]{0,31}$"
DEPLOYMENT_NAME_PATTERN = r"^[a-z][a-z0-9\-]{0,31}$"
MAX_REPLICAS = 32
DEFAULT_MAX_BODY_BYTES = 10 * 2**20

AuthMode = Literal["key", "token"]
DeploymentStatus = Literal["Creating", "Updating", "Healthy", "Degraded", "Failed"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())


class Autoscale(_Model):
    """Scale a deployment between ``min_replicas`` and ``max_replicas`` on its in-flight requests.

    The host keeps ``ceil(in_flight / target_concurrency)`` replicas (averaged over a few seconds), adds
    replicas at once and removes them only after ``scale_down_delay_seconds`` of lower demand.
    """

    min_replicas: int = Field(default=1, ge=1, le=MAX_REPLICAS)
    max_replicas: int = Field(default=4, ge=1, le=MAX_REPLICAS)
    target_concurrency: float = Field(default=8.0, gt=0, le=10_000)
    scale_down_delay_seconds: float = Field(default=60.0, ge=0, le=24 * 3600)

    @model_validator(mode="after")
    def _bounds(self) -> Autoscale:
        if self.max_replicas < self.min_replicas:
            raise ValueError(
                f"max_replicas ({self.max_replicas}) must be at least min_replicas ({self.min_replicas})"
            )
        return self


class EndpointCreate(_Model):
    """Request body to create an endpoint (its keys are made by the workspace)."""

    name: str = Field(pattern=ENDPOINT_NAME_PATTERN)
    auth_mode: AuthMode = "key"
    description: str = Field(default="", max_length=MAX_DESCRIPTION)
    tags: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _tags(self) -> EndpointCreate:
        check_mapping(self.tags, "tag", MAX_TAG_VALUE)
        return self


class EndpointUpdate(_Model):
    """Request body to change an endpoint; fields left None are kept.

    ``traffic`` maps deployment names to whole percentages that sum to 100 (or all 0: the endpoint answers
    503). ``mirror_traffic`` copies that percentage of live requests to one deployment that takes no live
    traffic (at most 50%); its answers are recorded in telemetry and thrown away.
    """

    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    tags: dict[str, str] | None = None
    traffic: dict[str, int] | None = None
    mirror_traffic: dict[str, int] | None = None

    @model_validator(mode="after")
    def _tags(self) -> EndpointUpdate:
        if self.tags is not None:
            check_mapping(self.tags, "tag", MAX_TAG_VALUE)
        return self


class KeyRegenerate(_Model):
    """Which key to replace with a new random one."""

    key_type: Literal["primary", "secondary"] = "primary"


class EndpointKeys(_Model):
    """An endpoint's two keys; callers send one as ``Authorization: Bearer <key>``."""

    primary_key: str
    secondary_key: str


class EndpointToken(_Model):
    """A short-lived scoring token of a ``token``-auth endpoint."""

    access_token: str
    token_type: str = "Bearer"
    expiry_time: float  # seconds since the epoch


class DeploymentModel(_Model):
    """A model version a deployment serves."""

    id: str
    name: str
    version: int


class Interpreter(_Model):
    """``Environment.current()`` in a deployment: the deploying process's Python, on the machine it runs on.

    Replicas use it only on that machine: anywhere else the path names nothing (or something else).
    """

    executable: str = Field(min_length=1, max_length=4096)
    machine: str = Field(min_length=1, max_length=255)


class DeploymentCreate(_Model):
    """Request body to create a deployment, or update it in place (zero downtime) when the name exists.

    The scoring code is a snapshot (uploaded through the blob API like a run's source) holding
    ``entry_script``; without a script the deployment serves its single MLflow-format model with pyfunc.
    """

    name: str = Field(pattern=DEPLOYMENT_NAME_PATTERN)
    model_ids: list[str] = Field(default_factory=list, max_length=20)
    entry_script: str | None = Field(default=None, min_length=1, max_length=1024)
    snapshot_digest: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    environment: EnvironmentRef | None = None  # None: the interpreter that runs the Ember host
    interpreter: Interpreter | None = None  # Environment.current(): the deploying process's Python
    replicas: int = Field(default=1, ge=1, le=MAX_REPLICAS)
    autoscale: Autoscale | None = None
    collect_data: bool = False  # inputs and predictions to the default datastore, Parquet by date
    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1024, le=256 * 2**20)
    description: str = Field(default="", max_length=MAX_DESCRIPTION)

    @model_validator(mode="after")
    def _code(self) -> DeploymentCreate:
        if (self.entry_script is None) != (self.snapshot_digest is None):
            raise ValueError("entry_script and snapshot_digest go together (the script is in the snapshot)")
        if not self.model_ids and self.entry_script is None:
            raise ValueError("a deployment needs an entry script, a model, or both")
        if len(set(self.model_ids)) != len(self.model_ids):
            raise ValueError("model_ids lists a model version twice")
        if self.environment is not None and self.interpreter is not None:
            raise ValueError("give an environment or an interpreter (Environment.current()), not both")
        return self


class ReplicaStatus(_Model):
    """One replica process of a deployment, as the serving host last reported it."""

    id: str
    pid: int | None = None
    state: Literal["starting", "ready", "draining", "failed", "stopped"]
    generation: int
    started_time: float
    restarts: int = 0
    message: str = ""


class DeploymentInfo(_Model):
    """A deployment: what it serves, how many replicas, and how it is doing."""

    id: str
    endpoint: str
    name: str
    description: str = ""
    models: list[DeploymentModel] = Field(default_factory=list)
    entry_script: str | None = None
    snapshot_digest: str | None = None
    environment: EnvironmentRef | None = None  # the resolved version
    interpreter: Interpreter | None = None  # Environment.current() of the deploying process
    replicas: int
    autoscale: Autoscale | None = None
    collect_data: bool = False
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    generation: int = 1  # bumped by every update; replicas of older generations are replaced
    status: DeploymentStatus = "Creating"
    status_message: str = ""
    desired_replicas: int = 0
    ready_replicas: int = 0
    restarts: int = 0
    replica_states: list[ReplicaStatus] = Field(default_factory=list)
    created_time: float
    updated_time: float


class EndpointInfo(_Model):
    """An endpoint: its stable URLs, auth mode, traffic and deployments (never its keys)."""

    id: str
    name: str
    description: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    auth_mode: AuthMode
    scoring_uri: str
    swagger_uri: str
    traffic: dict[str, int] = Field(default_factory=dict)
    mirror_traffic: dict[str, int] = Field(default_factory=dict)
    deployments: list[DeploymentInfo] = Field(default_factory=list)
    created_time: float
    updated_time: float


class DeploymentLogs(_Model):
    """The last lines of a deployment's replica logs (each line prefixed with its replica)."""

    endpoint: str
    deployment: str
    lines: list[str] = Field(default_factory=list)


class DeploymentTelemetry(_Model):
    """Counters of one deployment since the serving host started (cumulative, like Prometheus)."""

    deployment: str
    requests: int = 0
    errors: int = 0  # answers with status 5xx
    client_errors: int = 0  # answers with status 4xx
    mirrored: int = 0  # mirrored copies sent to this deployment
    in_flight: int = 0
    latency_buckets: list[tuple[float, int]] = Field(default_factory=list)  # (upper bound s, cumulative)
    latency_sum: float = 0.0
    ready_replicas: int = 0


class EndpointTelemetry(_Model):
    """Telemetry of an endpoint, per deployment, sampled at ``time``."""

    endpoint: str
    time: float
    host_running: bool
    unauthorized: int = 0  # requests refused for a missing or wrong key/token
    deployments: list[DeploymentTelemetry] = Field(default_factory=list)


class EndpointInvoke(_Model):
    """A test request sent through the endpoint on the caller's behalf (the studio's "test" tab)."""

    body: str = Field(max_length=DEFAULT_MAX_BODY_BYTES)  # the JSON text to score
    deployment: str | None = Field(default=None, pattern=DEPLOYMENT_NAME_PATTERN)  # None: by traffic
    debug: bool = False  # ask for the exception's message when the scoring script fails


class EndpointInvokeResult(_Model):
    """What the endpoint answered to a test request."""

    status_code: int
    body: str
    deployment: str | None = None  # the deployment that answered (the router's answer header)
    latency_ms: float
    request_id: str | None = None


class ServingHostInfo(_Model):
    """The process that runs a workspace's endpoints on this machine (router and replica supervisor)."""

    url: str
    pid: int | None = None
    hostname: str | None = None
    started_time: float | None = None
    heartbeat_time: float | None = None
    alive: bool = False


class RoutedEndpoint(_Model):
    """What the serving host needs to route one endpoint (internal: never sent by the API)."""

    id: str
    name: str
    auth_mode: AuthMode
    key_hashes: list[str] = Field(default_factory=list)  # sha256 hex of the primary and secondary keys
    token_secret: str = ""  # hex; signs this endpoint's short-lived tokens
    traffic: dict[str, int] = Field(default_factory=dict)
    mirror_traffic: dict[str, int] = Field(default_factory=dict)
    deployments: list[DeploymentInfo] = Field(default_factory=list)


class ServingState(_Model):
    """The desired state of a workspace's endpoints at one revision (internal: for the serving host)."""

    revision: int
    port: int
    endpoints: list[RoutedEndpoint] = Field(default_factory=list)
