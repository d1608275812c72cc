"""Serving: scoring replicas around a user's entry script or an MLflow model (endpoints build on them)."""

__all__: list[str] = []
