"""Helpers of the contract tests: unique names, runs in one call, looking at the artifact root."""

from __future__ import annotations

import hashlib
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ember.backend import Backend
from ember.entities import ExperimentInfo, RunCreate, RunDetails, RunStatus, RunUpdate


@dataclass
class Target:
    """A backend under test and what a test needs to know about the workspace behind it."""

    kind: str  # "sqlite" | "postgres" | "remote"
    backend: Backend
    artifact_root: Path  # the local folder holding the workspace's artifacts (blobs/…)
    location: str  # what ember.Workspace.get() takes to open the same workspace elsewhere
    artifact_uri: str | None = None  # needed with ``location`` for a database-backed workspace
    server_log: Path | None = None


def unique(name: str) -> str:
    """``name`` with a random suffix, so tests sharing a server's workspace never see each other."""
    return f"{name}-{uuid.uuid4().hex[:10]}"


def new_experiment(backend: Backend, name: str = "exp") -> ExperimentInfo:
    """A fresh experiment with a unique name."""
    return backend.tracking.get_or_create_experiment(unique(name))


def new_run(
    backend: Backend,
    experiment_id: str,
    *,
    parent_run_id: str | None = None,
    display_name: str | None = None,
    status: RunStatus = RunStatus.RUNNING,
    tags: dict[str, str] | None = None,
) -> RunDetails:
    """Create a run through the contract."""
    return backend.tracking.create_run(
        RunCreate(
            experiment_id=experiment_id,
            parent_run_id=parent_run_id,
            display_name=display_name,
            status=status,
            tags=tags or {},
        )
    )


def finish(backend: Backend, run_id: str, status: RunStatus = RunStatus.COMPLETED) -> None:
    """Move a run to a terminal status."""
    backend.tracking.update_run(run_id, RunUpdate(status=status))


def read_artifact(backend: Backend, run_id: str, path: str) -> bytes:
    """The bytes of one of a run's files."""
    _, chunks = backend.tracking.open_artifact(run_id, path)
    return b"".join(chunks)


def sha256(data: bytes) -> str:
    """SHA-256 hex digest."""
    return hashlib.sha256(data).hexdigest()


def blob_path(artifact_root: Path, digest: str) -> Path:
    """Where the content-addressed store keeps a blob under a local artifact root."""
    return artifact_root / "blobs" / digest[:2] / digest[2:]


def blob_files(artifact_root: Path) -> set[Path]:
    """Every stored blob file under a local artifact root."""
    base = artifact_root / "blobs"
    return {p for p in base.rglob("*") if p.is_file()} if base.is_dir() else set()


def chunks_of(data: bytes, size: int = 1 << 20) -> Iterable[bytes]:
    """``data`` as an iterator of chunks, as an upload streams it."""
    return (data[i : i + size] for i in range(0, len(data), size))


def state_of(backend: Backend, run_id: str) -> dict[str, Any]:
    """What a user can see of a run: details, every metric series and table, files and their digests."""
    details = backend.tracking.get_run(run_id)
    metrics = backend.tracking.get_metrics(run_id)
    files = [(a.path, a.size, a.digest) for a in backend.tracking.list_artifacts(run_id)]
    return {
        "details": comparable(details.model_dump(mode="json")),
        "metrics": comparable(metrics.model_dump(mode="json")),
        "files": files,
    }


def comparable(value: Any) -> Any:
    """NaN-safe structure for equality checks (NaN != NaN otherwise)."""
    if isinstance(value, float) and math.isnan(value):
        return "NaN"
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


def same_floats(a: list[float], b: list[float]) -> bool:
    """Element-wise equality where NaN equals NaN and signs of infinities matter."""
    if len(a) != len(b):
        return False
    return all((math.isnan(x) and math.isnan(y)) or x == y for x, y in zip(a, b, strict=True))
