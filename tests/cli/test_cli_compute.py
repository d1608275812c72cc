"""Stories about compute targets: where runs execute, how many at once, and how busy they are."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_support import Cli

from ember.backend import Backend
from ember.entities import RunSearch, RunStatus
from ember.wiring import open_backend

SLOW = """\
import time

print("started", flush=True)
time.sleep(120)
"""

QUICK = 'print("quick one", flush=True)\n'


@pytest.fixture
def backend(workspace: Path) -> Iterator[Backend]:
    """The workspace's Backend, to watch runs the way a dashboard would."""
    opened = open_backend(str(workspace))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(autouse=True)
def quick_runners(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runners (real processes started by the CLI) heartbeat often, so a cancel reaches them fast."""
    monkeypatch.setenv("EMBER_HEARTBEAT_INTERVAL", "0.2")
    monkeypatch.setenv("EMBER_RUNNER_FLUSH_INTERVAL", "0.1")


def _wait_for(condition: Callable[[], bool], *, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


def _status(backend: Backend, run_id: str) -> RunStatus:
    return backend.tracking.get_run(run_id).info.status


def _submit(cli: Cli, backend: Backend, project: Path, script: str, name: str) -> str:
    (project / "src").mkdir(exist_ok=True)
    (project / "src" / f"{name}.py").write_text(script, encoding="utf-8")
    cli.ok("run", "submit", f"src/{name}.py", "-e", "load", "--name", name)
    runs = backend.tracking.search_runs(RunSearch(filter=f"attributes.run_name = '{name}'")).runs
    assert len(runs) == 1
    return runs[0].info.id


def _cancel_and_wait(cli: Cli, backend: Backend, run_id: str) -> None:
    cli.ok("run", "cancel", run_id)
    _wait_for(lambda: _status(backend, run_id) == RunStatus.CANCELED, what=f"run {run_id} is Canceled")


def test_every_workspace_has_the_local_target(workspace: Path, cli: Cli) -> None:
    table = cli.ok("compute", "list").stdout
    listed = cli.json("compute", "list")["compute_targets"]
    shown = cli.json("compute", "show", "local")

    header, row = table.splitlines()[:2]
    assert header.split() == ["NAME", "KIND", "MAX", "CONCURRENT", "ACTIVE", "QUEUED"]
    assert row.split() == ["local", "local", str(os.cpu_count() or 1), "0", "0"]
    assert [t["name"] for t in listed] == ["local"]
    assert shown["kind"] == "local"
    assert shown["max_concurrent_runs"] == (os.cpu_count() or 1)
    assert (shown["active_runs"], shown["queued_runs"]) == (0, 0)


def test_the_number_of_concurrent_runs_can_be_set_and_shown(workspace: Path, cli: Cli) -> None:
    said = cli.ok("compute", "set", "local", "--max-concurrent-runs", "1").stdout

    shown = cli.ok("compute", "show", "local").stdout

    assert "at most 1 run at once" in said
    assert "max concurrent runs  1" in shown
    assert cli.json("compute", "show", "local")["max_concurrent_runs"] == 1
    assert cli.json("compute", "set", "local", "--max-concurrent-runs", "3")["max_concurrent_runs"] == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("local", "--max-concurrent-runs", "0"), "--max-concurrent-runs: Input should be greater than"),
        (("local", "--max-concurrent-runs", "100000"), "--max-concurrent-runs: Input should be less than"),
        (("gpu", "--max-concurrent-runs", "2"), "compute target 'gpu' not found"),
    ],
)
def test_an_invalid_setting_is_refused(
    workspace: Path, cli: Cli, args: tuple[str, ...], message: str
) -> None:
    result = cli("compute", "set", *args)

    assert result.exit_code == 1
    assert message in result.stderr
    assert cli.json("compute", "show", "local")["max_concurrent_runs"] == (os.cpu_count() or 1)


def test_an_unknown_target_cannot_be_shown(workspace: Path, cli: Cli) -> None:
    result = cli("compute", "show", "gpu")

    assert result.exit_code == 1
    assert "compute target 'gpu' not found" in result.stderr


def test_a_full_target_queues_runs_and_shows_its_load(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    cli.ok("compute", "set", "local", "--max-concurrent-runs", "1")
    first = _submit(cli, backend, project, SLOW, "first")
    _wait_for(lambda: _status(backend, first) == RunStatus.RUNNING, what="the first run is Running")
    second = _submit(cli, backend, project, SLOW, "second")
    try:
        shown = cli.json("compute", "show", "local")
        row = cli.ok("compute", "list").stdout.splitlines()[1]

        assert _status(backend, second) == RunStatus.QUEUED
        assert (shown["active_runs"], shown["queued_runs"]) == (1, 1)
        assert row.split() == ["local", "local", "1", "1", "1"]
        assert "Canceled" in cli.ok("run", "cancel", second[:8]).stdout  # a queued run stops at once
    finally:
        _cancel_and_wait(cli, backend, first)
    assert _status(backend, second) == RunStatus.CANCELED
    assert cli.json("compute", "show", "local")["queued_runs"] == 0


def test_raising_the_limit_starts_the_queued_runs(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    cli.ok("compute", "set", "local", "--max-concurrent-runs", "1")
    slow = _submit(cli, backend, project, SLOW, "slow")
    _wait_for(lambda: _status(backend, slow) == RunStatus.RUNNING, what="the slow run is Running")
    try:
        quick = _submit(cli, backend, project, QUICK, "quick")
        assert _status(backend, quick) == RunStatus.QUEUED

        said = cli.ok("compute", "set", "local", "--max-concurrent-runs", "2").stdout

        assert "at most 2 runs at once" in said
        _wait_for(lambda: _status(backend, quick) == RunStatus.COMPLETED, what="the queued run completed")
        assert "quick one" in cli.ok("run", "logs", quick[:8]).stdout
    finally:
        _cancel_and_wait(cli, backend, slow)
