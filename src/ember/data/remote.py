"""``RemoteData``: the data contract over the REST API of ``ember server``, no rules here."""

from __future__ import annotations

import builtins
from typing import Any

from ember.contracts.data import DataBackend
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
from ember.transport import HttpClient, url_segment

__all__ = ["RemoteData"]

_API = "/api/v1"


class RemoteData(DataBackend):
    """Datastores and datasets through the server; every rule runs there."""

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    # ---- datastores ---------------------------------------------------------------------------------

    def register_datastore(self, request: DatastoreRegister) -> DatastoreInfo:
        body = request.model_dump(mode="json")
        # model_dump masks SecretStr as '**********': send the values themselves, once, to the server.
        body["credentials"] = {k: v.get_secret_value() for k, v in request.credentials.items()}
        return DatastoreInfo.model_validate(self._client.post(f"{_API}/datastores", json=body))

    def get_datastore(self, name: str) -> DatastoreInfo:
        return DatastoreInfo.model_validate(self._client.get(f"{_API}/datastores/{url_segment(name)}"))

    def list_datastores(self) -> builtins.list[DatastoreInfo]:
        return [DatastoreInfo.model_validate(d) for d in self._client.get(f"{_API}/datastores")]

    def delete_datastore(self, name: str) -> None:
        self._client.delete(f"{_API}/datastores/{url_segment(name)}")

    def get_datastore_access(self, name: str, *, write: bool = False) -> DatastoreAccess:
        answer = self._client.post(f"{_API}/datastores/{url_segment(name)}/access", json={"write": write})
        return DatastoreAccess.model_validate(answer)

    def list_datastore_files(self, name: str, path: str = "", *, limit: int = 1000) -> DatastoreListing:
        answer = self._client.get(
            f"{_API}/datastores/{url_segment(name)}/files", params={"path": path, "limit": limit}
        )
        return DatastoreListing.model_validate(answer)

    # ---- datasets -----------------------------------------------------------------------------------

    def register_dataset(self, request: DatasetRegister) -> DatasetVersionInfo:
        body = request.model_dump(mode="json")
        return DatasetVersionInfo.model_validate(self._client.post(f"{_API}/datasets", json=body))

    def get_dataset(self, name: str, version: int | None = None) -> DatasetVersionInfo:
        params: dict[str, Any] | None = None if version is None else {"version": version}
        answer = self._client.get(f"{_API}/datasets/{url_segment(name)}", params=params)
        return DatasetVersionInfo.model_validate(answer)

    def get_dataset_by_id(self, dataset_id: str) -> DatasetVersionInfo:
        return DatasetVersionInfo.model_validate(
            self._client.get(f"{_API}/dataset-versions/{url_segment(dataset_id)}")
        )

    def list_datasets(
        self, name: str | None = None, *, include_archived: bool = False
    ) -> builtins.list[DatasetVersionInfo]:
        params: dict[str, Any] = {} if name is None else {"name": name}
        if include_archived:
            params["include_archived"] = "true"
        return [
            DatasetVersionInfo.model_validate(d)
            for d in self._client.get(f"{_API}/datasets", params=params or None)
        ]

    def get_dataset_files(self, dataset_id: str) -> builtins.list[DatasetFile]:
        answer = self._client.get(f"{_API}/dataset-versions/{url_segment(dataset_id)}/files")
        return [DatasetFile.model_validate(f) for f in answer]

    def update_dataset(
        self, dataset_id: str, *, description: str | None = None, tags: dict[str, str] | None = None
    ) -> DatasetVersionInfo:
        body = {"description": description, "tags": tags}
        answer = self._client.patch(f"{_API}/dataset-versions/{url_segment(dataset_id)}", json=body)
        return DatasetVersionInfo.model_validate(answer)

    def preview_dataset(self, dataset_id: str, *, rows: int = 100) -> DatasetPreview:
        answer = self._client.get(
            f"{_API}/dataset-versions/{url_segment(dataset_id)}/preview", params={"rows": rows}
        )
        return DatasetPreview.model_validate(answer)

    def get_dataset_profile(self, dataset_id: str, *, refresh: bool = False) -> DatasetProfile:
        path = f"{_API}/dataset-versions/{url_segment(dataset_id)}/profile"
        answer = self._client.post(path, json={}) if refresh else self._client.get(path)
        return DatasetProfile.model_validate(answer)

    # ---- lifecycle ----------------------------------------------------------------------------------

    def deprecate_dataset(self, dataset_id: str, *, deprecated_by: str) -> DatasetVersionInfo:
        answer = self._client.post(
            f"{_API}/dataset-versions/{url_segment(dataset_id)}/deprecate",
            json={"deprecated_by": deprecated_by},
        )
        return DatasetVersionInfo.model_validate(answer)

    def archive_dataset(self, dataset_id: str) -> DatasetVersionInfo:
        answer = self._client.post(f"{_API}/dataset-versions/{url_segment(dataset_id)}/archive", json={})
        return DatasetVersionInfo.model_validate(answer)

    def reactivate_dataset(self, dataset_id: str) -> DatasetVersionInfo:
        answer = self._client.post(f"{_API}/dataset-versions/{url_segment(dataset_id)}/reactivate", json={})
        return DatasetVersionInfo.model_validate(answer)

    def unregister_dataset(self, name: str) -> builtins.list[DatasetVersionInfo]:
        answer = self._client.delete(f"{_API}/datasets/{url_segment(name)}")
        return [DatasetVersionInfo.model_validate(d) for d in answer]

    # ---- lineage ------------------------------------------------------------------------------------

    def link_run_dataset(
        self, run_id: str, dataset_id: str, *, direction: str, name: str, mode: str
    ) -> DatasetLink:
        body = {"dataset_id": dataset_id, "direction": direction, "name": name, "mode": mode}
        answer = self._client.post(f"{_API}/runs/{url_segment(run_id)}/datasets", json=body)
        return DatasetLink.model_validate(answer)

    def get_run_datasets(self, run_id: str) -> builtins.list[DatasetLink]:
        answer = self._client.get(f"{_API}/runs/{url_segment(run_id)}/datasets")
        return [DatasetLink.model_validate(link) for link in answer]

    def get_dataset_runs(self, dataset_id: str) -> builtins.list[DatasetLink]:
        answer = self._client.get(f"{_API}/dataset-versions/{url_segment(dataset_id)}/runs")
        return [DatasetLink.model_validate(link) for link in answer]
