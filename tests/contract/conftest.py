"""Fixtures of the contract suite: one test, three backends.

``backend`` is parametrized over LocalBackend on SQLite, LocalBackend on PostgreSQL and RemoteBackend
through a real ``python -m ember.server`` subprocess on a loopback port. The SQLite and PostgreSQL
workspaces are fresh for every test. Starting a server costs about 0.8 s, so the remote backend talks
to one server per test module; tests therefore name their experiments with a unique suffix
(``contract_support.unique``) and never assume the workspace is empty. A test that needs a workspace
of its own (it counts what a purge removed, say) is marked ``@pytest.mark.isolated_workspace``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from contract_support import Target

import ember
from ember.backend import Backend
from ember.wiring import create_workspace, open_backend
from support.ports import free_port

BACKENDS = ["sqlite", "postgres", "remote"]
# The servers the tests start may reach the Azurite and moto servers on loopback; nothing else internal.
os.environ.setdefault("EMBER_DATASTORE_ALLOWED_HOSTS", "127.0.0.1")
# Endpoint changes would start a serving host process; the contract tests check the control plane only
# (set here, so the servers the tests start inherit it).
os.environ.setdefault("EMBER_SERVING_AUTOSTART", "0")
POSTGRES_WORKSPACE_KEY = "dGVzdC1vbmx5LWtleS1ub3Qtc2VjcmV0LTMyYnl0ZXM="  # a Fernet key for tests only
SERVER_START_DEADLINE_S = 30.0
SERVER_STOP_DEADLINE_S = 10.0
SERVER_LOG_TAIL_LINES = 40


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "isolated_workspace: the remote backend gets a server and workspace of its own"
    )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Attach the tail of the server's log to a failed remote test: a 500 is explained there."""
    report: pytest.TestReport = yield
    target = getattr(item, "funcargs", {}).get("target")
    if report.failed and isinstance(target, Target) and target.server_log is not None:
        lines = target.server_log.read_text(errors="replace").splitlines()[-SERVER_LOG_TAIL_LINES:]
        report.sections.append(("ember server log (last lines)", "\n".join(lines)))
    return report


@dataclass
class ServerProcess:
    """A running ``python -m ember.server`` serving one folder workspace."""

    url: str
    workspace: Path
    process: subprocess.Popen[bytes]
    log: Path


def _wait_healthy(url: str, process: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + SERVER_START_DEADLINE_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    return False


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server, killing it if it does not exit in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_DEADLINE_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=SERVER_STOP_DEADLINE_S)


def start_server(folder: Path) -> ServerProcess:
    """Create a folder workspace under ``folder`` and serve it; return once ``/healthz`` answers."""
    workspace = folder / "ws"
    create_workspace(workspace).close()
    log = folder / "server.log"
    for _ in range(3):  # the free port may be taken before the server binds it
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [
            sys.executable,
            "-m",
            "ember.server",
            "--workspace",
            str(workspace),
            "--port",
            str(port),
            "--log-level",
            "warning",
        ]
        with log.open("ab") as sink:
            process = subprocess.Popen(command, stdout=sink, stderr=sink, env=dict(os.environ))
        if _wait_healthy(url, process):
            return ServerProcess(url=url, workspace=workspace, process=process, log=log)
        stop_server(process)
        if "address already in use" not in log.read_text(errors="replace").lower():
            break
    raise RuntimeError(f"ember server did not start; its log:\n{log.read_text(errors='replace')[-4000:]}")


@pytest.fixture(scope="module")
def contract_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the remote tests of a module (started only when a remote test asks)."""
    server = start_server(tmp_path_factory.mktemp("contract-server"))
    try:
        yield server
    finally:
        stop_server(server.process)


@pytest.fixture(params=BACKENDS)
def target(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Target]:
    """The backend under test, with where its workspace lives."""
    kind: str = request.param
    own_server: ServerProcess | None = None
    if kind == "sqlite":
        folder = tmp_path / "ws"
        t = Target(kind, create_workspace(folder), folder / "artifacts", str(folder))
    elif kind == "postgres":
        url: str = request.getfixturevalue("fresh_postgres_url")
        # A database-backed workspace has no folder for its key: the process serving it is given one.
        monkeypatch.setenv("EMBER_SECRET_KEY", POSTGRES_WORKSPACE_KEY)
        # Nor a folder for the serving host's logs: keep them in the test's folder, not the home's cache.
        monkeypatch.setenv("EMBER_SERVING_DIR", str(tmp_path / "serving"))
        root = tmp_path / "artifacts"
        backend = create_workspace(metadata_uri=url, artifact_uri=root.as_uri())
        t = Target(kind, backend, root, url, artifact_uri=root.as_uri())
    else:
        if request.node.get_closest_marker("isolated_workspace") is not None:
            server = own_server = start_server(tmp_path)
        else:
            server = request.getfixturevalue("contract_server")
        t = Target(
            kind, open_backend(server.url), server.workspace / "artifacts", server.url, server_log=server.log
        )
    try:
        yield t
    finally:
        t.backend.close()
        if own_server is not None:
            stop_server(own_server.process)


@pytest.fixture
def backend(target: Target) -> Backend:
    """The backend under test (see ``target``)."""
    return target.backend


@pytest.fixture
def ws(target: Target) -> ember.Workspace:
    """The SDK's Workspace on the backend under test."""
    return ember.Workspace(target.backend, target=target.location)
