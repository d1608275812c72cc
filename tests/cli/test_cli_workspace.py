"""Stories about creating a workspace from the shell and finding it again from later commands."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import Cli, seed_run

from ember.entities import RunStatus
from ember.tracking.contract import TrackingBackend


def test_create_makes_a_folder_workspace_and_points_this_folder_at_it(project: Path, cli: Cli) -> None:
    result = cli.ok("workspace", "create", "--name", "team-ws")

    folder = project / "ember-workspace"
    assert (folder / "ember.db").is_file()
    assert (folder / "artifacts").is_dir()
    config = json.loads((project / ".ember" / "config.json").read_text())
    assert config == {"workspace": "ember-workspace"}
    assert "Created workspace team-ws" in result.stdout
    assert str(folder / "ember.db") in result.stdout
    assert str(project / ".ember" / "config.json") in result.stdout
    shown = cli.json("workspace", "show")
    assert shown["workspace"]["name"] == "team-ws"
    assert shown["target"] == str(folder)


def test_create_again_opens_the_existing_workspace(workspace: Path, cli: Cli) -> None:
    before = cli.json("workspace", "show")["workspace"]["id"]

    result = cli.ok("workspace", "create")

    assert "Opened existing workspace" in result.stdout
    assert cli.json("workspace", "show")["workspace"]["id"] == before


def test_later_commands_find_the_workspace_from_a_subfolder(
    workspace: Path, cli: Cli, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested = project / "src" / "models"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)

    shown = cli.json("workspace", "show")

    assert shown["target"] == str(workspace)


def test_no_config_leaves_the_folder_alone_and_says_how_to_use_the_workspace(project: Path, cli: Cli) -> None:
    result = cli.ok("workspace", "create", "elsewhere", "--no-config")

    assert not (project / ".ember").exists()
    assert (project / "elsewhere" / "ember.db").is_file()
    assert f"ember --workspace {project / 'elsewhere'} run list" in result.stdout
    missing = cli("run", "list")
    assert missing.exit_code == 1
    assert "no workspace configured" in missing.stderr


def test_a_database_backed_workspace_is_created_from_uris(project: Path, cli: Cli, tmp_path: Path) -> None:
    db = tmp_path / "meta.db"
    store = tmp_path / "bytes"
    cli.ok(
        "workspace",
        "create",
        "--name",
        "shared",
        "--metadata-uri",
        f"sqlite:///{db}",
        "--artifact-uri",
        store.as_uri(),
    )

    assert db.is_file()
    shown = cli.json("workspace", "show")
    assert shown["workspace"]["name"] == "shared"
    assert shown["workspace"]["artifact_uri"] == store.as_uri()
    assert json.loads((project / ".ember" / "config.json").read_text()) == {"workspace": f"sqlite:///{db}"}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--metadata-uri", "sqlite:///x.db"], "needs --artifact-uri"),
        (["folder", "--metadata-uri", "sqlite:///x.db", "--artifact-uri", "file:///tmp/x"], "not both"),
        (["--artifact-uri", "file:///tmp/x"], "goes with --metadata-uri"),
        (["postgresql://db/ember"], "is a URI, not a folder"),
    ],
)
def test_create_refuses_contradictory_locations(
    project: Path, cli: Cli, args: list[str], message: str
) -> None:
    result = cli("workspace", "create", *args)

    assert result.exit_code == 1
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert not (project / ".ember").exists()


def test_show_counts_experiments_and_runs(workspace: Path, cli: Cli, tracking: TrackingBackend) -> None:
    seed_run(tracking, experiment="iris")
    seed_run(tracking, experiment="iris", status=RunStatus.COMPLETED)
    seed_run(tracking, experiment="mnist")
    cli.ok("experiment", "archive", "mnist")

    shown = cli.json("workspace", "show")
    table = cli.ok("workspace", "show").stdout

    assert shown["counts"] == {
        "experiments": 1,
        "archived_experiments": 1,
        "deleted_experiments": 0,
        "runs": 3,
    }
    assert "1 active, 1 archived, 0 deleted" in table


def test_the_workspace_option_wins_over_the_config_file(workspace: Path, cli: Cli, tmp_path: Path) -> None:
    result = cli("--workspace", str(tmp_path / "nowhere"), "run", "list")

    assert result.exit_code == 1
    assert "no Ember workspace in" in result.stderr
    assert "nowhere" in result.stderr


def test_the_environment_variable_names_the_workspace(
    project: Path, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli.ok("workspace", "create", str(tmp_path / "from-env"), "--no-config", "--name", "env-ws")
    monkeypatch.setenv("EMBER_WORKSPACE", str(tmp_path / "from-env"))

    assert cli.json("workspace", "show")["workspace"]["name"] == "env-ws"


def test_create_with_json_says_whether_it_created_the_workspace(project: Path, cli: Cli) -> None:
    first = cli.json("workspace", "create", "ws", "--no-config")
    second = cli.json("workspace", "create", "ws", "--no-config")

    assert first["created"] is True
    assert second["created"] is False
    assert first["workspace"]["id"] == second["workspace"]["id"]
    assert first["target"] == str(project / "ws")
    assert first["config"] is None
