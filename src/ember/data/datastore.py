"""``Datastore``: a named storage location of a workspace, and moving files in and out of it."""

from __future__ import annotations

import builtins
import os
import posixpath
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from ember.data.transfer import TransferReport, download_files, local_files, upload_files
from ember.entities.data import (
    DEFAULT_DATASTORE,
    DatastoreAccess,
    DatastoreInfo,
    DatastoreRegister,
    check_relative_path,
)
from ember.entities.validation import build
from ember.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from ember.backend import HasBackend

__all__ = ["DataPath", "Datastore"]

_REFRESH_BEFORE = timedelta(minutes=5)


class DataPath:
    """A path (or glob) inside a datastore: ``ds.path("iris/*.csv")`` or the tuple ``(ds, "iris/*.csv")``."""

    def __init__(self, datastore: Datastore, path: str) -> None:
        self.datastore = datastore
        try:
            self.path = check_relative_path(path)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None

    def __repr__(self) -> str:
        return f"DataPath({self.datastore.name!r}, {self.path!r})"


class Datastore:
    """A registered storage location: the workspace's own (``workspace``), a local folder, S3 or Azure Blob.

    ``ws.get_default_datastore()`` is the workspace's storage; ``Datastore.register_*`` adds others. The
    credentials given at registration are encrypted by the workspace and never shown again; reads and
    writes use short-lived access the workspace hands out.
    """

    def __init__(self, workspace: HasBackend, name: str = DEFAULT_DATASTORE) -> None:
        self.workspace = workspace
        self._info = workspace.backend.data.get_datastore(name)
        self._access_lock = threading.Lock()
        self._access: dict[bool, DatastoreAccess] = {}

    @classmethod
    def _from_info(cls, workspace: HasBackend, info: DatastoreInfo) -> Datastore:
        obj = cls.__new__(cls)
        obj.workspace = workspace
        obj._info = info
        obj._access_lock = threading.Lock()
        obj._access = {}
        return obj

    # ---- registration -------------------------------------------------------------------------------

    @classmethod
    def get(cls, workspace: HasBackend, name: str) -> Datastore:
        """A registered datastore by name."""
        return cls(workspace, name)

    @classmethod
    def _shared(cls, workspace: HasBackend, name: str) -> Datastore:
        """One object per workspace and name, so reads reuse its short-lived access until it expires
        (an S3 datastore's access is an STS call)."""
        cache: dict[str, Datastore] = workspace.__dict__.setdefault("_datastores", {})
        found = cache.get(name)
        if found is None:
            found = cache[name] = cls(workspace, name)
        return found

    @classmethod
    def get_default(cls, workspace: HasBackend) -> Datastore:
        """The workspace's own storage."""
        return cls(workspace, DEFAULT_DATASTORE)

    @classmethod
    def list(cls, workspace: HasBackend) -> builtins.list[Datastore]:
        """Every datastore of the workspace, the default one first."""
        return [cls._from_info(workspace, info) for info in workspace.backend.data.list_datastores()]

    @classmethod
    def _register(cls, workspace: HasBackend, **fields: Any) -> Datastore:
        credentials = {k: SecretStr(v) for k, v in fields.pop("credentials").items() if v}
        request = build(DatastoreRegister, credentials=credentials, **fields)
        workspace.__dict__.get("_datastores", {}).pop(request.name, None)  # re-registered: new access
        return cls._from_info(workspace, workspace.backend.data.register_datastore(request))

    @classmethod
    def register_local(
        cls,
        workspace: HasBackend,
        name: str,
        root: str | os.PathLike[str],
        *,
        description: str | None = None,
        overwrite: bool = False,
    ) -> Datastore:
        """Register a folder (on the machine that serves the workspace) as a datastore."""
        return cls._register(
            workspace,
            name=name,
            kind="local",
            root=str(Path(root).expanduser().resolve()),
            description=description,
            overwrite=overwrite,
            credentials={},
        )

    @classmethod
    def register_s3(
        cls,
        workspace: HasBackend,
        name: str,
        *,
        bucket: str,
        prefix: str = "",
        region: str | None = None,
        endpoint: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        credential_passthrough: bool = False,
        description: str | None = None,
        overwrite: bool = False,
    ) -> Datastore:
        """Register an S3 bucket (or an S3-compatible service at ``endpoint``) as a datastore.

        Without keys, the server's own AWS credentials (environment, profile, instance role) are used.
        """
        return cls._register(
            workspace,
            name=name,
            kind="s3",
            bucket=bucket,
            prefix=prefix,
            region=region,
            endpoint=endpoint,
            credential_passthrough=credential_passthrough,
            description=description,
            overwrite=overwrite,
            credentials={
                "access_key_id": access_key_id,
                "secret_access_key": secret_access_key,
                "session_token": session_token,
            },
        )

    @classmethod
    def register_azure_blob_container(
        cls,
        workspace: HasBackend,
        datastore_name: str,
        *,
        account_name: str,
        container_name: str,
        account_key: str | None = None,
        sas_token: str | None = None,
        endpoint: str | None = None,
        prefix: str = "",
        credential_passthrough: bool = False,
        description: str | None = None,
        overwrite: bool = False,
    ) -> Datastore:
        """Register an Azure Blob container as a datastore, with an account key or a SAS token.

        ``endpoint`` is the blob service URL when it is not ``https://<account>.blob.core.windows.net``
        (Azurite, sovereign clouds).
        """
        return cls._register(
            workspace,
            name=datastore_name,
            kind="azure_blob",
            account_name=account_name,
            container_name=container_name,
            prefix=prefix,
            endpoint=endpoint,
            credential_passthrough=credential_passthrough,
            description=description,
            overwrite=overwrite,
            credentials={"account_key": account_key, "sas_token": sas_token},
        )

    def unregister(self) -> None:
        """Forget this datastore (its data stays); refused while registered datasets read from it."""
        self.workspace.backend.data.delete_datastore(self.name)
        self.workspace.__dict__.get("_datastores", {}).pop(self.name, None)

    # ---- what it is ---------------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """The datastore's name."""
        return self._info.name

    @property
    def kind(self) -> str:
        """``workspace``, ``local``, ``s3`` or ``azure_blob``."""
        return self._info.kind

    @property
    def info(self) -> DatastoreInfo:
        """Everything the workspace shows about it (never the credentials)."""
        return self._info

    def __repr__(self) -> str:
        return f"Datastore(name={self.name!r}, kind={self.kind!r}, url={self._info.url!r})"

    def path(self, path: str = "") -> DataPath:
        """A path or glob inside this datastore, for dataset sources."""
        return DataPath(self, path)

    # ---- access -------------------------------------------------------------------------------------

    def _get_access(self, *, write: bool = False) -> DatastoreAccess:
        with self._access_lock:
            access = self._access.get(write)
            fresh = access is not None and (
                access.expires_time is None or access.expires_time - datetime.now(UTC) > _REFRESH_BEFORE
            )
            if not fresh:
                access = self.workspace.backend.data.get_datastore_access(self.name, write=write)
                self._access[write] = access
            assert access is not None
            return access

    def _filesystem(self, *, write: bool = False) -> tuple[Any, str]:
        from ember.data.files import open_filesystem

        access = self._get_access(write=write)
        return open_filesystem(access), access.root

    # ---- files --------------------------------------------------------------------------------------

    def upload(
        self,
        src_dir: str | os.PathLike[str],
        target_path: str = "",
        *,
        overwrite: bool = False,
        show_progress: bool = True,
        max_concurrency: int = 16,
    ) -> TransferReport:
        """Upload a folder (or one file) under ``target_path``; existing files are skipped unless
        ``overwrite``."""
        return self.upload_files(
            local_files(Path(src_dir)),
            target_path=target_path,
            overwrite=overwrite,
            show_progress=show_progress,
            max_concurrency=max_concurrency,
        )

    def upload_files(
        self,
        files: builtins.list[tuple[Path, str]],
        *,
        target_path: str = "",
        overwrite: bool = False,
        show_progress: bool = True,
        max_concurrency: int = 16,
    ) -> TransferReport:
        """Upload ``(local file, relative path)`` pairs under ``target_path``."""
        target = _relative(target_path)
        for _, relative in files:
            _relative(relative)
        fs, root = self._filesystem(write=True)
        return upload_files(
            fs,
            files,
            root=root,
            target_path=target,
            overwrite=overwrite,
            show_progress=show_progress,
            concurrency=max_concurrency,
        )

    def list_files(self, prefix: str = "") -> builtins.list[tuple[str, int]]:
        """Every file under ``prefix`` as ``(path relative to the datastore, size)``, sorted."""
        fs, root = self._filesystem()
        base = posixpath.join(root, _relative(prefix)) if prefix else root
        try:
            found = fs.find(base, detail=True)
        except FileNotFoundError:
            return []
        return sorted((posixpath.relpath(p, root), int(d.get("size") or 0)) for p, d in found.items())

    def download(
        self,
        source_path: str,
        target_path: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        show_progress: bool = True,
        max_concurrency: int = 16,
    ) -> TransferReport:
        """Download every file under ``source_path`` into ``target_path``, keeping their relative paths."""
        fs, root = self._filesystem()
        source = _relative(source_path)
        base = posixpath.join(root, source) if source else root
        try:
            found = fs.find(base, detail=True)
        except FileNotFoundError:
            found = {}
        if not found:
            raise NotFound(f"nothing to download: datastore {self.name!r} has no file under {source_path!r}")
        files = [
            (
                path,
                posixpath.relpath(path, base) if path != base else posixpath.basename(path),
                int(d["size"]),
            )
            for path, d in sorted(found.items())
        ]
        return download_files(
            fs,
            files,
            target=Path(target_path),
            overwrite=overwrite,
            show_progress=show_progress,
            concurrency=max_concurrency,
        )


def _relative(path: str) -> str:
    try:
        return check_relative_path(path, allow_glob=False)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
