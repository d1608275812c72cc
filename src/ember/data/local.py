"""LocalData: the rules of datastores and datasets on a workspace's metadata database.

Datastores: credentials are encrypted with the workspace key (``SecretBox``) and leave this module only as
short-lived access (``ember.data.access``); on a shared server, custom endpoints pass ``EndpointPolicy``.
The default datastore, ``workspace``, is not a row: it is the workspace's artifact store.

Datasets: registering resolves the definition's sources here, with the stored credentials, and records
the files' identities (size, modification time, ETag) and their digest. Version numbers are allocated
like environments' (see ``ember.environments.local``): the insert skips on ``UNIQUE (name, version)``
when another registration took the number, and the registration starts over.
"""

from __future__ import annotations

import builtins
import json
import logging
import posixpath
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, RowMapping, and_, delete, func, insert, select, update

from ember.contracts.data import DataBackend
from ember.data.access import build_access
from ember.data.lifecycle import check_consumable
from ember.data.policy import EndpointPolicy
from ember.data.secrets import SecretBox
from ember.data.versions import REGISTERED as _REGISTERED
from ember.data.versions import VISIBLE as _VISIBLE
from ember.data.versions import DatasetVersions
from ember.data.versions import check_id as _check_id
from ember.data.versions import check_name as _check_name
from ember.data.versions import replacements as _replacements
from ember.data.versions import version_info as _version_info
from ember.entities.data import (
    DEFAULT_DATASTORE,
    DatasetDefinition,
    DatasetFile,
    DatasetLink,
    DatasetPreview,
    DatasetProfile,
    DatasetRegister,
    DatasetVersionInfo,
    DatastoreAccess,
    DatastoreEntry,
    DatastoreInfo,
    DatastoreListing,
    DatastoreRegister,
    check_relative_path,
)
from ember.entities.validation import describe_validation_error
from ember.errors import Conflict, InvalidInput, NotFound
from ember.store.database import Database
from ember.store.schema import dataset_links, dataset_profiles, dataset_versions, datastores, runs
from ember.store.tracking import MAX_VERSION, insert_next_version, to_datetime

__all__ = ["LocalData"]

logger = logging.getLogger(__name__)

_MAX_ATTEMPTS = 100
_MAX_PREVIEW_ROWS = 10_000


def _validated(model: Any, request: Any) -> Any:
    """The request validated afresh: a caller may have built it with ``model_construct``."""
    try:
        return model.model_validate(request.model_dump() if hasattr(request, "model_dump") else request)
    except ValidationError as exc:
        # Never str(exc): pydantic quotes the input, which may hold credentials.
        raise InvalidInput(describe_validation_error(exc)) from None


def _datastore_url(info: dict[str, Any]) -> str:
    kind = info["kind"]
    prefix = ("/" + info["prefix"]) if info.get("prefix") else ""
    if kind == "local":
        return f"file://{info['root'].rstrip('/')}{prefix}"
    if kind == "s3":
        return f"s3://{info['bucket']}{prefix}"
    return f"az://{info['container_name']}{prefix} (account {info['account_name']})"


def _datastore_info(row: RowMapping) -> DatastoreInfo:
    config = json.loads(row["config"])
    return DatastoreInfo(
        name=row["name"],
        kind=row["kind"],
        description=row["description"],
        created_time=to_datetime(row["created_time"]),
        url=_datastore_url({"kind": row["kind"], **config}),
        **{k: v for k, v in config.items() if k in DatastoreInfo.model_fields},
    )


def _needs_data_extra(exc: ImportError) -> InvalidInput:
    return InvalidInput(
        f"reading tabular data needs pyarrow and pandas on the server ({exc.name} is missing): "
        "pip install 'ember-ml[data]'"
    )


