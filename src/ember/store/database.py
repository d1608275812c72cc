"""Opening a workspace database: engine settings per dialect, transactions, schema migrations."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import OperationalError, ProgrammingError

from ember.errors import InvalidInput, SchemaTooNew

__all__ = ["HEAD_REVISION", "Database", "normalize_db_url"]

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
HEAD_REVISION = "0010"
_REVISIONS = [
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
    "0010",
]  # in order; the last is the head the code expects


def normalize_db_url(url: str) -> str:
    """Map user-facing URLs to SQLAlchemy ones (``postgresql://`` uses psycopg 3)."""
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    if url.startswith(("sqlite:///", "postgresql+psycopg://")):
        return url
    raise InvalidInput(
        f"unsupported metadata URI {url.split('@')[-1]!r}: use sqlite:///path/ember.db or postgresql://user@host/db"
    )


class Database:
    """A workspace's metadata database; the service layer owns transactions through ``write``/``read``."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = normalize_db_url(url)
        self.dialect = "sqlite" if self.url.startswith("sqlite") else "postgresql"
        kwargs: dict[str, Any] = {}
        if self.dialect == "sqlite":
            # One connection per thread, created cheaply; WAL lets readers run beside the writer.
            kwargs["connect_args"] = {"timeout": 60, "check_same_thread": False}
            kwargs["pool_size"] = 8
            kwargs["max_overflow"] = 32
        else:
            kwargs["pool_size"] = 8
            kwargs["max_overflow"] = 16
            kwargs["pool_pre_ping"] = True
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.dialect == "sqlite":
            self._configure_sqlite(self.engine)
        if migrate:
            self.migrate()

    @staticmethod
    def _configure_sqlite(engine: Engine) -> None:
        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's BEGIN (below) control transactions instead of the sqlite3 module.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=FULL")  # durable on power loss, not just on a crash
            cur.execute("PRAGMA busy_timeout=60000")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA case_sensitive_like=ON")  # LIKE is case-sensitive, as on PostgreSQL
            cur.execute("PRAGMA cache_size=-65536")
            cur.close()

        @event.listens_for(engine, "begin")
        def _on_begin(conn: Connection) -> None:
            # Writers take the lock up front so two writers queue on busy_timeout instead of deadlocking.
            mode = conn.info.get("ember_begin", "DEFERRED")
            conn.exec_driver_sql(f"BEGIN {mode}")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A read-write transaction, committed on success and rolled back on any exception."""
        with self.engine.connect() as conn:
            conn.info["ember_begin"] = "IMMEDIATE"
            try:
                with conn.begin():
                    yield conn
            finally:
                conn.info["ember_begin"] = "DEFERRED"

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read-only transaction (a consistent snapshot)."""
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def current_revision(self) -> str | None:
        """The schema revision stored in the database, or None for an empty database."""
        try:
            with self.engine.connect() as conn:
                row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
        except (OperationalError, ProgrammingError):
            return None
        return None if row is None else str(row[0])

    def migrate(self) -> None:
        """Bring the schema to the head revision; refuse a schema newer than this code knows."""
        current = self.current_revision()
        if current == HEAD_REVISION:
            return
        if current is not None and current not in _REVISIONS:
            raise SchemaTooNew(
                f"this workspace's schema is at revision {current!r}, newer than this Ember knows "
                f"(head {HEAD_REVISION!r}); upgrade Ember to open it"
            )
        self.upgrade(HEAD_REVISION)

    def upgrade(self, revision: str = "head") -> None:
        """Run Alembic migrations up to ``revision``."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        logger.info("migrating workspace schema from %s to %s", self.current_revision(), revision)
        with self.engine.connect() as conn:
            conn.info["ember_begin"] = "IMMEDIATE"  # one migrator at a time on SQLite
            try:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
                conn.commit()
            finally:
                conn.info["ember_begin"] = "DEFERRED"

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
