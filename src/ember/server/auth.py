"""Who is calling, and may they do this: the one authorization dependency every API route goes through.

Today the server is single-user: every request is the local identity ``"local"`` with role ``Owner``.
Multi-user authentication fills in the hook (``set_authenticator``) without touching any route: the API
router declares ``authorize`` as a router-level dependency, so no route can forget it.

Endpoint keys and tokens (``emk_``/``emt_``) open scoring URLs only: ``current_identity`` refuses them
before any authenticator runs, so neither a route nor an installed authenticator can accept one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from ember.errors import Forbidden, Unauthorized
from ember.serving.keys import is_scoring_credential

__all__ = [
    "LOCAL_IDENTITY",
    "ROLE_ACTIONS",
    "CurrentIdentity",
    "Identity",
    "allows",
    "authorize",
    "current_identity",
    "require",
    "set_authenticator",
]

# What each role may do. "read" covers every GET; "write" every other API call; "admin" the
# workspace-wide operations (garbage collection). "*" allows everything.
ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "Owner": frozenset({"*"}),
    "Contributor": frozenset({"read", "write"}),
    "Reader": frozenset({"read"}),
}

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Identity:
    """The caller of a request: a user or service name and the roles it holds in the workspace."""

    name: str
    roles: frozenset[str]


LOCAL_IDENTITY = Identity(name="local", roles=frozenset({"Owner"}))

Authenticator = Callable[[Request], Identity]


def _local(request: Request) -> Identity:
    return LOCAL_IDENTITY


_authenticator: Authenticator = _local


def set_authenticator(authenticator: Authenticator | None) -> None:
    """Install how requests are authenticated (None restores the single-user local identity).

    Args:
        authenticator: Returns the caller's identity or raises ``ember.errors.Unauthorized``.
    """
    global _authenticator
    _authenticator = authenticator or _local


def _refuse_scoring_credential(request: Request) -> None:
    scheme, _, value = request.headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() == "bearer" and is_scoring_credential(value.strip()):
        raise Unauthorized(
            "endpoint keys and tokens are only for scoring URLs (the endpoint's scoring_uri), not for the "
            "workspace API: authenticate as a workspace user instead"
        )


def current_identity(request: Request) -> Identity:
    """The identity of the caller (a FastAPI dependency; computed once per request).

    Raises:
        Unauthorized: The request carries an endpoint key or token (scoring credentials).
    """
    _refuse_scoring_credential(request)
    return _authenticator(request)


CurrentIdentity = Annotated[Identity, Depends(current_identity)]


def allows(identity: Identity, action: str) -> bool:
    """Tell whether any of the identity's roles allows ``action``."""
    for role in identity.roles:
        granted = ROLE_ACTIONS.get(role, frozenset())
        if "*" in granted or action in granted:
            return True
    return False


def _check(identity: Identity, action: str) -> Identity:
    if not allows(identity, action):
        roles = ", ".join(sorted(identity.roles)) or "none"
        raise Forbidden(
            f"{identity.name!r} may not {action} in this workspace (roles: {roles}); "
            "ask a workspace Owner for a role that allows it"
        )
    return identity


def require(action: str) -> Callable[[Identity], Identity]:
    """A dependency that refuses the request unless the caller may do ``action``.

    Example: ``@router.post("/gc", dependencies=[Depends(require("admin"))])``.
    """

    def dependency(identity: CurrentIdentity) -> Identity:
        return _check(identity, action)

    return dependency


def authorize(request: Request, identity: CurrentIdentity) -> Identity:
    """The router-level check: reading needs ``read``, any other method ``write``."""
    return _check(identity, "read" if request.method in _SAFE_METHODS else "write")
