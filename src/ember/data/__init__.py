"""Datastores and datasets: where data lives, what a dataset is, and reading it into tables."""

from __future__ import annotations

__all__: list[str] = []
