"""The data part of the Backend contract: datastores, registered dataset versions, profiles and lineage.

``LocalData`` holds the rules (encrypted credentials, endpoint policy, versioning, fingerprints, lineage);
``RemoteData`` is its HTTP client. Reading the data itself happens where the caller is (the SDK opens the
datastore with the short-lived access ``get_datastore_access`` hands out), so bytes do not pass through
the server.
"""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod

from ember.entities.data import (
    DatasetFile,
    DatasetLink,
    DatasetPreview,
    DatasetProfile,
    DatasetRegister,
    DatasetVersionInfo,
    DatastoreAccess,
    DatastoreInfo,
    DatastoreListing,
    DatastoreRegister,
)

__all__ = ["DataBackend"]


class DataBackend(ABC):
    """Datastores and datasets of one workspace."""

    # ---- datastores ---------------------------------------------------------------------------------

    @abstractmethod
    def register_datastore(self, request: DatastoreRegister) -> DatastoreInfo:
        """Register a datastore; its credentials are encrypted with the workspace key and never returned.

        Raises:
            InvalidInput: A field is malformed, the endpoint is not allowed on this server, or credentials
                are given and the workspace has no key to encrypt them with.
            Conflict: The name is taken (and ``overwrite`` is false) or is the default datastore's.
        """

    @abstractmethod
    def get_datastore(self, name: str) -> DatastoreInfo:
        """One datastore (``workspace`` is the default one, the workspace's own storage).

        Raises:
            NotFound: No datastore has that name.
        """

    @abstractmethod
    def list_datastores(self) -> builtins.list[DatastoreInfo]:
        """Every datastore, the default one first, then by name."""

    @abstractmethod
    def delete_datastore(self, name: str) -> None:
        """Forget a datastore (its data stays where it is).

        Raises:
            NotFound: No datastore has that name.
            Conflict: It is the default datastore, or registered datasets read from it.
        """

    @abstractmethod
    def get_datastore_access(self, name: str, *, write: bool = False) -> DatastoreAccess:
        """Short-lived access to a datastore for the caller to read (or write) its files.

        Azure Blob gets a container SAS derived from the account key, S3 an STS session; the stored
        secret leaves the server only for datastores registered with ``credential_passthrough``.

        Raises:
            NotFound: No datastore has that name.
            InvalidInput: No short-lived credential can be made for it and passthrough is off.
        """

    @abstractmethod
    def list_datastore_files(self, name: str, path: str = "", *, limit: int = 1000) -> DatastoreListing:
        """The folders and files directly under ``path`` in a datastore, for browsing.

        Raises:
            NotFound: No datastore has that name, or nothing is under ``path``.
            InvalidInput: ``path`` leaves the datastore (``..``) or ``limit`` is out of 1..10,000.
        """

    # ---- datasets -----------------------------------------------------------------------------------

    @abstractmethod
    def register_dataset(self, request: DatasetRegister) -> DatasetVersionInfo:
        """Register a definition under a name; the files it matches now are its fingerprint.

        The same definition over unchanged files answers the latest version unchanged. A different one is
        the next version with ``create_new_version``, and a ``Conflict`` without it. Concurrent
        registrations of one name never share a version number.

        Raises:
            InvalidInput: The definition is malformed or names an unknown datastore.
            NotFound: A source matches no file.
            Conflict: The name exists and ``create_new_version`` is false.
        """

    @abstractmethod
    def get_dataset(self, name: str, version: int | None = None) -> DatasetVersionInfo:
        """One version of a dataset; ``version=None`` is the latest that is not archived.

        An archived version is answered when asked for by number (to inspect or reactivate it).

        Raises:
            NotFound: No dataset has that name (or it was unregistered), it has no such version, or
                every version is archived and none was named.
        """

    @abstractmethod
    def get_dataset_by_id(self, dataset_id: str) -> DatasetVersionInfo:
        """A dataset version by its id, whatever its state, also after its name was unregistered.

        Raises:
            NotFound: No dataset version has that id.
        """

    @abstractmethod
    def list_datasets(
        self, name: str | None = None, *, include_archived: bool = False
    ) -> builtins.list[DatasetVersionInfo]:
        """The latest version of every dataset by name; with ``name``, its versions, newest first.

        Archived versions are left out (and "latest" means the latest that is not archived) unless
        ``include_archived``; versions of an unregistered name are always left out.
        """

    @abstractmethod
    def get_dataset_files(self, dataset_id: str) -> builtins.list[DatasetFile]:
        """The files a version pointed at when it was registered, with their size, time and ETag."""

    @abstractmethod
    def update_dataset(
        self, dataset_id: str, *, description: str | None = None, tags: dict[str, str] | None = None
    ) -> DatasetVersionInfo:
        """Change a version's description or replace its tags (its definition never changes)."""

    @abstractmethod
    def preview_dataset(self, dataset_id: str, *, rows: int = 100) -> DatasetPreview:
        """The first rows of a tabular version, read on the server.

        Raises:
            InvalidInput: The version is a file dataset, or its files cannot be parsed (naming the file).
        """

    @abstractmethod
    def get_dataset_profile(self, dataset_id: str, *, refresh: bool = False) -> DatasetProfile:
        """Per-column statistics of a tabular version: computed on the first call, then cached.

        Raises:
            InvalidInput: The version is a file dataset, or its files cannot be parsed.
        """

    # ---- lifecycle ----------------------------------------------------------------------------------

    @abstractmethod
    def deprecate_dataset(self, dataset_id: str, *, deprecated_by: str) -> DatasetVersionInfo:
        """Mark a version deprecated in favour of another version; it still reads, with a warning.

        Deprecating a deprecated version again points it at the new replacement.

        Raises:
            InvalidInput: An id is malformed.
            NotFound: The version does not exist.
            Conflict: The version is archived or unregistered, or the replacement is the version itself,
                unknown, unregistered, archived or itself deprecated.
        """

    @abstractmethod
    def archive_dataset(self, dataset_id: str) -> DatasetVersionInfo:
        """Archive an active or deprecated version: hidden from lists and "latest", refused to readers
        and as a run input until reactivated; archiving an archived version changes nothing.

        Raises:
            NotFound: The version does not exist.
            Conflict: The version is unregistered, or deprecated versions name it as their replacement.
        """

    @abstractmethod
    def reactivate_dataset(self, dataset_id: str) -> DatasetVersionInfo:
        """Make an archived or deprecated version active again (an active one stays as it is).

        Raises:
            NotFound: The version does not exist.
            Conflict: The version is unregistered.
        """

    @abstractmethod
    def unregister_dataset(self, name: str) -> builtins.list[DatasetVersionInfo]:
        """Unregister every version of a name; returns them. The source data is untouched, and the
        versions stay findable by id for run lineage; registering the name again continues its numbers.

        Raises:
            NotFound: No registered dataset has that name.
            Conflict: Deprecated versions of other datasets name one of its versions as their replacement.
        """

    # ---- lineage ------------------------------------------------------------------------------------

    @abstractmethod
    def link_run_dataset(
        self, run_id: str, dataset_id: str, *, direction: str, name: str, mode: str
    ) -> DatasetLink:
        """Record that a run consumes (``input``) or produced (``output``) a dataset version.

        Raises:
            NotFound: The run or the dataset version does not exist.
            Conflict: The run already has a different dataset under that name and direction, or an input
                is archived.
        """

    @abstractmethod
    def get_run_datasets(self, run_id: str) -> builtins.list[DatasetLink]:
        """The datasets a run consumed and produced."""

    @abstractmethod
    def get_dataset_runs(self, dataset_id: str) -> builtins.list[DatasetLink]:
        """The runs that consumed or produced a dataset version, newest first."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
