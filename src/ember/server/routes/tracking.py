"""The tracking REST API (``/api/v1``): experiments, runs, metrics, artifacts.

Routes are thin: they check ids and URL paths, call ``backend.tracking`` and shape the answer. Every
rule lives in the backend. Answers are serialised by the entities themselves (``model_dump_json``),
which keeps NaN and +-inf as ``"NaN"``/``"Infinity"``/``"-Infinity"`` and skips a second validation.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Iterator
from typing import Annotated, Any, TypeVar
from urllib.parse import quote

import anyio.from_thread
import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic.json_schema import models_json_schema
from starlette.convertors import Convertor, register_url_convertor
from starlette.responses import Response

from ember.artifacts.paths import check_id, normalize_artifact_path
from ember.backend import Backend
from ember.contracts.tracking import TrackingBackend
from ember.entities import (
    ArtifactInfo,
    ExperimentCreate,
    ExperimentInfo,
    ExperimentKeys,
    ExperimentPage,
    ExperimentUpdate,
    LifecycleFilter,
    MetricHistory,
    PurgeReport,
    RunCreate,
    RunDetails,
    RunInfo,
    RunMetrics,
    RunPage,
    RunSearch,
    RunUpdate,
    TableRows,
    WorkspaceInfo,
)
from ember.entities.validation import describe_validation_error
from ember.errors import InvalidInput
from ember.server.auth import CurrentIdentity, authorize, require
from ember.server.schemas import (
    ERROR_RESPONSES,
    MetricBatch,
    ParamsBody,
    PropertiesBody,
    PurgeRequest,
    TagsBody,
)

__all__ = ["add_raw_body_schemas", "router"]

M = TypeVar("M", bound=BaseModel)

router = APIRouter(dependencies=[Depends(authorize)], tags=["tracking"], responses=ERROR_RESPONSES)

# Served inline: types a browser only displays. Everything else (HTML, SVG, JS, XML, unknown) is an
# attachment, so an uploaded page can never run in the server's origin.
_INLINE_TYPES = frozenset(
    {"text/plain", "text/csv", "application/json", "image/png", "image/jpeg", "image/gif", "image/webp"}
)
_ARTIFACT_LIST = TypeAdapter(list[ArtifactInfo])
_RAW_BODY_MODELS: tuple[type[BaseModel], ...] = (MetricBatch,)


# -- dependencies ------------------------------------------------------------------------------
def get_tracking(request: Request) -> TrackingBackend:
    """The tracking backend of the workspace this app serves."""
    backend: Backend = request.app.state.backend
    return backend.tracking


def _run_id(run_id: str) -> str:
    return check_id(run_id, "run")


def _experiment_id(experiment_id: str) -> str:
    return check_id(experiment_id, "experiment")


Tracking = Annotated[TrackingBackend, Depends(get_tracking)]
RunId = Annotated[str, Depends(_run_id)]
ExperimentId = Annotated[str, Depends(_experiment_id)]


# -- helpers -----------------------------------------------------------------------------------
def _json(model: BaseModel, status_code: int = 200) -> Response:
    return Response(model.model_dump_json(), status_code=status_code, media_type="application/json")


def _no_content() -> Response:
    return Response(status_code=204)


def _parse(model: type[M], body: bytes) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def _json_body(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI of a JSON body that a route parses itself (see ``add_raw_body_schemas``)."""
    ref = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": ref}}}}


def add_raw_body_schemas(openapi: dict[str, Any]) -> None:
    """Add the schemas of bodies parsed by hand (hot paths) to an OpenAPI document's components."""
    _, defs = models_json_schema(
        [(model, "validation") for model in _RAW_BODY_MODELS], ref_template="#/components/schemas/{model}"
    )
    openapi.setdefault("components", {}).setdefault("schemas", {}).update(defs.get("$defs", {}))


# -- workspace ---------------------------------------------------------------------------------
@router.get("/workspace", response_model=WorkspaceInfo)
def get_workspace(tracking: Tracking) -> Response:
    """Identity and storage of the workspace."""
    return _json(tracking.get_workspace_info())


