"""LocalTracking: the tracking rules (names, status transitions, write-once values, lifecycle, purge).

It runs on a ``Database`` (metadata) and a ``BlobStore`` (bytes). The service owns each transaction:
every public method is one ``database.write()`` or ``database.read()`` block.
"""

from __future__ import annotations

import json
import logging
import math
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

from sqlalchemy import Connection, and_, delete, func, insert, select, union, update

from ember.artifacts import BlobStore, check_id, new_id, normalize_artifact_path
from ember.contracts.tracking import TrackingBackend
from ember.entities import (
    TERMINAL_STATUSES,
    ArtifactInfo,
    ExperimentCreate,
    ExperimentInfo,
    ExperimentKeys,
    ExperimentPage,
    ExperimentUpdate,
    Lifecycle,
    LifecycleFilter,
    MetricHistory,
    MetricSeries,
    PurgeReport,
    RunCreate,
    RunDetails,
    RunInfo,
    RunMetrics,
    RunPage,
    RunSearch,
    RunStatus,
    RunUpdate,
    WorkspaceInfo,
)
from ember.entities.tracking import (
    MAX_PARAM_VALUE,
    MAX_TAG_VALUE,
    NAME_PATTERN,
    RUN_COUNT_CAP,
    TableRows,
    check_key,
    check_mapping,
    check_series,
)
from ember.entities.validation import build
from ember.errors import Conflict, InvalidInput, NotFound
from ember.store.database import HEAD_REVISION, Database
from ember.store.metrics import decimate, pack_floats, pack_ints, unpack_floats, unpack_ints
from ember.store.schema import (
    BLOB_REFERENCES,
    artifacts,
    deployments,
    experiment_tags,
    experiments,
    metric_chunks,
    metric_latest,
    params,
    properties,
    run_configs,
    run_tables,
    runs,
    snapshot_files,
    snapshots,
    tags,
    workspace,
)
from ember.store.search import count_runs, experiment_keys, search_run_ids
from ember.store.tracking import (
    experiment_query,
    insert_ignore,
    load_experiments,
    load_runs,
    run_info,
    run_rows_query,
    to_datetime,
)

__all__ = ["LocalTracking"]

logger = logging.getLogger(__name__)

# A snapshot is registered just before the run that uses it is submitted; a purge running in between
# must not take it away, so unused snapshots are kept this long.
SNAPSHOT_GRACE_SECONDS = 3600.0

_NAME_RE = re.compile(NAME_PATTERN)


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not _NAME_RE.fullmatch(name):
        raise InvalidInput(
            f"experiment name {str(name)[:100]!r} is invalid: use 1-255 letters, digits, '_', '-' or '.', "
            "starting with a letter or digit"
        )
    return name


