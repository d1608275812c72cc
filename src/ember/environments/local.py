"""LocalEnvironments: the rules of registered environments on a workspace's metadata database.

Registration is atomic per name on both dialects. On SQLite a write transaction holds the database's
write lock from its first statement, so registrations queue. On PostgreSQL two transactions may both
read the same highest version; the insert then skips on the primary key (a version taken meanwhile)
or on ``UNIQUE (name, spec_hash)`` (the same spec registered meanwhile) and the registration starts
over in a new transaction, which sees the other's row. Every retry follows another registration's
success, so a retry loop bounded well above any realistic number of simultaneous registrations of one
name always ends.

Deleting a version removes its row, like deleting a model version: the next new spec takes the highest
remaining version plus one. Deployments name the environment version they run in; the endpoints area
registers a guard (``add_deployment_guard``) that refuses deleting a version a deployment uses.
"""

from __future__ import annotations

import builtins
import logging
import time
from collections.abc import Callable

from sqlalchemy import Connection, RowMapping, and_, delete, func, select

from ember.contracts.environments import EnvironmentsBackend
from ember.entities.environment_spec import EnvironmentSpec, pin_python, spec_hash
from ember.entities.environments import EnvironmentInfo, EnvironmentRegister, check_environment_name
from ember.errors import Conflict, InvalidInput, NotFound
from ember.store.database import Database
from ember.store.schema import environments
from ember.store.tracking import MAX_VERSION, insert_next_version, to_datetime

__all__ = ["DeploymentGuard", "LocalEnvironments"]

logger = logging.getLogger(__name__)

_MAX_ATTEMPTS = 100

#: Names the deployments (``endpoint/deployment``) that run in an environment version (empty: none); the
#: endpoints area provides it.
DeploymentGuard = Callable[[str, int], builtins.list[str]]


def _info(row: RowMapping) -> EnvironmentInfo:
    """An environments row as the entity the contract returns."""
    return EnvironmentInfo(
        name=row["name"],
        version=row["version"],
        spec=EnvironmentSpec.model_validate_json(row["spec"]),
        spec_hash=row["spec_hash"],
        description=row["description"],
        created_time=to_datetime(row["created_time"]),
    )


def _check_version(version: int | None) -> int | None:
    if version is None:
        return None
    if isinstance(version, bool) or not isinstance(version, int) or not 1 <= version <= MAX_VERSION:
        raise InvalidInput(f"an environment version is a positive integer, not {version!r}")
    return version


def _registrable(request: EnvironmentRegister) -> tuple[str, EnvironmentSpec]:
    """The request's name and spec, validated afresh (a caller may have skipped validation)."""
    name = check_environment_name(request.name)
    raw = request.spec
    spec = EnvironmentSpec.model_validate(raw.model_dump() if isinstance(raw, EnvironmentSpec) else raw)
    if spec.inherit_current:
        raise InvalidInput(
            f"environment {name!r} inherits the submitting interpreter, which is not a reproducible spec "
            "and cannot be registered; list its Python version and packages instead, or submit with "
            "Environment.current() without registering it"
        )
    description = request.description
    if description is not None and (not isinstance(description, str) or "\x00" in description):
        raise InvalidInput("an environment description must be text without NUL characters")
    return name, pin_python(spec)


class LocalEnvironments(EnvironmentsBackend):
    """Registered environments in the workspace's ``environments`` table."""

    def __init__(self, *, database: Database) -> None:
        self.database = database
        self._guards: builtins.list[DeploymentGuard] = []

    def add_deployment_guard(self, guard: DeploymentGuard) -> None:
        """Let another area refuse deleting an environment version it uses (endpoints do)."""
        self._guards.append(guard)

    def register(self, request: EnvironmentRegister) -> EnvironmentInfo:
        name, spec = _registrable(request)
        digest = spec_hash(spec)
        document = spec.model_dump_json()
        for _ in range(_MAX_ATTEMPTS):
            with self.database.write() as conn:
                found = self._by_hash(conn, name, digest)
                if found is not None:
                    return found
                version = insert_next_version(
                    conn,
                    environments,
                    name=name,
                    values={
                        "spec": document,
                        "spec_hash": digest,
                        "description": request.description,
                        "created_time": time.time(),
                    },
                    what="environment",
                )
                if version is not None:
                    logger.info("registered environment %s version %d", name, version)
                    return self._get(conn, name, version)
            logger.debug("registering environment %s raced another registration; trying again", name)
        raise Conflict(
            f"could not register environment {name!r}: too many registrations of it at once; try again"
        )

    def get(self, name: str, version: int | None = None) -> EnvironmentInfo:
        check_environment_name(name)
        version = _check_version(version)
        with self.database.read() as conn:
            if version is not None:
                return self._get(conn, name, version)
            row = (
                conn.execute(
                    select(environments)
                    .where(environments.c.name == name)
                    .order_by(environments.c.version.desc())
                    .limit(1)
                )
                .mappings()
                .first()
            )
        if row is None:
            raise NotFound(_unknown(name))
        return _info(row)

    def list(self, name: str | None = None) -> builtins.list[EnvironmentInfo]:
        query = select(environments)
        if name is not None:
            check_environment_name(name)
            query = query.where(environments.c.name == name).order_by(environments.c.version.desc())
        else:
            latest = (
                select(environments.c.name, func.max(environments.c.version).label("version"))
                .group_by(environments.c.name)
                .subquery()
            )
            query = query.join(
                latest,
                and_(environments.c.name == latest.c.name, environments.c.version == latest.c.version),
            ).order_by(environments.c.name)
        with self.database.read() as conn:
            return [_info(row) for row in conn.execute(query).mappings()]

    def delete(self, name: str, version: int) -> None:
        check_environment_name(name)
        number = _check_version(version)
        if number is None:
            raise InvalidInput("deleting an environment needs its version: there is no 'latest' to delete")
        with self.database.read() as conn:
            self._get(conn, name, number)
        using = [deployment for guard in self._guards for deployment in guard(name, number)]
        if using:
            raise Conflict(
                f"environment {name} version {number} is used by {', '.join(using)}: "
                "delete or update those deployments first"
            )
        with self.database.write() as conn:
            gone = conn.execute(
                delete(environments)
                .where(and_(environments.c.name == name, environments.c.version == number))
                .returning(environments.c.version)
            ).first()
            if gone is None:  # deleted by someone else since the check above
                self._get(conn, name, number)
        logger.info("deleted environment %s version %d", name, number)

    # -- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _by_hash(conn: Connection, name: str, digest: str) -> EnvironmentInfo | None:
        row = (
            conn.execute(
                select(environments).where(
                    and_(environments.c.name == name, environments.c.spec_hash == digest)
                )
            )
            .mappings()
            .first()
        )
        return None if row is None else _info(row)

    @staticmethod
    def _get(conn: Connection, name: str, version: int) -> EnvironmentInfo:
        row = (
            conn.execute(
                select(environments).where(
                    and_(environments.c.name == name, environments.c.version == version)
                )
            )
            .mappings()
            .first()
        )
        if row is not None:
            return _info(row)
        latest = conn.execute(
            select(func.max(environments.c.version)).where(environments.c.name == name)
        ).scalar()
        if latest is None:
            raise NotFound(_unknown(name))
        raise NotFound(
            f"environment {name!r} has no version {version}; its latest is version {latest} "
            f"(`ember environment list --name {name}` lists them all)"
        )


def _unknown(name: str) -> str:
    return (
        f"environment {name!r} not found: register it first (Environment(...).register(ws) or "
        "`ember environment register -f env.yml`); `ember environment list` shows the registered ones"
    )