# -- experiments -------------------------------------------------------------------------------
@router.post("/experiments", status_code=201, response_model=ExperimentInfo)
def create_experiment(body: ExperimentCreate, tracking: Tracking) -> Response:
    """Create an experiment; 409 when the name is taken."""
    return _json(tracking.create_experiment(body), 201)


@router.get("/experiments", response_model=ExperimentPage)
def list_experiments(
    tracking: Tracking,
    lifecycle: LifecycleFilter = "active",
    max_results: int = 1000,
    page_token: str | None = None,
) -> Response:
    """Experiments, most recently active first, one page at a time."""
    page = tracking.list_experiments(lifecycle=lifecycle, max_results=max_results, page_token=page_token)
    return _json(page)


@router.put("/experiments/by-name/{name:path}", response_model=ExperimentInfo)
def get_or_create_experiment(name: str, tracking: Tracking) -> Response:
    """The experiment of that name, created when missing."""
    return _json(tracking.get_or_create_experiment(name))


@router.get("/experiments/by-name/{name:path}", response_model=ExperimentInfo)
def get_experiment_by_name(name: str, tracking: Tracking) -> Response:
    """The experiment with this name, whatever its lifecycle stage."""
    return _json(tracking.get_experiment_by_name(name))


@router.get("/experiments/{experiment_id}", response_model=ExperimentInfo)
def get_experiment(experiment_id: ExperimentId, tracking: Tracking) -> Response:
    """The experiment with this id, whatever its lifecycle stage."""
    return _json(tracking.get_experiment(experiment_id))


@router.get("/experiments/{experiment_id}/keys", response_model=ExperimentKeys)
def get_experiment_keys(experiment_id: ExperimentId, tracking: Tracking) -> Response:
    """The param, metric and tag keys the experiment's runs use (the columns a runs table can show)."""
    return _json(tracking.get_experiment_keys(experiment_id))


@router.patch("/experiments/{experiment_id}", response_model=ExperimentInfo)
def update_experiment(experiment_id: ExperimentId, body: ExperimentUpdate, tracking: Tracking) -> Response:
    """Change the description and/or tags; fields left out stay."""
    return _json(tracking.update_experiment(experiment_id, body))


@router.post("/experiments/{experiment_id}/archive", response_model=ExperimentInfo)
def archive_experiment(experiment_id: ExperimentId, tracking: Tracking) -> Response:
    """Archive an experiment: hidden from default lists, kept intact."""
    return _json(tracking.set_experiment_lifecycle(experiment_id, "archived"))


@router.post("/experiments/{experiment_id}/restore", response_model=ExperimentInfo)
def restore_experiment(experiment_id: ExperimentId, tracking: Tracking) -> Response:
    """Bring an archived or deleted experiment back to active."""
    return _json(tracking.set_experiment_lifecycle(experiment_id, "active"))


@router.delete("/experiments/{experiment_id}", response_model=ExperimentInfo)
def delete_experiment(experiment_id: ExperimentId, tracking: Tracking) -> Response:
    """Delete an experiment (soft: ``POST .../restore`` undoes it until a purge)."""
    return _json(tracking.set_experiment_lifecycle(experiment_id, "deleted"))


# -- runs --------------------------------------------------------------------------------------
@router.post("/runs", status_code=201, response_model=RunDetails)
def create_run(body: RunCreate, tracking: Tracking, identity: CurrentIdentity) -> Response:
    """Create a run; its user is the caller unless the body names one."""
    if body.user is None:
        body = body.model_copy(update={"user": identity.name})
    return _json(tracking.create_run(body), 201)


@router.post("/runs/search", response_model=RunPage)
def search_runs(body: RunSearch, tracking: Tracking) -> Response:
    """Runs matching a filter, ordered and paged."""
    return _json(tracking.search_runs(body))


@router.get("/runs/{run_id}", response_model=RunDetails)
def get_run(run_id: RunId, tracking: Tracking) -> Response:
    """A run with its params, tags, properties and latest metrics."""
    return _json(tracking.get_run(run_id))


