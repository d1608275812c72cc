"""``Endpoint`` and ``Deployment``: online endpoints (a stable scoring URL with auth) and what they serve.

An endpoint's deployments each serve model versions with an entry script (or one MLflow model as it is)
on replicas that the workspace's serving host runs; the endpoint splits live traffic between them. The
SDK records what is wanted through the Backend contract (``backend.endpoints``) and, with ``wait``, polls
until the serving host reports the new generation ready.
"""

from __future__ import annotations

import builtins
import html
import json
import re
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from ember.entities.jobs import EnvironmentRef
from ember.entities.serving import (
    DEFAULT_MAX_BODY_BYTES,
    DEPLOYMENT_NAME_PATTERN,
    ENDPOINT_NAME_PATTERN,
    MAX_REPLICAS,
    AuthMode,
    Autoscale,
    DeploymentCreate,
    DeploymentInfo,
    DeploymentModel,
    EndpointCreate,
    EndpointInfo,
    EndpointTelemetry,
    EndpointUpdate,
)
from ember.entities.validation import build
from ember.errors import EmberError, InvalidInput, Unavailable
from ember.jobs.upload import upload_snapshot
from ember.serving.interpreter import current_interpreter

if TYPE_CHECKING:
    from ember.backend import HasBackend
    from ember.contracts.endpoints import EndpointsBackend
    from ember.serving.config import InferenceConfig

__all__ = [
    "Autoscale",
    "Deployment",
    "DeploymentConfig",
    "DeploymentFailed",
    "DeploymentTimeout",
    "Endpoint",
    "ScoringError",
    "model_ids",
]

DEPLOY_TIMEOUT_S = 300.0
_FAST_POLL_S = 0.1  # cold start should take under 2 s: poll often so waiting adds no latency
_FAST_POLL_FOR_S = 2.0
_SLOW_POLL_S = 0.5
_FAILURE_LOG_LINES = 20
_TOKEN_MARGIN_S = 60.0  # a cached token is renewed this long before it expires
_KEY_TYPES = ("primary", "secondary")
_HEADER_DEPLOYMENT = "X-Ember-Deployment"
_HEADER_REQUEST_ID = "X-Request-Id"
_HEADER_DEBUG = "X-Ember-Debug"
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class DeploymentFailed(EmberError):
    """A deployment did not become ready: its status message and last log lines say why."""

    code = "deployment_failed"
    http_status = 500

    def __init__(
        self,
        message: str,
        *,
        info: DeploymentInfo | None = None,
        logs: builtins.list[str] | None = None,
    ) -> None:
        super().__init__(message, details={"status": info.status if info else None, "logs": logs or []})
        self.info = info
        self.logs = logs or []


class DeploymentTimeout(DeploymentFailed, TimeoutError):
    """A deployment was not ready within the time allowed (it may still become ready: the host goes on)."""

    code = "deployment_timeout"
    http_status = 504


class ScoringError(EmberError):
    """An endpoint answered a scoring request with an error (``status_code``), or did not answer in time."""

    code = "scoring_error"
    http_status = 502

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        request_id: str | None = None,
        deployment: str | None = None,
        body: str = "",
    ) -> None:
        details = {"status_code": status_code, "request_id": request_id, "deployment": deployment}
        super().__init__(message, details={k: v for k, v in details.items() if v is not None})
        self.status_code = status_code
        self.request_id = request_id
        self.deployment = deployment
        self.body = body


