"""The ``Experiment`` SDK object: a named group of runs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ember.entities import ExperimentInfo, ExperimentUpdate, RunSearch
from ember.tracking.run import Run

if TYPE_CHECKING:
    from ember.workspace import Workspace

__all__ = ["Experiment"]


class Experiment:
    """A named group of runs; ``Experiment(ws, "iris")`` gets it, creating it when missing."""

    def __init__(self, workspace: Workspace, name: str, *, _info: ExperimentInfo | None = None) -> None:
        self.workspace = workspace
        self._info = _info or workspace.backend.tracking.get_or_create_experiment(name)

    @classmethod
    def _from_info(cls, workspace: Workspace, info: ExperimentInfo) -> Experiment:
        return cls(workspace, info.name, _info=info)

    @property
    def id(self) -> str:
        """The experiment's id."""
        return self._info.id

    @property
    def name(self) -> str:
        """The experiment's name."""
        return self._info.name

    @property
    def archived(self) -> bool:
        """Whether the experiment is archived."""
        return self._info.lifecycle_stage == "archived"

    @property
    def info(self) -> ExperimentInfo:
        """The experiment's attributes as last read."""
        return self._info

    def refresh(self) -> Experiment:
        """Re-read the experiment's attributes."""
        self._info = self.workspace.backend.tracking.get_experiment(self.id)
        return self

    def __repr__(self) -> str:
        return f"Experiment(name={self.name!r}, id={self.id!r}, runs={self._info.run_count})"

    def start_logging(
        self,
        display_name: str | None = None,
        *,
        tags: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> Run:
        """Start an interactive run; as a context manager it completes (or fails) on exit."""
        return Run._create(self, display_name=display_name, tags=tags, description=description)

    def submit(self, config: Any, tags: Mapping[str, str] | None = None, **kwargs: Any) -> Run:
        """Submit a run configuration (``ScriptRunConfig``, an estimator…) as a new run of this experiment."""
        submit_to = getattr(config, "submit_to", None)
        if submit_to is None:
            raise TypeError(f"{type(config).__name__} cannot be submitted: use ember.ScriptRunConfig")
        run: Run = submit_to(self, tags=tags, **kwargs)
        return run

    def get_runs(self, *, include_children: bool = False) -> Iterator[Run]:
        """The experiment's runs, newest first (top-level only unless ``include_children``)."""
        token: str | None = None
        filter_ = None
        while True:
            page = self.workspace.backend.tracking.search_runs(
                RunSearch(experiment_ids=[self.id], filter=filter_, max_results=1000, page_token=token)
            )
            for details in page.runs:
                if include_children or details.info.parent_run_id is None:
                    yield Run(self, details.info.id, _details=details)
            token = page.next_page_token
            if token is None:
                return

    def set_tags(self, tags: Mapping[str, str]) -> None:
        """Set tags on the experiment."""
        self._info = self.workspace.backend.tracking.update_experiment(
            self.id, ExperimentUpdate(tags=dict(tags))
        )

    def archive(self) -> None:
        """Hide the experiment from lists; its runs stay."""
        self._info = self.workspace.backend.tracking.set_experiment_lifecycle(self.id, "archived")

    def reactivate(self) -> None:
        """Undo ``archive`` or ``delete``."""
        self._info = self.workspace.backend.tracking.set_experiment_lifecycle(self.id, "active")

    restore = reactivate

    def delete(self) -> None:
        """Soft-delete the experiment; ``ember gc`` removes it for good."""
        self._info = self.workspace.backend.tracking.set_experiment_lifecycle(self.id, "deleted")
