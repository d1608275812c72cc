"""``RemoteTracking``: the tracking contract over ``ember server``'s REST API, with no rules of its own.

Every rule runs on the server; this module only maps calls to routes and answers to entities. Ids and
names go into URLs percent-encoded as one segment each, so no value can address another route.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import httpx

from ember.artifacts.paths import check_id
from ember.contracts.tracking import TrackingBackend
from ember.entities import (
    ArtifactInfo,
    ExperimentCreate,
    ExperimentInfo,
    ExperimentKeys,
    ExperimentPage,
    ExperimentUpdate,
    Lifecycle,
    LifecycleFilter,
    MetricHistory,
    MetricSeries,
    PurgeReport,
    RunCreate,
    RunDetails,
    RunInfo,
    RunMetrics,
    RunPage,
    RunSearch,
    RunUpdate,
    WorkspaceInfo,
)
from ember.errors import EmberError, InvalidInput
from ember.transport import HttpClient, url_path, url_segment

__all__ = ["API_PREFIX", "RemoteTracking"]

API_PREFIX = "/api/v1"

# The request that moves an experiment or a run to a lifecycle stage: method and action (a sub-path).
_STAGE_ROUTES = {"active": ("POST", "/restore"), "archived": ("POST", "/archive"), "deleted": ("DELETE", "")}


def _run(run_id: str) -> str:
    return f"{API_PREFIX}/runs/{check_id(run_id, 'run')}"


def _experiment(experiment_id: str) -> str:
    return f"{API_PREFIX}/experiments/{check_id(experiment_id, 'experiment')}"


class RemoteTracking(TrackingBackend):
    """The tracking contract over HTTP.

    Args:
        client: The connection to the server, shared with the other areas of a ``RemoteBackend``.
    """

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    # -- workspace -----------------------------------------------------------------------------
    def get_workspace_info(self) -> WorkspaceInfo:
        """Identity and storage of the workspace the server serves."""
        info = WorkspaceInfo.model_validate(self._client.get(f"{API_PREFIX}/workspace"))
        return info.model_copy(update={"metadata_backend": "remote"})

    # -- experiments ---------------------------------------------------------------------------
    def create_experiment(self, request: ExperimentCreate) -> ExperimentInfo:
        """Create an experiment; ``Conflict`` when the name is taken."""
        return ExperimentInfo.model_validate(self._client.post(f"{API_PREFIX}/experiments", json=request))

    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        """Return the experiment of that name, creating it when missing."""
        answer = self._client.put(f"{API_PREFIX}/experiments/by-name/{url_segment(name)}")
        return ExperimentInfo.model_validate(answer)

    def get_experiment(self, experiment_id: str) -> ExperimentInfo:
        """The experiment with this id, whatever its lifecycle stage."""
        return ExperimentInfo.model_validate(self._client.get(_experiment(experiment_id)))

    def get_experiment_by_name(self, name: str) -> ExperimentInfo:
        """The experiment with this name, whatever its lifecycle stage."""
        answer = self._client.get(f"{API_PREFIX}/experiments/by-name/{url_segment(name)}")
        return ExperimentInfo.model_validate(answer)

    def list_experiments(
        self, *, lifecycle: LifecycleFilter = "active", max_results: int = 1000, page_token: str | None = None
    ) -> ExperimentPage:
        """Experiments, most recently active first."""
        params: dict[str, Any] = {"lifecycle": lifecycle, "max_results": max_results}
        if page_token is not None:
            params["page_token"] = page_token
        return ExperimentPage.model_validate(self._client.get(f"{API_PREFIX}/experiments", params=params))

    def get_experiment_keys(self, experiment_id: str) -> ExperimentKeys:
        return ExperimentKeys.model_validate(self._client.get(f"{_experiment(experiment_id)}/keys"))

    def update_experiment(self, experiment_id: str, request: ExperimentUpdate) -> ExperimentInfo:
        """Change description and/or tags."""
        return ExperimentInfo.model_validate(self._client.patch(_experiment(experiment_id), json=request))

    def set_experiment_lifecycle(self, experiment_id: str, stage: Lifecycle) -> ExperimentInfo:
        """Archive, delete (soft) or restore an experiment."""
        method, action = _stage_route(stage)
        return ExperimentInfo.model_validate(
            self._client.request(method, _experiment(experiment_id) + action)
        )

    # -- runs ----------------------------------------------------------------------------------
    def create_run(self, request: RunCreate) -> RunDetails:
        """Create a run; the server records the caller as its user when none is given."""
        return RunDetails.model_validate(self._client.post(f"{API_PREFIX}/runs", json=request))

    def get_run(self, run_id: str) -> RunDetails:
        """A run with params, tags, properties and latest metrics."""
        return RunDetails.model_validate(self._client.get(_run(run_id)))

    def update_run(self, run_id: str, request: RunUpdate) -> RunInfo:
        """Change status, display name, description or error."""
        return RunInfo.model_validate(self._client.patch(_run(run_id), json=request))

    def set_run_lifecycle(self, run_id: str, stage: Lifecycle) -> RunInfo:
        """Delete (soft) or restore a run, with its child runs."""
        method, action = _stage_route(stage)
        return RunInfo.model_validate(self._client.request(method, _run(run_id) + action))

    def search_runs(self, request: RunSearch) -> RunPage:
        """Runs matching a filter, ordered and paged."""
        return RunPage.model_validate(self._client.post(f"{API_PREFIX}/runs/search", json=request))

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        """Record write-once params."""
        self._client.post(f"{_run(run_id)}/params", json={"params": params})

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        """Set or overwrite tags."""
        self._client.patch(f"{_run(run_id)}/tags", json={"tags": tags})

    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag; ``NotFound`` when it is not set."""
        self._client.delete(f"{_run(run_id)}/tags/{url_segment(key)}")

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        """Record write-once properties."""
        self._client.post(f"{_run(run_id)}/properties", json={"properties": properties})

    # -- metrics -------------------------------------------------------------------------------
    def log_metrics(self, run_id: str, series: list[MetricSeries]) -> None:
        """Append points to metric series in one request (all or nothing on the server)."""
        self._client.post(f"{_run(run_id)}/metrics", json={"series": series})

    def log_table_rows(self, run_id: str, key: str, rows: list[dict[str, Any]]) -> None:
        """Append rows to a table metric."""
        self._client.post(f"{_run(run_id)}/tables/{url_segment(key)}/rows", json={"rows": rows})

    def get_metric_history(self, run_id: str, key: str, *, max_points: int | None = None) -> MetricHistory:
        """Every point of one series, decimated by the server to about ``max_points`` when asked."""
        params = None if max_points is None else {"max_points": max_points}
        answer = self._client.get(f"{_run(run_id)}/metrics/{url_segment(key)}/history", params=params)
        return MetricHistory.model_validate(answer)

    def get_metrics(self, run_id: str, *, series: bool = True) -> RunMetrics:
        """All series and tables of a run; only its tables with ``series=False``."""
        params = None if series else {"series": "false"}
        return RunMetrics.model_validate(self._client.get(f"{_run(run_id)}/metrics", params=params))

    # -- artifacts -----------------------------------------------------------------------------
    def upload_artifact(self, run_id: str, path: str, chunks: Iterable[bytes]) -> ArtifactInfo:
        """Stream a file to the server under the run."""
        answer = self._client.upload(f"{_run(run_id)}/artifacts/{url_path(path)}", chunks)
        return ArtifactInfo.model_validate(answer)

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        """Files of a run under a directory prefix, sorted by path."""
        answer = self._client.get(f"{_run(run_id)}/artifacts", params={"prefix": prefix})
        return [ArtifactInfo.model_validate(item) for item in answer]

    def open_artifact(self, run_id: str, path: str) -> tuple[ArtifactInfo, Iterator[bytes]]:
        """A file's info and its bytes as a stream; the connection is freed once exhausted or closed."""
        headers, body = self._client.open_download(f"{_run(run_id)}/artifacts/{url_path(path)}")
        try:
            info = _artifact_info(headers)
        except BaseException:
            body.close()
            raise
        return info, body

    # -- lifecycle -----------------------------------------------------------------------------
    def purge(self, *, older_than_seconds: float = 0.0) -> PurgeReport:
        """Permanently remove deleted runs and experiments on the server."""
        answer = self._client.post(f"{API_PREFIX}/gc", json={"older_than_seconds": older_than_seconds})
        return PurgeReport.model_validate(answer)


def _stage_route(stage: str) -> tuple[str, str]:
    try:
        return _STAGE_ROUTES[stage]
    except KeyError:
        raise InvalidInput(
            f"unknown lifecycle stage {stage!r}: use 'active', 'archived' or 'deleted'"
        ) from None


def _artifact_info(headers: httpx.Headers) -> ArtifactInfo:
    try:
        return ArtifactInfo(
            path=unquote(headers["x-ember-path"]),
            size=int(headers["content-length"]),
            digest=headers["x-ember-digest"],
            created_time=datetime.fromisoformat(headers["x-ember-created-time"]),
        )
    except (KeyError, ValueError) as exc:
        raise EmberError(f"the server's artifact answer lacks a valid header: {exc}") from exc
