"""Fixtures of the CLI stories: a project folder as the current directory, a workspace in it, a runner."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Cli

from ember.tracking.contract import TrackingBackend
from ember.wiring import open_backend


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder, made the current directory, with no workspace set in the environment."""
    folder = tmp_path / "project"
    folder.mkdir()
    monkeypatch.chdir(folder)
    monkeypatch.delenv("EMBER_WORKSPACE", raising=False)
    monkeypatch.delenv("COLUMNS", raising=False)
    return folder


@pytest.fixture
def cli() -> Cli:
    """``ember`` in process."""
    return Cli()


@pytest.fixture
def workspace(project: Path, cli: Cli) -> Path:
    """A workspace made with ``ember workspace create`` in the project folder."""
    cli.ok("workspace", "create")
    return project / "ember-workspace"


@pytest.fixture
def tracking(workspace: Path) -> Iterator[TrackingBackend]:
    """The workspace's tracking contract, to arrange runs the way the SDK would."""
    backend = open_backend(str(workspace))
    try:
        yield backend.tracking
    finally:
        backend.close()
