"""Fixtures of the end-to-end job tests: real scripts, real runner processes, two ways to reach a workspace.

``place`` is parametrized over ``embedded`` (``Workspace.create`` on a folder: this process launches the
runners) and ``server`` (``python -m ember.server --workspace`` in a subprocess and
``Workspace.connect(url)``: the server launches the runners). Each test gets a fresh workspace. Short
heartbeat and sweep intervals are set in the environment first, so that this process, the server,
the runners and the scripts all use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from jobs_support import FAST_TIMEOUTS, Place, kill_group, read_pids, start_server, stop_server

import ember
from ember.wiring import create_workspace
from support.sdk_env import isolate_sdk_environment

MODES = ["embedded", "server"]
LOG_TAIL_LINES = 40


@pytest.fixture
def fast_timeouts(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Short heartbeats and sweeps, a private hash cache, and no workspace or run inherited from outside."""
    for name, value in FAST_TIMEOUTS.items():
        monkeypatch.setenv(name, value)
    isolate_sdk_environment(monkeypatch, tmp_path / "cache")


@pytest.fixture(params=MODES)
def place(request: pytest.FixtureRequest, tmp_path: Path, fast_timeouts: None) -> Iterator[Place]:
    """A fresh workspace, embedded or behind a server (see the module)."""
    folder = tmp_path / "ws"
    if request.param == "embedded":
        here = Place("embedded", ember.Workspace.create(folder), folder)
    else:
        create_workspace(folder).close()
        server = start_server(folder, tmp_path / "server.log")
        here = Place("server", ember.Workspace.connect(server.url), folder, server=server)
    try:
        yield here
    finally:
        here.ws.close()
        for path in here.pid_files:
            if path.exists():
                kill_group(read_pids(path).pgid)
        if here.server is not None:
            stop_server(here.server.process)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[pytest.TestReport]:
    """Attach the runners' output (and the server's log) to a failed test: a runner error shows there."""
    report: pytest.TestReport = yield
    here = getattr(item, "funcargs", {}).get("place")
    if report.failed and isinstance(here, Place):
        logs = sorted((here.folder / ".runner-logs").glob("*.log"))
        if here.server is not None:
            logs.append(here.server.log)
        for log in logs:
            lines = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:] if log.exists() else []
            if lines:
                report.sections.append((f"{log.name} (last lines)", "\n".join(lines)))
    return report