@dataclass(frozen=True)
class DeploymentConfig:
    """How a deployment runs: replicas (or autoscaling between bounds), data collection, body limit.

    ``auth_mode`` is used by ``Model.deploy`` when it creates the endpoint (``"key"`` or ``"token"``).

    Example:
        >>> config = DeploymentConfig(replicas=2, autoscale=Autoscale(min_replicas=1, max_replicas=4))
    """

    replicas: int = 1
    autoscale: Autoscale | None = None
    collect_data: bool = False
    auth_mode: AuthMode = "key"
    max_body_bytes: int | None = None

    def __post_init__(self) -> None:
        if isinstance(self.replicas, bool) or not isinstance(self.replicas, int):
            raise InvalidInput(f"replicas must be a whole number, not {self.replicas!r}")
        if not 1 <= self.replicas <= MAX_REPLICAS:
            raise InvalidInput(f"replicas must be between 1 and {MAX_REPLICAS}, not {self.replicas}")
        if self.autoscale is not None and not isinstance(self.autoscale, Autoscale):
            raise InvalidInput("autoscale must be an ember.Autoscale(min_replicas=…, max_replicas=…)")
        if self.auth_mode not in ("key", "token"):
            raise InvalidInput(f"auth_mode must be 'key' or 'token', not {self.auth_mode!r}")
        if self.max_body_bytes is not None and (
            isinstance(self.max_body_bytes, bool) or not isinstance(self.max_body_bytes, int)
        ):
            raise InvalidInput(f"max_body_bytes must be a number of bytes, not {self.max_body_bytes!r}")


# -- helpers -----------------------------------------------------------------------------------------


def _check_name(name: object, what: str, pattern: str) -> None:
    if not isinstance(name, str) or not re.fullmatch(pattern, name):
        raise InvalidInput(
            f"{what} name {str(name)[:100]!r} is invalid: a lower-case letter, then up to 31 lower-case "
            "letters, digits or '-' (e.g. iris, churn-v2)"
        )


def model_ids(models: Sequence[Any] | None) -> builtins.list[str]:
    """The ids of ``ember.Model`` objects (or of model version ids given as such)."""
    if models is None:
        return []
    if isinstance(models, str) or not isinstance(models, Sequence):
        raise InvalidInput("models must be a list of ember.Model objects (or model version ids)")
    ids = []
    for model in models:
        model_id = getattr(model, "id", model)
        if not isinstance(model_id, str):
            raise InvalidInput(
                f"models: {model!r} is neither an ember.Model nor a model version id; register it first"
            )
        ids.append(model_id)
    return ids


def _environment_ref(workspace: HasBackend, inference: InferenceConfig) -> EnvironmentRef | None:
    from ember.environments.sdk import Environment

    env = inference.environment
    if isinstance(env, Environment) and env.version is None:
        # An unregistered spec is registered on deploy (as Azure ML does), so the deployment names the
        # exact version it was made with instead of whatever is latest later.
        env = env.register(workspace)
        inference.environment = env
    return inference.environment_ref


def _html_row(*cells: object, header: bool = False) -> str:
    tag = "th" if header else "td"
    return "<tr>" + "".join(f"<{tag}>{html.escape(str(c))}</{tag}>" for c in cells) + "</tr>"


def _traffic_text(traffic: Mapping[str, int]) -> str:
    return ", ".join(f"{name}={share}%" for name, share in sorted(traffic.items())) or "none"


def _ready_text(info: DeploymentInfo) -> str:
    """``ready/desired`` replicas (the desired count is the asked one until the host reports)."""
    return f"{info.ready_replicas}/{info.desired_replicas or info.replicas}"


def _models_text(models: Sequence[DeploymentModel]) -> str:
    return ", ".join(f"{m.name}:{m.version}" for m in models)


def _json_body(input_data: Any) -> bytes:
    if isinstance(input_data, bytes):
        return input_data
    if isinstance(input_data, str):
        return input_data.encode("utf-8")

    def convert(value: Any) -> Any:
        tolist = getattr(value, "tolist", None)  # numpy arrays and scalars
        if callable(tolist):
            return tolist()
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    try:
        return json.dumps(input_data, allow_nan=False, default=convert).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise InvalidInput(
            f"input_data cannot be sent as JSON ({exc}); pass a JSON string or plain lists, dicts and numbers"
        ) from None


def _error_message(response: httpx.Response) -> tuple[str, str | None]:
    """The error message of a failed scoring answer, and the request id it names."""
    request_id = response.headers.get(_HEADER_REQUEST_ID)
    try:
        payload = response.json()
    except ValueError:
        payload = None
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        error = payload["error"]
        request_id = request_id or (str(error["request_id"]) if error.get("request_id") else None)
        return str(error.get("message") or error.get("code") or ""), request_id
    text = response.text.strip()
    return (text[:300] + "…" if len(text) > 300 else text) or response.reason_phrase, request_id


# -- Deployment --------------------------------------------------------------------------------------


