"""LocalRegistry: the rules of the model registry on a workspace's metadata database and blob store.

Versions are allocated like datasets' (see ``ember.data.local``): read the highest version, insert the next
with ``ON CONFLICT DO NOTHING ... RETURNING``, and start over when another registration took the number.
A model made of a run's outputs reuses the run's artifact blobs: nothing is copied. An ``MLmodel`` file at
the model's root marks an MLflow model; its YAML is parsed here (safe_load, never imported or unpickled)
for the flavors and the signature.
"""

from __future__ import annotations

import builtins
import json
import logging
import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Connection, RowMapping, and_, delete, exists, func, insert, select
from sqlalchemy import update as sql_update

from ember.artifacts import BlobStore
from ember.contracts.registry import RegistryBackend
from ember.entities.registry import (
    ALIAS_PATTERN,
    ModelDatasetRef,
    ModelFile,
    ModelInfo,
    ModelRegister,
    ModelSearch,
    ModelUpdate,
    check_model_path,
)
from ember.entities.tracking import NAME_PATTERN
from ember.entities.validation import describe_validation_error
from ember.errors import Conflict, InvalidInput, NotFound
from ember.store.database import Database
from ember.store.schema import (
    artifacts,
    dataset_versions,
    model_aliases,
    model_datasets,
    model_files,
    model_properties,
    model_tags,
    models,
    runs,
)
from ember.store.tracking import MAX_VERSION, insert_next_version, to_datetime

__all__ = ["DeploymentGuard", "LocalRegistry"]

logger = logging.getLogger(__name__)

_MAX_ATTEMPTS = 100
_NAME_RE = re.compile(NAME_PATTERN)
_ALIAS_RE = re.compile(ALIAS_PATTERN)
_MLMODEL_MAX_BYTES = 1 << 20

#: Names the active deployments that serve a model version (empty: none); the endpoints area provides it.
DeploymentGuard = Callable[[str], builtins.list[str]]


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise InvalidInput(
            f"model name {str(name)[:100]!r} is invalid: use letters, digits, '_', '-' and '.', "
            "starting with a letter or digit"
        )
    return name


def _check_id(value: str, what: str = "a model id") -> str:
    if not isinstance(value, str) or not value or len(value) > 64 or not value.isalnum():
        raise InvalidInput(f"{what} is a hexadecimal string, not {str(value)[:100]!r}")
    return value


def _check_alias(alias: str) -> str:
    if not isinstance(alias, str) or not _ALIAS_RE.match(alias) or alias == "latest":
        raise InvalidInput(
            f"alias {str(alias)[:100]!r} is invalid: a letter, then letters, digits, '_' or '-' "
            "(at most 63); 'latest' is reserved"
        )
    return alias


