"""Typed errors raised by every layer; each maps to exactly one HTTP status (see ``HTTP_STATUS``)."""

from __future__ import annotations

__all__ = [
    "Conflict",
    "EmberError",
    "Forbidden",
    "InvalidInput",
    "NotFound",
    "PayloadTooLarge",
    "SchemaTooNew",
    "Unauthorized",
    "Unavailable",
    "error_from_payload",
]


class EmberError(Exception):
    """Base class of every error Ember raises on purpose; the message tells the user what to do."""

    code = "internal_error"
    http_status = 500

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def to_payload(self) -> dict[str, object]:
        """The JSON body the server sends for this error."""
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class InvalidInput(EmberError):
    """The request is malformed: a bad name, value, path or filter."""

    code = "invalid_input"
    http_status = 400


class Unauthorized(EmberError):
    """No valid identity came with the request."""

    code = "unauthorized"
    http_status = 401


class Forbidden(EmberError):
    """The identity may not do this, or the request was refused for safety (host, origin)."""

    code = "forbidden"
    http_status = 403


class NotFound(EmberError):
    """The named object does not exist in this workspace."""

    code = "not_found"
    http_status = 404


class Conflict(EmberError):
    """The object's state forbids the change (a terminal run, a duplicate name, a write-once value)."""

    code = "conflict"
    http_status = 409


class PayloadTooLarge(EmberError):
    """The request body or a value in it is above the server's limit."""

    code = "payload_too_large"
    http_status = 413


class Unavailable(EmberError):
    """A service the call needs is not running yet (the serving host of endpoints, for one); try again."""

    code = "unavailable"
    http_status = 503


class SchemaTooNew(EmberError):
    """The workspace was written by a newer Ember; upgrading this installation is the fix."""

    code = "schema_too_new"
    http_status = 409


def _by_code() -> dict[str, type[EmberError]]:
    """Every error class by its code, subclasses defined in feature packages included."""
    found: dict[str, type[EmberError]] = {}
    pending: list[type[EmberError]] = [EmberError]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.code, cls)
        pending.extend(cls.__subclasses__())
    return found


def error_from_payload(status: int, payload: object) -> EmberError:
    """Rebuild the typed error a server sent, so remote callers see the same exceptions as local ones."""
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        err = payload["error"]
        cls = _by_code().get(str(err.get("code")), EmberError)
        details = err.get("details")
        return cls(str(err.get("message", "")), details=details if isinstance(details, dict) else None)
    for cls in (InvalidInput, Unauthorized, Forbidden, NotFound, Conflict, PayloadTooLarge):
        if cls.http_status == status:
            return cls(f"server answered {status}: {payload!r}"[:500])
    return EmberError(f"server answered {status}: {payload!r}"[:500])
