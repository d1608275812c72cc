"""``RemoteJobs``: the jobs contract over ``ember server``'s REST API, with no rules of its own."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from urllib.parse import quote, unquote

from ember.artifacts.paths import check_id
from ember.contracts.jobs import JobsBackend
from ember.entities import RunDetails, RunInfo, RunStatus
from ember.entities.jobs import (
    ComputeTargetInfo,
    ComputeTargetUpdate,
    LogChunk,
    RunConfigurationInfo,
    RunSnapshot,
    RunSubmit,
    SnapshotFileInfo,
)
from ember.errors import EmberError
from ember.transport import HttpClient, url_path

__all__ = ["RemoteJobs"]

_API = "/api/v1"


def _run(run_id: str) -> str:
    return f"{_API}/runs/{check_id(run_id, 'run')}"


class RemoteJobs(JobsBackend):
    """Submitted runs through the server; the server launches the runners."""

    def __init__(self, client: HttpClient) -> None:
        self._client = client

    def missing_blobs(self, digests: list[str]) -> list[str]:
        answer = self._client.post(f"{_API}/blobs/missing", json={"digests": digests})
        return [str(d) for d in answer["missing"]]

    def upload_blob(self, digest: str, chunks: Iterable[bytes]) -> None:
        self._client.upload(f"{_API}/blobs/{quote(digest, safe='')}", chunks)

    def register_snapshot(self, digest: str) -> None:
        self._client.post(f"{_API}/snapshots", json={"digest": digest})

    def submit_run(self, request: RunSubmit) -> RunDetails:
        return RunDetails.model_validate(self._client.post(f"{_API}/runs/submit", json=request))

    def get_run_configuration(self, run_id: str) -> RunConfigurationInfo:
        return RunConfigurationInfo.model_validate(self._client.get(f"{_run(run_id)}/configuration"))

    def get_run_snapshot(self, run_id: str) -> RunSnapshot:
        return RunSnapshot.model_validate(self._client.get(f"{_run(run_id)}/snapshot"))

    def open_snapshot_file(self, run_id: str, path: str) -> tuple[SnapshotFileInfo, Iterator[bytes]]:
        headers, body = self._client.open_download(f"{_run(run_id)}/snapshot/{url_path(path)}")
        try:
            info = SnapshotFileInfo(
                path=unquote(headers["x-ember-path"]),
                size=int(headers["content-length"]),
                digest=headers["x-ember-digest"],
                executable=headers.get("x-ember-executable") == "true",
            )
        except (KeyError, ValueError) as exc:
            body.close()
            raise EmberError(f"the server's snapshot file answer lacks a valid header: {exc}") from exc
        return info, body

    def cancel_run(self, run_id: str) -> RunInfo:
        return RunInfo.model_validate(self._client.post(f"{_run(run_id)}/cancel"))

    def heartbeat(self, run_id: str) -> RunStatus:
        return RunStatus(self._client.post(f"{_run(run_id)}/heartbeat")["status"])

    def sweep(self) -> int:
        return int(self._client.post(f"{_API}/runs/sweep")["changed"])

    def append_log(self, run_id: str, name: str, data: str) -> None:
        self._client.post(f"{_run(run_id)}/logs/{quote(name, safe='')}", json={"data": data})

    def read_log(self, run_id: str, name: str, *, offset: int = 0, max_chars: int = 1_000_000) -> LogChunk:
        answer = self._client.get(
            f"{_run(run_id)}/logs/{quote(name, safe='')}", params={"offset": offset, "max_chars": max_chars}
        )
        return LogChunk.model_validate(answer)

    def list_logs(self, run_id: str) -> list[str]:
        return [str(n) for n in self._client.get(f"{_run(run_id)}/logs")]

    def list_compute_targets(self) -> list[ComputeTargetInfo]:
        return [ComputeTargetInfo.model_validate(c) for c in self._client.get(f"{_API}/compute")]

    def get_compute_target(self, name: str) -> ComputeTargetInfo:
        return ComputeTargetInfo.model_validate(self._client.get(f"{_API}/compute/{quote(name, safe='')}"))

    def update_compute_target(self, name: str, request: ComputeTargetUpdate) -> ComputeTargetInfo:
        answer = self._client.patch(f"{_API}/compute/{quote(name, safe='')}", json=request)
        return ComputeTargetInfo.model_validate(answer)
