"""The ``Workspace`` SDK object: the entry point to everything else."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ember.backend import Backend
from ember.config import find_workspace_target, write_config
from ember.entities import RunSearch, WorkspaceInfo
from ember.entities.validation import build

if TYPE_CHECKING:
    from ember.data.datastore import Datastore
    from ember.tracking.run import Experiment, Run

__all__ = ["RunList", "Workspace"]


class RunList(list["Run"]):
    """A page of runs; ``next_page_token`` fetches the next page (None on the last one)."""

    next_page_token: str | None = None


class Workspace:
    """A workspace: experiments, runs and (later) data, models, endpoints.

    ``Workspace.create("./ws")`` makes a local one (SQLite + a folder), ``Workspace.connect(url)``
    talks to ``ember server``, ``Workspace.from_config()`` finds the one configured for this folder.
    """

    def __init__(self, backend: Backend, *, target: str | None = None) -> None:
        self.backend = backend
        self.target = target
        self._info: WorkspaceInfo | None = None

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str] | None = None,
        *,
        name: str | None = None,
        metadata_uri: str | None = None,
        artifact_uri: str | None = None,
        exist_ok: bool = True,
    ) -> Workspace:
        """Create a workspace in a folder, or on a database plus an artifact store; open it if it exists."""
        from ember.wiring import create_workspace

        backend = create_workspace(
            path, name=name, metadata_uri=metadata_uri, artifact_uri=artifact_uri, exist_ok=exist_ok
        )
        target = str(Path(path).resolve()) if path is not None else metadata_uri
        return cls(backend, target=target)

    @classmethod
    def get(cls, target: str | os.PathLike[str], *, artifact_uri: str | None = None) -> Workspace:
        """Open an existing workspace: a folder, a database URI or a server URL."""
        from ember.wiring import open_backend

        location = os.fspath(target)
        return cls(open_backend(location, artifact_uri=artifact_uri), target=location)

    @classmethod
    def connect(cls, url: str, *, token: str | None = None) -> Workspace:
        """The workspace served by ``ember server`` at ``url``."""
        from ember.wiring import open_backend

        return cls(open_backend(url, token=token), target=url)

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None) -> Workspace:
        """The workspace named by ``$EMBER_WORKSPACE`` or the nearest ``.ember/config.json``."""
        return cls.get(find_workspace_target(start=path))

    def write_config(self, directory: str | os.PathLike[str] = ".") -> Path:
        """Write ``.ember/config.json`` so that ``from_config`` and the CLI find this workspace."""
        if self.target is None:
            raise ValueError("this workspace has no location to write")
        return write_config(self.target, directory)

    @property
    def info(self) -> WorkspaceInfo:
        """Identity and storage of the workspace."""
        if self._info is None:
            self._info = self.backend.tracking.get_workspace_info()
        return self._info

    @property
    def name(self) -> str:
        """The workspace's name."""
        return self.info.name

    def __repr__(self) -> str:
        return f"Workspace(name={self.name!r}, backend={self.backend.kind!r}, target={self.target!r})"

    @property
    def experiments(self) -> dict[str, Experiment]:
        """Active experiments by name."""
        from ember.tracking.run import Experiment

        out: dict[str, Experiment] = {}
        token: str | None = None
        while True:
            page = self.backend.tracking.list_experiments(page_token=token)
            out.update({e.name: Experiment._from_info(self, e) for e in page.experiments})
            token = page.next_page_token
            if token is None:
                return out

    def get_experiment(self, name: str) -> Experiment:
        """An existing experiment by name (``NotFound`` if missing)."""
        from ember.tracking.run import Experiment

        return Experiment._from_info(self, self.backend.tracking.get_experiment_by_name(name))

    def get_run(self, run_id: str) -> Run:
        """The run with this id."""
        from ember.tracking.run import Run

        return Run.get(self, run_id)

    def search_runs(
        self,
        *,
        experiment: str | list[str] | None = None,
        filter: str | None = None,
        order_by: list[str] | None = None,
        max_results: int = 100,
        page_token: str | None = None,
        include_deleted: bool = False,
    ) -> RunList:
        """Runs matching a filter such as ``"metrics.loss < 0.1 and params.model = 'logreg'"``."""
        from ember.tracking.run import Experiment, Run

        names = [experiment] if isinstance(experiment, str) else (experiment or [])
        experiments = {e.id: e for e in (self.get_experiment(n) for n in names)}
        request = build(
            RunSearch,
            experiment_ids=list(experiments) or None,
            filter=filter,
            order_by=order_by or [],
            max_results=max_results,
            page_token=page_token,
            lifecycle="all" if include_deleted else "active",
        )
        page = self.backend.tracking.search_runs(request)
        result = RunList()
        for details in page.runs:
            exp = experiments.get(details.info.experiment_id)
            if exp is None:
                exp = experiments[details.info.experiment_id] = Experiment._from_info(
                    self, self.backend.tracking.get_experiment(details.info.experiment_id)
                )
            result.append(Run(exp, details.info.id, _details=details))
        result.next_page_token = page.next_page_token
        return result

    # -- data ----------------------------------------------------------------------------------------
    def get_default_datastore(self) -> Datastore:
        """The workspace's own storage, as a datastore."""
        from ember.data.datastore import Datastore

        return Datastore.get_default(self)

    @property
    def datastores(self) -> dict[str, Datastore]:
        """Every datastore by name, the default one (``workspace``) included."""
        from ember.data.datastore import Datastore

        return {d.name: d for d in Datastore.list(self)}

    @property
    def datasets(self) -> dict[str, Any]:
        """The latest version of every registered dataset, by name."""
        from ember.data.dataset import Dataset

        return Dataset.get_all(self)

    def gc(self, *, older_than_seconds: float = 0.0) -> dict[str, Any]:
        """Permanently remove deleted runs and experiments and free their bytes."""
        return self.backend.tracking.purge(older_than_seconds=older_than_seconds).model_dump()

    def close(self) -> None:
        """Release the workspace's connections."""
        self.backend.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
