"""Moved to ``ember.entities.environment_spec``; this name stays for code written against it."""

from ember.entities.environment_spec import (
    EnvironmentSpec,
    parse_environment_yaml,
    parse_requirements_file,
    pin_python,
    spec_hash,
    validate_requirement,
)

__all__ = [
    "EnvironmentSpec",
    "parse_environment_yaml",
    "parse_requirements_file",
    "pin_python",
    "spec_hash",
    "validate_requirement",
]
