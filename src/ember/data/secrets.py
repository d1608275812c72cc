"""Datastore credentials encrypted at rest with the workspace key (Fernet: AES-128-CBC + HMAC-SHA256).

The key never sits in the metadata database: a copy of ``ember.db`` (or a PostgreSQL dump) holds only
ciphertext. It comes from ``$EMBER_SECRET_KEY`` (a Fernet key), ``$EMBER_SECRET_KEY_FILE``, or, for a
folder workspace, ``secret.key`` in the folder, made (mode 0600) the first time a credential is stored.
A database-backed workspace has no folder: its server needs one of the two settings to store credentials.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path

from ember.errors import Conflict, InvalidInput

__all__ = ["KEY_FILE", "SecretBox"]

logger = logging.getLogger(__name__)

KEY_FILE = "secret.key"
_KEY_HELP = (
    'generate one with `python -c "from cryptography.fernet import Fernet; '
    'print(Fernet.generate_key().decode())"`'
)


class SecretBox:
    """Encrypts and decrypts credential documents with the workspace key, found on first use."""

    def __init__(self, *, folder: Path | None) -> None:
        self._folder = folder
        self._key: bytes | None = None

    def _load(self, *, create: bool) -> bytes | None:
        if self._key is not None:
            return self._key
        env = os.environ.get("EMBER_SECRET_KEY")
        if env:
            self._key = env.strip().encode()
        elif os.environ.get("EMBER_SECRET_KEY_FILE"):
            path = Path(os.environ["EMBER_SECRET_KEY_FILE"])
            try:
                self._key = path.read_bytes().strip()
            except OSError as exc:
                raise InvalidInput(
                    f"cannot read the workspace key from $EMBER_SECRET_KEY_FILE: {exc}"
                ) from exc
        elif self._folder is not None:
            self._key = self._folder_key(create=create)
        return self._key

    def _folder_key(self, *, create: bool) -> bytes | None:
        assert self._folder is not None
        path = self._folder / KEY_FILE
        if path.is_file():
            return path.read_bytes().strip()
        if not create:
            return None
        from cryptography.fernet import Fernet

        key = Fernet.generate_key()
        # Written whole under a private name, then linked into place: link() fails if the key exists, so
        # two threads or processes making it at once agree on the one that won, and no reader ever sees
        # a half-written file.
        tmp = path.with_name(f".{KEY_FILE}.{os.getpid()}.{threading.get_ident()}")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(key + b"\n")
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return path.read_bytes().strip()
        finally:
            tmp.unlink(missing_ok=True)
        logger.info("created the workspace key %s", path)
        return key

    def _fernet(self, *, create: bool) -> object:
        from cryptography.fernet import Fernet

        key = self._load(create=create)
        if key is None:
            raise InvalidInput(
                "this workspace has no key to encrypt credentials with: set $EMBER_SECRET_KEY (or "
                f"$EMBER_SECRET_KEY_FILE) where the workspace is served; {_KEY_HELP}"
            )
        try:
            return Fernet(key)
        except ValueError as exc:
            raise InvalidInput(f"the workspace key is not a valid Fernet key; {_KEY_HELP}") from exc

    def encrypt(self, credentials: dict[str, str]) -> str:
        """The credentials as one encrypted token (text)."""
        from cryptography.fernet import Fernet

        fernet = self._fernet(create=True)
        assert isinstance(fernet, Fernet)
        return fernet.encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()

    def decrypt(self, token: str, *, what: str) -> dict[str, str]:
        """The credentials in ``token``; ``what`` names their owner in an error."""
        from cryptography.fernet import Fernet, InvalidToken

        fernet = self._fernet(create=False)
        assert isinstance(fernet, Fernet)
        try:
            data = json.loads(fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise Conflict(
                f"the workspace key does not decrypt the credentials of {what}: is this the key they were "
                "stored with? Register the datastore again with overwrite=True to store them anew"
            ) from exc
        return {str(k): str(v) for k, v in data.items()}
