"""The installed command and ``python -m ember`` work as real processes, and ``ember server`` serves."""

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
from cli_support import Cli, seed_run

import ember
from ember.wiring import create_workspace
from support.ports import free_port

WEIGHTS = os.urandom(50_000)
SRC = str(Path(ember.__file__).resolve().parents[1])


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, env.get("PYTHONPATH", "")) if p)
    env.pop("EMBER_WORKSPACE", None)
    return env


def test_python_dash_m_ember_shows_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ember", "--help"], capture_output=True, text=True, env=_env(), timeout=60
    )

    assert result.returncode == 0, result.stderr
    names = ("workspace", "experiment", "run", "gc", "server")
    positions = [result.stdout.find(f"│ {name} ") for name in names]
    assert -1 not in positions, result.stdout
    assert positions == sorted(positions)  # nouns first, maintenance last
    assert "Usage: ember" in result.stdout


def test_the_command_line_starts_without_loading_the_backends() -> None:
    code = (
        "import sys, ember.cli.main; "
        "heavy = ('sqlalchemy', 'fastapi', 'httpx', 'pydantic', 'ember.wiring'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=_env(), timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_the_console_script_shows_the_version() -> None:
    script = Path(sys.executable).with_name("ember")
    if not script.is_file():
        pytest.skip("the package is not installed in this environment (no `ember` script)")

    result = subprocess.run(
        [str(script), "--version"], capture_output=True, text=True, env=_env(), timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ember {ember.__version__}"


def test_an_error_in_a_real_process_exits_1_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ember", "-w", str(tmp_path / "missing"), "run", "list"],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=60,
        cwd=tmp_path,
    )

    assert result.returncode == 1
    assert "no Ember workspace in" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


@dataclass
class Served:
    """A workspace with one run, served by a real ``ember server`` process."""

    url: str
    run_id: str


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    folder = tmp_path / "ws"
    backend = create_workspace(folder, name="served")
    try:
        run_id = seed_run(
            backend.tracking,
            name="remote-run",
            metrics={"accuracy": [0.5, 0.9]},
            files={"outputs/w.bin": WEIGHTS},
        )
    finally:
        backend.close()
    for _ in range(3):  # a free port can be taken before the server binds it: try another
        port = free_port()
        log = tmp_path / f"server-{port}.log"
        with log.open("wb") as sink:
            server = subprocess.Popen(
                [sys.executable, "-m", "ember", "server", "--port", str(port), "--workspace", str(folder)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=_env(),
                cwd=tmp_path,
            )
        url = f"http://127.0.0.1:{port}"
        try:
            if _wait_until_up(url, server):
                yield Served(url=url, run_id=run_id)
                return
        finally:
            _stop(server)
    raise AssertionError(f"ember server never answered:\n{log.read_text(errors='replace')[-3000:]}")


def _wait_until_up(url: str, server: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and server.poll() is None:
        try:
            return httpx.get(f"{url}/api/v1/workspace", timeout=2).status_code == 200
        except httpx.TransportError:
            time.sleep(0.1)
    return False


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=15)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def test_ember_server_serves_the_workspace_and_every_command_works_through_it(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EMBER_WORKSPACE", raising=False)
    cli = Cli()
    remote = ("--workspace", served.url)

    shown = cli.json(*remote, "workspace", "show")
    page = cli.json(*remote, "run", "list")
    table = cli.ok(*remote, "run", "list").stdout
    cli.ok(*remote, "run", "download", served.run_id[:8], str(tmp_path / "dl"))
    bad_filter = cli(*remote, "run", "list", "--filter", "metrics.accuracy >")

    assert shown["workspace"]["name"] == "served"
    assert shown["workspace"]["metadata_backend"] == "remote"
    assert [r["info"]["id"] for r in page["runs"]] == [served.run_id]
    assert page["runs"][0]["metrics"] == {"accuracy": 0.9}
    assert "remote-run" in table
    assert (tmp_path / "dl" / "outputs" / "w.bin").read_bytes() == WEIGHTS
    assert bad_filter.exit_code == 1
    assert "position 18" in bad_filter.stderr

    cli.ok(*remote, "run", "delete", served.run_id)
    report = cli.json(*remote, "gc", "--yes")

    assert report == {"experiments": 0, "runs": 1, "blobs": 1, "bytes_freed": len(WEIGHTS)}
    assert cli.json(*remote, "run", "list", "--deleted")["runs"] == []


def test_a_server_url_that_does_not_answer_is_a_clear_error(tmp_path: Path) -> None:
    cli = Cli()

    result = cli("--workspace", f"http://127.0.0.1:{free_port()}", "run", "list")

    assert result.exit_code == 1
    assert "cannot reach Ember server" in result.stderr
