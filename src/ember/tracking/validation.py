"""Moved to ``ember.entities.validation``; this name stays for code written against it."""

from ember.entities.validation import build, describe_validation_error

__all__ = ["build", "describe_validation_error"]