class Deployment:
    """One deployment of an endpoint: the model versions and scoring code it serves, on replicas.

    Get one from ``endpoint.deploy(...)`` or ``endpoint.deployments["blue"]``.
    """

    def __init__(self, endpoint: Endpoint, name: str) -> None:
        self.endpoint = endpoint
        self._info = endpoint._backend.get_deployment(endpoint.name, name)

    @classmethod
    def _from_info(cls, endpoint: Endpoint, info: DeploymentInfo) -> Deployment:
        obj = cls.__new__(cls)
        obj.endpoint = endpoint
        obj._info = info
        return obj

    # ---- what it is ---------------------------------------------------------------------------------

    @property
    def info(self) -> DeploymentInfo:
        """Everything the workspace holds about this deployment, as last fetched (see ``refresh``)."""
        return self._info

    @property
    def name(self) -> str:
        return self._info.name

    @property
    def status(self) -> str:
        """``Creating``, ``Updating``, ``Healthy``, ``Degraded`` or ``Failed``."""
        return self._info.status

    @property
    def status_message(self) -> str:
        return self._info.status_message

    @property
    def generation(self) -> int:
        """Bumped by every update; replicas of older generations are replaced."""
        return self._info.generation

    @property
    def models(self) -> builtins.list[DeploymentModel]:
        """The model versions served: id, name, version."""
        return builtins.list(self._info.models)

    @property
    def replicas(self) -> int:
        """The replicas asked for (autoscaling moves the running count between its bounds)."""
        return self._info.replicas

    @property
    def ready_replicas(self) -> int:
        return self._info.ready_replicas

    @property
    def autoscale(self) -> Autoscale | None:
        return self._info.autoscale

    def __repr__(self) -> str:
        info = self._info
        return (
            f"Deployment(endpoint={info.endpoint!r}, name={info.name!r}, status={info.status!r}, "
            f"generation={info.generation}, replicas={_ready_text(info)}"
            f", models=[{_models_text(info.models)}])"
        )

    def _repr_html_(self) -> str:
        info = self._info
        return (
            "<table>"
            + _html_row("Endpoint", "Deployment", "Status", "Ready", "Generation", "Models", header=True)
            + _html_row(
                info.endpoint,
                info.name,
                info.status,
                _ready_text(info),
                info.generation,
                _models_text(info.models),
            )
            + "</table>"
        )

    # ---- acting -------------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Fetch the deployment's current status from the workspace."""
        self._info = self.endpoint._backend.get_deployment(self._info.endpoint, self._info.name)

    def get_logs(self, tail: int = 200) -> str:
        """The last ``tail`` lines of each replica's log (each line prefixed with its replica)."""
        logs = self.endpoint._backend.get_logs(self._info.endpoint, self._info.name, tail=tail)
        return "\n".join(logs.lines)

    def delete(self) -> None:
        """Delete this deployment (its replicas stop); refused while it takes live or mirrored traffic."""
        self.endpoint._backend.delete_deployment(self._info.endpoint, self._info.name)
        self.endpoint.refresh()

    def wait_for_deployment(
        self,
        timeout: float = DEPLOY_TIMEOUT_S,
        show_output: bool = False,
        *,
        on_update: Callable[[Deployment], None] | None = None,
    ) -> None:
        """Wait until the serving host reports this generation ``Healthy``.

        Args:
            timeout: Seconds to wait.
            show_output: Print each change of status (and the last log lines on failure).
            on_update: Called with this deployment after every poll (the CLI updates its spinner with it).

        Raises:
            DeploymentFailed: The deployment's status became ``Failed``; the message has the status message
                and the last log lines.
            DeploymentTimeout: It was not ready within ``timeout`` seconds (the host goes on trying).
        """
        generation = self._info.generation
        started = time.monotonic()
        deadline = started + timeout
        shown: tuple[str, int, str] | None = None
        while True:
            self.refresh()
            info = self._info
            if on_update is not None:
                on_update(self)
            if show_output and (info.status, info.ready_replicas, info.status_message) != shown:
                shown = (info.status, info.ready_replicas, info.status_message)
                message = f": {info.status_message}" if info.status_message else ""
                sys.stdout.write(
                    f"{info.endpoint}/{info.name} generation {info.generation}: {info.status} "
                    f"({_ready_text(info)} replicas ready){message}\n"
                )
                sys.stdout.flush()
            current = info.generation >= generation
            if current and info.status == "Healthy":
                return
            if current and info.status == "Failed":
                raise self._failure(DeploymentFailed, "failed", show_output=show_output)
            now = time.monotonic()
            if now >= deadline:
                raise self._failure(
                    DeploymentTimeout, f"is not ready after {timeout:g} s", show_output=show_output
                )
            pause = _FAST_POLL_S if now - started < _FAST_POLL_FOR_S else _SLOW_POLL_S
            time.sleep(min(pause, max(0.0, deadline - now)))

    def _failure(self, kind: type[DeploymentFailed], what: str, *, show_output: bool) -> DeploymentFailed:
        info = self._info
        try:
            lines = self.endpoint._backend.get_logs(info.endpoint, info.name, tail=_FAILURE_LOG_LINES).lines[
                -_FAILURE_LOG_LINES:
            ]
        except EmberError as exc:  # the failure matters more than its logs
            lines = [f"(the logs could not be read: {exc.message})"]
        reason = f": {info.status_message}" if info.status_message else ""
        message = (
            f"deployment {info.name!r} of endpoint {info.endpoint!r} {what} "
            f"(status {info.status}, {_ready_text(info)} replicas "
            f"ready){reason}"
        )
        if lines:
            message += "\nlast log lines:\n" + "\n".join(f"  {line}" for line in lines)
        else:
            message += f"\nsee `ember endpoint logs {info.endpoint} {info.name}`"
        if show_output and lines:
            sys.stdout.write("\n".join(lines) + "\n")
            sys.stdout.flush()
        return kind(message, info=info, logs=lines)


