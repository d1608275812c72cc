"""The data REST API (``/api/v1``): datastores (never their credentials), datasets, profiles and lineage."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from ember.backend import Backend
from ember.contracts.data import DataBackend
from ember.entities.data import (
    DatasetDeprecate,
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
from ember.entities.tracking import MAX_DESCRIPTION
from ember.server.auth import authorize
from ember.server.routes.tracking import _json, _no_content
from ember.server.schemas import ERROR_RESPONSES

__all__ = ["router"]

router = APIRouter(dependencies=[Depends(authorize)], tags=["data"], responses=ERROR_RESPONSES)


def get_data(request: Request) -> DataBackend:
    """The data backend of the workspace this app serves."""
    backend: Backend = request.app.state.backend
    return backend.data


Data = Annotated[DataBackend, Depends(get_data)]
Version = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="The version; latest when left out.")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AccessRequest(_Body):
    """What the access is for."""

    write: bool = False


class DatasetUpdate(_Body):
    """Request body to change a dataset version's description or tags."""

    description: str | None = Field(default=None, max_length=MAX_DESCRIPTION)
    tags: dict[str, str] | None = None


class DatasetLinkCreate(_Body):
    """Request body to record that a run consumes or produced a dataset version."""

    dataset_id: str = Field(min_length=1, max_length=64)
    direction: Literal["input", "output"]
    name: str = Field(min_length=1, max_length=255)
    mode: Literal["direct", "download", "output"]


def _list(items: list[Any]) -> Response:
    return Response(
        json.dumps([json.loads(i.model_dump_json()) for i in items]), media_type="application/json"
    )


# ---- datastores -------------------------------------------------------------------------------------


@router.post("/datastores", response_model=DatastoreInfo)
def register_datastore(body: DatastoreRegister, data: Data) -> Response:
    """Register a datastore; its credentials are stored encrypted and never returned."""
    return _json(data.register_datastore(body))


@router.get("/datastores", response_model=list[DatastoreInfo])
def list_datastores(data: Data) -> Response:
    """Every datastore, the workspace's default one first."""
    return _list(data.list_datastores())


@router.get("/datastores/{name}", response_model=DatastoreInfo)
def get_datastore(name: str, data: Data) -> Response:
    """One datastore: where it points and what kind of credential it holds, never the credential."""
    return _json(data.get_datastore(name))


@router.delete("/datastores/{name}", status_code=204)
def delete_datastore(name: str, data: Data) -> Response:
    """Forget a datastore; refused while registered datasets read from it."""
    data.delete_datastore(name)
    return _no_content()


@router.post("/datastores/{name}/access", response_model=DatastoreAccess)
def get_datastore_access(name: str, body: AccessRequest, data: Data) -> Response:
    """Short-lived access to a datastore's files (an Azure SAS, an STS session), for the caller to read."""
    return _json(data.get_datastore_access(name, write=body.write))


