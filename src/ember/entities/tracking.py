"""Entities of experiment tracking: workspaces, experiments, runs, metrics and artifacts.

Times of runs and experiments are timezone-aware UTC datetimes; metric timestamps are float
seconds since the epoch, because metric series are large and travel columnar.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_\-.]{0,254}$"
KEY_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_\-. /:]{0,249}$"
_KEY_RE = re.compile(KEY_PATTERN)

MAX_RESULTS_CAP = 5000
MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 8000
MAX_DESCRIPTION = 20000
MAX_POINTS_PER_REQUEST = 2_000_000
MAX_TABLE_ROWS_PER_REQUEST = 10_000
MAX_KEYS_PER_CALL = 10_000


class RunStatus(StrEnum):
    """Where a run is in its life; the last three are terminal."""

    NOT_STARTED = "NotStarted"
    QUEUED = "Queued"
    PREPARING = "Preparing"
    STARTING = "Starting"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    CANCEL_REQUESTED = "CancelRequested"
    NOT_RESPONDING = "NotResponding"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"


TERMINAL_STATUSES = frozenset({RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED})

Lifecycle = Literal["active", "archived", "deleted"]
LifecycleFilter = Literal["active", "archived", "deleted", "all"]

Name = Annotated[str, Field(pattern=NAME_PATTERN)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")


def check_key(key: str, what: str = "key") -> str:
    """Validate a metric, param, tag or property key and return it unchanged."""
    if not isinstance(key, str) or not _KEY_RE.fullmatch(key) or ".." in key:
        raise ValueError(
            f"{what} {key[:100] if isinstance(key, str) else key!r} is invalid: use 1-250 letters, digits, "
            "'_', '-', '.', ' ', '/' or ':', starting with a letter, digit or '_'"
        )
    return key


def check_mapping(values: dict[str, str], what: str, max_len: int) -> dict[str, str]:
    """Validate names and values of params, tags or properties; raises ``ValueError``."""
    if len(values) > MAX_KEYS_PER_CALL:
        raise ValueError(f"at most {MAX_KEYS_PER_CALL} {what}s per call")
    for k, v in values.items():
        check_key(k, f"{what} name")
        if not isinstance(v, str):
            raise ValueError(f"{what} {k!r} must be text")
        if len(v) > max_len:
            raise ValueError(f"{what} {k!r} is {len(v)} characters long; the limit is {max_len}")
        if "\x00" in v:
            raise ValueError(f"{what} {k!r} contains a NUL character")
    return values


class WorkspaceInfo(_Model):
    """Identity and storage of a workspace (never its secrets)."""

    id: str
    name: str
    created_time: datetime
    schema_version: str
    metadata_backend: str  # "sqlite" | "postgresql" | "remote"
    artifact_uri: str | None = None


class ExperimentCreate(_Model):
    """Request body to create an experiment."""

    name: Name
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        return check_mapping(v, "tag", MAX_TAG_VALUE)


class ExperimentUpdate(_Model):
    """Request body to change an experiment; fields left out stay as they are."""

    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    tags: dict[str, str] | None = None

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str] | None) -> dict[str, str] | None:
        return None if v is None else check_mapping(v, "tag", MAX_TAG_VALUE)


class ExperimentInfo(_Model):
    """An experiment: a named group of runs."""

    id: str
    name: str
    description: str | None = None
    lifecycle_stage: Lifecycle = "active"
    created_time: datetime
    last_activity_time: datetime | None = None
    run_count: int = 0
    tags: dict[str, str] = Field(default_factory=dict)


class ExperimentKeys(_Model):
    """The param, metric and tag keys used by an experiment's runs (what a runs table can show)."""

    params: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)


class ExperimentPage(_Model):
    """One page of experiments."""

    experiments: list[ExperimentInfo]
    next_page_token: str | None = None


class RunError(_Model):
    """Why a run failed."""

    message: str = Field(max_length=MAX_DESCRIPTION)
    traceback: str | None = Field(default=None, max_length=200_000)
    exit_code: int | None = None


class RunCreate(_Model):
    """Request body to create a run in an experiment."""

    experiment_id: str
    display_name: str | None = Field(default=None, max_length=250)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    parent_run_id: str | None = None
    status: RunStatus = RunStatus.RUNNING
    run_type: str = Field(default="interactive", pattern=r"^[a-z][a-z0-9_]{0,39}$")
    user: str | None = Field(default=None, max_length=250)
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        return check_mapping(v, "tag", MAX_TAG_VALUE)

    @field_validator("status")
    @classmethod
    def _status(cls, v: RunStatus) -> RunStatus:
        if v in TERMINAL_STATUSES:
            raise ValueError("a run cannot be created in a terminal status")
        return v


class RunUpdate(_Model):
    """Request body to change a run's status, name or description; fields left out stay."""

    status: RunStatus | None = None
    display_name: str | None = Field(default=None, max_length=250)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    error: RunError | None = None


