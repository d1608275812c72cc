"""Entities of the model registry: versioned models made of content-addressed files, with lineage."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ember.entities.tracking import MAX_DESCRIPTION, MAX_TAG_VALUE, NAME_PATTERN, check_mapping

__all__ = [
    "ALIAS_PATTERN",
    "ModelDatasetRef",
    "ModelFile",
    "ModelInfo",
    "ModelRegister",
    "ModelSearch",
    "ModelUpdate",
]

ALIAS_PATTERN = r"^[A-Za-z][A-Za-z0-9_\-]{0,62}$"
_DIGEST = r"^[0-9a-f]{64}$"
MAX_MODEL_FILES = 10_000
_SEGMENT = re.compile(r"^[^\x00/\\]{1,255}$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings", protected_namespaces=())


def check_model_path(path: str) -> str:
    """A relative '/'-separated file path inside a model; raises ``ValueError``."""
    parts = path.split("/") if isinstance(path, str) else []
    if not parts or len(path) > 1024 or any(p in ("", ".", "..") or not _SEGMENT.match(p) for p in parts):
        raise ValueError(
            f"a model file path is relative, '/'-separated, without '..' or empty parts: {path!r}"
        )
    return path


class ModelFile(_Model):
    """One file of a model version: its path in the model, size, content digest and mode."""

    path: str
    size: int = Field(ge=0)
    digest: str = Field(pattern=_DIGEST)
    executable: bool = False

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        return check_model_path(v)

    @property
    def mode(self) -> int:
        """The permission bits the file is written with."""
        return 0o755 if self.executable else 0o644


class ModelDatasetRef(_Model):
    """A dataset version a model was trained or evaluated on, under a role ("training", "validation", ...)."""

    role: str = Field(pattern=NAME_PATTERN)
    dataset_id: str = Field(min_length=1, max_length=64)
    dataset_name: str | None = None  # filled in answers
    dataset_version: int | None = None


class ModelRegister(_Model):
    """Request body to register a model version.

    The files are either uploaded blobs (``files``, uploaded first through the blob API) or a run's
    stored outputs (``run_id`` + ``run_path``: a file or a folder of the run's artifacts, no bytes move).
    """

    name: str = Field(pattern=NAME_PATTERN)
    files: list[ModelFile] = Field(default_factory=list, max_length=MAX_MODEL_FILES)
    run_id: str | None = Field(default=None, max_length=64)
    run_path: str | None = Field(default=None, max_length=1024)
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    framework: str | None = Field(default=None, max_length=100)
    framework_version: str | None = Field(default=None, max_length=100)
    datasets: list[ModelDatasetRef] = Field(default_factory=list, max_length=100)

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        return check_mapping(v, "tag", MAX_TAG_VALUE)

    @field_validator("properties")
    @classmethod
    def _properties(cls, v: dict[str, str]) -> dict[str, str]:
        return check_mapping(v, "property", MAX_TAG_VALUE)

    @model_validator(mode="after")
    def _source(self) -> ModelRegister:
        if self.run_path is not None:
            if self.run_id is None:
                raise ValueError("run_path names files of a run: give run_id too")
            if self.files:
                raise ValueError("give either files (uploaded) or run_path (a run's outputs), not both")
        elif not self.files:
            raise ValueError(
                "a model needs files: upload them, or name a run's outputs with run_id and run_path"
            )
        paths = [f.path for f in self.files]
        if len(paths) != len(set(paths)):
            raise ValueError("a model's file paths must be unique")
        return self


class ModelUpdate(_Model):
    """Request body to change a model version's description, tags (added / removed) or properties (added)."""

    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    add_tags: dict[str, str] = Field(default_factory=dict)
    remove_tags: list[str] = Field(default_factory=list, max_length=1000)
    add_properties: dict[str, str] = Field(default_factory=dict)

    @field_validator("add_tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        return check_mapping(v, "tag", MAX_TAG_VALUE)

    @field_validator("add_properties")
    @classmethod
    def _properties(cls, v: dict[str, str]) -> dict[str, str]:
        return check_mapping(v, "property", MAX_TAG_VALUE)


class ModelSearch(_Model):
    """What ``list_models`` looks for: every condition must hold."""

    name: str | None = Field(default=None, pattern=NAME_PATTERN)
    tags: list[tuple[str, str | None]] = Field(default_factory=list, max_length=50)  # (key, value or any)
    properties: list[tuple[str, str | None]] = Field(default_factory=list, max_length=50)
    latest: bool = False  # only the latest version of each name
    run_id: str | None = Field(default=None, max_length=64)
    dataset_id: str | None = Field(default=None, max_length=64)


class ModelInfo(_Model):
    """A registered model version, with its files' totals and lineage."""

    id: str
    name: str
    version: int
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
    aliases: list[str] = Field(default_factory=list)
    framework: str | None = None
    framework_version: str | None = None
    file_count: int
    total_size: int
    run_id: str | None = None
    experiment_id: str | None = None
    datasets: list[ModelDatasetRef] = Field(default_factory=list)
    format: Literal["files", "mlflow"] = "files"
    flavors: dict[str, Any] = Field(default_factory=dict)  # an MLflow model's flavors, as its MLmodel says
    signature: dict[str, Any] | None = None  # an MLflow model's input/output schema
    created_time: datetime