@router.get("/datastores/{name}/files", response_model=DatastoreListing)
def list_datastore_files(
    name: str,
    data: Data,
    path: Annotated[str, Query(max_length=4096, description="A folder inside the datastore.")] = "",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> Response:
    """The folders and files directly under ``path``: browsing a datastore."""
    return _json(data.list_datastore_files(name, path, limit=limit))


# ---- datasets ---------------------------------------------------------------------------------------


@router.post("/datasets", response_model=DatasetVersionInfo)
def register_dataset(body: DatasetRegister, data: Data) -> Response:
    """Register a dataset definition; the files it matches now become the version's fingerprint."""
    return _json(data.register_dataset(body))


@router.get("/datasets", response_model=list[DatasetVersionInfo])
def list_datasets(
    data: Data,
    name: Annotated[str | None, Query(description="List every version of this dataset.")] = None,
    include_archived: Annotated[bool, Query(description="Show archived versions too.")] = False,
) -> Response:
    """The latest version of every dataset; with ``name``, its versions, newest first (archived ones left
    out unless ``include_archived``)."""
    return _list(data.list_datasets(name, include_archived=include_archived))


@router.get("/datasets/{name}", response_model=DatasetVersionInfo)
def get_dataset(name: str, data: Data, version: Version = None) -> Response:
    """One version of a dataset (the latest unless ``version`` is given)."""
    return _json(data.get_dataset(name, version))


@router.delete("/datasets/{name}", response_model=list[DatasetVersionInfo])
def unregister_dataset(name: str, data: Data) -> Response:
    """Unregister every version of a dataset (its data and run lineage stay); answers those versions."""
    return _list(data.unregister_dataset(name))


@router.post("/dataset-versions/{dataset_id}/deprecate", response_model=DatasetVersionInfo)
def deprecate_dataset(dataset_id: str, body: DatasetDeprecate, data: Data) -> Response:
    """Deprecate a version in favour of another; it still reads, with a warning naming the replacement."""
    return _json(data.deprecate_dataset(dataset_id, deprecated_by=body.deprecated_by))


@router.post("/dataset-versions/{dataset_id}/archive", response_model=DatasetVersionInfo)
def archive_dataset(dataset_id: str, data: Data) -> Response:
    """Archive a version: hidden from lists and "latest", refused to readers and runs until reactivated."""
    return _json(data.archive_dataset(dataset_id))


@router.post("/dataset-versions/{dataset_id}/reactivate", response_model=DatasetVersionInfo)
def reactivate_dataset(dataset_id: str, data: Data) -> Response:
    """Make an archived or deprecated version active again."""
    return _json(data.reactivate_dataset(dataset_id))


@router.get("/dataset-versions/{dataset_id}", response_model=DatasetVersionInfo)
def get_dataset_by_id(dataset_id: str, data: Data) -> Response:
    """A dataset version by id."""
    return _json(data.get_dataset_by_id(dataset_id))


@router.patch("/dataset-versions/{dataset_id}", response_model=DatasetVersionInfo)
def update_dataset(dataset_id: str, body: DatasetUpdate, data: Data) -> Response:
    """Change a version's description or replace its tags."""
    return _json(data.update_dataset(dataset_id, description=body.description, tags=body.tags))


@router.get("/dataset-versions/{dataset_id}/files", response_model=list[DatasetFile])
def get_dataset_files(dataset_id: str, data: Data) -> Response:
    """The files the version pointed at when registered."""
    return _list(data.get_dataset_files(dataset_id))


@router.get("/dataset-versions/{dataset_id}/preview", response_model=DatasetPreview)
def preview_dataset(
    dataset_id: str, data: Data, rows: Annotated[int, Query(ge=1, le=10_000)] = 100
) -> Response:
    """The first rows of a tabular version."""
    return _json(data.preview_dataset(dataset_id, rows=rows))


@router.get("/dataset-versions/{dataset_id}/profile", response_model=DatasetProfile)
def get_dataset_profile(dataset_id: str, data: Data) -> Response:
    """Per-column statistics of a tabular version, computed on the first request and then cached."""
    return _json(data.get_dataset_profile(dataset_id))


@router.post("/dataset-versions/{dataset_id}/profile", response_model=DatasetProfile)
def refresh_dataset_profile(dataset_id: str, data: Data) -> Response:
    """Compute a version's profile again and cache it."""
    return _json(data.get_dataset_profile(dataset_id, refresh=True))


@router.get("/dataset-versions/{dataset_id}/runs", response_model=list[DatasetLink])
def get_dataset_runs(dataset_id: str, data: Data) -> Response:
    """The runs that consumed or produced the version."""
    return _list(data.get_dataset_runs(dataset_id))


# ---- lineage from the run's side --------------------------------------------------------------------


@router.get("/runs/{run_id}/datasets", response_model=list[DatasetLink])
def get_run_datasets(run_id: str, data: Data) -> Response:
    """The datasets a run consumed and produced."""
    return _list(data.get_run_datasets(run_id))


@router.post("/runs/{run_id}/datasets", response_model=DatasetLink)
def link_run_dataset(run_id: str, body: DatasetLinkCreate, data: Data) -> Response:
    """Record that a run consumes or produced a dataset version."""
    link = data.link_run_dataset(
        run_id, body.dataset_id, direction=body.direction, name=body.name, mode=body.mode
    )
    return _json(link)