@router.patch("/runs/{run_id}", response_model=RunInfo)
def update_run(run_id: RunId, body: RunUpdate, tracking: Tracking) -> Response:
    """Change status, display name, description or error; fields left out stay."""
    return _json(tracking.update_run(run_id, body))


@router.delete("/runs/{run_id}", response_model=RunInfo)
def delete_run(run_id: RunId, tracking: Tracking) -> Response:
    """Delete a run and its child runs (soft: ``POST .../restore`` undoes it until a purge)."""
    return _json(tracking.set_run_lifecycle(run_id, "deleted"))


@router.post("/runs/{run_id}/restore", response_model=RunInfo)
def restore_run(run_id: RunId, tracking: Tracking) -> Response:
    """Bring a deleted run (and its child runs) back."""
    return _json(tracking.set_run_lifecycle(run_id, "active"))


# Not documented: runs cannot be archived today; the route lets RemoteTracking pass the request on so
# that the backend, which owns the rule, answers it.
@router.post("/runs/{run_id}/archive", response_model=RunInfo, include_in_schema=False)
def archive_run(run_id: RunId, tracking: Tracking) -> Response:
    """Ask for a run to be archived; the backend decides whether it can be."""
    return _json(tracking.set_run_lifecycle(run_id, "archived"))


@router.post("/runs/{run_id}/params", status_code=204, response_class=Response)
def log_params(run_id: RunId, body: ParamsBody, tracking: Tracking) -> Response:
    """Record params (write-once: a different value for a key is 409)."""
    tracking.log_params(run_id, body.params)
    return _no_content()


@router.patch("/runs/{run_id}/tags", status_code=204, response_class=Response)
def set_tags(run_id: RunId, body: TagsBody, tracking: Tracking) -> Response:
    """Set or overwrite tags."""
    tracking.set_tags(run_id, body.tags)
    return _no_content()


@router.delete("/runs/{run_id}/tags/{key:path}", status_code=204, response_class=Response)
def delete_tag(run_id: RunId, key: str, tracking: Tracking) -> Response:
    """Remove a tag; 404 when it is not set."""
    tracking.delete_tag(run_id, key)
    return _no_content()


@router.post("/runs/{run_id}/properties", status_code=204, response_class=Response)
def add_properties(run_id: RunId, body: PropertiesBody, tracking: Tracking) -> Response:
    """Record properties (write-once)."""
    tracking.add_properties(run_id, body.properties)
    return _no_content()


# -- metrics -----------------------------------------------------------------------------------
def _log_metric_batch(tracking: TrackingBackend, run_id: str, body: bytes) -> None:
    tracking.log_metrics(run_id, _parse(MetricBatch, body).series)


@router.post(
    "/runs/{run_id}/metrics", status_code=204, response_class=Response, openapi_extra=_json_body(MetricBatch)
)
async def log_metrics(run_id: RunId, request: Request, tracking: Tracking) -> Response:
    """Append points to metric series, all or nothing (the hot path: parsed once, off the event loop)."""
    body = await request.body()  # its size is capped by the security middleware (413)
    await anyio.to_thread.run_sync(_log_metric_batch, tracking, run_id, body)
    return _no_content()


@router.post("/runs/{run_id}/tables/{key:path}/rows", status_code=204, response_class=Response)
def log_table_rows(run_id: RunId, key: str, body: TableRows, tracking: Tracking) -> Response:
    """Append rows to a table metric."""
    tracking.log_table_rows(run_id, key, body.rows)
    return _no_content()


@router.get("/runs/{run_id}/metrics", response_model=RunMetrics)
def get_metrics(run_id: RunId, tracking: Tracking, series: Annotated[bool, Query()] = True) -> Response:
    """All metric series and tables of a run; ``series=false``: only the tables (the series stay unread)."""
    return _json(tracking.get_metrics(run_id, series=series))