# -- Endpoint ----------------------------------------------------------------------------------------


class Endpoint:
    """An online endpoint: ``Endpoint(ws, "iris")`` gets one, ``Endpoint.create(ws, "iris")`` makes one.

    Example:
        >>> endpoint = Endpoint.create(ws, "iris")
        >>> endpoint.deploy("blue", models=[model], inference_config=InferenceConfig("score.py", "serve"))
        >>> endpoint.run({"data": [[5.1, 3.5, 1.4, 0.2]]})
    """

    def __init__(self, workspace: HasBackend, name: str) -> None:
        self.workspace = workspace
        self._info = self._backend.get_endpoint(name)
        self._init_client()

    @classmethod
    def _from_info(cls, workspace: HasBackend, info: EndpointInfo) -> Endpoint:
        obj = cls.__new__(cls)
        obj.workspace = workspace
        obj._info = info
        obj._init_client()
        return obj

    def _init_client(self) -> None:
        self._client: httpx.Client | None = None
        self._credential: tuple[str, float] | None = None  # (key or token, when to renew it)
        self._lock = threading.Lock()

    @property
    def _backend(self) -> EndpointsBackend:
        return self.workspace.backend.endpoints

    # ---- creating and finding -----------------------------------------------------------------------

    @classmethod
    def create(
        cls,
        workspace: HasBackend,
        name: str,
        *,
        auth_mode: AuthMode = "key",
        description: str = "",
        tags: Mapping[str, str] | None = None,
    ) -> Endpoint:
        """Create an endpoint with no deployments and two new keys (or token auth).

        Raises:
            InvalidInput: The name is not a lower-case DNS label (``iris``, ``churn-v2``) or a field is bad.
            Conflict: An endpoint has that name.
        """
        _check_name(name, "endpoint", ENDPOINT_NAME_PATTERN)
        request = build(
            EndpointCreate, name=name, auth_mode=auth_mode, description=description, tags=dict(tags or {})
        )
        return cls._from_info(workspace, workspace.backend.endpoints.create_endpoint(request))

    @classmethod
    def list(cls, workspace: HasBackend) -> builtins.list[Endpoint]:
        """Every endpoint of the workspace, by name."""
        return [cls._from_info(workspace, info) for info in workspace.backend.endpoints.list_endpoints()]

    # ---- what it is ---------------------------------------------------------------------------------

    @property
    def info(self) -> EndpointInfo:
        """Everything the workspace holds about this endpoint, as last fetched (see ``refresh``)."""
        return self._info

    @property
    def id(self) -> str:
        return self._info.id

    @property
    def name(self) -> str:
        return self._info.name

    @property
    def description(self) -> str:
        return self._info.description

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._info.tags)

    @property
    def auth_mode(self) -> AuthMode:
        """``"key"`` (send a key) or ``"token"`` (send a short-lived token from ``get_token``)."""
        return self._info.auth_mode

    @property
    def scoring_uri(self) -> str:
        """Where to POST JSON to score, with ``Authorization: Bearer <key or token>``."""
        return self._info.scoring_uri

    @property
    def swagger_uri(self) -> str:
        return self._info.swagger_uri

    @property
    def traffic(self) -> dict[str, int]:
        """Percent of live requests per deployment."""
        return dict(self._info.traffic)

    @property
    def mirror_traffic(self) -> dict[str, int]:
        """Percent of live requests copied to a deployment that takes no live traffic."""
        return dict(self._info.mirror_traffic)

    @property
    def deployments(self) -> dict[str, Deployment]:
        """The endpoint's deployments by name, as last fetched."""
        return {d.name: Deployment._from_info(self, d) for d in self._info.deployments}

    def __repr__(self) -> str:
        info = self._info
        return (
            f"Endpoint(name={info.name!r}, auth_mode={info.auth_mode!r}, scoring_uri={info.scoring_uri!r}, "
            f"traffic={dict(info.traffic)!r}, deployments={[d.name for d in info.deployments]!r})"
        )

    def _repr_html_(self) -> str:
        info = self._info
        rows = [
            _html_row("Endpoint", "Scoring URI", "Auth", "Traffic", "Mirror", header=True),
            _html_row(
                info.name,
                info.scoring_uri,
                info.auth_mode,
                _traffic_text(info.traffic),
                _traffic_text(info.mirror_traffic) if info.mirror_traffic else "",
            ),
        ]
        out = "<table>" + "".join(rows) + "</table>"
        if info.deployments:
            deployments = [_html_row("Deployment", "Status", "Ready", "Traffic", "Models", header=True)]
            for d in info.deployments:
                deployments.append(
                    _html_row(
                        d.name,
                        d.status,
                        _ready_text(d),
                        f"{info.traffic.get(d.name, 0)}%",
                        _models_text(d.models),
                    )
                )
            out += "<table>" + "".join(deployments) + "</table>"
        return out

    # ---- deploying ----------------------------------------------------------------------------------

    def deploy(
        self,
        name: str,
        *,
        models: Sequence[Any] | None = None,
        inference_config: InferenceConfig | None = None,
        deployment_config: DeploymentConfig | None = None,
        replicas: int | None = None,
        autoscale: Autoscale | None = None,
        collect_data: bool | None = None,
        max_body_bytes: int | None = None,
        description: str = "",
        wait: bool = True,
        timeout: float = DEPLOY_TIMEOUT_S,
        show_output: bool = False,
    ) -> Deployment:
        """Create the deployment ``name``, or update it in place (a new generation, zero downtime).

        The inference config's source directory is uploaded as a snapshot (content-addressed, ignore files
        honoured: an unchanged folder uploads nothing). Without an entry script the deployment serves its
        one MLflow-format model as it is. The first deployment of an endpoint takes all its traffic.

        Args:
            name: The deployment's name (``blue``, ``green``): a lower-case DNS label.
            models: ``ember.Model`` versions (or their ids) the scoring script loads.
            inference_config: The entry script, its folder and environment.
            deployment_config: Replicas, autoscaling, data collection, body limit; the arguments below,
                when given, win over it.
            replicas: How many replicas to run (default 1).
            autoscale: Scale between bounds on in-flight requests instead.
            collect_data: Store inputs and predictions in the default datastore (for drift monitoring).
            max_body_bytes: The largest request body accepted (default 10 MiB).
            description: Free text.
            wait: Wait until the new generation is ready (``Healthy``).
            timeout: Seconds to wait.
            show_output: Print the deployment's progress while waiting.

        Raises:
            InvalidInput: A field is malformed, the snapshot lacks the entry script, or an MLflow-only
                deployment does not serve exactly one MLflow model.
            NotFound: A model version or the environment does not exist.
            DeploymentFailed: With ``wait``, the deployment failed to start (message: why, and its logs).
            DeploymentTimeout: With ``wait``, it was not ready in ``timeout`` seconds.
        """
        _check_name(name, "deployment", DEPLOYMENT_NAME_PATTERN)
        config = deployment_config or DeploymentConfig()
        fields: dict[str, Any] = {
            "name": name,
            "model_ids": model_ids(models),
            "replicas": config.replicas if replicas is None else replicas,
            "autoscale": config.autoscale if autoscale is None else autoscale,
            "collect_data": config.collect_data if collect_data is None else collect_data,
            "description": description,
        }
        body_limit = config.max_body_bytes if max_body_bytes is None else max_body_bytes
        fields["max_body_bytes"] = DEFAULT_MAX_BODY_BYTES if body_limit is None else body_limit
        script = inference_config.entry_script if inference_config is not None else None
        if script is not None:
            fields["entry_script"] = script
        # Check the request first (with a placeholder digest), so a typo registers and uploads nothing.
        build(DeploymentCreate, **fields, snapshot_digest=None if script is None else "0" * 64)
        if inference_config is not None:
            if inference_config.uses_current_interpreter:
                fields["interpreter"] = current_interpreter()  # the workspace checks where replicas run
            else:
                fields["environment"] = _environment_ref(self.workspace, inference_config)
            if script is not None:
                fields["snapshot_digest"] = upload_snapshot(
                    self.workspace.backend.jobs, inference_config.source_directory
                )
        request = build(DeploymentCreate, **fields)
        info = self._backend.deploy(self.name, request)
        deployment = Deployment._from_info(self, info)
        self.refresh()
        if wait:
            try:
                deployment.wait_for_deployment(timeout, show_output)
            finally:  # a failure leaves the endpoint showing what the deployment reported
                self.refresh()
        return deployment

    # ---- traffic ------------------------------------------------------------------------------------

    def update(
        self,
        *,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        traffic: Mapping[str, int] | None = None,
        mirror_traffic: Mapping[str, int] | None = None,
    ) -> None:
        """Change the description, tags, traffic split or mirroring at once; arguments left None are kept.

        Raises:
            InvalidInput: Traffic names an unknown deployment or does not sum to 100 (or all 0); mirroring
                targets more than one deployment, more than 50%, or a deployment with live traffic.
        """
        request = build(
            EndpointUpdate,
            description=description,
            tags=None if tags is None else dict(tags),
            traffic=None if traffic is None else dict(traffic),
            mirror_traffic=None if mirror_traffic is None else dict(mirror_traffic),
        )
        self._info = self._backend.update_endpoint(self.name, request)

    def set_traffic(self, traffic: Mapping[str, int]) -> None:
        """Split live requests between deployments in whole percents: ``{"blue": 90, "green": 10}``."""
        self.update(traffic=traffic)

    def set_mirror_traffic(self, mirror_traffic: Mapping[str, int]) -> None:
        """Copy a percentage of live requests to one deployment with no live traffic (``{}``: stop)."""
        self.update(mirror_traffic=mirror_traffic)

    # ---- credentials --------------------------------------------------------------------------------

    def get_keys(self) -> tuple[str, str]:
        """The primary and secondary keys (key auth); either works as ``Authorization: Bearer <key>``."""
        keys = self._backend.get_keys(self.name)
        return keys.primary_key, keys.secondary_key

    def regenerate_key(self, key_type: str = "primary") -> None:
        """Replace the ``"primary"`` or ``"secondary"`` key with a new one; the old one stops working."""
        if key_type not in _KEY_TYPES:
            raise InvalidInput(f"key_type must be 'primary' or 'secondary', not {key_type!r}")
        self._backend.regenerate_key(self.name, key_type)
        with self._lock:
            self._credential = None

    def get_token(self) -> tuple[str, float]:
        """A scoring token (token auth) and its expiry time, in seconds since the epoch."""
        token = self._backend.get_token(self.name)
        return token.access_token, token.expiry_time

    def _bearer(self, *, renew: bool) -> tuple[str, bool]:
        """The credential to score with, and whether it was just fetched (else it came from the cache)."""
        with self._lock:
            cached = self._credential
            if cached is not None and not renew and time.time() < cached[1]:
                return cached[0], False
            if self.auth_mode == "token":
                token, expiry = self.get_token()
                self._credential = (token, expiry - _TOKEN_MARGIN_S)
            else:
                self._credential = (self.get_keys()[0], float("inf"))
            return self._credential[0], True

    # ---- scoring ------------------------------------------------------------------------------------

    def run(
        self, input_data: Any, *, deployment: str | None = None, debug: bool = False, timeout: float = 60.0
    ) -> Any:
        """Score ``input_data`` (a JSON string, or anything JSON-serialisable) and return the parsed answer.

        The request goes to ``scoring_uri`` with the endpoint's key (or a cached token) over one kept-alive
        connection. ``deployment`` sends it to that deployment whatever the traffic split; ``debug`` asks
        for the exception's message when the scoring script fails.

        Raises:
            ScoringError: The endpoint answered with an error (the message has the status, the error and
                the request id, to find in ``get_logs``), or did not answer within ``timeout`` seconds.
            Unavailable: The serving host cannot be reached.
        """
        body = _json_body(input_data)
        headers = {"Content-Type": "application/json"}
        if deployment is not None:
            headers[_HEADER_DEPLOYMENT] = deployment
        if debug:
            headers[_HEADER_DEBUG] = "true"
        response, fresh = self._post(body, headers, timeout, renew=False)
        if response.status_code == 401 and not fresh:
            # The key was regenerated elsewhere since it was cached: fetch it once more.
            response, _ = self._post(body, headers, timeout, renew=True)
        answered_by = response.headers.get(_HEADER_DEPLOYMENT)
        if not response.is_success:
            message, request_id = _error_message(response)
            where = f" (deployment {answered_by})" if answered_by else ""
            rid = f"; request id {request_id}" if request_id else ""
            raise ScoringError(
                f"endpoint {self.name!r} answered {response.status_code}{where}: {message}{rid}",
                status_code=response.status_code,
                request_id=request_id,
                deployment=answered_by,
                body=response.text,
            )
        try:
            return json.loads(response.content)
        except ValueError:
            raise ScoringError(
                f"endpoint {self.name!r} answered {response.status_code} with a body that is not JSON",
                status_code=response.status_code,
                request_id=response.headers.get(_HEADER_REQUEST_ID),
                deployment=answered_by,
                body=response.text,
            ) from None

    def _post(
        self, body: bytes, headers: dict[str, str], timeout: float, *, renew: bool
    ) -> tuple[httpx.Response, bool]:
        credential, fresh = self._bearer(renew=renew)
        headers = {**headers, "Authorization": f"Bearer {credential}"}
        client = self._client
        if client is None:
            # A proxy from the environment must not intercept the local serving host.
            local = urlsplit(self.scoring_uri).hostname in _LOOPBACK
            client = self._client = httpx.Client(timeout=timeout, trust_env=not local)
        try:
            return client.post(self.scoring_uri, content=body, headers=headers, timeout=timeout), fresh
        except httpx.TimeoutException:
            raise ScoringError(f"endpoint {self.name!r} did not answer within {timeout:g} s") from None
        except httpx.TransportError as exc:
            raise Unavailable(
                f"cannot reach endpoint {self.name!r} at {self.scoring_uri} ({exc}); is the serving host "
                "running? See `ember endpoint show " + self.name + "`"
            ) from None

    # ---- the rest -----------------------------------------------------------------------------------

    def get_telemetry(self) -> EndpointTelemetry:
        """Request counts, errors and latency histograms per deployment, from the serving host."""
        return self._backend.get_telemetry(self.name)

    def refresh(self) -> None:
        """Fetch the endpoint and its deployments' statuses from the workspace."""
        self._info = self._backend.get_endpoint(self.name)

    def delete(self) -> None:
        """Delete the endpoint and all its deployments (their replicas stop)."""
        self._backend.delete_endpoint(self.name)
        self.close()

    def close(self) -> None:
        """Close the kept-alive scoring connection (a later ``run`` opens a new one)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()
