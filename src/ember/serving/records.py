"""Endpoint rows as entities, the desired-state revision, and the checks the endpoints area shares.

Internal to the endpoints area: ``ember.serving.local`` (the rules) and ``ember.serving.lease`` (the
serving host's lease) build on these; nothing else should.
"""

from __future__ import annotations

import builtins
import json
import os
import re
import socket
import time
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Connection, RowMapping, and_, select
from sqlalchemy import update as sql_update

from ember.entities.jobs import EnvironmentRef
from ember.entities.serving import (
    DEPLOYMENT_NAME_PATTERN,
    ENDPOINT_NAME_PATTERN,
    Autoscale,
    DeploymentInfo,
    DeploymentModel,
    Interpreter,
    ReplicaStatus,
)
from ember.entities.validation import describe_validation_error
from ember.errors import InvalidInput, NotFound
from ember.store.schema import deployment_models, deployments, endpoints, models, serving_host
from ember.store.tracking import insert_ignore

__all__ = [
    "HEARTBEAT_FRESH_SECONDS",
    "HOST_ROW",
    "alive",
    "allocate_port",
    "bump_revision",
    "check_deployment_name",
    "check_endpoint_name",
    "deployment_info",
    "deployment_row",
    "deployments_of",
    "endpoint_row",
    "host_row",
    "serving_base",
    "tail_lines",
    "validated",
]

M = TypeVar("M", bound=BaseModel)

HOST_ROW = 1  # the serving_host table's one row
HEARTBEAT_FRESH_SECONDS = 5.0  # a host that heartbeated this recently is alive
_TAIL_MAX_BYTES = 8 * 2**20
_ENDPOINT_RE = re.compile(ENDPOINT_NAME_PATTERN)
_DEPLOYMENT_RE = re.compile(DEPLOYMENT_NAME_PATTERN)


def validated(model: type[M], value: object) -> M:
    """``value`` checked again as ``model`` (a caller may have built it without validation)."""
    try:
        return model.model_validate(value.model_dump() if isinstance(value, BaseModel) else value)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc)) from None


def check_endpoint_name(name: str) -> str:
    """``name`` if it is a valid endpoint name, else ``InvalidInput``."""
    if not isinstance(name, str) or not _ENDPOINT_RE.match(name):
        raise InvalidInput(
            f"endpoint name {str(name)[:100]!r} is invalid: a lower-case letter, then up to 31 lower-case "
            "letters, digits or '-'"
        )
    return name


def check_deployment_name(name: str) -> str:
    """``name`` if it is a valid deployment name, else ``InvalidInput``."""
    if not isinstance(name, str) or not _DEPLOYMENT_RE.match(name):
        raise InvalidInput(
            f"deployment name {str(name)[:100]!r} is invalid: a lower-case letter, then up to 31 "
            "lower-case letters, digits or '-'"
        )
    return name


def alive(owner: str | None, heartbeat: float | None, *, now: float | None = None) -> bool:
    """Whether a serving host holds the lease and heartbeated recently."""
    if not owner or heartbeat is None:
        return False
    return (now if now is not None else time.time()) - heartbeat < HEARTBEAT_FRESH_SECONDS


def serving_base(port: int | None) -> str:
    """The base URL of the scoring URLs: ``$EMBER_SERVING_URL``, else the host's loopback port."""
    configured = os.environ.get("EMBER_SERVING_URL", "").strip()
    if configured:
        return configured.rstrip("/")
    if port is None:
        env_port = os.environ.get("EMBER_SERVING_PORT", "").strip()
        return f"http://127.0.0.1:{env_port}" if env_port.isdigit() else ""
    return f"http://127.0.0.1:{port}"


def allocate_port() -> int:
    """The serving host's port: ``$EMBER_SERVING_PORT``, else a free loopback port."""
    configured = os.environ.get("EMBER_SERVING_PORT", "").strip()
    if configured:
        if not configured.isdigit() or not 1 <= int(configured) <= 65535:
            raise InvalidInput(
                f"$EMBER_SERVING_PORT is {configured[:20]!r}: set it to a port from 1 to 65535"
            )
        return int(configured)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail_lines(path: Path, count: int) -> builtins.list[str]:
    """The last ``count`` lines of a text file (read from its end), or none when it cannot be read."""
    try:
        with path.open("rb") as stream:
            position = stream.seek(0, os.SEEK_END)
            data = b""
            while position > 0 and data.count(b"\n") <= count and len(data) < _TAIL_MAX_BYTES:
                step = min(64 * 1024, position)
                position -= step
                stream.seek(position)
                data = stream.read(step) + data
    except OSError:
        return []
    return data.decode("utf-8", errors="replace").splitlines()[-count:]


