"""Entities of submitted runs: run configurations, compute targets, logs, snapshots."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ember.entities.data import RunDatasetInput, RunDatasetOutput
from ember.entities.tracking import MAX_DESCRIPTION, MAX_TAG_VALUE, NAME_PATTERN, RunStatus, check_mapping

__all__ = [
    "ComputeTargetInfo",
    "ComputeTargetUpdate",
    "EnvironmentRef",
    "LogChunk",
    "RunConfiguration",
    "RunConfigurationInfo",
    "RunSnapshot",
    "RunSubmit",
    "SnapshotFileInfo",
]

Name = Annotated[str, Field(pattern=NAME_PATTERN)]
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
MAX_ARGUMENTS = 1000
MAX_LOG_APPEND = 4 * 1024 * 1024
LogName = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}\.txt$")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")


class EnvironmentRef(_Model):
    """A registered environment by name, and version (None: the latest)."""

    name: Name
    version: int | None = Field(default=None, ge=1)


class RunConfiguration(_Model):
    """What to run, with which environment, on which compute: the persisted part of a submission."""

    script: str = Field(min_length=1, max_length=1024)
    arguments: list[str] = Field(default_factory=list, max_length=MAX_ARGUMENTS)
    environment: EnvironmentRef | None = None  # None: the interpreter that launches the runner
    compute_target: Name = "local"
    max_run_duration_seconds: int | None = Field(default=None, ge=1, le=366 * 24 * 3600)
    env_vars: dict[str, str] = Field(default_factory=dict)
    inputs: list[RunDatasetInput] = Field(default_factory=list, max_length=100)
    outputs: list[RunDatasetOutput] = Field(default_factory=list, max_length=100)

    @field_validator("inputs", "outputs")
    @classmethod
    def _unique_names(cls, v: list[Any]) -> list[Any]:
        names = [item.name for item in v]
        if len(names) != len(set(names)):
            raise ValueError("input and output names must be unique within a run")
        return v

    @field_validator("arguments")
    @classmethod
    def _arguments(cls, v: list[str]) -> list[str]:
        for arg in v:
            if "\x00" in arg or len(arg) > 100_000:
                raise ValueError("arguments must be text without NUL, at most 100,000 characters each")
        return v

    @field_validator("env_vars")
    @classmethod
    def _env_vars(cls, v: dict[str, str]) -> dict[str, str]:
        import re

        for key, value in v.items():
            if not re.match(ENV_VAR_PATTERN, key) or key.startswith("EMBER_"):
                raise ValueError(f"environment variable name {key[:100]!r} is invalid or reserved")
            if "\x00" in value or len(value) > MAX_TAG_VALUE:
                raise ValueError(f"environment variable {key!r} has an invalid value")
        return v


class RunSubmit(_Model):
    """Request body to submit a run: it is created Queued and handed to its compute target."""

    experiment_id: str
    config: RunConfiguration
    snapshot_digest: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    git: dict[str, str | bool] | None = None
    display_name: str | None = Field(default=None, max_length=250)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    tags: dict[str, str] = Field(default_factory=dict)
    user: str | None = Field(default=None, max_length=250)
    python_executable: str | None = Field(
        default=None, max_length=4096
    )  # the submitter's, for current-env runs

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        return check_mapping(v, "tag", MAX_TAG_VALUE)


class RunConfigurationInfo(_Model):
    """A submitted run's configuration as stored."""

    run_id: str
    config: RunConfiguration
    snapshot_digest: str | None = None
    git: dict[str, Any] | None = None
    python_executable: str | None = None


class SnapshotFileInfo(_Model):
    """One file of a run's snapshot: its path in the source directory, size, content digest and mode."""

    path: str
    size: int
    digest: str
    executable: bool = False

    @property
    def mode(self) -> int:
        """The permission bits the file is restored with."""
        return 0o755 if self.executable else 0o644


class RunSnapshot(_Model):
    """The source files a submitted run was started from, sorted by path."""

    run_id: str
    snapshot_digest: str
    file_count: int
    total_size: int
    files: list[SnapshotFileInfo]


class ComputeTargetInfo(_Model):
    """A place where runs execute, with its capacity and current load."""

    name: str
    kind: Literal["local"] = "local"
    max_concurrent_runs: int
    active_runs: int = 0
    queued_runs: int = 0
    created_time: datetime


class ComputeTargetUpdate(_Model):
    """Request body to change a compute target."""

    max_concurrent_runs: int = Field(ge=1, le=10_000)


class LogChunk(_Model):
    """Part of a run's log from ``offset`` (characters); ``complete`` once the run ended and all is read."""

    name: LogName
    offset: int
    data: str
    next_offset: int
    complete: bool
    status: RunStatus
