"""LocalJobs: the rules of submitted runs — queueing on compute capacity, cancel, heartbeats, the sweeper."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update

from ember.artifacts import BlobStore, check_id, normalize_artifact_path
from ember.compute.launcher import Launcher
from ember.contracts.data import DataBackend
from ember.contracts.environments import EnvironmentsBackend
from ember.contracts.jobs import JobsBackend
from ember.contracts.tracking import TrackingBackend
from ember.data.lifecycle import check_consumable
from ember.entities import TERMINAL_STATUSES, RunCreate, RunDetails, RunError, RunInfo, RunStatus, RunUpdate
from ember.entities.jobs import (
    MAX_LOG_APPEND,
    ComputeTargetInfo,
    ComputeTargetUpdate,
    EnvironmentRef,
    LogChunk,
    RunConfiguration,
    RunConfigurationInfo,
    RunSnapshot,
    RunSubmit,
    SnapshotFileInfo,
)
from ember.errors import Conflict, InvalidInput, NotFound
from ember.jobs import snapshot as snapshots_
from ember.store.database import Database
from ember.store.schema import compute_targets, run_configs, run_logs, runs, snapshot_files, snapshots
from ember.store.tracking import insert_ignore, to_datetime

__all__ = ["ACTIVE_STATUSES", "LocalJobs"]

logger = logging.getLogger(__name__)

# Statuses that hold a slot of the compute target.
ACTIVE_STATUSES = (
    RunStatus.STARTING,
    RunStatus.PREPARING,
    RunStatus.RUNNING,
    RunStatus.FINALIZING,
    RunStatus.CANCEL_REQUESTED,
    RunStatus.NOT_RESPONDING,
)
_LOG_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}\.txt$")
_DIGEST = re.compile(r"^[0-9a-f]{64}$")


def _seconds_from_env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


class LocalJobs(JobsBackend):
    """Submitted runs on a metadata database, a blob store and a launcher."""

    def __init__(
        self,
        *,
        database: Database,
        blobs: BlobStore,
        tracking: TrackingBackend,
        launcher: Launcher | None,
        environments: EnvironmentsBackend | None = None,
        data: DataBackend | None = None,
    ) -> None:
        self.database = database
        self.data = data
        self.blobs = blobs
        self.tracking = tracking
        self.launcher = launcher
        self.environments = environments
        self.heartbeat_timeout = _seconds_from_env("EMBER_HEARTBEAT_TIMEOUT", 60.0)
        self.lost_timeout = _seconds_from_env("EMBER_LOST_TIMEOUT", 300.0)

    # -- blobs ---------------------------------------------------------------------------------
    @staticmethod
    def _check_digest(digest: str) -> str:
        if not isinstance(digest, str) or not _DIGEST.match(digest):
            raise InvalidInput(
                f"{str(digest)[:80]!r} is not a sha256 digest (64 lowercase hexadecimal characters)"
            )
        return digest

    def missing_blobs(self, digests: list[str]) -> list[str]:
        if len(digests) > 100_000:
            raise InvalidInput("ask about at most 100,000 digests at a time")
        return [d for d in dict.fromkeys(self._check_digest(d) for d in digests) if not self.blobs.exists(d)]

    def upload_blob(self, digest: str, chunks: Iterable[bytes]) -> None:
        self._check_digest(digest)
        if self.blobs.exists(digest):
            for _ in chunks:  # drain the body; nothing to store
                pass
            return
        self.blobs.put_stream(_verified(chunks, digest))

    def register_snapshot(self, digest: str) -> None:
        self._check_digest(digest)
        snap = snapshots_.load(self.blobs, digest)
        missing = [f.path for f in snap.files if not self.blobs.exists(f.digest)]
        if missing:
            raise InvalidInput(f"snapshot {digest[:12]} lists files that were not uploaded: {missing[:5]}")
        with self.database.write() as conn:
            conn.execute(
                insert_ignore(conn, snapshots).values(
                    digest=digest,
                    file_count=len(snap.files),
                    total_size=snap.total_size,
                    created_time=time.time(),
                )
            )
            rows = [{"snapshot_digest": digest, "digest": d} for d in sorted({f.digest for f in snap.files})]
            if rows:
                conn.execute(insert_ignore(conn, snapshot_files), rows)

    # -- compute -------------------------------------------------------------------------------
    @staticmethod
    def _ensure_local(conn: Connection) -> None:
        conn.execute(
            insert_ignore(conn, compute_targets).values(
                name="local", kind="local", max_concurrent_runs=os.cpu_count() or 1, created_time=time.time()
            )
        )

    def _target(self, conn: Connection, name: str) -> ComputeTargetInfo:
        row = conn.execute(select(compute_targets).where(compute_targets.c.name == name)).mappings().first()
        if row is None:
            raise NotFound(f"compute target {name[:255]!r} not found; 'local' exists in every workspace")
        counts: dict[str, int] = dict(
            conn.execute(
                select(runs.c.status, func.count())
                .join(run_configs, run_configs.c.run_id == runs.c.id)
                .where(run_configs.c.compute_target == name)
                .where(runs.c.status.in_([s.value for s in (*ACTIVE_STATUSES, RunStatus.QUEUED)]))
                .group_by(runs.c.status)
            ).all()
        )
        return ComputeTargetInfo(
            name=row["name"],
            kind=row["kind"],
            max_concurrent_runs=row["max_concurrent_runs"],
            active_runs=sum(n for s, n in counts.items() if s != RunStatus.QUEUED.value),
            queued_runs=counts.get(RunStatus.QUEUED.value, 0),
            created_time=to_datetime(row["created_time"]),
        )

    def list_compute_targets(self) -> list[ComputeTargetInfo]:
        with self.database.write() as conn:
            self._ensure_local(conn)
            names = [
                r[0] for r in conn.execute(select(compute_targets.c.name).order_by(compute_targets.c.name))
            ]
            return [self._target(conn, n) for n in names]

    def get_compute_target(self, name: str) -> ComputeTargetInfo:
        with self.database.write() as conn:
            self._ensure_local(conn)
            return self._target(conn, name)

    def update_compute_target(self, name: str, request: ComputeTargetUpdate) -> ComputeTargetInfo:
        with self.database.write() as conn:
            self._ensure_local(conn)
            self._target(conn, name)
            conn.execute(
                update(compute_targets)
                .where(compute_targets.c.name == name)
                .values(max_concurrent_runs=request.max_concurrent_runs)
            )
        self._dispatch(name)
        return self.get_compute_target(name)

    # -- submission and queueing ---------------------------------------------------------------
    def submit_run(self, request: RunSubmit) -> RunDetails:
        config = request.config
        script = normalize_artifact_path(config.script)
        environment = self._resolve_environment(config.environment)
        self._check_data(config)
        if request.snapshot_digest is not None:
            with self.database.read() as conn:
                known = conn.execute(
                    select(snapshots.c.digest).where(snapshots.c.digest == request.snapshot_digest)
                ).first()
            if known is None:
                raise InvalidInput("the snapshot was not registered; upload it before submitting")
            if script not in {f.path for f in snapshots_.load(self.blobs, request.snapshot_digest).files}:
                raise InvalidInput(f"script {script!r} is not in the snapshot of the source directory")
        with self.database.write() as conn:
            self._ensure_local(conn)
            self._target(conn, config.compute_target)
        created = self.tracking.create_run(
            RunCreate(
                experiment_id=request.experiment_id,
                display_name=request.display_name,
                description=request.description,
                status=RunStatus.NOT_STARTED,
                run_type="script",
                user=request.user,
                tags=request.tags,
            )
        )
        run_id = created.info.id
        stored = config.model_copy(update={"script": script, "environment": environment})
        with self.database.write() as conn:
            conn.execute(
                insert(run_configs).values(
                    run_id=run_id,
                    compute_target=config.compute_target,
                    config=stored.model_dump_json(),
                    snapshot_digest=request.snapshot_digest,
                    git=json.dumps(request.git) if request.git else None,
                    python_executable=request.python_executable,
                    cancel_requested=0,
                )
            )
            conn.execute(
                update(runs)
                .where(runs.c.id == run_id)
                .values(status=RunStatus.QUEUED.value, heartbeat_time=time.time())
            )
        if self.data is not None:
            for item in config.inputs:
                self.data.link_run_dataset(
                    run_id, item.dataset_id, direction="input", name=item.name, mode=item.mode
                )
        self._dispatch(config.compute_target)
        return self.tracking.get_run(run_id)

    def _check_data(self, config: RunConfiguration) -> None:
        """The run's input datasets and output datastores exist (NotFound says which does not)."""
        if not config.inputs and not config.outputs:
            return
        if self.data is None:
            raise InvalidInput("this workspace has no data area; submit without inputs and outputs")
        for item in config.inputs:
            info = self.data.get_dataset_by_id(item.dataset_id)
            # Archived (or unregistered) versions are refused; a deprecated one only warns (the SDK warns
            # its caller too: a remote submitter never sees this log).
            warning = check_consumable(info, use=f"run input {item.name!r}", new_run_input=True)
            if warning is not None:
                logger.warning("run input %r: %s", item.name, warning)
        for output in config.outputs:
            self.data.get_datastore(output.datastore)

    def _resolve_environment(self, ref: EnvironmentRef | None) -> EnvironmentRef | None:
        """The exact environment version a run uses (the latest when ``ref`` names none)."""
        if ref is None:
            return None
        if self.environments is None:
            raise InvalidInput("this workspace has no environment registry; submit without an environment")
        found = self.environments.get(ref.name, ref.version)  # NotFound says how to register it
        return EnvironmentRef(name=found.name, version=found.version)

    def _claim(self, compute: str) -> list[str]:
        """Mark the oldest queued runs Starting, as many as the target has free slots."""
        with self.database.write() as conn:
            self._ensure_local(conn)
            if conn.dialect.name == "postgresql":
                # Claims of one target queue on its row, so two at once never both see a free slot
                # (SQLite writers are serialised by BEGIN IMMEDIATE already).
                conn.execute(
                    select(compute_targets.c.name).where(compute_targets.c.name == compute).with_for_update()
                )
            target = self._target(conn, compute)
            free = target.max_concurrent_runs - target.active_runs
            if free <= 0 or target.queued_runs == 0:
                return []
            ids = [
                r[0]
                for r in conn.execute(
                    select(runs.c.id)
                    .join(run_configs, run_configs.c.run_id == runs.c.id)
                    .where(
                        and_(run_configs.c.compute_target == compute, runs.c.status == RunStatus.QUEUED.value)
                    )
                    .order_by(runs.c.created_time, runs.c.id)
                    .limit(free)
                )
            ]
            now = time.time()
            claimed = []
            for run_id in ids:
                result = conn.execute(
                    update(runs)
                    .where(and_(runs.c.id == run_id, runs.c.status == RunStatus.QUEUED.value))
                    .values(status=RunStatus.STARTING.value, heartbeat_time=now)
                )
                if result.rowcount:
                    claimed.append(run_id)
            return claimed

    def _dispatch(self, compute: str) -> None:
        if self.launcher is None:
            return
        for run_id in self._claim(compute):
            try:
                self.launcher.launch(run_id)
            except Exception as exc:  # the run must not stay Starting forever
                logger.exception("could not launch run %s", run_id)
                self.tracking.update_run(
                    run_id,
                    RunUpdate(
                        status=RunStatus.FAILED, error=RunError(message=f"could not start the runner: {exc}")
                    ),
                )

    def get_run_configuration(self, run_id: str) -> RunConfigurationInfo:
        check_id(run_id, "run")
        with self.database.read() as conn:
            row = conn.execute(select(run_configs).where(run_configs.c.run_id == run_id)).mappings().first()
            if row is None:
                if conn.execute(select(runs.c.id).where(runs.c.id == run_id)).first() is None:
                    raise NotFound(f"run {run_id!r} not found")
                raise NotFound(f"run {run_id} was not submitted: it has no run configuration")
        return RunConfigurationInfo(
            run_id=run_id,
            config=RunConfiguration.model_validate_json(row["config"]),
            snapshot_digest=row["snapshot_digest"],
            git=json.loads(row["git"]) if row["git"] else None,
            python_executable=row["python_executable"],
        )

    def _snapshot_of(self, run_id: str) -> str:
        check_id(run_id, "run")
        with self.database.read() as conn:
            row = conn.execute(
                select(runs.c.id, run_configs.c.snapshot_digest)
                .select_from(runs.outerjoin(run_configs, run_configs.c.run_id == runs.c.id))
                .where(runs.c.id == run_id)
            ).first()
        if row is None:
            raise NotFound(f"run {run_id!r} not found")
        if row[1] is None:
            raise NotFound(f"run {run_id} has no snapshot: only runs submitted from a source folder have one")
        return str(row[1])

    def get_run_snapshot(self, run_id: str) -> RunSnapshot:
        snap = snapshots_.load(self.blobs, self._snapshot_of(run_id))
        return RunSnapshot(
            run_id=run_id,
            snapshot_digest=snap.digest,
            file_count=snap.file_count,
            total_size=snap.total_size,
            files=[_file_info(file) for file in snap.files],
        )

    def open_snapshot_file(self, run_id: str, path: str) -> tuple[SnapshotFileInfo, Iterator[bytes]]:
        file, chunks = snapshots_.open_file(self.blobs, self._snapshot_of(run_id), path)
        return _file_info(file), chunks

    def _status(self, conn: Connection, run_id: str) -> tuple[RunStatus, bool]:
        check_id(run_id, "run")
        row = conn.execute(
            select(runs.c.status, run_configs.c.run_id)
            .select_from(runs.outerjoin(run_configs, run_configs.c.run_id == runs.c.id))
            .where(runs.c.id == run_id)
        ).first()
        if row is None:
            raise NotFound(f"run {run_id!r} not found")
        return RunStatus(row[0]), row[1] is not None

    def cancel_run(self, run_id: str) -> RunInfo:
        with self.database.write() as conn:
            status, submitted = self._status(conn, run_id)
            if status in TERMINAL_STATUSES:
                raise Conflict(f"run {run_id} is already {status}")
            now = time.time()
            if not submitted or status in (RunStatus.QUEUED, RunStatus.NOT_STARTED):
                conn.execute(
                    update(runs)
                    .where(runs.c.id == run_id)
                    .values(
                        status=RunStatus.CANCELED.value,
                        end_time=now,
                        start_time=func.coalesce(runs.c.start_time, now),
                    )
                )
            else:
                conn.execute(
                    update(runs).where(runs.c.id == run_id).values(status=RunStatus.CANCEL_REQUESTED.value)
                )
                conn.execute(
                    update(run_configs).where(run_configs.c.run_id == run_id).values(cancel_requested=1)
                )
        return self.tracking.get_run(run_id).info

    def heartbeat(self, run_id: str) -> RunStatus:
        with self.database.write() as conn:
            status, _ = self._status(conn, run_id)
            values: dict[str, Any] = {"heartbeat_time": time.time()}
            if status == RunStatus.NOT_RESPONDING:  # the runner came back
                values["status"] = RunStatus.RUNNING.value
                status = RunStatus.RUNNING
            if status not in TERMINAL_STATUSES:
                conn.execute(update(runs).where(runs.c.id == run_id).values(**values))
                # The flag outlives status changes the runner makes while preparing, so a cancel that
                # arrives between two of them is never lost.
                requested = conn.execute(
                    select(run_configs.c.cancel_requested).where(run_configs.c.run_id == run_id)
                ).scalar()
                if requested:
                    return RunStatus.CANCEL_REQUESTED
            return status

    def sweep(self) -> int:
        now = time.time()
        changed = 0
        silent = [s.value for s in ACTIVE_STATUSES if s != RunStatus.NOT_RESPONDING]
        with self.database.write() as conn:
            submitted = select(run_configs.c.run_id)
            result = conn.execute(
                update(runs)
                .where(
                    and_(
                        runs.c.id.in_(submitted),
                        runs.c.status.in_(silent),
                        runs.c.heartbeat_time < now - self.heartbeat_timeout,
                    )
                )
                .values(status=RunStatus.NOT_RESPONDING.value)
            )
            changed += result.rowcount
            result = conn.execute(
                update(runs)
                .where(
                    and_(
                        runs.c.status == RunStatus.NOT_RESPONDING.value,
                        runs.c.heartbeat_time < now - self.lost_timeout,
                    )
                )
                .values(
                    status=RunStatus.FAILED.value,
                    end_time=now,
                    error_message=(
                        f"the runner stopped responding: no heartbeat for {self.lost_timeout:.0f} s "
                        "(its process or machine died)"
                    ),
                )
            )
            changed += result.rowcount
            computes = [r[0] for r in conn.execute(select(compute_targets.c.name))]
        for compute in computes:
            self._dispatch(compute)
        return changed

    # -- logs ----------------------------------------------------------------------------------
    @staticmethod
    def _check_log_name(name: str) -> None:
        if not isinstance(name, str) or not _LOG_NAME.match(name):
            raise InvalidInput(f"log name {str(name)[:60]!r} is invalid: use e.g. 'std_log.txt'")

    def append_log(self, run_id: str, name: str, data: str) -> None:
        self._check_log_name(name)
        if len(data) > MAX_LOG_APPEND:
            raise InvalidInput(f"append at most {MAX_LOG_APPEND} characters at a time")
        if not data:
            return
        with self.database.write() as conn:
            self._status(conn, run_id)
            last = conn.execute(
                select(run_logs.c.seq, run_logs.c.offset, func.length(run_logs.c.data))
                .where(and_(run_logs.c.run_id == run_id, run_logs.c.name == name))
                .order_by(run_logs.c.seq.desc())
                .limit(1)
            ).first()
            seq, offset = (0, 0) if last is None else (last[0] + 1, last[1] + last[2])
            conn.execute(insert(run_logs).values(run_id=run_id, name=name, seq=seq, offset=offset, data=data))

    def read_log(self, run_id: str, name: str, *, offset: int = 0, max_chars: int = 1_000_000) -> LogChunk:
        self._check_log_name(name)
        if offset < 0 or not 1 <= max_chars <= 10_000_000:
            raise InvalidInput("offset must be >= 0 and max_chars between 1 and 10,000,000")
        with self.database.read() as conn:
            status, _ = self._status(conn, run_id)
            rows = conn.execute(
                select(run_logs.c.offset, run_logs.c.data)
                .where(
                    and_(
                        run_logs.c.run_id == run_id,
                        run_logs.c.name == name,
                        run_logs.c.offset + func.length(run_logs.c.data) > offset,
                    )
                )
                .order_by(run_logs.c.seq)
            ).all()
        parts: list[str] = []
        size = 0
        position = offset
        more = False
        for start, data in rows:
            piece = data[max(0, offset - start) :] if start < offset else data
            if size + len(piece) > max_chars:
                piece = piece[: max_chars - size]
                more = True
            parts.append(piece)
            size += len(piece)
            position += len(piece)
            if more:
                break
        return LogChunk(
            name=name,
            offset=offset,
            data="".join(parts),
            next_offset=position,
            complete=status in TERMINAL_STATUSES and not more,
            status=status,
        )

    def list_logs(self, run_id: str) -> list[str]:
        with self.database.read() as conn:
            self._status(conn, run_id)
            return [
                r[0]
                for r in conn.execute(
                    select(run_logs.c.name)
                    .where(run_logs.c.run_id == run_id)
                    .distinct()
                    .order_by(run_logs.c.name)
                )
            ]


def _file_info(file: snapshots_.SnapshotFile) -> SnapshotFileInfo:
    executable = bool(file.mode & 0o100)
    return SnapshotFileInfo(path=file.path, size=file.size, digest=file.digest, executable=executable)


def _verified(chunks: Iterable[bytes], digest: str) -> Iterator[bytes]:
    """Pass chunks through, failing at the end when their sha256 is not ``digest``.

    The failure happens inside the blob store's write, before the bytes are moved into place, so
    mismatching bytes are never stored (not even under their own digest).
    """
    hasher = hashlib.sha256()
    for chunk in chunks:
        hasher.update(chunk)
        yield chunk
    if hasher.hexdigest() != digest:
        raise InvalidInput(
            f"the uploaded bytes hash to {hasher.hexdigest()}, not {digest}; nothing was stored"
        )