def endpoint_row(conn: Connection, name: str) -> RowMapping:
    """An endpoint's row by name, or ``NotFound``."""
    check_endpoint_name(name)
    row = conn.execute(select(endpoints).where(endpoints.c.name == name)).mappings().first()
    if row is None:
        raise NotFound(
            f"endpoint {name!r} not found: create it first (ember.Endpoint.create or `ember endpoint create`)"
        )
    return row


def deployment_row(conn: Connection, endpoint: RowMapping, name: str) -> RowMapping:
    """A deployment's row by endpoint row and name, or ``NotFound``."""
    check_deployment_name(name)
    row = (
        conn.execute(
            select(deployments).where(
                and_(deployments.c.endpoint_id == endpoint["id"], deployments.c.name == name)
            )
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound(f"endpoint {endpoint['name']!r} has no deployment {name!r}")
    return row


def host_row(conn: Connection) -> RowMapping | None:
    """The serving host's row (None before the workspace's first endpoint)."""
    return conn.execute(select(serving_host).where(serving_host.c.id == HOST_ROW)).mappings().first()


def deployment_info(row: RowMapping, endpoint: str, served: builtins.list[DeploymentModel]) -> DeploymentInfo:
    """A deployment row as the entity, with the models it serves."""
    environment = (
        EnvironmentRef(name=row["environment_name"], version=row["environment_version"])
        if row["environment_name"]
        else None
    )
    return DeploymentInfo(
        id=row["id"],
        endpoint=endpoint,
        name=row["name"],
        description=row["description"],
        models=served,
        entry_script=row["entry_script"],
        snapshot_digest=row["snapshot_digest"],
        environment=environment,
        interpreter=(
            Interpreter(executable=row["python_executable"], machine=row["python_machine"])
            if row["python_executable"]
            else None
        ),
        replicas=row["replicas"],
        autoscale=Autoscale.model_validate_json(row["autoscale"]) if row["autoscale"] else None,
        collect_data=bool(row["collect_data"]),
        max_body_bytes=row["max_body_bytes"],
        generation=row["generation"],
        status=row["status"],
        status_message=row["status_message"],
        desired_replicas=row["desired_replicas"],
        ready_replicas=row["ready_replicas"],
        restarts=row["restarts"],
        replica_states=[ReplicaStatus.model_validate(r) for r in json.loads(row["replica_states"])],
        created_time=row["created_time"],
        updated_time=row["updated_time"],
    )


def deployments_of(
    conn: Connection, rows: builtins.list[RowMapping]
) -> dict[str, builtins.list[DeploymentInfo]]:
    """The deployments of these endpoint rows, by endpoint id, each list sorted by name."""
    names = {row["id"]: row["name"] for row in rows}
    found: dict[str, builtins.list[DeploymentInfo]] = {endpoint_id: [] for endpoint_id in names}
    if not names:
        return found
    dep_rows = (
        conn.execute(
            select(deployments).where(deployments.c.endpoint_id.in_(list(names))).order_by(deployments.c.name)
        )
        .mappings()
        .all()
    )
    served: dict[str, builtins.list[DeploymentModel]] = {row["id"]: [] for row in dep_rows}
    if dep_rows:
        for dep_id, model_id, model_name, version in conn.execute(
            select(deployment_models.c.deployment_id, models.c.id, models.c.name, models.c.version)
            .join(models, models.c.id == deployment_models.c.model_id)
            .where(deployment_models.c.deployment_id.in_(list(served)))
            .order_by(deployment_models.c.deployment_id, deployment_models.c.position)
        ):
            served[dep_id].append(DeploymentModel(id=model_id, name=model_name, version=version))
    for row in dep_rows:
        found[row["endpoint_id"]].append(deployment_info(row, names[row["endpoint_id"]], served[row["id"]]))
    return found


def bump_revision(conn: Connection) -> int:
    """Bump the desired-state revision in this transaction (making the host row, and its port, first)."""
    statement = (
        sql_update(serving_host)
        .where(serving_host.c.id == HOST_ROW)
        .values(revision=serving_host.c.revision + 1)
        .returning(serving_host.c.revision)
    )
    bumped = conn.execute(statement).scalar()
    if bumped is None:
        # ON CONFLICT DO NOTHING: of two first endpoints created at once on PostgreSQL, one row wins.
        conn.execute(
            insert_ignore(conn, serving_host).values(
                id=HOST_ROW, port=allocate_port(), revision=0, applied_revision=0
            )
        )
        bumped = conn.execute(statement).scalar_one()
    return int(bumped)
