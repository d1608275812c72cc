"""Request bodies of the REST API that are not entities themselves: thin wrappers with the entities' rules."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ember.entities import MetricSeries
from ember.entities.tracking import MAX_PARAM_VALUE, MAX_TAG_VALUE, check_mapping

__all__ = [
    "ERROR_RESPONSES",
    "ErrorBody",
    "MetricBatch",
    "ParamsBody",
    "PropertiesBody",
    "PurgeRequest",
    "TagsBody",
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="strings")


class ParamsBody(_Body):
    """Params to record on a run (write-once)."""

    params: dict[str, str]

    @field_validator("params")
    @classmethod
    def _params(cls, v: dict[str, str]) -> dict[str, str]:
        return check_mapping(v, "param", MAX_PARAM_VALUE)


class TagsBody(_Body):
    """Tags to set on a run (overwriting those keys)."""

    tags: dict[str, str]

    @field_validator("tags")
    @classmethod
    def _tags(cls, v: dict[str, str]) -> dict[str, str]:
        return check_mapping(v, "tag", MAX_TAG_VALUE)


class PropertiesBody(_Body):
    """Properties to record on a run (write-once)."""

    properties: dict[str, str]

    @field_validator("properties")
    @classmethod
    def _properties(cls, v: dict[str, str]) -> dict[str, str]:
        return check_mapping(v, "property", MAX_TAG_VALUE)


class MetricBatch(_Body):
    """Points of one or more metric series, logged in one transaction."""

    series: list[MetricSeries]


class PurgeRequest(_Body):
    """What to purge permanently: objects deleted at least this many seconds ago."""

    older_than_seconds: float = 0.0


class ErrorDetail(_Body):
    """What went wrong: a stable code (``not_found``, ``conflict``, ...) and a message for people."""

    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)


class ErrorBody(_Body):
    """The body of every error answer."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorBody, "description": "Invalid input (a malformed id, body, name or path)"},
    403: {"model": ErrorBody, "description": "Refused: not allowed, or a cross-site request"},
    404: {"model": ErrorBody, "description": "No such object"},
    409: {"model": ErrorBody, "description": "The object's state forbids the change"},
    413: {"model": ErrorBody, "description": "The body is larger than the server's limit"},
}