@router.get("/runs/{run_id}/metrics/{key:path}/history", response_model=MetricHistory)
def get_metric_history(
    run_id: RunId, key: str, tracking: Tracking, max_points: Annotated[int | None, Query()] = None
) -> Response:
    """Every point of one series in logging order, or about ``max_points`` of them."""
    return _json(tracking.get_metric_history(run_id, key, max_points=max_points))


# -- artifacts ---------------------------------------------------------------------------------
@router.get("/runs/{run_id}/artifacts", response_model=list[ArtifactInfo])
def list_artifacts(run_id: RunId, tracking: Tracking, prefix: str = "") -> Response:
    """Files of a run under a folder prefix ("" for all), sorted by path."""
    found = tracking.list_artifacts(run_id, prefix)
    return Response(_ARTIFACT_LIST.dump_json(found), media_type="application/json")


def _request_chunks(request: Request) -> Iterator[bytes]:
    """The request body as a synchronous iterator, for a backend call running in a worker thread.

    Each chunk is pulled from the event loop only when the backend asks for it, so at most one chunk of
    the upload is in memory at a time.
    """
    stream = request.stream()

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        if chunk:
            yield chunk


class _AnyPath(Convertor[str]):
    """Like Starlette's ``path`` but matching every character and the empty string, so that a bad
    artifact path reaches ``normalize_artifact_path`` and gets a 400 naming the problem, not a 404."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", _AnyPath())


@router.put(
    "/runs/{run_id}/artifacts/{path:anypath}",
    status_code=201,
    response_model=ArtifactInfo,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def upload_artifact(run_id: RunId, path: str, request: Request, tracking: Tracking) -> Response:
    """Store a file under the run, streamed (``Content-Type: application/octet-stream``)."""
    normalize_artifact_path(path)  # refuse a bad path before reading a byte of the body
    info = await anyio.to_thread.run_sync(tracking.upload_artifact, run_id, path, _request_chunks(request))
    return _json(info, 201)


def file_response(
    *, path: str, size: int, digest: str, chunks: Iterator[bytes], headers: dict[str, str]
) -> StreamingResponse:
    """Stream a stored file as a download: typed by its name, HTML/SVG/scripts and unknown types only as
    attachments, sandboxed, with its path and digest in ``X-Ember-*`` headers (plus ``headers``)."""
    media_type, disposition = _presentation(path)
    base = {
        "Content-Length": str(size),
        "Content-Disposition": disposition,
        # Even a type served inline may not run scripts or load anything.
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "ETag": f'"{digest}"',
        "X-Ember-Path": quote(path, safe="/"),
        "X-Ember-Digest": digest,
    }
    return StreamingResponse(chunks, media_type=media_type, headers={**base, **headers})


def _presentation(path: str) -> tuple[str, str]:
    """The content type and disposition to serve an artifact with."""
    media_type = mimetypes.guess_type(path, strict=False)[0] or "application/octet-stream"
    disposition = "inline" if media_type in _INLINE_TYPES else "attachment"
    filename = quote(posixpath.basename(path), safe="")
    return media_type, f"{disposition}; filename*=UTF-8''{filename}"


@router.get(
    "/runs/{run_id}/artifacts/{path:anypath}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    },
)
def download_artifact(run_id: RunId, path: str, tracking: Tracking) -> StreamingResponse:
    """A file's bytes, streamed; HTML, SVG, scripts and unknown types only as attachments."""
    info, chunks = tracking.open_artifact(run_id, path)
    return file_response(
        path=info.path,
        size=info.size,
        digest=info.digest,
        chunks=chunks,
        headers={"X-Ember-Created-Time": info.created_time.isoformat()},
    )


# -- lifecycle ---------------------------------------------------------------------------------
@router.post("/gc", response_model=PurgeReport, dependencies=[Depends(require("admin"))])
def purge(body: PurgeRequest, tracking: Tracking) -> Response:
    """Permanently remove objects deleted at least ``older_than_seconds`` ago, and unreferenced bytes."""
    return _json(tracking.purge(older_than_seconds=body.older_than_seconds))
