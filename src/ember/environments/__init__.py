"""Environments: versioned specs of a Python version, pip requirements and environment variables.

``spec`` validates and hashes them, ``materialize`` builds a cached virtualenv per spec with uv,
``dockerfile`` renders one as a Dockerfile.
"""

from __future__ import annotations

from ember.environments.dockerfile import dockerfile
from ember.environments.materialize import READY_MARKER, EnvironmentBuildError, EnvironmentCache
from ember.environments.spec import (
    EnvironmentSpec,
    parse_environment_yaml,
    parse_requirements_file,
    pin_python,
    spec_hash,
    validate_requirement,
)

__all__ = [
    "READY_MARKER",
    "EnvironmentBuildError",
    "EnvironmentCache",
    "EnvironmentSpec",
    "dockerfile",
    "parse_environment_yaml",
    "parse_requirements_file",
    "pin_python",
    "spec_hash",
    "validate_requirement",
]