class RunInfo(_Model):
    """A run's attributes: identity, status, times, lineage."""

    id: str
    experiment_id: str
    experiment_name: str | None = None
    parent_run_id: str | None = None
    display_name: str | None = None
    description: str | None = None
    status: RunStatus
    lifecycle_stage: Lifecycle = "active"
    run_type: str = "interactive"
    user: str | None = None
    created_time: datetime
    start_time: datetime | None = None
    end_time: datetime | None = None
    error: RunError | None = None

    @property
    def duration(self) -> float | None:
        """Seconds between start and end, or None while either is missing."""
        if self.start_time is None or self.end_time is None:
            return None
        return (self.end_time - self.start_time).total_seconds()


class RunDetails(_Model):
    """A run with its params, tags, properties and the latest value of each metric."""

    info: RunInfo
    params: dict[str, str] = Field(default_factory=dict)
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    metrics: dict[str, float] = Field(default_factory=dict)  # latest value per series


class RunSearch(_Model):
    """Request body of a run search; see the filter grammar in ember.store.search."""

    experiment_ids: list[str] | None = None
    filter: str | None = Field(default=None, max_length=10_000)
    order_by: list[str] = Field(default_factory=list, max_length=10)
    max_results: int = Field(default=100, ge=1, le=MAX_RESULTS_CAP)
    page_token: str | None = Field(default=None, max_length=1000)
    lifecycle: LifecycleFilter = "active"
    parent_run_id: str | None = None
    count: bool = False  # also count every matching run (up to RUN_COUNT_CAP); costs one more query


RUN_COUNT_CAP = 10_000


class RunPage(_Model):
    """One page of runs and the token for the next one (None on the last page).

    ``total_count`` (asked for with ``count``) is the number of runs matching the whole search, or
    ``RUN_COUNT_CAP`` with ``total_count_capped`` when there are at least that many.
    """

    runs: list[RunDetails]
    next_page_token: str | None = None
    total_count: int | None = None
    total_count_capped: bool = False


class MetricSeries(_Model):
    """Points of one metric, columnar; NaN and +-inf are kept (JSON carries them as strings)."""

    key: str
    values: list[float]
    # None (for the series or one point): the step after the previous point of this key.
    steps: list[int | None] | None = None
    timestamps: list[float] | None = None  # None: now

    @field_validator("key")
    @classmethod
    def _key(cls, v: str) -> str:
        return check_key(v, "metric name")

    @model_validator(mode="after")
    def _lengths(self) -> MetricSeries:
        check_series(self)
        return self


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def check_step(key: str, step: int) -> None:
    """Refuse a step that is not a 64-bit integer; raises ``ValueError``."""
    if isinstance(step, bool) or not isinstance(step, int):
        raise ValueError(f"metric {key!r}: steps must be integers")
    if not INT64_MIN <= step <= INT64_MAX:
        raise ValueError(f"metric {key!r}: step {step} is outside the 64-bit integer range")


def check_series(series: MetricSeries) -> None:
    """Every rule of a metric series; also for series built without validation. Raises ``ValueError``."""
    check_key(series.key, "metric name")
    n = len(series.values)
    if n == 0:
        raise ValueError(f"metric {series.key!r} has no values")
    if n > MAX_POINTS_PER_REQUEST:
        raise ValueError(f"metric {series.key!r} has {n} points; send at most {MAX_POINTS_PER_REQUEST}")
    for name in ("steps", "timestamps"):
        col = getattr(series, name)
        if col is not None and len(col) != n:
            raise ValueError(f"metric {series.key!r}: {name} has {len(col)} entries for {n} values")
    if series.steps is not None:
        given = [s for s in series.steps if s is not None]
        if given:
            check_step(series.key, min(given))
            check_step(series.key, max(given))
    if series.timestamps is not None and not all(math.isfinite(t) for t in series.timestamps):
        raise ValueError(f"metric {series.key!r}: timestamps must be finite")


class MetricHistory(_Model):
    """All points of one metric series, in logging order (or decimated when asked)."""

    key: str
    values: list[float]
    steps: list[int]
    timestamps: list[float]
    total_points: int  # before any decimation


class TableRows(_Model):
    """Rows appended to a table metric (log_row / log_table)."""

    rows: list[dict[str, Any]] = Field(max_length=MAX_TABLE_ROWS_PER_REQUEST)

    @field_validator("rows")
    @classmethod
    def _rows(cls, v: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for row in v:
            for k, cell in row.items():
                check_key(k, "column name")
                if cell is not None and not isinstance(cell, str | int | float | bool):
                    raise ValueError(f"column {k!r}: cells must be strings, numbers, booleans or null")
                if isinstance(cell, float) and not math.isfinite(cell):
                    # JSON has no NaN: a table cell could not round-trip through the server faithfully.
                    raise ValueError(f"column {k!r}: table cells must be finite; log NaN/inf as a metric")
        return v


class RunMetrics(_Model):
    """Every metric of a run: scalar/list series and tables (columns of values)."""

    series: dict[str, MetricHistory] = Field(default_factory=dict)
    tables: dict[str, dict[str, list[Any]]] = Field(default_factory=dict)


class ArtifactInfo(_Model):
    """A file stored with a run."""

    path: str
    size: int
    digest: str
    created_time: datetime


class PurgeReport(_Model):
    """What a permanent delete removed."""

    experiments: int = 0
    runs: int = 0
    blobs: int = 0
    bytes_freed: int = 0
