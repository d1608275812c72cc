"""The SDK's composition: the cross-feature links (``ember.links``), installed by ``ember/__init__.py``.

This module sits above every feature package and beside the ``Workspace`` facade; it is the only place
where one feature's SDK call reaches another feature's SDK objects. Its imports are inside the methods, so
installing it costs ``import ember`` nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ember import links

if TYPE_CHECKING:  # at run time nothing heavy: ember/__init__.py imports this module
    from ember.backend import HasBackend

__all__ = ["SdkLinks", "install"]


class SdkLinks:
    """``ember.links.Links`` over the SDK's own classes."""

    def open_workspace(self, location: str, *, artifact_uri: str | None = None) -> HasBackend:
        from ember.workspace import Workspace

        return Workspace.get(location, artifact_uri=artifact_uri)

    def dataset(self, workspace: HasBackend, dataset_id: str) -> Any:
        from ember.data.dataset import Dataset

        return Dataset.get_by_id(workspace, dataset_id)

    def register_model_from_run(
        self, workspace: HasBackend, run_id: str, model_name: str, model_path: str, **fields: Any
    ) -> Any:
        from ember.registry.model import Model

        return Model.register_from_run(workspace, run_id, model_name, model_path, **fields)

    def deploy_models(self, workspace: HasBackend, name: str, models: Sequence[Any], **options: Any) -> Any:
        from ember.serving.deploy import deploy_models

        return deploy_models(workspace, name, models, **options)


def install() -> None:
    """Install ``SdkLinks`` as the links every feature's SDK objects use."""
    links.install(SdkLinks())
