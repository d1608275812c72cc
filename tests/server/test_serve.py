"""Starting ``ember server`` from a shell: it refuses what it cannot serve, with a message that says why."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from support.server_harness import SRC


def _serve(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ember.server", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_a_server_url_is_not_a_workspace_to_serve() -> None:
    result = _serve("--workspace", "http://127.0.0.1:5000", "--port", "0")

    assert result.returncode == 2
    assert "not a server URL" in result.stderr


def test_a_missing_workspace_is_named(tmp_path: Path) -> None:
    result = _serve("--workspace", str(tmp_path / "nowhere"), "--port", "0")

    assert result.returncode == 2
    assert "no Ember workspace" in result.stderr


@pytest.mark.parametrize("flag", ["--help"])
def test_the_command_line_documents_its_options(flag: str) -> None:
    result = _serve(flag)

    assert result.returncode == 0
    assert "--workspace" in result.stdout
    assert "--allowed-host" in result.stdout
