"""A real, throwaway PostgreSQL server for tests.

The server lives in a temporary directory, listens on a free loopback port and trusts every
local connection, with durability turned off for speed. PostgreSQL refuses to run as root, so
when the tests run as root (as in CI) the server runs as a dedicated system user,
``ember-test``, created on first use.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.rows import TupleRow

from support.ports import free_port

__all__ = ["PostgresError", "PostgresNotInstalled", "PostgresServer", "find_postgres_bin_dir", "libpq_url"]

SERVER_USER = "ember-test"
SUPERUSER = "ember"
BIN_DIR_ENV = "EMBER_TEST_PG_BINDIR"
_SERVER_BINARIES = ("initdb", "pg_ctl")


class PostgresNotInstalled(RuntimeError):
    """The PostgreSQL server binaries (initdb, pg_ctl) cannot be found."""


class PostgresError(RuntimeError):
    """A PostgreSQL command failed; the message carries its output and the server log."""


def find_postgres_bin_dir() -> Path | None:
    """Return the folder holding initdb and pg_ctl, or None when they are not installed.

    Looks at $EMBER_TEST_PG_BINDIR, then PATH, then the newest /usr/lib/postgresql/*/bin
    (where Debian puts them, off PATH).
    """
    candidates: list[Path] = []
    if override := os.environ.get(BIN_DIR_ENV):
        candidates.append(Path(override))
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).parent)
    debian_dirs = [p for p in Path("/usr/lib/postgresql").glob("*/bin") if p.parent.name.isdigit()]
    candidates.extend(sorted(debian_dirs, key=lambda p: int(p.parent.name), reverse=True))
    for candidate in candidates:
        if all(os.access(candidate / name, os.X_OK) for name in _SERVER_BINARIES):
            return candidate
    return None


def libpq_url(url: str) -> str:
    """Turn a SQLAlchemy URL (``postgresql+psycopg://…``) into one libpq and psycopg accept."""
    return re.sub(r"^postgresql\+\w+://", "postgresql://", url)


class PostgresServer:
    """One throwaway PostgreSQL server; ``start()`` it, hand out databases, ``stop()`` it."""

    def __init__(self, *, bin_dir: Path | None = None, startup_timeout: float = 60.0) -> None:
        found = bin_dir or find_postgres_bin_dir()
        if found is None:
            raise PostgresNotInstalled(
                "PostgreSQL server binaries (initdb, pg_ctl) were not found on PATH or in "
                "/usr/lib/postgresql/*/bin; run `scripts/ensure-postgres.sh` (as root) or "
                "install them, or point $EMBER_TEST_PG_BINDIR at their folder."
            )
        self.bin_dir = found
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self._base_dir: Path | None = None
        self._as_root = os.geteuid() == 0

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> None:
        """Create a cluster in a temporary directory and start it; return once it accepts connections."""
        if self._base_dir is not None:
            return
        self._base_dir = Path(tempfile.mkdtemp(prefix="ember-pg-"))
        atexit.register(self.stop)  # do not leak a postmaster if the session dies early
        try:
            self._create_and_start()
        except BaseException:
            self.stop()
            raise

    def _create_and_start(self) -> None:
        self.socket_dir.mkdir()
        if self._as_root:
            uid, gid = _ensure_server_user()
            for path in (self.base_dir, self.socket_dir):
                os.chown(path, uid, gid)
        self._run(
            "initdb",
            "-D",
            str(self.data_dir),
            "-A",
            "trust",
            "-U",
            SUPERUSER,
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        # The free port may be taken before the server binds it; try a few before giving up.
        attempts = 3
        for attempt in range(1, attempts + 1):
            self.port = free_port()
            try:
                self._pg_ctl_start()
                break
            except PostgresError:
                if attempt == attempts:
                    raise
        self._wait_until_ready()

    def stop(self) -> None:
        """Stop the server at once (no checkpoint) and delete its directory; safe to call twice."""
        if self._base_dir is None:
            return
        if (self.data_dir / "postmaster.pid").exists():
            # If it is already gone, the directory still has to go.
            with contextlib.suppress(PostgresError):
                self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "immediate", "-w")
        shutil.rmtree(self._base_dir, ignore_errors=True)
        self._base_dir = None

    # -- databases ------------------------------------------------------------------------

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database`` on this server."""
        if self.port is None:
            raise RuntimeError("the server is not started")
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """Create an empty database and return its SQLAlchemy URL."""
        with self._admin_connection() as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop a database, closing whatever connections are still open to it."""
        with self._admin_connection() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def list_databases(self) -> list[str]:
        """Names of the databases on the server, templates excluded."""
        with self._admin_connection() as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE NOT datistemplate").fetchall()
        return sorted(row[0] for row in rows)

    # -- internals ------------------------------------------------------------------------

    @property
    def base_dir(self) -> Path:
        if self._base_dir is None:
            raise RuntimeError("the server is not started")
        return self._base_dir

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "sock"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "server.log"

    def _admin_connection(self) -> psycopg.Connection[TupleRow]:
        return psycopg.connect(libpq_url(self.url("postgres")), autocommit=True, connect_timeout=5)

    def _pg_ctl_start(self) -> None:
        options = " ".join(
            [
                f"-p {self.port}",
                f"-k {shlex.quote(str(self.socket_dir))}",
                "-c listen_addresses=127.0.0.1",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
            ]
        )
        # -l matters: without it the postmaster inherits our pipes and the call never returns.
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            str(int(self.startup_timeout)),
            "-o",
            options,
        )

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            try:
                with self._admin_connection():
                    return
            except psycopg.OperationalError as exc:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"PostgreSQL on port {self.port} did not accept connections within "
                        f"{self.startup_timeout:.0f}s: {exc}\n{self._log_tail()}"
                    ) from exc
            time.sleep(0.05)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if self._as_root:
            command = _as_server_user(command)
        result = subprocess.run(
            command,
            cwd=self.base_dir,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise PostgresError(
                f"`{shlex.join(command)}` exited with status {result.returncode}:\n"
                f"{result.stdout}{result.stderr}{self._log_tail()}"
            )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_file.read_text(errors="replace")
        except OSError:
            return ""
        return "\nserver log (last lines):\n" + "\n".join(text.splitlines()[-lines:])


def _ensure_server_user() -> tuple[int, int]:
    """Return uid and gid of the unprivileged server user, creating it (as root) if missing."""
    try:
        entry = pwd.getpwnam(SERVER_USER)
    except KeyError:
        # Another test process may create it at the same moment, so a failed useradd is only
        # an error if the user is still missing afterwards.
        result = subprocess.run(
            ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", SERVER_USER],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            entry = pwd.getpwnam(SERVER_USER)
        except KeyError:
            raise PostgresError(
                f"PostgreSQL refuses to run as root and the user {SERVER_USER!r} could not be "
                f"created: {result.stderr.strip()}"
            ) from None
    return entry.pw_uid, entry.pw_gid


def _as_server_user(command: list[str]) -> list[str]:
    if shutil.which("runuser"):
        return ["runuser", "-u", SERVER_USER, "--", *command]
    return ["su", SERVER_USER, "-s", "/bin/sh", "-c", shlex.join(command)]
