"""The wire models of registered environments: what a client sends to register one, what it gets back."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pydantic
from pydantic import Field

from ember.entities.environment_spec import EnvironmentSpec
from ember.entities.tracking import MAX_DESCRIPTION, NAME_PATTERN
from ember.errors import InvalidInput

__all__ = ["EnvironmentInfo", "EnvironmentRegister", "check_environment_name"]

_NAME_HELP = (
    "use 1-255 letters, digits, '_', '-' or '.', starting with a letter or digit (for example 'sklearn-cpu')"
)
_NAME_RE = re.compile(NAME_PATTERN)


def check_environment_name(name: object) -> str:
    """Return ``name`` when it is a valid environment name.

    Args:
        name: The name to check.

    Returns:
        The name, unchanged.

    Raises:
        InvalidInput: It is not a string or does not match the naming rule.
    """
    if not isinstance(name, str):
        raise InvalidInput(f"an environment name must be a string, not {type(name).__name__}")
    if _NAME_RE.fullmatch(name) is None:
        raise InvalidInput(f"environment name {name[:100]!r} is invalid: {_NAME_HELP}")
    return name


def _describe(exc: pydantic.ValidationError) -> str:
    problems = []
    for err in exc.errors()[:10]:
        where = ".".join(str(p) for p in err["loc"]) or "environment"
        problems.append(f"{where}: {err['msg']}")
    return "invalid environment registration: " + "; ".join(problems)


class EnvironmentRegister(pydantic.BaseModel, extra="forbid", frozen=True):
    """Request body to register an environment version.

    Attributes:
        name: The environment's name; versions are numbered per name from 1.
        spec: What the version holds. ``python=None`` is pinned to the registering interpreter's
            major.minor, so the stored spec always names a concrete Python.
        description: Free text for people; kept from the first registration of a given spec.
    """

    name: str
    spec: EnvironmentSpec
    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)

    @pydantic.model_validator(mode="wrap")
    @classmethod
    def _as_invalid_input(cls, data: Any, handler: pydantic.ValidatorFunctionWrapHandler) -> Any:
        # One error type for every caller, like EnvironmentSpec itself.
        try:
            return handler(data)
        except pydantic.ValidationError as exc:
            raise InvalidInput(_describe(exc)) from None

    @pydantic.field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_environment_name(value)


class EnvironmentInfo(pydantic.BaseModel, extra="forbid", frozen=True):
    """One registered version of an environment.

    Attributes:
        name: The environment's name.
        version: Its version number, from 1, one more per new spec registered under the name.
        spec: The stored spec (``python`` always pinned).
        spec_hash: ``spec_hash(spec)``: equal specs have equal hashes.
        description: Free text given at registration.
        created_time: When this version was registered (UTC).
    """

    name: str
    version: int
    spec: EnvironmentSpec
    spec_hash: str
    description: str | None = None
    created_time: datetime
