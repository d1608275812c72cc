"""An in-memory TrackingBackend for CLI tests that need data the real rules would not produce."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from ember.backend import Backend
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
from ember.errors import NotFound
from ember.tracking.contract import TrackingBackend

__all__ = ["FakeBackend", "FakeTracking"]

EPOCH = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)


class FakeTracking(TrackingBackend):
    """Holds runs and files in dicts; only the reads the CLI makes are implemented."""

    def __init__(self) -> None:
        self.experiment = ExperimentInfo(id="e" * 32, name="iris", created_time=EPOCH)
        self.runs: dict[str, RunDetails] = {}
        self.files: dict[str, dict[str, bytes]] = {}
        self.listed: dict[str, list[ArtifactInfo]] = {}  # overrides what list_artifacts reports
        self.damaged: set[str] = set()  # paths whose bytes get changed on the way
        self.closed = False

    def add_run(self, details: RunDetails, files: dict[str, bytes] | None = None) -> None:
        """Store a run and its files."""
        self.runs[details.info.id] = details
        self.files[details.info.id] = dict(files or {})

    def _info(self, path: str, data: bytes) -> ArtifactInfo:
        return ArtifactInfo(
            path=path, size=len(data), digest=hashlib.sha256(data).hexdigest(), created_time=EPOCH
        )

    def get_workspace_info(self) -> WorkspaceInfo:
        return WorkspaceInfo(
            id="w" * 32, name="fake", created_time=EPOCH, schema_version="0", metadata_backend="sqlite"
        )

    def get_experiment(self, experiment_id: str) -> ExperimentInfo:
        if experiment_id != self.experiment.id:
            raise NotFound(f"experiment {experiment_id!r} not found")
        return self.experiment

    def get_experiment_by_name(self, name: str) -> ExperimentInfo:
        if name != self.experiment.name:
            raise NotFound(f"experiment {name!r} not found")
        return self.experiment

    def list_experiments(
        self, *, lifecycle: LifecycleFilter = "active", max_results: int = 1000, page_token: str | None = None
    ) -> ExperimentPage:
        return ExperimentPage(experiments=[self.experiment])

    def get_run(self, run_id: str) -> RunDetails:
        try:
            return self.runs[run_id]
        except KeyError:
            raise NotFound(f"run {run_id!r} not found") from None

    def search_runs(self, request: RunSearch) -> RunPage:
        found = [r for r in self.runs.values() if request.parent_run_id in (None, r.info.parent_run_id)]
        if request.filter and "LIKE" in request.filter:
            prefix = request.filter.split("'")[1].rstrip("%")
            found = [r for r in found if r.info.id.startswith(prefix)]
        return RunPage(runs=found[: request.max_results])

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        if run_id in self.listed:
            return self.listed[run_id]
        return [self._info(p, d) for p, d in sorted(self.files[run_id].items()) if p.startswith(prefix)]

    def open_artifact(self, run_id: str, path: str) -> tuple[ArtifactInfo, Iterator[bytes]]:
        data = self.files[run_id][path]
        sent = bytes([data[0] ^ 1]) + data[1:] if path in self.damaged else data
        return self._info(path, data), iter([sent[:3], sent[3:]])

    def close(self) -> None:
        self.closed = True

    # -- not used by the CLI ---------------------------------------------------------------------
    def create_experiment(self, request: ExperimentCreate) -> ExperimentInfo:
        raise NotImplementedError

    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        raise NotImplementedError

    def get_experiment_keys(self, experiment_id: str) -> ExperimentKeys:
        raise NotImplementedError

    def update_experiment(self, experiment_id: str, request: ExperimentUpdate) -> ExperimentInfo:
        raise NotImplementedError

    def set_experiment_lifecycle(self, experiment_id: str, stage: Lifecycle) -> ExperimentInfo:
        raise NotImplementedError

    def create_run(self, request: RunCreate) -> RunDetails:
        raise NotImplementedError

    def update_run(self, run_id: str, request: RunUpdate) -> RunInfo:
        raise NotImplementedError

    def set_run_lifecycle(self, run_id: str, stage: Lifecycle) -> RunInfo:
        raise NotImplementedError

    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        raise NotImplementedError

    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        raise NotImplementedError

    def delete_tag(self, run_id: str, key: str) -> None:
        raise NotImplementedError

    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        raise NotImplementedError

    def log_metrics(self, run_id: str, series: list[MetricSeries]) -> None:
        raise NotImplementedError

    def log_table_rows(self, run_id: str, key: str, rows: list[dict[str, Any]]) -> None:
        raise NotImplementedError

    def get_metric_history(self, run_id: str, key: str, *, max_points: int | None = None) -> MetricHistory:
        raise NotImplementedError

    def get_metrics(self, run_id: str, *, series: bool = True) -> RunMetrics:
        raise NotImplementedError

    def upload_artifact(self, run_id: str, path: str, chunks: Iterable[bytes]) -> ArtifactInfo:
        raise NotImplementedError

    def purge(self, *, older_than_seconds: float = 0.0) -> PurgeReport:
        raise NotImplementedError


class FakeBackend(Backend):
    """A Backend around a FakeTracking."""

    kind = "local"

    def __init__(self, tracking: FakeTracking) -> None:
        self.tracking = tracking
