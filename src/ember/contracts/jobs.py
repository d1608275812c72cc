"""The jobs part of the Backend contract: submitting runs, their logs, cancel, compute targets.

``LocalJobs`` holds the rules (queueing, capacity, status changes of the runner, the sweeper);
``RemoteJobs`` is its HTTP client. The runner (``python -m ember.runner``) uses this contract too.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator

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

__all__ = ["JobsBackend"]


class JobsBackend(ABC):
    """Submitted runs of one workspace."""

    # -- blobs for snapshots: the client uploads only what the workspace lacks -------------------
    @abstractmethod
    def missing_blobs(self, digests: list[str]) -> list[str]:
        """Which of these sha256 digests the workspace does not hold yet."""

    @abstractmethod
    def upload_blob(self, digest: str, chunks: Iterable[bytes]) -> None:
        """Store bytes whose sha256 must equal ``digest`` (``InvalidInput`` otherwise)."""

    @abstractmethod
    def register_snapshot(self, digest: str) -> None:
        """Record an uploaded snapshot manifest (validated; all its files must be present)."""

    # -- runs ----------------------------------------------------------------------------------
    @abstractmethod
    def submit_run(self, request: RunSubmit) -> RunDetails:
        """Create a Queued run with its configuration and start it when its compute has room."""

    @abstractmethod
    def get_run_configuration(self, run_id: str) -> RunConfigurationInfo:
        """A submitted run's configuration; ``NotFound`` for interactive runs."""

    @abstractmethod
    def get_run_snapshot(self, run_id: str) -> RunSnapshot:
        """The source files a submitted run was started from; ``NotFound`` when it has no snapshot."""

    @abstractmethod
    def open_snapshot_file(self, run_id: str, path: str) -> tuple[SnapshotFileInfo, Iterator[bytes]]:
        """One file of a run's snapshot and an iterator over its bytes (close it to stop early)."""

    @abstractmethod
    def cancel_run(self, run_id: str) -> RunInfo:
        """Cancel: a queued or interactive run at once, a running one through its runner."""

    @abstractmethod
    def heartbeat(self, run_id: str) -> RunStatus:
        """The runner is alive; returns the run's status (``CancelRequested`` tells it to stop)."""

    @abstractmethod
    def sweep(self) -> int:
        """Fail runs whose runner went silent (NotResponding first); start queued runs. Returns the count."""

    # -- logs ----------------------------------------------------------------------------------
    @abstractmethod
    def append_log(self, run_id: str, name: str, data: str) -> None:
        """Append text to one of a run's logs (``std_log.txt``, ``runner_log.txt``, ...)."""

    @abstractmethod
    def read_log(self, run_id: str, name: str, *, offset: int = 0, max_chars: int = 1_000_000) -> LogChunk:
        """Text of a log from ``offset``, and where to continue."""

    @abstractmethod
    def list_logs(self, run_id: str) -> list[str]:
        """Names of a run's logs."""

    # -- compute -------------------------------------------------------------------------------
    @abstractmethod
    def list_compute_targets(self) -> list[ComputeTargetInfo]:
        """Every compute target with its load."""

    @abstractmethod
    def get_compute_target(self, name: str) -> ComputeTargetInfo:
        """One compute target."""

    @abstractmethod
    def update_compute_target(self, name: str, request: ComputeTargetUpdate) -> ComputeTargetInfo:
        """Change a compute target's capacity; queued runs start if it grew."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
