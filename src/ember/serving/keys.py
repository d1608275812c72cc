"""Endpoint keys and short-lived tokens: made here, stored hashed, checked by the serving host's router.

A key is ``emk_`` + 43 URL-safe characters (256 random bits), so a plain SHA-256 is a sound way to store
it (nothing to brute-force). A token is ``emt_<payload>.<signature>``: the payload names the endpoint and
the expiry, the signature is an HMAC-SHA256 with the endpoint's token secret. The prefixes let the
control-plane API recognise (and refuse) a scoring credential sent to it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time

__all__ = [
    "KEY_PREFIX",
    "TOKEN_PREFIX",
    "TOKEN_TTL_SECONDS",
    "hash_key",
    "is_scoring_credential",
    "make_token",
    "new_key",
    "new_token_secret",
    "verify_token",
]

KEY_PREFIX = "emk_"
TOKEN_PREFIX = "emt_"
TOKEN_TTL_SECONDS = 3600.0


def new_key() -> str:
    """A new random endpoint key."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


def new_token_secret() -> str:
    """A new random secret (hex) that signs an endpoint's tokens."""
    return secrets.token_hex(32)


def hash_key(key: str) -> str:
    """The stored form of a key: its SHA-256, hex."""
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def make_token(secret_hex: str, endpoint_id: str, *, ttl: float = TOKEN_TTL_SECONDS) -> tuple[str, float]:
    """A token for one endpoint and its expiry time (seconds since the epoch)."""
    expiry = time.time() + ttl
    payload = _b64(json.dumps({"e": endpoint_id, "x": round(expiry, 3)}, separators=(",", ":")).encode())
    signature = hmac.new(bytes.fromhex(secret_hex), payload.encode("ascii"), hashlib.sha256).digest()
    return f"{TOKEN_PREFIX}{payload}.{_b64(signature)}", expiry


def verify_token(secret_hex: str, endpoint_id: str, token: str, *, now: float | None = None) -> bool:
    """Whether ``token`` was signed for this endpoint with this secret and has not expired."""
    if not token.startswith(TOKEN_PREFIX) or "." not in token or not secret_hex:
        return False
    payload, _, signature = token[len(TOKEN_PREFIX) :].partition(".")
    try:
        expected = hmac.new(bytes.fromhex(secret_hex), payload.encode("ascii"), hashlib.sha256).digest()
        if not hmac.compare_digest(_b64(expected), signature):
            return False
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    except (ValueError, UnicodeError):
        return False
    if not isinstance(claims, dict) or claims.get("e") != endpoint_id:
        return False
    expiry = claims.get("x")
    return isinstance(expiry, int | float) and (now if now is not None else time.time()) < expiry


def is_scoring_credential(value: str) -> bool:
    """Whether a bearer value is an endpoint key or token (which the control-plane API refuses)."""
    return value.startswith((KEY_PREFIX, TOKEN_PREFIX))