def _check_values(values: dict[str, str], what: str, max_len: int) -> dict[str, str]:
    if not isinstance(values, dict):
        raise InvalidInput(f"{what}s must be a mapping of names to values")
    try:
        return check_mapping(values, what, max_len)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def _as_number(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _db_float(value: float) -> float | None:
    """NaN is stored as NULL (see store.schema)."""
    return None if math.isnan(value) else value


class LocalTracking(TrackingBackend):
    """Tracking on a metadata database and a content-addressed blob store."""

    def __init__(self, *, database: Database, blobs: BlobStore) -> None:
        self.database = database
        self.blobs = blobs

    # -- workspace -----------------------------------------------------------------------------
    def get_workspace_info(self) -> WorkspaceInfo:
        with self.database.read() as conn:
            row = conn.execute(select(workspace)).mappings().one()
        return WorkspaceInfo(
            id=row["id"],
            name=row["name"],
            created_time=to_datetime(row["created_time"]),
            schema_version=HEAD_REVISION,
            metadata_backend=self.database.dialect,
            artifact_uri=self.blobs.root_uri,
        )

    # -- experiments ---------------------------------------------------------------------------
    def _experiment(self, conn: Connection, experiment_id: str) -> ExperimentInfo:
        check_id(experiment_id, "experiment")
        found = load_experiments(conn, experiment_query(experiments.c.id == experiment_id))
        if not found:
            raise NotFound(f"experiment {experiment_id!r} not found")
        return found[0]

    def create_experiment(self, request: ExperimentCreate) -> ExperimentInfo:
        with self.database.write() as conn:
            if conn.execute(select(experiments.c.id).where(experiments.c.name == request.name)).first():
                raise Conflict(f"an experiment named {request.name!r} already exists")
            experiment_id = self._insert_experiment(conn, request.name, request.description)
            if request.tags:
                conn.execute(
                    insert(experiment_tags),
                    [{"experiment_id": experiment_id, "key": k, "value": v} for k, v in request.tags.items()],
                )
            return self._experiment(conn, experiment_id)

    @staticmethod
    def _insert_experiment(conn: Connection, name: str, description: str | None) -> str:
        experiment_id = new_id()
        now = time.time()
        conn.execute(
            insert_ignore(conn, experiments).values(
                id=experiment_id,
                name=name,
                description=description,
                lifecycle_stage="active",
                created_time=now,
                last_activity_time=now,
            )
        )
        return experiment_id

    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        _check_name(name)
        with self.database.read() as conn:
            found = load_experiments(conn, experiment_query(experiments.c.name == name))
        if found:
            return found[0]
        with self.database.write() as conn:
            # Insert-or-ignore then read back: two processes asking at once get the same experiment.
            self._insert_experiment(conn, name, None)
            return load_experiments(conn, experiment_query(experiments.c.name == name))[0]

    def get_experiment(self, experiment_id: str) -> ExperimentInfo:
        with self.database.read() as conn:
            return self._experiment(conn, experiment_id)

    def get_experiment_by_name(self, name: str) -> ExperimentInfo:
        _check_name(name)
        with self.database.read() as conn:
            found = load_experiments(conn, experiment_query(experiments.c.name == name))
        if not found:
            raise NotFound(f"experiment {name!r} not found")
        return found[0]

    def list_experiments(
        self, *, lifecycle: LifecycleFilter = "active", max_results: int = 1000, page_token: str | None = None
    ) -> ExperimentPage:
        if not 1 <= max_results <= 5000:
            raise InvalidInput("max_results must be between 1 and 5000")
        offset = 0
        if page_token:
            if not page_token.isdigit() or len(page_token) > 9:
                raise InvalidInput("page_token is not valid; start again without it")
            offset = int(page_token)
        where = None if lifecycle == "all" else experiments.c.lifecycle_stage == lifecycle
        query = (
            experiment_query(where)
            .order_by(experiments.c.last_activity_time.desc(), experiments.c.id)
            .offset(offset)
            .limit(max_results + 1)
        )
        with self.database.read() as conn:
            found = load_experiments(conn, query)
        more = len(found) > max_results
        return ExperimentPage(
            experiments=found[:max_results], next_page_token=str(offset + max_results) if more else None
        )

    def get_experiment_keys(self, experiment_id: str) -> ExperimentKeys:
        with self.database.read() as conn:
            self._experiment(conn, experiment_id)
            param_keys, metric_keys, tag_keys = experiment_keys(conn, experiment_id)
        return ExperimentKeys(params=param_keys, metrics=metric_keys, tags=tag_keys)

    def update_experiment(self, experiment_id: str, request: ExperimentUpdate) -> ExperimentInfo:
        with self.database.write() as conn:
            self._experiment(conn, experiment_id)
            if request.description is not None:
                conn.execute(
                    update(experiments)
                    .where(experiments.c.id == experiment_id)
                    .values(description=request.description)
                )
            for key, value in (request.tags or {}).items():
                conn.execute(
                    delete(experiment_tags).where(
                        and_(experiment_tags.c.experiment_id == experiment_id, experiment_tags.c.key == key)
                    )
                )
                conn.execute(
                    insert(experiment_tags).values(experiment_id=experiment_id, key=key, value=value)
                )
            return self._experiment(conn, experiment_id)

    def set_experiment_lifecycle(self, experiment_id: str, stage: Lifecycle) -> ExperimentInfo:
        if stage not in ("active", "archived", "deleted"):
            raise InvalidInput("lifecycle stage must be 'active', 'archived' or 'deleted'")
        with self.database.write() as conn:
            self._experiment(conn, experiment_id)
            conn.execute(
                update(experiments)
                .where(experiments.c.id == experiment_id)
                .values(lifecycle_stage=stage, deleted_time=time.time() if stage == "deleted" else None)
            )
            return self._experiment(conn, experiment_id)

    # -- runs ----------------------------------------------------------------------------------
    def _run_row(self, conn: Connection, run_id: str, *, lock: bool = False) -> Any:
        check_id(run_id, "run")
        query = run_rows_query().where(runs.c.id == run_id)
        if lock and conn.dialect.name == "postgresql":
            query = query.with_for_update(of=runs)
        row = conn.execute(query).mappings().first()
        if row is None:
            raise NotFound(f"run {run_id!r} not found")
        return row

    def _writable_run(self, conn: Connection, run_id: str) -> Any:
        """The run's row, locked for the transaction; refuses terminal or deleted runs."""
        row = self._run_row(conn, run_id, lock=True)
        if row["status"] in TERMINAL_STATUSES:
            raise Conflict(f"run {run_id} is {row['status']}; a finished run cannot be changed")
        if row["lifecycle_stage"] != "active":
            raise Conflict(f"run {run_id} is deleted; restore it before writing to it")
        return row

    def create_run(self, request: RunCreate) -> RunDetails:
        run_id = new_id()
        now = time.time()
        with self.database.write() as conn:
            exp = self._experiment(conn, request.experiment_id)
            if exp.lifecycle_stage != "active":
                raise Conflict(f"experiment {exp.name!r} is {exp.lifecycle_stage}; restore it to add runs")
            if request.parent_run_id is not None:
                parent = self._run_row(conn, request.parent_run_id)
                if parent["experiment_id"] != request.experiment_id:
                    raise InvalidInput("a child run must be in its parent's experiment")
            running = request.status == RunStatus.RUNNING
            conn.execute(
                insert(runs).values(
                    id=run_id,
                    experiment_id=request.experiment_id,
                    parent_run_id=request.parent_run_id,
                    display_name=request.display_name,
                    description=request.description,
                    status=request.status.value,
                    lifecycle_stage="active",
                    run_type=request.run_type,
                    user_name=request.user,
                    created_time=now,
                    start_time=now if running else None,
                    heartbeat_time=now,
                )
            )
            if request.tags:
                conn.execute(
                    insert(tags), [{"run_id": run_id, "key": k, "value": v} for k, v in request.tags.items()]
                )
            conn.execute(
                update(experiments)
                .where(experiments.c.id == request.experiment_id)
                .values(last_activity_time=now)
            )
            return load_runs(conn, [run_id])[0]

    def get_run(self, run_id: str) -> RunDetails:
        check_id(run_id, "run")
        with self.database.read() as conn:
            found = load_runs(conn, [run_id])
        if not found:
            raise NotFound(f"run {run_id!r} not found")
        return found[0]

    def update_run(self, run_id: str, request: RunUpdate) -> RunInfo:
        now = time.time()
        with self.database.write() as conn:
            row = self._run_row(conn, run_id, lock=True)
            values: dict[str, Any] = {}
            if request.display_name is not None:
                values["display_name"] = request.display_name
            if request.description is not None:
                values["description"] = request.description
            if request.status is not None or request.error is not None:
                current = RunStatus(row["status"])
                if current in TERMINAL_STATUSES:
                    raise Conflict(f"run {run_id} is {current}; its status can no longer change")
                target = request.status or current
                if target == RunStatus.NOT_STARTED:
                    raise InvalidInput("a run cannot go back to NotStarted")
                values["status"] = target.value
                if target == RunStatus.RUNNING and row["start_time"] is None:
                    values["start_time"] = now
                if target in TERMINAL_STATUSES:
                    values["end_time"] = now
                    if row["start_time"] is None:
                        values["start_time"] = now
                if request.error is not None:
                    values["error_message"] = request.error.message
                    values["error_traceback"] = request.error.traceback
                    values["exit_code"] = request.error.exit_code
                values["heartbeat_time"] = now
            if values:
                conn.execute(update(runs).where(runs.c.id == run_id).values(**values))
            return run_info(self._run_row(conn, run_id))

    def set_run_lifecycle(self, run_id: str, stage: Lifecycle) -> RunInfo:
        if stage not in ("active", "deleted"):
            raise InvalidInput("a run's lifecycle stage is 'active' or 'deleted'")
        with self.database.write() as conn:
            self._run_row(conn, run_id)
            family = [run_id]
            frontier = [run_id]
            while frontier:  # the run and all its descendants
                children = [
                    r[0] for r in conn.execute(select(runs.c.id).where(runs.c.parent_run_id.in_(frontier)))
                ]
                family.extend(children)
                frontier = children
            conn.execute(
                update(runs)
                .where(runs.c.id.in_(family))
                .values(lifecycle_stage=stage, deleted_time=time.time() if stage == "deleted" else None)
            )
            return run_info(self._run_row(conn, run_id))

    def search_runs(self, request: RunSearch) -> RunPage:
        with self.database.read() as conn:
            ids, token = search_run_ids(conn, request)
            page = RunPage(runs=load_runs(conn, ids), next_page_token=token)
            if request.count:
                total = count_runs(conn, request, cap=RUN_COUNT_CAP)
                page.total_count, page.total_count_capped = total, total >= RUN_COUNT_CAP
            return page

    def _write_once(self, table: Any, run_id: str, values: dict[str, str], what: str) -> None:
        with self.database.write() as conn:
            self._writable_run(conn, run_id)
            keys = list(values)
            existing = {
                r.key: r.value
                for r in conn.execute(
                    select(table.c.key, table.c.value).where(
                        and_(table.c.run_id == run_id, table.c.key.in_(keys))
                    )
                )
            }
            for key, old in existing.items():
                if old != values[key]:
                    raise Conflict(
                        f"{what} {key!r} of run {run_id} is already {old[:200]!r}; {what}s are write-once"
                    )
            rows: list[dict[str, Any]] = [
                {"run_id": run_id, "key": k, "value": v} for k, v in values.items() if k not in existing
            ]
            if rows and table is params:
                for r in rows:
                    r["value_num"] = _as_number(r["value"])
            if rows:
                conn.execute(insert(table), rows)

    def log_params(self, run_id: str, params_: dict[str, str]) -> None:
        self._write_once(params, run_id, _check_values(params_, "param", MAX_PARAM_VALUE), "param")

    def add_properties(self, run_id: str, properties_: dict[str, str]) -> None:
        self._write_once(
            properties, run_id, _check_values(properties_, "property", MAX_TAG_VALUE), "property"
        )

    def set_tags(self, run_id: str, tags_: dict[str, str]) -> None:
        values = _check_values(tags_, "tag", MAX_TAG_VALUE)
        with self.database.write() as conn:
            row = self._run_row(conn, run_id, lock=True)
            if row["lifecycle_stage"] != "active":
                raise Conflict(f"run {run_id} is deleted; restore it before changing tags")
            conn.execute(delete(tags).where(and_(tags.c.run_id == run_id, tags.c.key.in_(list(values)))))
            if values:
                conn.execute(
                    insert(tags), [{"run_id": run_id, "key": k, "value": v} for k, v in values.items()]
                )

    def delete_tag(self, run_id: str, key: str) -> None:
        with self.database.write() as conn:
            row = self._run_row(conn, run_id, lock=True)
            if row["lifecycle_stage"] != "active":
                raise Conflict(f"run {run_id} is deleted; restore it before changing tags")
            result = conn.execute(delete(tags).where(and_(tags.c.run_id == run_id, tags.c.key == key)))
            if result.rowcount == 0:
                raise NotFound(f"run {run_id} has no tag {key[:250]!r}")

    # -- metrics -------------------------------------------------------------------------------
    def log_metrics(self, run_id: str, series: list[MetricSeries]) -> None:
        if not series:
            return
        for s in series:  # series built with model_construct (the SDK's buffer) were never validated
            try:
                check_series(s)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
        now = time.time()
        with self.database.write() as conn:
            self._writable_run(conn, run_id)
            keys = list({s.key for s in series})
            state = {
                r.key: r
                for r in conn.execute(
                    select(metric_latest).where(
                        and_(metric_latest.c.run_id == run_id, metric_latest.c.key.in_(keys))
                    )
                )
            }
            # Per key: next step cursor, next chunk seq, count and the best (step, ts, value) so far.
            cursor: dict[str, list[Any]] = {}
            for key in keys:
                r = state.get(key)
                if r is None:
                    cursor[key] = [0, 0, 0, None]
                else:
                    value = math.nan if r.value is None else r.value
                    cursor[key] = [r.step + 1, r.next_seq, r.count, (r.step, r.timestamp, value)]
            chunks = []
            for s in series:
                cur = cursor[s.key]
                n = len(s.values)
                if s.steps is None:
                    steps = list(range(cur[0], cur[0] + n))
                else:
                    steps = []
                    nxt = cur[0]
                    for st in s.steps:
                        st = nxt if st is None else st
                        steps.append(st)
                        nxt = st + 1
                stamps = s.timestamps if s.timestamps is not None else [now] * n
                best_i = max(range(n), key=lambda i: (steps[i], stamps[i]))
                candidate = (steps[best_i], stamps[best_i], s.values[best_i])
                if cur[3] is None or candidate[:2] >= cur[3][:2]:
                    cur[3] = candidate
                chunks.append(
                    {
                        "run_id": run_id,
                        "key": s.key,
                        "seq": cur[1],
                        "count": n,
                        "min_step": min(steps),
                        "max_step": max(steps),
                        "steps": pack_ints(steps),
                        "values": pack_floats(s.values),
                        "timestamps": pack_floats(stamps),
                    }
                )
                cur[0] = (
                    steps[-1] + 1 if s.steps is None or s.steps[-1] is None else max(steps[-1] + 1, cur[0])
                )
                cur[1] += 1
                cur[2] += n
            conn.execute(insert(metric_chunks), chunks)
            new_rows: list[dict[str, Any]] = []
            changed: list[dict[str, Any]] = []
            for key in keys:
                nxt, seq, count, (step, stamp, value) = cursor[key]
                row = {
                    "run_id": run_id,
                    "key": key,
                    "value": _db_float(value),
                    "step": step,
                    "timestamp": stamp,
                    "count": count,
                    "next_seq": seq,
                }
                (changed if key in state else new_rows).append(row)
            if new_rows:
                conn.execute(insert(metric_latest), new_rows)
            for row in changed:
                conn.execute(
                    update(metric_latest)
                    .where(and_(metric_latest.c.run_id == run_id, metric_latest.c.key == row["key"]))
                    .values({k: v for k, v in row.items() if k not in ("run_id", "key")})
                )

    def log_table_rows(self, run_id: str, key: str, rows: list[dict[str, Any]]) -> None:
        try:
            check_key(key, "table name")
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        checked = build(TableRows, rows=rows)
        if not checked.rows:
            return
        with self.database.write() as conn:
            self._writable_run(conn, run_id)
            seq = conn.execute(
                select(func.coalesce(func.max(run_tables.c.seq) + 1, 0)).where(
                    and_(run_tables.c.run_id == run_id, run_tables.c.key == key)
                )
            ).scalar_one()
            conn.execute(
                insert(run_tables).values(
                    run_id=run_id, key=key, seq=seq, rows=json.dumps(checked.rows, allow_nan=True)
                )
            )

    def _history(self, conn: Connection, run_id: str, key: str, max_points: int | None) -> MetricHistory:
        values: list[float] = []
        steps: list[int] = []
        stamps: list[float] = []
        for r in conn.execute(
            select(metric_chunks.c["values"], metric_chunks.c.steps, metric_chunks.c.timestamps)
            .where(and_(metric_chunks.c.run_id == run_id, metric_chunks.c.key == key))
            .order_by(metric_chunks.c.seq)
        ):
            values.extend(unpack_floats(r[0]))
            steps.extend(unpack_ints(r[1]))
            stamps.extend(unpack_floats(r[2]))
        total = len(values)
        if max_points is not None and total > max_points:
            keep = decimate(total, values, max_points)
            values = [values[i] for i in keep]
            steps = [steps[i] for i in keep]
            stamps = [stamps[i] for i in keep]
        return MetricHistory(key=key, values=values, steps=steps, timestamps=stamps, total_points=total)

    def get_metric_history(self, run_id: str, key: str, *, max_points: int | None = None) -> MetricHistory:
        if max_points is not None and max_points < 10:
            raise InvalidInput("max_points must be at least 10")
        with self.database.read() as conn:
            self._run_row(conn, run_id)
            exists = conn.execute(
                select(metric_latest.c.key).where(
                    and_(metric_latest.c.run_id == run_id, metric_latest.c.key == key)
                )
            ).first()
            if exists is None:
                raise NotFound(f"run {run_id} has no metric {key[:250]!r}")
            return self._history(conn, run_id, key, max_points)

    def get_metrics(self, run_id: str, *, series: bool = True) -> RunMetrics:
        with self.database.read() as conn:
            self._run_row(conn, run_id)
            keys = (
                []
                if not series
                else [
                    r[0]
                    for r in conn.execute(
                        select(metric_latest.c.key)
                        .where(metric_latest.c.run_id == run_id)
                        .order_by(metric_latest.c.key)
                    )
                ]
            )
            histories = {k: self._history(conn, run_id, k, None) for k in keys}
            tables: dict[str, dict[str, list[Any]]] = {}
            for r in conn.execute(
                select(run_tables.c.key, run_tables.c.rows)
                .where(run_tables.c.run_id == run_id)
                .order_by(run_tables.c.key, run_tables.c.seq)
            ):
                table = tables.setdefault(r.key, {})
                for row in json.loads(r.rows):
                    n_before = len(next(iter(table.values()))) if table else 0
                    for col in row:
                        table.setdefault(col, [None] * n_before)
                    for col, cells in table.items():
                        cells.append(row.get(col))
        return RunMetrics(series=histories, tables=tables)

    # -- artifacts -----------------------------------------------------------------------------
    def upload_artifact(self, run_id: str, path: str, chunks: Iterable[bytes]) -> ArtifactInfo:
        path = normalize_artifact_path(path)
        with self.database.read() as conn:
            self._writable_run(conn, run_id)
        blob = self.blobs.put_stream(chunks)
        now = time.time()
        with self.database.write() as conn:
            self._writable_run(conn, run_id)
            conn.execute(
                delete(artifacts).where(and_(artifacts.c.run_id == run_id, artifacts.c.path == path))
            )
            conn.execute(
                insert(artifacts).values(
                    run_id=run_id, path=path, digest=blob.digest, size=blob.size, created_time=now
                )
            )
        return ArtifactInfo(path=path, size=blob.size, digest=blob.digest, created_time=to_datetime(now))

    def list_artifacts(self, run_id: str, prefix: str = "") -> list[ArtifactInfo]:
        prefix = normalize_artifact_path(prefix, allow_dir=True)
        query = select(artifacts).where(artifacts.c.run_id == run_id)
        if prefix:
            query = query.where(
                (artifacts.c.path == prefix) | artifacts.c.path.startswith(prefix + "/", autoescape=True)
            )
        with self.database.read() as conn:
            self._run_row(conn, run_id)
            rows = conn.execute(query.order_by(artifacts.c.path)).mappings().all()
        return [
            ArtifactInfo(
                path=r["path"],
                size=r["size"],
                digest=r["digest"],
                created_time=to_datetime(r["created_time"]),
            )
            for r in rows
        ]

    def open_artifact(self, run_id: str, path: str) -> tuple[ArtifactInfo, Iterator[bytes]]:
        path = normalize_artifact_path(path)
        with self.database.read() as conn:
            self._run_row(conn, run_id)
            row = (
                conn.execute(
                    select(artifacts).where(and_(artifacts.c.run_id == run_id, artifacts.c.path == path))
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(f"run {run_id} has no file {path!r}")
        info = ArtifactInfo(
            path=row["path"],
            size=row["size"],
            digest=row["digest"],
            created_time=to_datetime(row["created_time"]),
        )
        return info, self.blobs.iter_chunks(row["digest"])

    # -- lifecycle -----------------------------------------------------------------------------
    def purge(self, *, older_than_seconds: float = 0.0) -> PurgeReport:
        if older_than_seconds < 0:
            raise InvalidInput("older_than_seconds must not be negative")
        cutoff = time.time() - older_than_seconds
        report = PurgeReport()
        with self.database.write() as conn:
            dead_experiments = [
                r[0]
                for r in conn.execute(
                    select(experiments.c.id).where(
                        and_(experiments.c.lifecycle_stage == "deleted", experiments.c.deleted_time <= cutoff)
                    )
                )
            ]
            dead_runs = [
                r[0]
                for r in conn.execute(
                    select(runs.c.id).where(
                        (and_(runs.c.lifecycle_stage == "deleted", runs.c.deleted_time <= cutoff))
                        | runs.c.experiment_id.in_(dead_experiments)
                    )
                )
            ]
            candidates: set[str] = set()
            for start in range(0, len(dead_runs), 500):
                batch = dead_runs[start : start + 500]
                candidates.update(
                    r[0]
                    for r in conn.execute(select(artifacts.c.digest).where(artifacts.c.run_id.in_(batch)))
                )
                # Children first is not needed: the parent link cascades, and the whole family is deleted.
                conn.execute(delete(runs).where(runs.c.id.in_(batch)))
            if dead_experiments:
                conn.execute(delete(experiments).where(experiments.c.id.in_(dead_experiments)))
            candidates |= self._drop_unused_snapshots(conn, time.time() - SNAPSHOT_GRACE_SECONDS)
            report.runs = len(dead_runs)
            report.experiments = len(dead_experiments)
            orphans = self._unreferenced(conn, candidates)
        for digest in sorted(orphans):
            try:
                size = self.blobs.size(digest)
            except NotFound:
                continue
            self.blobs.delete(digest)
            report.blobs += 1
            report.bytes_freed += size
        logger.info("purged %d runs, %d experiments, %d blobs", report.runs, report.experiments, report.blobs)
        return report

    @staticmethod
    def _drop_unused_snapshots(conn: Connection, cutoff: float) -> set[str]:
        """Delete snapshots no run or deployment uses (registered before ``cutoff``); return their blobs."""
        used = union(
            select(run_configs.c.snapshot_digest).where(run_configs.c.snapshot_digest.is_not(None)),
            # A deployment's scoring code is a snapshot too; replicas restore it whenever they start.
            select(deployments.c.snapshot_digest).where(deployments.c.snapshot_digest.is_not(None)),
        )
        stale = [
            r[0]
            for r in conn.execute(
                select(snapshots.c.digest).where(
                    and_(snapshots.c.digest.not_in(used), snapshots.c.created_time <= cutoff)
                )
            )
        ]
        freed: set[str] = set(stale)
        for start in range(0, len(stale), 500):
            batch = stale[start : start + 500]
            freed.update(
                r[0]
                for r in conn.execute(
                    select(snapshot_files.c.digest).where(snapshot_files.c.snapshot_digest.in_(batch))
                )
            )
            conn.execute(delete(snapshot_files).where(snapshot_files.c.snapshot_digest.in_(batch)))
            conn.execute(delete(snapshots).where(snapshots.c.digest.in_(batch)))
        return freed

    @staticmethod
    def _unreferenced(conn: Connection, digests: set[str]) -> set[str]:
        remaining = set(digests)
        items = sorted(remaining)
        for column in BLOB_REFERENCES:
            for start in range(0, len(items), 500):
                batch = items[start : start + 500]
                remaining -= {r[0] for r in conn.execute(select(column).where(column.in_(batch)).distinct())}
        return remaining
