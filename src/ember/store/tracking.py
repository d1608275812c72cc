"""Reading tracking rows and turning them into entities at the store's edge (no ORM objects leak)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, overload

from sqlalchemy import ColumnElement, Connection, RowMapping, Select, and_, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import Insert

from ember.entities import ExperimentInfo, RunDetails, RunError, RunInfo, RunStatus
from ember.errors import Conflict
from ember.store.schema import (
    experiment_tags,
    experiments,
    metric_latest,
    params,
    properties,
    runs,
    tags,
    version_marks,
)

__all__ = [
    "MAX_VERSION",
    "experiment_query",
    "insert_ignore",
    "insert_next_version",
    "load_experiments",
    "load_runs",
    "to_datetime",
]


@overload
def to_datetime(value: float) -> datetime: ...
@overload
def to_datetime(value: None) -> None: ...
def to_datetime(value: float | None) -> datetime | None:
    """Epoch seconds as an aware UTC datetime."""
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


def insert_ignore(conn: Connection, table: Any) -> Insert:
    """An INSERT that does nothing on a primary-key or unique conflict, in either dialect."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing()
    return sqlite.insert(table).on_conflict_do_nothing()


MAX_VERSION = 2**31 - 1  # version columns are 32-bit integers on PostgreSQL


def insert_next_version(
    conn: Connection, table: Any, *, name: str, values: Mapping[str, Any], what: str
) -> int | None:
    """Insert ``values`` as the next version of ``name`` in a versioned table (``name``, ``version`` unique).

    A deleted version's number is never given again, not even the latest's (``version_marks`` remembers
    the highest number each name had). Returns the version, or None when a concurrent transaction took
    that number (the caller starts over in a new transaction, which sees the other's row). Detected with
    RETURNING, not rowcount: psycopg reports -1 for ``INSERT ... ON CONFLICT DO NOTHING``.

    Raises:
        Conflict: ``name`` has reached the highest version number.
    """
    latest = conn.execute(select(func.max(table.c.version)).where(table.c.name == name)).scalar()
    mark = conn.execute(
        select(version_marks.c.last_version).where(
            and_(version_marks.c.kind == table.name, version_marks.c.name == name)
        )
    ).scalar()
    version = max(int(latest or 0), int(mark or 0)) + 1
    if version > MAX_VERSION:
        raise Conflict(f"{what} {name!r} has reached the highest version number")
    inserted = conn.execute(
        insert_ignore(conn, table).values(name=name, version=version, **values).returning(table.c.version)
    ).first()
    if inserted is None:
        return None
    # Remember the number even after the version is deleted: it is never given again.
    conn.execute(insert_ignore(conn, version_marks).values(kind=table.name, name=name, last_version=0))
    conn.execute(
        update(version_marks)
        .where(
            and_(
                version_marks.c.kind == table.name,
                version_marks.c.name == name,
                version_marks.c.last_version < version,
            )
        )
        .values(last_version=version)
    )
    return version


def experiment_query(where: ColumnElement[bool] | None = None) -> Select[Any]:
    """Experiments with their active run count."""
    run_count = (
        select(func.count())
        .where(and_(runs.c.experiment_id == experiments.c.id, runs.c.lifecycle_stage == "active"))
        .scalar_subquery()
    )
    query = select(experiments, run_count.label("run_count"))
    return query if where is None else query.where(where)


def load_experiments(conn: Connection, query: Select[Any]) -> list[ExperimentInfo]:
    """Run an ``experiment_query`` and attach tags."""
    rows = conn.execute(query).mappings().all()
    ids = [r["id"] for r in rows]
    tag_map: dict[str, dict[str, str]] = {i: {} for i in ids}
    if ids:
        for t in conn.execute(select(experiment_tags).where(experiment_tags.c.experiment_id.in_(ids))):
            tag_map[t.experiment_id][t.key] = t.value
    return [
        ExperimentInfo(
            id=r["id"],
            name=r["name"],
            description=r["description"],
            lifecycle_stage=r["lifecycle_stage"],
            created_time=to_datetime(r["created_time"]),
            last_activity_time=to_datetime(r["last_activity_time"]),
            run_count=int(r["run_count"] or 0),
            tags=tag_map[r["id"]],
        )
        for r in rows
    ]


def run_info(row: Mapping[str, Any] | RowMapping) -> RunInfo:
    """A ``runs`` row (joined with the experiment's name) as a RunInfo.

    Rows written by the store are trusted, so entities are built without re-validation
    (``model_construct``): listing thousands of runs is dominated by this conversion otherwise.
    """
    error = None
    if row["error_message"] is not None:
        error = RunError.model_construct(
            message=row["error_message"], traceback=row["error_traceback"], exit_code=row["exit_code"]
        )
    return RunInfo.model_construct(
        id=row["id"],
        experiment_id=row["experiment_id"],
        experiment_name=row.get("experiment_name"),
        parent_run_id=row["parent_run_id"],
        display_name=row["display_name"],
        description=row["description"],
        status=RunStatus(row["status"]),
        lifecycle_stage=row["lifecycle_stage"],
        run_type=row["run_type"],
        user=row["user_name"],
        created_time=to_datetime(row["created_time"]),
        start_time=to_datetime(row["start_time"]),
        end_time=to_datetime(row["end_time"]),
        error=error,
    )


def run_rows_query() -> Select[Any]:
    """Runs joined with their experiment's name."""
    return select(runs, experiments.c.name.label("experiment_name")).join(
        experiments, experiments.c.id == runs.c.experiment_id
    )


def load_runs(conn: Connection, ids: Sequence[str]) -> list[RunDetails]:
    """Full details of the given runs, in the order of ``ids`` (unknown ids are left out)."""
    if not ids:
        return []
    id_list = list(ids)
    rows = {r["id"]: r for r in conn.execute(run_rows_query().where(runs.c.id.in_(id_list))).mappings()}
    kv: dict[str, dict[str, dict[str, str]]] = {i: {"params": {}, "tags": {}, "properties": {}} for i in rows}
    for name, table in (("params", params), ("tags", tags), ("properties", properties)):
        for r in conn.execute(
            select(table.c.run_id, table.c.key, table.c.value).where(table.c.run_id.in_(id_list))
        ):
            kv[r.run_id][name][r.key] = r.value
    latest: dict[str, dict[str, float]] = {i: {} for i in rows}
    for r in conn.execute(
        select(metric_latest.c.run_id, metric_latest.c.key, metric_latest.c.value).where(
            metric_latest.c.run_id.in_(id_list)
        )
    ):
        latest[r.run_id][r.key] = math.nan if r.value is None else r.value
    return [
        RunDetails.model_construct(
            info=run_info(rows[i]),
            params=kv[i]["params"],
            tags=kv[i]["tags"],
            properties=kv[i]["properties"],
            metrics=latest[i],
        )
        for i in id_list
        if i in rows
    ]
