"""``Model``: registered, versioned models: register files or a run's outputs, find, tag, alias, download."""

from __future__ import annotations

import builtins
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ember import links
from ember.artifacts.tree import write_tree
from ember.entities.registry import (
    ModelDatasetRef,
    ModelFile,
    ModelInfo,
    ModelRegister,
    ModelSearch,
    ModelUpdate,
)
from ember.entities.validation import build
from ember.errors import InvalidInput
from ember.registry.model_path import find_model_path

if TYPE_CHECKING:
    from ember.backend import HasBackend

__all__ = ["Model"]

_CHUNK = 1 << 20


def _hash(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            yield chunk


def _local_files(model_path: Path) -> builtins.list[tuple[Path, str]]:
    """A file (named by its basename) or every regular file under a folder (by relative path); no links."""
    if model_path.is_symlink():
        raise InvalidInput(f"model_path {str(model_path)!r} is a link: give the file or folder itself")
    if model_path.is_file():
        return [(model_path, model_path.name)]
    if not model_path.is_dir():
        raise InvalidInput(f"model_path {str(model_path)!r} is neither a file nor a folder")
    found = []
    for folder, dirs, names in os.walk(model_path):
        dirs[:] = sorted(d for d in dirs if not (Path(folder) / d).is_symlink())
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                found.append((path, path.relative_to(model_path).as_posix()))
    if not found:
        raise InvalidInput(f"model_path {str(model_path)!r} holds no files")
    return found


def _dataset_refs(datasets: Sequence[tuple[str, Any]] | None) -> builtins.list[dict[str, str]]:
    refs = []
    for role, dataset in datasets or []:
        dataset_id = getattr(dataset, "id", dataset)
        if not isinstance(dataset_id, str):
            raise InvalidInput(
                f"dataset {role!r}: register it first (a model's lineage names dataset versions)"
            )
        refs.append({"role": role, "dataset_id": dataset_id})
    return refs


class Model:
    """A registered model version: ``Model(ws, "iris-clf")`` is the latest; ``version=`` a number or alias."""

    def __init__(
        self,
        workspace: HasBackend,
        name: str | None = None,
        *,
        id: str | None = None,
        version: int | str | None = None,
    ):
        self.workspace = workspace
        registry = workspace.backend.registry
        if id is not None:
            self._info = registry.get_model_by_id(id)
        elif name is not None:
            self._info = registry.get_model(name, version)
        else:
            raise InvalidInput("Model(ws, name) or Model(ws, id=...)")

    @classmethod
    def _from_info(cls, workspace: HasBackend, info: ModelInfo) -> Model:
        obj = cls.__new__(cls)
        obj.workspace = workspace
        obj._info = info
        return obj

    # ---- registering --------------------------------------------------------------------------------

    @classmethod
    def register(
        cls,
        workspace: HasBackend,
        model_path: str | os.PathLike[str],
        model_name: str,
        *,
        tags: Mapping[str, str] | None = None,
        properties: Mapping[str, str] | None = None,
        description: str | None = None,
        datasets: Sequence[tuple[str, Any]] | None = None,
        framework: str | None = None,
        framework_version: str | None = None,
    ) -> Model:
        """Register a local file or folder as the next version of ``model_name``.

        Only bytes the workspace lacks are uploaded (content-addressed): re-registering the same files
        stores nothing new. ``datasets`` are ``(role, registered dataset)`` pairs: ``[("training", tab)]``.
        A folder with an ``MLmodel`` file is recognised as an MLflow model (flavors and signature).
        """
        files = []
        for path, relative in _local_files(Path(model_path)):
            digest, size = _hash(path)
            files.append(
                (
                    path,
                    ModelFile(path=relative, digest=digest, size=size, executable=os.access(path, os.X_OK)),
                )
            )
        jobs = workspace.backend.jobs
        missing = set(jobs.missing_blobs(sorted({f.digest for _, f in files})))
        for path, entry in files:
            if entry.digest in missing:
                jobs.upload_blob(entry.digest, _chunks(path))
                missing.discard(entry.digest)
        request = build(
            ModelRegister,
            name=model_name,
            files=[f for _, f in files],
            description=description,
            tags=dict(tags or {}),
            properties=dict(properties or {}),
            framework=framework,
            framework_version=framework_version,
            datasets=_dataset_refs(datasets),
        )
        return cls._from_info(workspace, workspace.backend.registry.register_model(request))

    @classmethod
    def register_from_run(
        cls,
        workspace: HasBackend,
        run_id: str,
        model_name: str,
        model_path: str,
        **fields: Any,
    ) -> Model:
        """Register a run's stored file or folder (``outputs/model.pkl``) as a model, with the run as lineage.

        No bytes move: the model's files are the run's blobs.
        """
        request = build(
            ModelRegister,
            name=model_name,
            run_id=run_id,
            run_path=model_path,
            description=fields.get("description"),
            tags=dict(fields.get("tags") or {}),
            properties=dict(fields.get("properties") or {}),
            framework=fields.get("framework"),
            framework_version=fields.get("framework_version"),
            datasets=_dataset_refs(fields.get("datasets")),
        )
        return cls._from_info(workspace, workspace.backend.registry.register_model(request))

    # ---- finding ------------------------------------------------------------------------------------

    @classmethod
    def list(
        cls,
        workspace: HasBackend,
        name: str | None = None,
        *,
        tags: Sequence[Sequence[str]] | None = None,
        properties: Sequence[Sequence[str]] | None = None,
        latest: bool = False,
        run_id: str | None = None,
    ) -> builtins.list[Model]:
        """Model versions matching every filter: ``tags=[["area", "iris"], ["stage"]]`` (a key alone: any)."""

        def pairs(items: Sequence[Sequence[str]] | None) -> builtins.list[tuple[str, str | None]]:
            return [(item[0], item[1] if len(item) > 1 else None) for item in items or []]

        search = build(
            ModelSearch,
            name=name,
            tags=pairs(tags),
            properties=pairs(properties),
            latest=latest,
            run_id=run_id,
        )
        return [cls._from_info(workspace, i) for i in workspace.backend.registry.list_models(search)]

    # ---- what it is ---------------------------------------------------------------------------------

    @property
    def info(self) -> ModelInfo:
        """Everything the registry holds about this version."""
        return self._info

    @property
    def id(self) -> str:
        return self._info.id

    @property
    def name(self) -> str:
        return self._info.name

    @property
    def version(self) -> int:
        return self._info.version

    @property
    def description(self) -> str | None:
        return self._info.description

    @property
    def tags(self) -> dict[str, str]:
        return dict(self._info.tags)

    @property
    def properties(self) -> dict[str, str]:
        return dict(self._info.properties)

    @property
    def aliases(self) -> builtins.list[str]:
        return builtins.list(self._info.aliases)

    @property
    def framework(self) -> str | None:
        return self._info.framework

    @property
    def run_id(self) -> str | None:
        return self._info.run_id

    @property
    def datasets(self) -> dict[str, ModelDatasetRef]:
        """The dataset versions the model was registered with, by role."""
        return {d.role: d for d in self._info.datasets}

    @property
    def created_time(self) -> datetime:
        return self._info.created_time

    def __repr__(self) -> str:
        shown = f"name={self.name!r}, version={self.version}, files={self._info.file_count}"
        return f"Model({shown}, id={self.id!r})"

    def get_files(self) -> builtins.list[ModelFile]:
        """The model's files: path, size, digest."""
        return self.workspace.backend.registry.get_model_files(self.id)

    # ---- changing -----------------------------------------------------------------------------------

    def _update(self, **fields: Any) -> None:
        self._info = self.workspace.backend.registry.update_model(self.id, build(ModelUpdate, **fields))

    def add_tags(self, tags: Mapping[str, str]) -> None:
        """Add or change tags."""
        self._update(add_tags=dict(tags))

    def remove_tags(self, keys: Sequence[str]) -> None:
        """Remove tags by key."""
        self._update(remove_tags=builtins.list(keys))

    def add_properties(self, properties: Mapping[str, str]) -> None:
        """Add properties (write-once: an existing key keeps its value)."""
        self._update(add_properties=dict(properties))

    def update(self, *, description: str | None = None) -> None:
        """Change the description."""
        self._update(description=description)

    def set_alias(self, alias: str) -> None:
        """Point ``alias`` (``"production"``) at this version; ``Model(ws, name, version=alias)`` finds it."""
        self._info = self.workspace.backend.registry.set_alias(self.name, alias, self.version)

    def remove_alias(self, alias: str) -> None:
        """Remove an alias of this model."""
        self.workspace.backend.registry.delete_alias(self.name, alias)
        self._info = self.workspace.backend.registry.get_model_by_id(self.id)

    def delete(self) -> None:
        """Delete this version (refused while a deployment serves it)."""
        self.workspace.backend.registry.delete_model(self.id)

    # ---- serving ------------------------------------------------------------------------------------

    @staticmethod
    def deploy(
        workspace: HasBackend,
        name: str,
        models: Sequence[Model | str],
        inference_config: Any = None,
        deployment_config: Any = None,
        *,
        deployment_name: str = "default",
        overwrite: bool = False,
        wait: bool = True,
        timeout: float = 300.0,
    ) -> Any:
        """Deploy model versions behind a new endpoint ``name`` in one call; returns the endpoint.

        The endpoint gets one deployment, ``deployment_name``, with all its traffic. Without an inference
        config (or without its entry script) the single MLflow-format model is served as it is. With
        ``overwrite`` an existing endpoint is reused and the deployment created or updated; its traffic
        split is left as it is.

        Args:
            workspace: Where the models are registered.
            name: The endpoint's name: a lower-case DNS label (``iris``, ``churn-v2``).
            models: The model versions (``ember.Model`` objects or their ids).
            inference_config: An ``ember.InferenceConfig``: the entry script, its folder and environment.
            deployment_config: An ``ember.DeploymentConfig``: replicas, autoscaling, data collection and
                the endpoint's auth mode.
            deployment_name: The deployment's name.
            overwrite: Reuse an existing endpoint of that name and update (or add) the deployment.
            wait: Wait until the deployment is ready.
            timeout: Seconds to wait.

        Raises:
            Conflict: The endpoint exists and ``overwrite`` is False, or it uses another auth mode than
                ``deployment_config`` asks for.
            DeploymentFailed: With ``wait``, the deployment failed to start (message: why, and its logs).
        """
        return links.get().deploy_models(
            workspace,
            name,
            models,
            inference_config=inference_config,
            deployment_config=deployment_config,
            deployment_name=deployment_name,
            overwrite=overwrite,
            wait=wait,
            timeout=timeout,
        )

    # ---- inside a scoring replica -------------------------------------------------------------------

    @staticmethod
    def get_model_path(model_name: str, version: int | None = None) -> str:
        """Where a deployed model's files are, inside a scoring replica's ``init()``: the file of a one-file
        model, else its folder. ``version=None`` is the (highest) version the deployment serves."""
        return find_model_path(model_name, version, error=InvalidInput)

    # ---- files --------------------------------------------------------------------------------------

    def download(self, target_dir: str | os.PathLike[str] = ".", *, exist_ok: bool = False) -> str:
        """Write the model's files into ``target_dir``; returns the file's path for a one-file model, else
        the folder. Existing files are refused unless ``exist_ok``; each file is checked by its digest."""
        registry = self.workspace.backend.registry
        files = registry.get_model_files(self.id)
        target = Path(target_dir)
        clashes = [f.path for f in files if (target / f.path).exists()]
        if clashes and not exist_ok:
            raise InvalidInput(f"{clashes[0]!r} exists in {str(target)!r}: pass exist_ok=True to replace it")
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".ember-model-", dir=target))
        try:
            write_tree(files, staging, open_file=lambda f: registry.open_model_file(self.id, f.path)[1])
            for f in files:
                dest = target.joinpath(*f.path.split("/"))
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(staging.joinpath(*f.path.split("/")), dest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        if len(files) == 1 and "/" not in files[0].path:
            return str(target / files[0].path)
        return str(target)
