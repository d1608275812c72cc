"""Environments: versioned specs of a Python version, pip requirements and environment variables.

``spec`` validates and hashes them, ``materialize`` builds a cached virtualenv per spec with uv,
``dockerfile`` renders one as a Dockerfile. ``entities`` and ``contract`` are the registry's wire
models and its part of the Backend contract (``local`` and ``remote`` implement it; only
``ember.wiring`` constructs them), and ``sdk`` holds the ``Environment`` SDK object.
"""

from __future__ import annotations

from ember.contracts.environments import EnvironmentsBackend
from ember.entities.environment_spec import (
    EnvironmentSpec,
    parse_environment_yaml,
    parse_requirements_file,
    pin_python,
    spec_hash,
    validate_requirement,
)
from ember.entities.environments import EnvironmentInfo, EnvironmentRegister
from ember.environments.dockerfile import dockerfile
from ember.environments.materialize import READY_MARKER, EnvironmentBuildError, EnvironmentCache
from ember.environments.sdk import Environment

__all__ = [
    "READY_MARKER",
    "Environment",
    "EnvironmentBuildError",
    "EnvironmentCache",
    "EnvironmentInfo",
    "EnvironmentRegister",
    "EnvironmentSpec",
    "EnvironmentsBackend",
    "dockerfile",
    "parse_environment_yaml",
    "parse_requirements_file",
    "pin_python",
    "spec_hash",
    "validate_requirement",
]
