"""The registry part of the Backend contract: registering, finding, changing and deleting model versions.

``LocalRegistry`` holds the rules (version allocation, aliases, lineage checks, deletion protection);
``RemoteRegistry`` is its HTTP client. A model's bytes are content-addressed blobs: a client uploads the
ones the workspace lacks through the blob API (``JobsBackend.missing_blobs`` / ``upload_blob``) and then
registers the manifest; a model made of a run's outputs moves no bytes at all.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import Iterator

from ember.entities.registry import ModelFile, ModelInfo, ModelRegister, ModelSearch, ModelUpdate

__all__ = ["RegistryBackend"]


class RegistryBackend(ABC):
    """Registered models of one workspace."""

    @abstractmethod
    def register_model(self, request: ModelRegister) -> ModelInfo:
        """Register files as the next version of a model name (1, 2, ... per name).

        Concurrent registrations of one name never share a version. A folder holding an ``MLmodel`` file is
        recognised as an MLflow model: its flavors and signature are recorded.

        Raises:
            InvalidInput: A field is malformed, a file's blob was not uploaded, or the run has no such path.
            NotFound: The run or a dataset does not exist.
        """

    @abstractmethod
    def get_model(self, name: str, version: int | str | None = None) -> ModelInfo:
        """One version of a model: a number, an alias (``"production"``), or None for the latest.

        Raises:
            NotFound: No model has that name, or it has no such version or alias.
        """

    @abstractmethod
    def get_model_by_id(self, model_id: str) -> ModelInfo:
        """A model version by its id."""

    @abstractmethod
    def list_models(self, search: ModelSearch | None = None) -> builtins.list[ModelInfo]:
        """Versions matching every condition of ``search``, by name then newest version first."""

    @abstractmethod
    def get_model_files(self, model_id: str) -> builtins.list[ModelFile]:
        """The files of a model version, sorted by path."""

    @abstractmethod
    def open_model_file(self, model_id: str, path: str) -> tuple[ModelFile, Iterator[bytes]]:
        """A model file's entry and its bytes, as a stream of chunks.

        Raises:
            NotFound: The version has no such file.
        """

    @abstractmethod
    def update_model(self, model_id: str, update: ModelUpdate) -> ModelInfo:
        """Change the description, add or remove tags, add properties (properties are never removed)."""

    @abstractmethod
    def set_alias(self, name: str, alias: str, version: int) -> ModelInfo:
        """Point ``alias`` at a version of ``name`` (moving it from another version); returns that version."""

    @abstractmethod
    def delete_alias(self, name: str, alias: str) -> None:
        """Remove an alias.

        Raises:
            NotFound: The model has no such alias.
        """

    @abstractmethod
    def delete_model(self, model_id: str) -> None:
        """Delete a model version (its aliases go with it; its bytes are freed by garbage collection).

        Raises:
            NotFound: No model version has that id.
            Conflict: An active deployment serves it (the message names the deployment).
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
