"""Turning pydantic validation failures into Ember's ``InvalidInput`` with a readable message."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from ember.errors import InvalidInput

__all__ = ["build", "describe_validation_error"]

M = TypeVar("M", bound=BaseModel)


def describe_validation_error(exc: ValidationError) -> str:
    """One line per problem: ``field: message``."""
    parts = []
    for err in exc.errors()[:10]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "value"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    more = exc.error_count() - len(parts)
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def build(model: type[M], **data: Any) -> M:
    """Construct an entity, raising ``InvalidInput`` instead of pydantic's ``ValidationError``."""
    try:
        return model(**data)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None
