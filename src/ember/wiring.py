"""Turn a workspace location (folder, database URI or server URL) into a Backend.

This is the only module that constructs concrete backends; SDK, CLI and server receive a ``Backend``.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ember.backend import Backend
from ember.errors import Conflict, InvalidInput, NotFound

if TYPE_CHECKING:
    from ember.data.policy import EndpointPolicy

__all__ = ["LocalBackend", "RemoteBackend", "create_workspace", "open_backend"]

DB_FILE = "ember.db"
ARTIFACTS_DIR = "artifacts"


class LocalBackend(Backend):
    """The rules, in process, on a metadata database and an artifact root."""

    kind = "local"

    def __init__(
        self,
        *,
        metadata_uri: str,
        artifact_uri: str | None,
        folder: Path | None = None,
        datastore_policy: EndpointPolicy | None = None,
    ) -> None:
        from ember.artifacts import BlobStore
        from ember.compute.launcher import LocalProcessLauncher
        from ember.data.local import LocalData
        from ember.environments.local import LocalEnvironments
        from ember.jobs.local import LocalJobs
        from ember.registry.local import LocalRegistry
        from ember.serving.local import LocalEndpoints
        from ember.store.database import Database
        from ember.tracking.local import LocalTracking

        self.database = Database(metadata_uri)
        self.folder = folder
        try:
            stored = _read_workspace_row(self.database)
            if stored is None:
                raise NotFound(
                    f"no Ember workspace at {_redact(metadata_uri)}: create one with "
                    "ember.Workspace.create(...) or `ember workspace create`"
                )
        except BaseException:
            self.database.dispose()  # no backend comes of it: its connections must not outlive the call
            raise
        root = artifact_uri or stored.get("artifact_uri") or (str(folder / ARTIFACTS_DIR) if folder else None)
        if root is None:
            self.database.dispose()
            raise InvalidInput("this workspace has no artifact store configured: pass artifact_uri")
        self.artifact_uri = str(root)
        self.blobs = BlobStore(self.artifact_uri)
        self.tracking = LocalTracking(database=self.database, blobs=self.blobs)
        self.environments = LocalEnvironments(database=self.database)
        self.data = LocalData(
            database=self.database,
            artifact_uri=self.artifact_uri,
            folder=folder,
            created_time=float(stored["created_time"]),
            policy=datastore_policy,
        )
        # Runners (and the serving host) open the workspace the way this process did: its folder, or its
        # database URI.
        workspace_target = str(folder) if folder else metadata_uri
        launcher = LocalProcessLauncher(
            workspace_target=workspace_target,
            artifact_uri=artifact_uri,
            log_dir=folder / ".runner-logs" if folder else None,
        )
        self.registry = LocalRegistry(database=self.database, blobs=self.blobs)
        self.jobs = LocalJobs(
            database=self.database,
            blobs=self.blobs,
            tracking=self.tracking,
            launcher=launcher,
            environments=self.environments,
            data=self.data,
        )
        self.endpoints = LocalEndpoints(
            database=self.database,
            blobs=self.blobs,
            registry=self.registry,
            environments=self.environments,
            secrets=self.data.secrets,
            workspace_target=workspace_target,
            artifact_uri=artifact_uri,
            state_dir=_serving_dir(folder, str(stored["id"])),
            autostart_host=os.environ.get("EMBER_SERVING_AUTOSTART", "1") != "0",
        )

    def close(self) -> None:
        super().close()
        # The engine's pooled connections, closed now rather than whenever the garbage collector finds them
        # (a psycopg connection collected while open warns, and pytest turns that into an error).
        self.database.dispose()


class RemoteBackend(Backend):
    """A thin HTTP client of ``ember server``; every rule runs on the server."""

    kind = "remote"

    def __init__(self, url: str, *, token: str | None = None) -> None:
        from ember.data.remote import RemoteData
        from ember.environments.remote import RemoteEnvironments
        from ember.jobs.remote import RemoteJobs
        from ember.registry.remote import RemoteRegistry
        from ember.serving.remote import RemoteEndpoints
        from ember.tracking.remote import RemoteTracking
        from ember.transport import HttpClient

        self.url = url.rstrip("/")
        self.client = HttpClient(self.url, token=token or os.environ.get("EMBER_TOKEN"))
        self.tracking = RemoteTracking(self.client)
        self.jobs = RemoteJobs(self.client)
        self.environments = RemoteEnvironments(self.client)
        self.data = RemoteData(self.client)
        self.registry = RemoteRegistry(self.client)
        self.endpoints = RemoteEndpoints(self.client)

    def close(self) -> None:
        super().close()
        self.client.close()


def _serving_dir(folder: Path | None, workspace_id: str) -> Path:
    """Where the serving host keeps its logs and prepared deployments for this workspace."""
    if folder is not None:
        return folder / ".serving"
    configured = os.environ.get("EMBER_SERVING_DIR")
    if configured:
        return Path(configured).expanduser()
    return Path.home() / ".cache" / "ember" / "serving" / workspace_id


def _redact(uri: str) -> str:
    """A URI without its password, safe to put in a message or a log line."""
    if "://" in uri and "@" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return uri


def _read_workspace_row(database: Any) -> dict[str, Any] | None:
    from sqlalchemy import select

    from ember.store.schema import workspace

    with database.read() as conn:
        row = conn.execute(select(workspace)).mappings().first()
    return None if row is None else dict(row)


def _is_url(target: str) -> bool:
    return target.startswith(("http://", "https://"))


def _folder_of(target: str) -> Path:
    path = target[len("file://") :] if target.startswith("file://") else target
    return Path(path).expanduser().resolve()


def create_workspace(
    path: str | os.PathLike[str] | None = None,
    *,
    name: str | None = None,
    metadata_uri: str | None = None,
    artifact_uri: str | None = None,
    exist_ok: bool = True,
) -> Backend:
    """Create (or, with ``exist_ok``, open) a local-folder or database-backed workspace."""
    from sqlalchemy import insert

    from ember.store.database import Database
    from ember.store.schema import workspace

    folder: Path | None = None
    if path is not None:
        if metadata_uri is not None:
            raise InvalidInput("give either a folder path or metadata_uri, not both")
        folder = _folder_of(os.fspath(path))
        folder.mkdir(parents=True, exist_ok=True)
        (folder / ARTIFACTS_DIR).mkdir(exist_ok=True)
        metadata_uri = f"sqlite:///{folder / DB_FILE}"
    elif metadata_uri is None:
        raise InvalidInput("Workspace.create needs a folder path or a metadata_uri")
    elif artifact_uri is None:
        raise InvalidInput("a database-backed workspace needs artifact_uri (file:///…, s3://…)")
    database = Database(metadata_uri)
    try:
        if _read_workspace_row(database) is None:
            ws_name = name or (folder.name if folder else "workspace")
            with database.write() as conn:
                conn.execute(
                    insert(workspace).values(
                        id=uuid.uuid4().hex,
                        name=ws_name,
                        created_time=time.time(),
                        artifact_uri=None if folder else artifact_uri,
                    )
                )
        elif not exist_ok:
            raise Conflict(f"a workspace already exists at {_redact(metadata_uri)}")
    finally:
        database.dispose()
    return LocalBackend(
        metadata_uri=metadata_uri, artifact_uri=None if folder else artifact_uri, folder=folder
    )


def open_backend(
    target: str,
    *,
    token: str | None = None,
    artifact_uri: str | None = None,
    datastore_policy: EndpointPolicy | None = None,
) -> Backend:
    """Open an existing workspace: a folder, ``file://`` URL, database URI or ``http(s)://`` server URL.

    ``datastore_policy`` restricts datastore endpoints; ``ember server`` sets one, embedded use does not.
    """
    if _is_url(target):
        return RemoteBackend(target, token=token)
    if target.startswith(("sqlite:///", "postgresql://", "postgres://", "postgresql+psycopg://")):
        return LocalBackend(metadata_uri=target, artifact_uri=artifact_uri, datastore_policy=datastore_policy)
    folder = _folder_of(target)
    if not (folder / DB_FILE).is_file():
        raise NotFound(
            f"no Ember workspace in {str(folder)!r}: create one with `ember workspace create {target}`"
        )
    return LocalBackend(
        metadata_uri=f"sqlite:///{folder / DB_FILE}",
        artifact_uri=artifact_uri,
        folder=folder,
        datastore_policy=datastore_policy,
    )