class LocalData(DatasetVersions, DataBackend):
    """Datastores and datasets in the workspace's tables; bytes stay in the datastores."""

    def __init__(
        self,
        *,
        database: Database,
        artifact_uri: str,
        folder: Path | None,
        created_time: float,
        policy: EndpointPolicy | None = None,
    ) -> None:
        self.database = database
        self.artifact_uri = artifact_uri
        self.secrets = SecretBox(folder=folder)
        self.policy = policy
        self._workspace_created = created_time

    # ---- datastores ---------------------------------------------------------------------------------

    def _default_info(self) -> DatastoreInfo:
        from fsspec.core import split_protocol

        protocol, _ = split_protocol(self.artifact_uri)
        return DatastoreInfo(
            name=DEFAULT_DATASTORE,
            kind="workspace",
            credential_type="ambient" if protocol not in (None, "file") else "none",
            description="The workspace's own storage (its artifact store).",
            is_default=True,
            url=self.artifact_uri.rstrip("/") + "/datastore",
            created_time=to_datetime(self._workspace_created),
        )

    def register_datastore(self, request: DatastoreRegister) -> DatastoreInfo:
        request = _validated(DatastoreRegister, request)
        if request.name == DEFAULT_DATASTORE:
            raise Conflict(f"{DEFAULT_DATASTORE!r} is the default datastore's name; choose another")
        if request.kind == "local" and not Path(request.root or "").is_absolute():
            raise InvalidInput(
                f"a local datastore's root must be an absolute folder path, not {request.root!r}"
            )
        if request.endpoint is not None:
            if self.policy is not None:
                self.policy.check(request.endpoint)
            elif not request.endpoint.startswith(("http://", "https://")):
                raise InvalidInput(f"a datastore endpoint is an http(s) URL, not {request.endpoint!r}")
        credentials = {k: v.get_secret_value() for k, v in request.credentials.items()}
        credential_type = "none"
        if request.kind == "s3":
            credential_type = "keys" if credentials else "ambient"
        elif request.kind == "azure_blob":
            credential_type = "account_key" if "account_key" in credentials else "sas_token"
        config = {
            key: getattr(request, key)
            for key in ("root", "bucket", "container_name", "account_name", "prefix", "region", "endpoint")
            if getattr(request, key)
        }
        config["credential_type"] = credential_type
        config["credential_passthrough"] = request.credential_passthrough
        secret = self.secrets.encrypt(credentials) if credentials else None
        values = {
            "kind": request.kind,
            "config": json.dumps(config, sort_keys=True),
            "secret": secret,
            "description": request.description,
        }
        with self.database.write() as conn:
            exists = conn.execute(select(datastores.c.name).where(datastores.c.name == request.name)).first()
            if exists is not None and not request.overwrite:
                raise Conflict(
                    f"datastore {request.name!r} exists; pass overwrite=True to replace its settings"
                )
            if exists is not None:
                conn.execute(update(datastores).where(datastores.c.name == request.name).values(**values))
            else:
                conn.execute(insert(datastores).values(name=request.name, created_time=time.time(), **values))
            row = conn.execute(select(datastores).where(datastores.c.name == request.name)).mappings().one()
        logger.info("registered datastore %s (%s)", request.name, request.kind)
        return _datastore_info(row)

    def _row(self, conn: Connection, name: str) -> RowMapping:
        row = conn.execute(select(datastores).where(datastores.c.name == name)).mappings().first()
        if row is None:
            raise NotFound(
                f"datastore {name!r} not found: `ember datastore list` shows the registered ones, and "
                f"{DEFAULT_DATASTORE!r} is the workspace's own"
            )
        return row

    def get_datastore(self, name: str) -> DatastoreInfo:
        _check_name(name, "a datastore")
        if name == DEFAULT_DATASTORE:
            return self._default_info()
        with self.database.read() as conn:
            return _datastore_info(self._row(conn, name))

    def list_datastores(self) -> builtins.list[DatastoreInfo]:
        with self.database.read() as conn:
            rows = conn.execute(select(datastores).order_by(datastores.c.name)).mappings().all()
        return [self._default_info(), *(_datastore_info(r) for r in rows)]

    def delete_datastore(self, name: str) -> None:
        _check_name(name, "a datastore")
        if name == DEFAULT_DATASTORE:
            raise Conflict("the default datastore is the workspace's own storage and cannot be deleted")
        marker = json.dumps({"datastore": name})[1:-1]  # '"datastore": "name"' as stored (compact JSON)
        marker = marker.replace(": ", ":")
        with self.database.write() as conn:
            self._row(conn, name)
            users = conn.execute(
                select(dataset_versions.c.name, dataset_versions.c.version)
                .where(dataset_versions.c.definition.contains(marker, autoescape=True))
                .order_by(dataset_versions.c.name, dataset_versions.c.version)
                .limit(6)
            ).all()
            if users:
                named = ", ".join(f"{n} v{v}" for n, v in users[:5]) + (" and more" if len(users) > 5 else "")
                raise Conflict(f"datastore {name!r} is read by registered datasets ({named}); it is kept")
            conn.execute(delete(datastores).where(datastores.c.name == name))
        logger.info("deleted datastore %s", name)

    def _access(self, name: str, *, write: bool, internal: bool) -> DatastoreAccess:
        info = self.get_datastore(name)
        credentials: dict[str, str] = {}
        if info.kind != "workspace":
            with self.database.read() as conn:
                row = self._row(conn, name)
            if row["secret"]:
                credentials = self.secrets.decrypt(row["secret"], what=f"datastore {name!r}")
            if info.endpoint and self.policy is not None:
                self.policy.check(info.endpoint)
        return build_access(
            info, credentials, artifact_root=self.artifact_uri, write=write, internal=internal
        )

    def get_datastore_access(self, name: str, *, write: bool = False) -> DatastoreAccess:
        _check_name(name, "a datastore")
        return self._access(name, write=write, internal=False)

    def list_datastore_files(self, name: str, path: str = "", *, limit: int = 1000) -> DatastoreListing:
        _check_name(name, "a datastore")
        if isinstance(limit, bool) or not 1 <= int(limit) <= 10_000:
            raise InvalidInput(f"limit is 1 to 10,000, not {limit!r}")
        try:
            folder = check_relative_path(path, allow_glob=False)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        from ember.data.files import open_filesystem, storage_errors

        access = self._access(name, write=False, internal=True)
        base = posixpath.join(access.root, folder) if folder else access.root
        with storage_errors(f"listing datastore {name!r}"):
            try:
                listed = open_filesystem(access).ls(base, detail=True)
            except FileNotFoundError:
                listed = []
        if not listed and folder:
            raise NotFound(f"datastore {name!r} has nothing under {folder!r}")
        entries = []
        for item in listed:
            relative = posixpath.relpath(item["name"].rstrip("/"), access.root)
            if relative in (".", folder) or relative.startswith(".."):
                continue
            is_dir = item.get("type") == "directory"
            modified = item.get("mtime") or item.get("LastModified") or item.get("last_modified")
            entries.append(
                DatastoreEntry(
                    path=relative,
                    kind="folder" if is_dir else "file",
                    size=None if is_dir else int(item.get("size") or 0),
                    modified_time=_epoch(modified),
                )
            )
        entries.sort(key=lambda e: (e.kind != "folder", e.path))
        return DatastoreListing(
            datastore=name, path=folder, entries=entries[: int(limit)], truncated=len(entries) > int(limit)
        )

    # ---- datasets -----------------------------------------------------------------------------------

    def _resolve(self, definition: DatasetDefinition) -> builtins.list[DatasetFile]:
        from ember.data.files import resolve_files, storage_errors

        names = list(dict.fromkeys(s.datastore for s in definition.sources))
        accesses = {name: self._access(name, write=False, internal=True) for name in names}
        with storage_errors(f"listing the files of datastore {', '.join(map(repr, names))}"):
            return [r.file for r in resolve_files(accesses, definition)]

    def register_dataset(self, request: DatasetRegister) -> DatasetVersionInfo:
        from ember.data.files import fingerprint_digest

        request = _validated(DatasetRegister, request)
        definition: DatasetDefinition = request.definition
        files = self._resolve(definition)
        digest = fingerprint_digest(files)
        document = definition.model_dump_json()
        files_json = json.dumps([f.model_dump(mode="json") for f in files], separators=(",", ":"))
        if request.source_run_id is not None:
            _check_id(request.source_run_id)
        for _ in range(_MAX_ATTEMPTS):
            with self.database.write() as conn:
                # "Latest" skips archived versions and the rows of an unregistered name (kept for lineage).
                latest = (
                    conn.execute(
                        select(dataset_versions)
                        .where(and_(dataset_versions.c.name == request.name, _VISIBLE))
                        .order_by(dataset_versions.c.version.desc())
                        .limit(1)
                    )
                    .mappings()
                    .first()
                )
                if (
                    latest is not None
                    and latest["definition"] == document
                    and latest["fingerprint"] == digest
                ):
                    return self._info(conn, latest)
                newest = conn.execute(
                    select(func.max(dataset_versions.c.version)).where(
                        and_(dataset_versions.c.name == request.name, _REGISTERED)
                    )
                ).scalar()
                if newest is not None and not request.create_new_version:
                    shown = (
                        f"latest version {latest['version']}"
                        if latest is not None
                        else "every version archived"
                    )
                    raise Conflict(
                        f"dataset {request.name!r} exists ({shown}) with another definition or data; "
                        "pass create_new_version=True for a new version"
                    )
                if (
                    request.source_run_id is not None
                    and conn.execute(select(runs.c.id).where(runs.c.id == request.source_run_id)).first()
                    is None
                ):
                    raise NotFound(
                        f"run {request.source_run_id!r} not found: an output dataset needs its run"
                    )
                new_id = uuid.uuid4().hex
                version = insert_next_version(
                    conn,
                    dataset_versions,
                    name=request.name,
                    values={
                        "id": new_id,
                        "kind": definition.kind,
                        "definition": document,
                        "description": request.description,
                        "tags": json.dumps(request.tags, sort_keys=True),
                        "files": files_json,
                        "file_count": len(files),
                        "total_size": sum(f.size for f in files),
                        "fingerprint": digest,
                        "source_run_id": request.source_run_id,
                        "created_time": time.time(),
                    },
                    what="dataset",
                )
                if version is not None:
                    if request.source_run_id is not None:
                        self._link(
                            conn,
                            request.source_run_id,
                            new_id,
                            direction="output",
                            name=request.output_name or request.name,
                            mode="output",
                        )
                    logger.info(
                        "registered dataset %s version %d (%d files)", request.name, version, len(files)
                    )
                    return self._info(conn, self._version_row(conn, new_id))
            logger.debug("registering dataset %s raced another registration; trying again", request.name)
        raise Conflict(
            f"could not register dataset {request.name!r}: too many registrations at once; try again"
        )

    def get_dataset(self, name: str, version: int | None = None) -> DatasetVersionInfo:
        _check_name(name, "a dataset")
        if version is not None and (isinstance(version, bool) or not 1 <= int(version) <= MAX_VERSION):
            raise InvalidInput(f"a dataset version is a positive integer, not {version!r}")
        query = select(dataset_versions).where(and_(dataset_versions.c.name == name, _REGISTERED))
        query = (
            query.where(_VISIBLE).order_by(dataset_versions.c.version.desc()).limit(1)
            if version is None
            else query.where(dataset_versions.c.version == version)  # archived too: to inspect, reactivate
        )
        with self.database.read() as conn:
            row = conn.execute(query).mappings().first()
            if row is not None:
                return self._info(conn, row)
            newest = conn.execute(
                select(func.max(dataset_versions.c.version)).where(
                    and_(dataset_versions.c.name == name, _REGISTERED)
                )
            ).scalar()
            latest = conn.execute(
                select(func.max(dataset_versions.c.version)).where(
                    and_(dataset_versions.c.name == name, _VISIBLE)
                )
            ).scalar()
        if newest is None:
            raise NotFound(
                f"dataset {name!r} not found: register it with dataset.register(ws, {name!r}); "
                "`ember dataset list` shows the registered ones"
            )
        if version is None:
            raise NotFound(
                f"every version of dataset {name!r} is archived: ask for one by number to inspect or "
                "reactivate it (`ember dataset list --name NAME --include-archived`)"
            )
        shown = f"its latest is version {latest}" if latest is not None else "every version of it is archived"
        raise NotFound(f"dataset {name!r} has no version {version}; {shown}")

    def get_dataset_by_id(self, dataset_id: str) -> DatasetVersionInfo:
        _check_id(dataset_id)
        with self.database.read() as conn:
            return self._info(conn, self._version_row(conn, dataset_id))

    def list_datasets(
        self, name: str | None = None, *, include_archived: bool = False
    ) -> builtins.list[DatasetVersionInfo]:
        shown = _REGISTERED if include_archived else _VISIBLE
        query = select(dataset_versions)
        if name is not None:
            _check_name(name, "a dataset")
            query = query.where(and_(dataset_versions.c.name == name, shown)).order_by(
                dataset_versions.c.version.desc()
            )
        else:
            latest = (
                select(dataset_versions.c.name, func.max(dataset_versions.c.version).label("version"))
                .where(shown)
                .group_by(dataset_versions.c.name)
                .subquery()
            )
            query = query.join(
                latest,
                and_(
                    dataset_versions.c.name == latest.c.name, dataset_versions.c.version == latest.c.version
                ),
            ).order_by(dataset_versions.c.name)
        with self.database.read() as conn:
            rows = conn.execute(query).mappings().all()
            profiled = {
                r[0]
                for r in conn.execute(
                    select(dataset_profiles.c.dataset_id).where(
                        dataset_profiles.c.dataset_id.in_([row["id"] for row in rows])
                    )
                )
            }
            replacements = _replacements(conn, rows)
        return [
            _version_info(
                row,
                has_profile=row["id"] in profiled,
                replacement=replacements.get(row["deprecated_by"] or ""),
            )
            for row in rows
        ]

    def get_dataset_files(self, dataset_id: str) -> builtins.list[DatasetFile]:
        _check_id(dataset_id)
        with self.database.read() as conn:
            row = self._version_row(conn, dataset_id)
        return [DatasetFile.model_validate(f) for f in json.loads(row["files"])]

    def update_dataset(
        self, dataset_id: str, *, description: str | None = None, tags: dict[str, str] | None = None
    ) -> DatasetVersionInfo:
        _check_id(dataset_id)
        values: dict[str, Any] = {}
        if description is not None:
            if not isinstance(description, str) or "\x00" in description or len(description) > 20_000:
                raise InvalidInput("a description is text of at most 20,000 characters without NUL")
            values["description"] = description
        if tags is not None:
            checked = _validated(DatasetRegister, {"name": "x", "definition": _ANY_DEFINITION, "tags": tags})
            values["tags"] = json.dumps(checked.tags, sort_keys=True)
        with self.database.write() as conn:
            self._version_row(conn, dataset_id)
            if values:
                conn.execute(
                    update(dataset_versions).where(dataset_versions.c.id == dataset_id).values(**values)
                )
            return self._info(conn, self._version_row(conn, dataset_id))

    def _read(self, dataset_id: str, *, limit: int | None, strict: bool) -> Any:
        info = self.get_dataset_by_id(dataset_id)
        if info.kind != "tabular":
            raise InvalidInput(f"dataset {info.name!r} version {info.version} is a file dataset, not tabular")
        try:
            from ember.data.engine import read_table
            from ember.data.files import check_fingerprint, resolve_files, storage_errors
        except ImportError as exc:
            raise _needs_data_extra(exc) from exc
        definition = info.definition
        accesses = {
            name: self._access(name, write=False, internal=True)
            for name in dict.fromkeys(s.datastore for s in definition.sources)
        }
        what = f"dataset {info.name!r} version {info.version}"
        with storage_errors(f"reading {what}"):
            resolved = resolve_files(accesses, definition)
            check_fingerprint(
                self.get_dataset_files(dataset_id), [r.file for r in resolved], strict=strict, what=what
            )
            return read_table(definition, resolved, limit=limit)

    def preview_dataset(self, dataset_id: str, *, rows: int = 100) -> DatasetPreview:
        _check_id(dataset_id)
        if isinstance(rows, bool) or not 1 <= int(rows) <= _MAX_PREVIEW_ROWS:
            raise InvalidInput(f"a preview has 1 to {_MAX_PREVIEW_ROWS} rows, not {rows!r}")
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the server previews what is there now; the SDK warns
            table = self._read(dataset_id, limit=int(rows), strict=False)
        table = table.slice(0, int(rows))
        from ember.data.profile import column_type_name

        columns = [(f.name, column_type_name(f.type)) for f in table.schema]
        data = [[_json_cell(v) for v in row.values()] for row in table.to_pylist()]
        return DatasetPreview(columns=columns, rows=data)

    def get_dataset_profile(self, dataset_id: str, *, refresh: bool = False) -> DatasetProfile:
        _check_id(dataset_id)
        if not refresh:
            with self.database.read() as conn:
                self._version_row(conn, dataset_id)
                cached = conn.execute(
                    select(dataset_profiles.c.profile).where(dataset_profiles.c.dataset_id == dataset_id)
                ).scalar()
            if cached is not None:
                return DatasetProfile.model_validate_json(cached)
        table = self._read(dataset_id, limit=None, strict=True)
        from ember.data.profile import profile_table

        profile: DatasetProfile = profile_table(table).model_copy(update={"dataset_id": dataset_id})
        document = profile.model_dump_json()
        with self.database.write() as conn:
            self._version_row(conn, dataset_id)  # deleted meanwhile: NotFound
            conn.execute(delete(dataset_profiles).where(dataset_profiles.c.dataset_id == dataset_id))
            conn.execute(
                insert(dataset_profiles).values(
                    dataset_id=dataset_id, profile=document, created_time=time.time()
                )
            )
        return profile

    # ---- lineage ------------------------------------------------------------------------------------

    def _link(
        self, conn: Connection, run_id: str, dataset_id: str, *, direction: str, name: str, mode: str
    ) -> None:
        if direction not in ("input", "output"):
            raise InvalidInput(f"a dataset link's direction is 'input' or 'output', not {direction!r}")
        if mode not in ("direct", "download", "output"):
            raise InvalidInput(f"a dataset link's mode is 'direct', 'download' or 'output', not {mode!r}")
        _check_name(name, "an input or output")
        existing = conn.execute(
            select(dataset_links.c.dataset_id).where(
                and_(
                    dataset_links.c.run_id == run_id,
                    dataset_links.c.direction == direction,
                    dataset_links.c.name == name,
                )
            )
        ).scalar()
        if existing is not None:
            if existing != dataset_id:
                raise Conflict(f"run {run_id} already has another dataset as its {direction} {name!r}")
            return
        conn.execute(
            insert(dataset_links).values(
                run_id=run_id,
                dataset_id=dataset_id,
                direction=direction,
                name=name,
                mode=mode,
                created_time=time.time(),
            )
        )

    def link_run_dataset(
        self, run_id: str, dataset_id: str, *, direction: str, name: str, mode: str
    ) -> DatasetLink:
        _check_id(run_id)
        _check_id(dataset_id)
        with self.database.write() as conn:
            if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is None:
                raise NotFound(f"run {run_id!r} not found")
            row = self._version_row(conn, dataset_id)
            if direction == "input" and row["state"] == "archived":
                check_consumable(self._info(conn, row), use="a run's input")
            self._link(conn, run_id, dataset_id, direction=direction, name=name, mode=mode)
        found = [
            link
            for link in self.get_run_datasets(run_id)
            if link.direction == direction and link.name == name
        ]
        return found[0]

    def _links(self, where: Any) -> builtins.list[DatasetLink]:
        query = (
            select(
                dataset_links,
                dataset_versions.c.name.label("dataset_name"),
                dataset_versions.c.version.label("dataset_version"),
            )
            .join(dataset_versions, dataset_versions.c.id == dataset_links.c.dataset_id)
            .where(where)
            .order_by(dataset_links.c.created_time.desc(), dataset_links.c.name)
        )
        with self.database.read() as conn:
            rows = conn.execute(query).mappings().all()
        return [
            DatasetLink(
                run_id=r["run_id"],
                dataset_id=r["dataset_id"],
                dataset_name=r["dataset_name"],
                dataset_version=r["dataset_version"],
                direction=r["direction"],
                name=r["name"],
                mode=r["mode"],
                created_time=to_datetime(r["created_time"]),
            )
            for r in rows
        ]

    def get_run_datasets(self, run_id: str) -> builtins.list[DatasetLink]:
        _check_id(run_id)
        return self._links(dataset_links.c.run_id == run_id)

    def get_dataset_runs(self, dataset_id: str) -> builtins.list[DatasetLink]:
        _check_id(dataset_id)
        with self.database.read() as conn:
            self._version_row(conn, dataset_id)
        return self._links(dataset_links.c.dataset_id == dataset_id)


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


_ANY_DEFINITION = {"kind": "file", "sources": [{"datastore": "workspace", "path": "x"}]}


def _json_cell(value: Any) -> Any:
    """A table cell as a JSON value: times as ISO text, bytes as a note, non-finite floats as None."""
    import math

    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return str(value)
