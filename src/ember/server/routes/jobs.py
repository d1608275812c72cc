"""The jobs REST API (``/api/v1``): snapshot blobs, submitting runs, logs, cancel, compute targets."""

from __future__ import annotations

import json
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from starlette.responses import Response, StreamingResponse

from ember.backend import Backend
from ember.contracts.jobs import JobsBackend
from ember.entities import RunDetails, RunInfo
from ember.entities.jobs import (
    ComputeTargetInfo,
    ComputeTargetUpdate,
    LogChunk,
    RunConfigurationInfo,
    RunSnapshot,
    RunSubmit,
)
from ember.server.auth import CurrentIdentity, authorize
from ember.server.routes.tracking import RunId, _json, _no_content, _request_chunks, file_response
from ember.server.schemas import ERROR_RESPONSES

__all__ = ["router"]

_TARGETS = TypeAdapter(list[ComputeTargetInfo])

router = APIRouter(dependencies=[Depends(authorize)], tags=["jobs"], responses=ERROR_RESPONSES)


def get_jobs(request: Request) -> JobsBackend:
    """The jobs backend of the workspace this app serves."""
    backend: Backend = request.app.state.backend
    return backend.jobs


Jobs = Annotated[JobsBackend, Depends(get_jobs)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DigestsBody(_Body):
    """Digests to ask about."""

    digests: list[str] = Field(max_length=100_000)


class MissingBlobs(_Body):
    """The digests the workspace lacks."""

    missing: list[str]


class SnapshotBody(_Body):
    """A snapshot manifest's digest, uploaded as a blob beforehand."""

    digest: str


class LogAppend(_Body):
    """Text to append to a run's log."""

    data: str


class StatusAnswer(_Body):
    """A run's status."""

    status: str


class SweepAnswer(_Body):
    """How many runs the sweeper changed."""

    changed: int


@router.post("/blobs/missing", response_model=MissingBlobs)
def missing_blobs(body: DigestsBody, jobs: Jobs) -> Response:
    """Which of these sha256 digests the workspace does not hold yet."""
    return _json(MissingBlobs(missing=jobs.missing_blobs(body.digests)))


@router.put("/blobs/{digest}", status_code=204)
async def upload_blob(digest: str, request: Request, jobs: Jobs) -> Response:
    """Store bytes whose sha256 is ``digest`` (``application/octet-stream``, streamed)."""
    await anyio.to_thread.run_sync(jobs.upload_blob, digest, _request_chunks(request))
    return _no_content()


@router.post("/snapshots", status_code=204)
def register_snapshot(body: SnapshotBody, jobs: Jobs) -> Response:
    """Record an uploaded snapshot manifest; every file it lists must be uploaded."""
    jobs.register_snapshot(body.digest)
    return _no_content()


@router.post("/runs/submit", status_code=201, response_model=RunDetails)
def submit_run(body: RunSubmit, jobs: Jobs, identity: CurrentIdentity) -> Response:
    """Create a Queued run and start it when its compute target has room (the server launches it)."""
    if body.user is None:
        body = body.model_copy(update={"user": identity.name})
    return _json(jobs.submit_run(body), 201)


@router.post("/runs/sweep", response_model=SweepAnswer)
def sweep(jobs: Jobs) -> Response:
    """Fail runs whose runner went silent and start queued runs."""
    return _json(SweepAnswer(changed=jobs.sweep()))


@router.get("/runs/{run_id}/configuration", response_model=RunConfigurationInfo)
def get_run_configuration(run_id: RunId, jobs: Jobs) -> Response:
    """A submitted run's configuration."""
    return _json(jobs.get_run_configuration(run_id))


@router.get("/runs/{run_id}/snapshot", response_model=RunSnapshot)
def get_run_snapshot(run_id: RunId, jobs: Jobs) -> Response:
    """The source files a submitted run was started from (404 for runs without a snapshot)."""
    return _json(jobs.get_run_snapshot(run_id))


@router.get(
    "/runs/{run_id}/snapshot/{path:anypath}",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}
    },
)
def download_snapshot_file(run_id: RunId, path: str, jobs: Jobs) -> StreamingResponse:
    """One source file of a run's snapshot, streamed; served like a run's files (HTML only as attachment)."""
    info, chunks = jobs.open_snapshot_file(run_id, path)
    headers = {
        "Cache-Control": "private, max-age=31536000, immutable",  # a run's snapshot never changes
        "X-Ember-Executable": "true" if info.executable else "false",
    }
    return file_response(path=info.path, size=info.size, digest=info.digest, chunks=chunks, headers=headers)


@router.post("/runs/{run_id}/cancel", response_model=RunInfo)
def cancel_run(run_id: RunId, jobs: Jobs) -> Response:
    """Cancel a run (a running script is stopped by its runner)."""
    return _json(jobs.cancel_run(run_id))


@router.post("/runs/{run_id}/heartbeat", response_model=StatusAnswer)
def heartbeat(run_id: RunId, jobs: Jobs) -> Response:
    """A runner is alive; the answer tells it whether to stop."""
    return _json(StatusAnswer(status=jobs.heartbeat(run_id).value))


@router.get("/runs/{run_id}/logs", response_model=list[str])
def list_logs(run_id: RunId, jobs: Jobs) -> Response:
    """Names of a run's logs."""
    return Response(json.dumps(jobs.list_logs(run_id)), media_type="application/json")


@router.get("/runs/{run_id}/logs/{name}", response_model=LogChunk)
def read_log(
    run_id: RunId,
    name: str,
    jobs: Jobs,
    offset: Annotated[int, Query(ge=0)] = 0,
    max_chars: Annotated[int, Query(ge=1, le=10_000_000)] = 1_000_000,
) -> Response:
    """Text of a log from ``offset``; poll with ``next_offset`` until ``complete``."""
    return _json(jobs.read_log(run_id, name, offset=offset, max_chars=max_chars))


@router.post("/runs/{run_id}/logs/{name}", status_code=204)
def append_log(run_id: RunId, name: str, body: LogAppend, jobs: Jobs) -> Response:
    """Append text to a run's log (runners do this)."""
    jobs.append_log(run_id, name, body.data)
    return _no_content()


@router.get("/compute", response_model=list[ComputeTargetInfo])
def list_compute_targets(jobs: Jobs) -> Response:
    """Compute targets with their load."""
    return Response(_TARGETS.dump_json(jobs.list_compute_targets()), media_type="application/json")


@router.get("/compute/{name}", response_model=ComputeTargetInfo)
def get_compute_target(name: str, jobs: Jobs) -> Response:
    """One compute target."""
    return _json(jobs.get_compute_target(name))


@router.patch("/compute/{name}", response_model=ComputeTargetInfo)
def update_compute_target(name: str, body: ComputeTargetUpdate, jobs: Jobs) -> Response:
    """Change a compute target's capacity."""
    return _json(jobs.update_compute_target(name, body))
