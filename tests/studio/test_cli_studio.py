"""``ember studio`` serves like ``ember server``, prints its URL and opens a browser only for a person."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import ember.server.main
from ember.cli.main import app
from ember.cli.server import studio_url
from ember.wiring import create_workspace


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Record what the command would serve instead of serving it; fail if a browser is opened."""
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(
        ember.server.main, "serve", lambda target, **kw: calls.append({"target": target, **kw})
    )

    def no_browser(url: str) -> None:
        raise AssertionError(f"a browser was opened on {url}")

    monkeypatch.setattr("webbrowser.open", no_browser)
    return calls


def test_studio_serves_the_workspace_and_prints_its_url(served: list[dict[str, Any]], tmp_path: Path) -> None:
    create_workspace(tmp_path / "ws").close()

    result = CliRunner().invoke(app, ["studio", "--workspace", str(tmp_path / "ws"), "--port", "5123"])

    assert result.exit_code == 0, result.output
    assert "Ember studio: http://127.0.0.1:5123/" in result.stdout
    assert len(served) == 1
    assert served[0]["port"] == 5123
    assert served[0]["host"] == "127.0.0.1"


def test_no_browser_is_an_option(served: list[dict[str, Any]], tmp_path: Path) -> None:
    create_workspace(tmp_path / "ws").close()

    result = CliRunner().invoke(app, ["studio", "-w", str(tmp_path / "ws"), "--no-browser"])

    assert result.exit_code == 0, result.output
    assert served


@pytest.mark.parametrize(
    ("host", "url"),
    [
        ("127.0.0.1", "http://127.0.0.1:5000/"),
        ("0.0.0.0", "http://127.0.0.1:5000/"),
        ("::", "http://[::1]:5000/"),
        ("localhost", "http://localhost:5000/"),
    ],
)
def test_the_url_is_one_a_local_browser_can_open(host: str, url: str) -> None:
    assert studio_url(host, 5000) == url
