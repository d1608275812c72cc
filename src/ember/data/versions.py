"""Dataset version rows as entities, and the lifecycle rules of ``LocalData`` (a mixin it inherits).

Lifecycle (Azure ML's): *active* → *deprecated* (by a replacement version, still readable with a
warning) → *archived* (hidden from lists and "latest", refused to readers and runs) → *reactivated*.
Unregistering a name keeps its rows with ``unregistered_time`` set: names, lists and "latest" skip them,
``get_dataset_by_id`` and run lineage still find them, and ``version_marks`` keeps their numbers taken.
Every change is one write transaction.
"""

from __future__ import annotations

import builtins
import json
import logging
import re
import time
from typing import Any

from sqlalchemy import Connection, RowMapping, and_, select, update

from ember.data.lifecycle import label
from ember.entities.data import DatasetDefinition, DatasetVersionInfo
from ember.entities.tracking import NAME_PATTERN
from ember.errors import Conflict, InvalidInput, NotFound
from ember.store.database import Database
from ember.store.schema import dataset_profiles, dataset_versions
from ember.store.tracking import to_datetime

__all__ = [
    "REGISTERED",
    "VISIBLE",
    "DatasetVersions",
    "check_id",
    "check_name",
    "replacements",
    "version_info",
]

logger = logging.getLogger(__name__)

NAME_RE = re.compile(NAME_PATTERN)


