"""Moved to ``ember.contracts.tracking``; this name stays for code written against it."""

from ember.contracts.tracking import TrackingBackend

__all__ = ["TrackingBackend"]