class LocalRegistry(RegistryBackend):
    """Models in the workspace's tables; their bytes in its blob store."""

    def __init__(self, *, database: Database, blobs: BlobStore) -> None:
        self.database = database
        self.blobs = blobs
        self._guards: builtins.list[DeploymentGuard] = []

    def add_deployment_guard(self, guard: DeploymentGuard) -> None:
        """Let another area refuse deleting a model version it serves (endpoints do)."""
        self._guards.append(guard)

    # ---- registering --------------------------------------------------------------------------------

    def _run_files(self, conn: Connection, run_id: str, path: str) -> builtins.list[ModelFile]:
        """A run's stored file, or every file under a folder of its outputs, relative to that folder."""
        clean = path.strip("/")
        try:
            check_model_path(clean)
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        rows = conn.execute(
            select(artifacts.c.path, artifacts.c.digest, artifacts.c.size).where(
                and_(
                    artifacts.c.run_id == run_id,
                    (artifacts.c.path == clean) | artifacts.c.path.startswith(clean + "/", autoescape=True),
                )
            )
        ).all()
        if not rows:
            raise InvalidInput(
                f"run {run_id} has no file or folder {clean!r} (register_model names a path of the run's "
                "stored files, e.g. outputs/model.pkl; run.get_file_names() lists them)"
            )
        files = []
        for file_path, digest, size in rows:
            relative = file_path.rsplit("/", 1)[-1] if file_path == clean else file_path[len(clean) + 1 :]
            files.append(ModelFile(path=relative, digest=digest, size=size))
        return sorted(files, key=lambda f: f.path)

    def _mlflow(self, files: builtins.list[ModelFile]) -> tuple[dict[str, Any], dict[str, Any] | None] | None:
        """The flavors and signature of an MLflow model (an ``MLmodel`` file at the root), else None."""
        entry = next((f for f in files if f.path == "MLmodel"), None)
        if entry is None:
            return None
        if entry.size > _MLMODEL_MAX_BYTES:
            raise InvalidInput("the MLmodel file is larger than 1 MiB: it is not an MLflow model description")
        import yaml

        with self.blobs.open(entry.digest) as stream:
            text = stream.read().decode("utf-8", errors="replace")
        try:
            document = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise InvalidInput(f"the model's MLmodel file is not valid YAML: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("flavors"), dict):
            raise InvalidInput("the model's MLmodel file has no 'flavors' mapping: is it an MLflow model?")
        signature = document.get("signature")
        parsed: dict[str, Any] | None = None
        if isinstance(signature, dict):
            parsed = {}
            for key in ("inputs", "outputs", "params"):
                value = signature.get(key)
                if isinstance(value, str):  # MLflow stores each schema as a JSON string
                    try:
                        parsed[key] = json.loads(value)
                    except ValueError:
                        parsed[key] = value
                elif value is not None:
                    parsed[key] = value
        return json.loads(json.dumps(document["flavors"], default=str)), parsed

    def register_model(self, request: ModelRegister) -> ModelInfo:
        try:
            request = ModelRegister.model_validate(request.model_dump())
        except ValidationError as exc:
            raise InvalidInput(describe_validation_error(exc)) from None
        experiment_id: str | None = None
        with self.database.read() as conn:
            if request.run_id is not None:
                _check_id(request.run_id, "a run id")
                run = conn.execute(select(runs.c.experiment_id).where(runs.c.id == request.run_id)).first()
                if run is None:
                    raise NotFound(
                        f"run {request.run_id!r} not found: a model's lineage names an existing run"
                    )
                experiment_id = run[0]
            files = (
                self._run_files(conn, request.run_id, request.run_path)
                if request.run_path is not None and request.run_id is not None
                else list(request.files)
            )
            datasets = []
            for ref in request.datasets:
                _check_id(ref.dataset_id, "a dataset id")
                found = conn.execute(
                    select(dataset_versions.c.id).where(dataset_versions.c.id == ref.dataset_id)
                ).first()
                if found is None:
                    raise NotFound(f"dataset version {ref.dataset_id!r} (role {ref.role!r}) not found")
                datasets.append(ref)
        missing = [f.path for f in files if not self.blobs.exists(f.digest)]
        if missing:
            shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
            raise InvalidInput(f"the bytes of {shown} were not uploaded: upload the blobs before registering")
        mlflow = self._mlflow(files)
        flavors, signature = mlflow if mlflow is not None else ({}, None)
        framework = request.framework
        if framework is None and mlflow is not None:
            framework = next((f for f in flavors if f != "python_function"), None) or "python_function"
        for _ in range(_MAX_ATTEMPTS):
            with self.database.write() as conn:
                model_id = uuid.uuid4().hex
                version = insert_next_version(
                    conn,
                    models,
                    name=request.name,
                    values={
                        "id": model_id,
                        "description": request.description,
                        "framework": framework,
                        "framework_version": request.framework_version,
                        "file_count": len(files),
                        "total_size": sum(f.size for f in files),
                        "run_id": request.run_id,
                        "experiment_id": experiment_id,
                        "format": "mlflow" if mlflow is not None else "files",
                        "flavors": json.dumps(flavors) if mlflow is not None else None,
                        "signature": json.dumps(signature) if signature is not None else None,
                        "created_time": time.time(),
                    },
                    what="model",
                )
                if version is None:
                    logger.debug("registering model %s raced another registration; again", request.name)
                    continue
                conn.execute(
                    insert(model_files),
                    [
                        {
                            "model_id": model_id,
                            "path": f.path,
                            "digest": f.digest,
                            "size": f.size,
                            "executable": int(f.executable),
                        }
                        for f in files
                    ],
                )
                self._put_pairs(conn, model_tags, model_id, request.tags)
                self._put_pairs(conn, model_properties, model_id, request.properties)
                if datasets:
                    conn.execute(
                        insert(model_datasets),
                        [
                            {"model_id": model_id, "role": d.role, "dataset_id": d.dataset_id}
                            for d in datasets
                        ],
                    )
                logger.info("registered model %s version %d (%d files)", request.name, version, len(files))
                return self._info(conn, self._row(conn, model_id))
        raise Conflict(
            f"could not register model {request.name!r}: too many registrations at once; try again"
        )

    @staticmethod
    def _put_pairs(conn: Connection, table: Any, model_id: str, pairs: dict[str, str]) -> None:
        if pairs:
            conn.execute(
                delete(table).where(and_(table.c.model_id == model_id, table.c.key.in_(list(pairs))))
            )
            conn.execute(
                insert(table), [{"model_id": model_id, "key": k, "value": v} for k, v in pairs.items()]
            )

    # ---- reading ------------------------------------------------------------------------------------

    @staticmethod
    def _row(conn: Connection, model_id: str) -> RowMapping:
        row = conn.execute(select(models).where(models.c.id == model_id)).mappings().first()
        if row is None:
            raise NotFound(f"model version {model_id!r} not found")
        return row

    @staticmethod
    def _info(conn: Connection, row: RowMapping) -> ModelInfo:
        model_id = row["id"]
        tags = dict(
            conn.execute(
                select(model_tags.c.key, model_tags.c.value).where(model_tags.c.model_id == model_id)
            ).all()
        )
        props = dict(
            conn.execute(
                select(model_properties.c.key, model_properties.c.value).where(
                    model_properties.c.model_id == model_id
                )
            ).all()
        )
        aliases = [
            r[0]
            for r in conn.execute(
                select(model_aliases.c.alias)
                .where(and_(model_aliases.c.name == row["name"], model_aliases.c.version == row["version"]))
                .order_by(model_aliases.c.alias)
            )
        ]
        datasets = [
            ModelDatasetRef(role=r[0], dataset_id=r[1], dataset_name=r[2], dataset_version=r[3])
            for r in conn.execute(
                select(
                    model_datasets.c.role,
                    model_datasets.c.dataset_id,
                    dataset_versions.c.name,
                    dataset_versions.c.version,
                )
                .join(dataset_versions, dataset_versions.c.id == model_datasets.c.dataset_id)
                .where(model_datasets.c.model_id == model_id)
                .order_by(model_datasets.c.role)
            )
        ]
        return ModelInfo(
            id=model_id,
            name=row["name"],
            version=row["version"],
            description=row["description"],
            tags=tags,
            properties=props,
            aliases=aliases,
            framework=row["framework"],
            framework_version=row["framework_version"],
            file_count=row["file_count"],
            total_size=row["total_size"],
            run_id=row["run_id"],
            experiment_id=row["experiment_id"],
            datasets=datasets,
            format=row["format"],
            flavors=json.loads(row["flavors"]) if row["flavors"] else {},
            signature=json.loads(row["signature"]) if row["signature"] else None,
            created_time=to_datetime(row["created_time"]),
        )

    def get_model(self, name: str, version: int | str | None = None) -> ModelInfo:
        _check_name(name)
        with self.database.read() as conn:
            if version is None or version == "latest":
                row = (
                    conn.execute(
                        select(models).where(models.c.name == name).order_by(models.c.version.desc()).limit(1)
                    )
                    .mappings()
                    .first()
                )
                if row is None:
                    raise NotFound(self._unknown(name))
                return self._info(conn, row)
            number = self._version_number(conn, name, version)
            row = (
                conn.execute(select(models).where(and_(models.c.name == name, models.c.version == number)))
                .mappings()
                .first()
            )
            if row is not None:
                return self._info(conn, row)
            latest = conn.execute(select(func.max(models.c.version)).where(models.c.name == name)).scalar()
        if latest is None:
            raise NotFound(self._unknown(name))
        raise NotFound(f"model {name!r} has no version {number}; its latest is version {latest}")

    @staticmethod
    def _unknown(name: str) -> str:
        return (
            f"model {name!r} not found: register it (ember.Model.register, run.register_model or "
            "`ember model register`); `ember model list` shows the registered ones"
        )

    @staticmethod
    def _version_number(conn: Connection, name: str, version: int | str) -> int:
        if isinstance(version, bool):
            raise InvalidInput(f"a model version is a number or an alias, not {version!r}")
        if isinstance(version, int) or (isinstance(version, str) and version.isdigit()):
            number = int(version)
            if not 1 <= number <= MAX_VERSION:
                raise InvalidInput(f"a model version is a positive number, not {version!r}")
            return number
        alias = _check_alias(str(version))
        found = conn.execute(
            select(model_aliases.c.version).where(
                and_(model_aliases.c.name == name, model_aliases.c.alias == alias)
            )
        ).scalar()
        if found is None:
            raise NotFound(f"model {name!r} has no alias {alias!r}")
        return int(found)

    def get_model_by_id(self, model_id: str) -> ModelInfo:
        _check_id(model_id)
        with self.database.read() as conn:
            return self._info(conn, self._row(conn, model_id))

    def list_models(self, search: ModelSearch | None = None) -> builtins.list[ModelInfo]:
        try:
            search = ModelSearch.model_validate((search or ModelSearch()).model_dump())
        except ValidationError as exc:
            raise InvalidInput(describe_validation_error(exc)) from None
        query = select(models)
        if search.name is not None:
            query = query.where(models.c.name == search.name)
        if search.run_id is not None:
            query = query.where(models.c.run_id == search.run_id)
        if search.dataset_id is not None:
            query = query.where(
                exists().where(
                    and_(
                        model_datasets.c.model_id == models.c.id,
                        model_datasets.c.dataset_id == search.dataset_id,
                    )
                )
            )
        for table, pairs in ((model_tags, search.tags), (model_properties, search.properties)):
            for key, value in pairs:
                condition = and_(table.c.model_id == models.c.id, table.c.key == key)
                if value is not None:
                    condition = and_(condition, table.c.value == value)
                query = query.where(exists().where(condition))
        if search.latest:
            inner = models.alias("newer")
            top = select(func.max(inner.c.version)).where(inner.c.name == models.c.name).scalar_subquery()
            query = query.where(models.c.version == top)
        query = query.order_by(models.c.name, models.c.version.desc()).limit(10_000)
        with self.database.read() as conn:
            return [self._info(conn, row) for row in conn.execute(query).mappings().all()]

    def get_model_files(self, model_id: str) -> builtins.list[ModelFile]:
        _check_id(model_id)
        with self.database.read() as conn:
            self._row(conn, model_id)
            rows = conn.execute(
                select(model_files).where(model_files.c.model_id == model_id).order_by(model_files.c.path)
            ).mappings()
            return [
                ModelFile(
                    path=r["path"], digest=r["digest"], size=r["size"], executable=bool(r["executable"])
                )
                for r in rows
            ]

    def open_model_file(self, model_id: str, path: str) -> tuple[ModelFile, Iterator[bytes]]:
        found = [f for f in self.get_model_files(model_id) if f.path == path]
        if not found:
            raise NotFound(f"model version {model_id} has no file {path!r}")
        return found[0], self.blobs.iter_chunks(found[0].digest)

    # ---- changing -----------------------------------------------------------------------------------

    def update_model(self, model_id: str, update: ModelUpdate) -> ModelInfo:
        _check_id(model_id)
        try:
            change = ModelUpdate.model_validate(update.model_dump())
        except ValidationError as exc:
            raise InvalidInput(describe_validation_error(exc)) from None
        with self.database.write() as conn:
            self._row(conn, model_id)
            if change.description is not None:
                conn.execute(
                    sql_update(models).where(models.c.id == model_id).values(description=change.description)
                )
            if change.remove_tags:
                conn.execute(
                    delete(model_tags).where(
                        and_(model_tags.c.model_id == model_id, model_tags.c.key.in_(change.remove_tags))
                    )
                )
            self._put_pairs(conn, model_tags, model_id, change.add_tags)
            if change.add_properties:
                known = dict(
                    conn.execute(
                        select(model_properties.c.key, model_properties.c.value).where(
                            model_properties.c.model_id == model_id
                        )
                    ).all()
                )
                clash = [k for k, v in change.add_properties.items() if k in known and known[k] != v]
                if clash:
                    raise Conflict(
                        f"properties are write-once: {', '.join(map(repr, clash))} already have other values"
                    )
                self._put_pairs(conn, model_properties, model_id, change.add_properties)
            return self._info(conn, self._row(conn, model_id))

    def set_alias(self, name: str, alias: str, version: int) -> ModelInfo:
        _check_name(name)
        _check_alias(alias)
        with self.database.write() as conn:
            number = self._version_number(conn, name, version)
            row = (
                conn.execute(select(models).where(and_(models.c.name == name, models.c.version == number)))
                .mappings()
                .first()
            )
            if row is None:
                raise NotFound(f"model {name!r} has no version {number}")
            conn.execute(
                delete(model_aliases).where(
                    and_(model_aliases.c.name == name, model_aliases.c.alias == alias)
                )
            )
            conn.execute(insert(model_aliases).values(name=name, alias=alias, version=number))
            logger.info("model %s: alias %s -> version %d", name, alias, number)
            return self._info(conn, row)

    def delete_alias(self, name: str, alias: str) -> None:
        _check_name(name)
        _check_alias(alias)
        with self.database.write() as conn:
            gone = conn.execute(
                delete(model_aliases)
                .where(and_(model_aliases.c.name == name, model_aliases.c.alias == alias))
                .returning(model_aliases.c.alias)
            ).first()
        if gone is None:
            raise NotFound(f"model {name!r} has no alias {alias!r}")

    def delete_model(self, model_id: str) -> None:
        _check_id(model_id)
        with self.database.read() as conn:
            row = self._row(conn, model_id)
        serving = [name for guard in self._guards for name in guard(model_id)]
        if serving:
            raise Conflict(
                f"model {row['name']} version {row['version']} is served by {', '.join(serving)}: "
                "delete or update those deployments first"
            )
        with self.database.write() as conn:
            row = self._row(conn, model_id)
            conn.execute(
                delete(model_aliases).where(
                    and_(model_aliases.c.name == row["name"], model_aliases.c.version == row["version"])
                )
            )
            conn.execute(delete(models).where(models.c.id == model_id))
        logger.info("deleted model %s version %d", row["name"], row["version"])