def check_name(name: str, what: str) -> str:
    """``name`` when it is a valid name of ``what``; InvalidInput otherwise."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidInput(
            f"{what} name {str(name)[:100]!r} is invalid: use letters, digits, '_', '-' and '.', "
            "starting with a letter or digit"
        )
    return name


def check_id(value: str) -> str:
    """``value`` when it looks like a dataset (or run) id; InvalidInput otherwise."""
    if not isinstance(value, str) or not value or len(value) > 64 or not value.isalnum():
        raise InvalidInput(f"a dataset id is a hexadecimal string, not {str(value)[:100]!r}")
    return value


def version_info(
    row: RowMapping, *, has_profile: bool, replacement: tuple[str, int] | None = None
) -> DatasetVersionInfo:
    """A ``dataset_versions`` row as the entity (``replacement``: the deprecating version's name, number)."""
    return DatasetVersionInfo(
        id=row["id"],
        name=row["name"],
        version=row["version"],
        kind=row["kind"],
        definition=DatasetDefinition.model_validate_json(row["definition"]),
        description=row["description"],
        tags=json.loads(row["tags"]),
        file_count=row["file_count"],
        total_size=row["total_size"],
        fingerprint=row["fingerprint"],
        source_run_id=row["source_run_id"],
        has_profile=has_profile,
        created_time=to_datetime(row["created_time"]),
        state=row["state"],
        deprecated_by=row["deprecated_by"],
        deprecated_by_name=None if replacement is None else replacement[0],
        deprecated_by_version=None if replacement is None else replacement[1],
        state_time=None if row["state_time"] is None else to_datetime(row["state_time"]),
        unregistered_time=None if row["unregistered_time"] is None else to_datetime(row["unregistered_time"]),
    )


REGISTERED = dataset_versions.c.unregistered_time.is_(None)
VISIBLE = and_(REGISTERED, dataset_versions.c.state != "archived")


def replacements(conn: Connection, rows: Any) -> dict[str, tuple[str, int]]:
    """The name and version of each replacement the rows' ``deprecated_by`` names."""
    ids = {r["deprecated_by"] for r in rows if r["deprecated_by"]}
    if not ids:
        return {}
    found = conn.execute(
        select(dataset_versions.c.id, dataset_versions.c.name, dataset_versions.c.version).where(
            dataset_versions.c.id.in_(ids)
        )
    )
    return {r.id: (r.name, r.version) for r in found}


class DatasetVersions:
    """Reading version rows, and deprecate / archive / reactivate / unregister (``LocalData`` inherits)."""

    database: Database

    @staticmethod
    def _version_row(conn: Connection, dataset_id: str) -> RowMapping:
        row = (
            conn.execute(select(dataset_versions).where(dataset_versions.c.id == dataset_id))
            .mappings()
            .first()
        )
        if row is None:
            raise NotFound(f"dataset version {dataset_id!r} not found")
        return row

    @staticmethod
    def _info(conn: Connection, row: RowMapping) -> DatasetVersionInfo:
        has_profile = (
            conn.execute(
                select(dataset_profiles.c.dataset_id).where(dataset_profiles.c.dataset_id == row["id"])
            ).first()
            is not None
        )
        replacement = replacements(conn, [row]).get(row["deprecated_by"] or "")
        return version_info(row, has_profile=has_profile, replacement=replacement)

    # ---- lifecycle ----------------------------------------------------------------------------------

    @staticmethod
    def _lock(conn: Connection, ids: builtins.list[str]) -> None:
        """Lock the rows of these versions until the transaction ends, in one order (no deadlock between
        two changes), so a check made below holds at commit on PostgreSQL; SQLite writers are serial."""
        conn.execute(
            select(dataset_versions.c.id)
            .where(dataset_versions.c.id.in_(ids))
            .order_by(dataset_versions.c.id)
            .with_for_update()
        ).all()

    def _changeable(
        self, conn: Connection, dataset_id: str, verb: str, *, also: str | None = None
    ) -> RowMapping:
        """The version's row, locked for the change (with ``also``); an unregistered one is a Conflict."""
        self._lock(conn, [check_id(dataset_id)] + ([also] if also else []))
        row = self._version_row(conn, dataset_id)
        if row["unregistered_time"] is not None:
            raise Conflict(
                f"{label(version_info(row, has_profile=False))} was unregistered; it cannot be {verb}"
            )
        return row

    def _dependents(self, conn: Connection, ids: builtins.list[str]) -> builtins.list[str]:
        """Labels of the registered versions, other than ``ids``, that are deprecated by one of ``ids``."""
        rows = conn.execute(
            select(dataset_versions.c.name, dataset_versions.c.version)
            .where(
                and_(
                    dataset_versions.c.deprecated_by.in_(ids),
                    dataset_versions.c.id.not_in(ids),
                    dataset_versions.c.state == "deprecated",
                    REGISTERED,
                )
            )
            .order_by(dataset_versions.c.name, dataset_versions.c.version)
        ).all()
        return [f"{n} v{v}" for n, v in rows]

    def _set_state(self, conn: Connection, dataset_id: str, state: str, deprecated_by: str | None) -> None:
        conn.execute(
            update(dataset_versions)
            .where(dataset_versions.c.id == dataset_id)
            .values(state=state, deprecated_by=deprecated_by, state_time=time.time())
        )

    def deprecate_dataset(self, dataset_id: str, *, deprecated_by: str) -> DatasetVersionInfo:
        check_id(deprecated_by)
        with self.database.write() as conn:
            row = self._changeable(conn, dataset_id, "deprecated", also=deprecated_by)
            what = label(version_info(row, has_profile=False))
            if row["state"] == "archived":
                raise Conflict(f"{what} is archived: reactivate it before deprecating it")
            if deprecated_by == row["id"]:
                raise Conflict(
                    f"{what} cannot be deprecated by itself: name another version as its replacement"
                )
            replacement = (
                conn.execute(select(dataset_versions).where(dataset_versions.c.id == deprecated_by))
                .mappings()
                .first()
            )
            if replacement is None or replacement["unregistered_time"] is not None:
                raise Conflict(
                    f"the replacement {deprecated_by!r} is no registered dataset version: "
                    "`ember dataset list` shows the registered ones"
                )
            other = label(version_info(replacement, has_profile=False))
            if replacement["state"] == "archived":
                raise Conflict(
                    f"the replacement {other} is archived: reactivate it or name an active version"
                )
            if replacement["state"] == "deprecated":
                raise Conflict(
                    f"the replacement {other} is itself deprecated: name its replacement "
                    f"({replacement['deprecated_by']}) or another active version"
                )
            self._set_state(conn, row["id"], "deprecated", deprecated_by)
            logger.info("deprecated %s by %s", what, other)
            return self._info(conn, self._version_row(conn, row["id"]))

    def archive_dataset(self, dataset_id: str) -> DatasetVersionInfo:
        with self.database.write() as conn:
            row = self._changeable(conn, dataset_id, "archived")
            if row["state"] != "archived":
                dependents = self._dependents(conn, [row["id"]])
                if dependents:
                    raise Conflict(
                        f"{label(version_info(row, has_profile=False))} replaces deprecated versions "
                        f"({', '.join(dependents[:5])}); deprecate them by another version first"
                    )
                self._set_state(conn, row["id"], "archived", None)
                logger.info("archived %s", label(version_info(row, has_profile=False)))
            return self._info(conn, self._version_row(conn, row["id"]))

    def reactivate_dataset(self, dataset_id: str) -> DatasetVersionInfo:
        with self.database.write() as conn:
            row = self._changeable(conn, dataset_id, "reactivated")
            if row["state"] != "active":
                self._set_state(conn, row["id"], "active", None)
                logger.info("reactivated %s", label(version_info(row, has_profile=False)))
            return self._info(conn, self._version_row(conn, row["id"]))

    def unregister_dataset(self, name: str) -> builtins.list[DatasetVersionInfo]:
        check_name(name, "a dataset")
        with self.database.write() as conn:
            rows = (
                conn.execute(
                    select(dataset_versions)
                    .where(and_(dataset_versions.c.name == name, REGISTERED))
                    .order_by(dataset_versions.c.version.desc())
                )
                .mappings()
                .all()
            )
            if not rows:
                raise NotFound(f"dataset {name!r} not found: `ember dataset list` shows the registered ones")
            ids = [r["id"] for r in rows]
            self._lock(conn, ids)
            dependents = self._dependents(conn, ids)
            if dependents:
                raise Conflict(
                    f"versions of dataset {name!r} replace deprecated versions of other datasets "
                    f"({', '.join(dependents[:5])}); deprecate them by another version first"
                )
            # The rows stay: runs that consumed or produced them still show them, found by id.
            conn.execute(
                update(dataset_versions)
                .where(dataset_versions.c.id.in_(ids))
                .values(unregistered_time=time.time())
            )
            logger.info("unregistered dataset %s (%d versions)", name, len(ids))
            return [self._info(conn, self._version_row(conn, i)) for i in ids]
