"""The tracking part of the Backend contract: everything a workspace can do with experiments and runs.

Two implementations exist and only two: ``LocalTracking`` (the rules, on store/ and artifacts/) and
``RemoteTracking`` (a thin HTTP client of ``ember server``, which itself wraps ``LocalTracking``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from typing import Any

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

__all__ = ["TrackingBackend"]


class TrackingBackend(ABC):
    """Experiments, runs, metrics and run artifacts of one workspace.

    Every method raises ``ember.errors`` types: ``NotFound`` for unknown ids or names, ``InvalidInput``
    for malformed values, ``Conflict`` for writes the object's state forbids (a terminal run, a
    write-once value), ``PayloadTooLarge`` above limits.
    """

    # -- workspace -----------------------------------------------------------------------------
    @abstractmethod
    def get_workspace_info(self) -> WorkspaceInfo:
        """Identity and storage of the workspace."""

    # -- experiments ---------------------------------------------------------------------------
    @abstractmethod
    def create_experiment(self, request: ExperimentCreate) -> ExperimentInfo:
        """Create an experiment; ``Conflict`` when the name is taken."""

    @abstractmethod
    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        """Return the experiment of that name, creating it when missing (race-free)."""

    @abstractmethod
    def get_experiment(self, experiment_id: str) -> ExperimentInfo:
        """The experiment with this id, whatever its lifecycle stage."""

    @abstractmethod
    def get_experiment_by_name(self, name: str) -> ExperimentInfo:
        """The experiment with this name, whatever its lifecycle stage."""

    @abstractmethod
    def list_experiments(
        self, *, lifecycle: LifecycleFilter = "active", max_results: int = 1000, page_token: str | None = None
    ) -> ExperimentPage:
        """Experiments, most recently active first."""

    @abstractmethod
    def get_experiment_keys(self, experiment_id: str) -> ExperimentKeys:
        """The param, metric and tag keys its runs use, sorted (at most ``MAX_KEYS`` of each kind)."""

    @abstractmethod
    def update_experiment(self, experiment_id: str, request: ExperimentUpdate) -> ExperimentInfo:
        """Change description and/or tags (tags given replace those keys; others stay)."""

    @abstractmethod
    def set_experiment_lifecycle(self, experiment_id: str, stage: Lifecycle) -> ExperimentInfo:
        """Archive, delete (soft) or restore an experiment."""

    # -- runs ----------------------------------------------------------------------------------
    @abstractmethod
    def create_run(self, request: RunCreate) -> RunDetails:
        """Create a run; ``start_time`` is set when it is created in Running status."""

    @abstractmethod
    def get_run(self, run_id: str) -> RunDetails:
        """A run with params, tags, properties and latest metrics."""

    @abstractmethod
    def update_run(self, run_id: str, request: RunUpdate) -> RunInfo:
        """Change status (validated transition), display name, description or error."""

    @abstractmethod
    def set_run_lifecycle(self, run_id: str, stage: Lifecycle) -> RunInfo:
        """Delete (soft) or restore a run, with its child runs."""

    @abstractmethod
    def search_runs(self, request: RunSearch) -> RunPage:
        """Runs matching a filter, ordered and paged."""

    @abstractmethod
    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        """Record params; a param is write-once (same value again is fine, another is ``Conflict``)."""

    @abstractmethod
    def set_tags(self, run_id: str, tags: dict[str, str]) -> None:
        """Set or overwrite tags; allowed on terminal runs too."""

    @abstractmethod
    def delete_tag(self, run_id: str, key: str) -> None:
        """Remove a tag; ``NotFound`` when it is not set."""

    @abstractmethod
    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        """Record write-once properties (same value again is fine, another is ``Conflict``)."""

    # -- metrics -------------------------------------------------------------------------------
    @abstractmethod
    def log_metrics(self, run_id: str, series: list[MetricSeries]) -> None:
        """Append points to metric series in one transaction (all or nothing)."""

    @abstractmethod
    def log_table_rows(self, run_id: str, key: str, rows: list[dict[str, Any]]) -> None:
        """Append rows to a table metric."""

    @abstractmethod
    def get_metric_history(self, run_id: str, key: str, *, max_points: int | None = None) -> MetricHistory:
        """Every point of one series in logging order; decimated to about ``max_points`` when asked."""

    @abstractmethod
    def get_metrics(self, run_id: str, *, series: bool = True) -> RunMetrics:
        """All series and tables of a run; only its tables with ``series=False``."""

    # -- artifacts -----------------------------------------------------------------------------
    @abstractmethod
    def upload_artifact(self, run_id: str, path: str, chunks: Iterable[bytes]) -> ArtifactInfo:
        """Store a file under the run (streamed, content-addressed); overwrites the same path."""

    @abstractmethod
    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        """Files of a run under a directory prefix ("" for all), sorted by path."""

    @abstractmethod
    def open_artifact(self, run_id: str, path: str) -> tuple[ArtifactInfo, Iterator[bytes]]:
        """A file's info and its bytes as a stream of chunks."""

    # -- lifecycle -----------------------------------------------------------------------------
    @abstractmethod
    def purge(self, *, older_than_seconds: float = 0.0) -> PurgeReport:
        """Permanently remove deleted runs and experiments and free bytes nothing else references."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections and background resources."""
