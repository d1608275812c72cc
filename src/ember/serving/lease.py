"""The serving host's lease on the ``serving_host`` row, and starting a host process when none is alive.

One host serves a workspace's endpoints on a machine: it takes the lease (``claim``) when the row has no
owner, is its own, or its owner stopped heartbeating; it heartbeats with the revision it has applied; a
control plane that changes an endpoint waits briefly for that revision (``await_applied``) and starts a
host (``spawn``) when none is alive and none was started moments ago.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import and_, or_, select
from sqlalchemy import update as sql_update

from ember.serving.records import HEARTBEAT_FRESH_SECONDS, HOST_ROW, alive, host_row
from ember.store.database import Database
from ember.store.schema import serving_host

__all__ = [
    "APPLY_WAIT_SECONDS",
    "SPAWN_GRACE_SECONDS",
    "await_applied",
    "claim",
    "heartbeat",
    "release",
    "revision",
    "spawn",
    "take_spawn_turn",
]

logger = logging.getLogger(__name__)

SPAWN_GRACE_SECONDS = 10.0  # a host started this recently is given time to take its lease
APPLY_WAIT_SECONDS = 3.0  # how long a change waits for a live host to apply it


def revision(database: Database) -> int:
    """The desired-state revision (0 before the first endpoint), in one cheap SELECT."""
    with database.read() as conn:
        found = conn.execute(select(serving_host.c.revision).where(serving_host.c.id == HOST_ROW)).scalar()
    return int(found) if found is not None else 0


def claim(database: Database, *, host_id: str, pid: int, hostname: str, stale_after: float) -> int | None:
    """Take the lease if it is free, ours or stale; the port to bind, or None when another host has it."""
    now = time.time()
    with database.write() as conn:
        port = conn.execute(
            sql_update(serving_host)
            .where(
                and_(
                    serving_host.c.id == HOST_ROW,
                    or_(
                        serving_host.c.owner.is_(None),
                        serving_host.c.owner == "",
                        serving_host.c.owner == host_id,
                        serving_host.c.heartbeat_time.is_(None),
                        serving_host.c.heartbeat_time < now - stale_after,
                    ),
                )
            )
            .values(owner=host_id, pid=pid, hostname=hostname[:255], started_time=now, heartbeat_time=now)
            .returning(serving_host.c.port)
        ).scalar()
    if port is not None:
        logger.info("serving host %s (pid %d) took the lease", host_id, pid)
    return int(port) if port is not None else None


def heartbeat(database: Database, host_id: str, *, applied_revision: int) -> bool:
    """Record that the host is alive and applied a revision; False when it no longer holds the lease."""
    with database.write() as conn:
        kept = conn.execute(
            sql_update(serving_host)
            .where(and_(serving_host.c.id == HOST_ROW, serving_host.c.owner == host_id))
            .values(heartbeat_time=time.time(), applied_revision=applied_revision)
            .returning(serving_host.c.id)
        ).first()
    return kept is not None


def release(database: Database, host_id: str) -> None:
    """Give the lease up if ``host_id`` holds it, so that the next host takes it at once."""
    with database.write() as conn:
        conn.execute(
            sql_update(serving_host)
            .where(and_(serving_host.c.id == HOST_ROW, serving_host.c.owner == host_id))
            .values(owner=None, heartbeat_time=None)
        )


def await_applied(database: Database, wanted: int) -> None:
    """Wait (at most ``APPLY_WAIT_SECONDS``) until a live host has applied revision ``wanted``."""
    deadline = time.monotonic() + APPLY_WAIT_SECONDS
    while True:
        with database.read() as conn:
            host = host_row(conn)
        if host is None or not alive(host["owner"], host["heartbeat_time"]):
            return
        if host["applied_revision"] >= wanted:
            return
        if time.monotonic() >= deadline:
            logger.info("the serving host has not applied revision %d yet; it will shortly", wanted)
            return
        time.sleep(0.05)


def take_spawn_turn(database: Database) -> bool:
    """Whether this caller should start a host: none is alive, none was started moments ago (recorded)."""
    now = time.time()
    with database.read() as conn:
        host = host_row(conn)
    if host is None or alive(host["owner"], host["heartbeat_time"], now=now):
        return False
    if host["spawn_time"] is not None and now - host["spawn_time"] < SPAWN_GRACE_SECONDS:
        return False
    with database.write() as conn:  # of several control planes, one wins the turn
        won = conn.execute(
            sql_update(serving_host)
            .where(
                and_(
                    serving_host.c.id == HOST_ROW,
                    or_(
                        serving_host.c.owner.is_(None),
                        serving_host.c.heartbeat_time.is_(None),
                        serving_host.c.heartbeat_time < now - HEARTBEAT_FRESH_SECONDS,
                    ),
                    or_(
                        serving_host.c.spawn_time.is_(None),
                        serving_host.c.spawn_time < now - SPAWN_GRACE_SECONDS,
                    ),
                )
            )
            .values(spawn_time=now)
            .returning(serving_host.c.id)
        ).first()
    return won is not None


def spawn(*, workspace_target: str, artifact_uri: str | None, state_dir: Path) -> None:
    """Start ``python -m ember.hosting`` detached (its own session), its output appended to ``host.log``."""
    env = dict(os.environ)
    # The workspace travels in the environment, never on the command line (it may hold a password).
    env["EMBER_WORKSPACE"] = workspace_target
    if artifact_uri:
        env["EMBER_ARTIFACT_URI"] = artifact_uri
    env["EMBER_SERVING_DIR"] = str(state_dir)
    env.pop("EMBER_RUN_ID", None)
    state_dir.mkdir(parents=True, exist_ok=True)
    log = state_dir / "host.log"
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "ember.hosting"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    # Reap it when it ends (no zombies in a long-lived server); a daemon thread never blocks exit.
    threading.Thread(target=proc.wait, name="ember-reap-serving-host", daemon=True).start()
    logger.info("started the serving host (pid %d); its log is %s", proc.pid, log)
