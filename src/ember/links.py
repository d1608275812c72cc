"""The SDK's cross-feature links: where one feature's SDK object hands a call to another feature's.

A feature package imports neither ``ember.workspace`` nor another feature's SDK objects (import-linter
proves it in ``make lint``). The few verbs that must cross — ``Run.get_context()`` opens the workspace
facade, ``Run.input_datasets`` returns ``Dataset`` objects, ``Run.register_model`` a ``Model``,
``Model.deploy`` an ``Endpoint`` — ask the ``Links`` that ``ember/__init__.py``, the SDK's composition root,
installs from ``ember.sdk``, which sits above every feature.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # at run time nothing heavy: ember/__init__.py imports this module
    from ember.backend import HasBackend

__all__ = ["Links", "get", "install"]


class Links(Protocol):
    """The cross-feature calls, implemented above the features (``ember.sdk``)."""

    def open_workspace(self, location: str, *, artifact_uri: str | None = None) -> HasBackend:
        """The ``ember.Workspace`` at ``location`` (a folder, a database URI or a server URL)."""
        ...

    def dataset(self, workspace: HasBackend, dataset_id: str) -> Any:
        """The registered dataset version ``dataset_id`` as an ``ember.Dataset``."""
        ...

    def register_model_from_run(
        self, workspace: HasBackend, run_id: str, model_name: str, model_path: str, **fields: Any
    ) -> Any:
        """Register a run's stored file or folder as a model version; an ``ember.Model``."""
        ...

    def deploy_models(self, workspace: HasBackend, name: str, models: Sequence[Any], **options: Any) -> Any:
        """Deploy model versions behind a new endpoint (or an existing one); an ``ember.Endpoint``."""
        ...


_installed: Links | None = None


def install(links: Links) -> None:
    """Make ``links`` the implementation every feature's SDK objects use (done by ``ember/__init__.py``)."""
    global _installed
    _installed = links


def get() -> Links:
    """The installed links."""
    if _installed is None:  # ember/__init__.py installs them before any submodule runs
        raise RuntimeError("ember's SDK links are not installed: import ember before its submodules")
    return _installed
