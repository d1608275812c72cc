"""Stories about the model registry on the command line: registering files, folders and a run's outputs,
finding versions by tag, property and alias, downloading them, and deleting one with confirmation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import Cli

from ember import Experiment, Workspace
from ember.cli import model as model_cli

MLMODEL = """\
flavors:
  python_function: {loader_module: mlflow.sklearn, python_version: 3.12.1}
  sklearn: {sklearn_version: 1.5.2, serialization_format: cloudpickle}
signature:
  inputs: '[{"name": "sepal", "type": "double"}, {"name": "petal", "type": "double"}]'
  outputs: '[{"type": "long"}]'
"""


@pytest.fixture
def ws(workspace: Path) -> Iterator[Workspace]:
    """The SDK's view of the workspace, to arrange runs the way a training script would."""
    opened = Workspace.get(str(workspace))
    try:
        yield opened
    finally:
        opened.backend.close()


@pytest.fixture
def pickle_file(project: Path) -> Path:
    """A one-file model."""
    path = project / "model.pkl"
    path.write_bytes(b"pickled weights")
    return path


@pytest.fixture
def folder(project: Path) -> Path:
    """A folder model: weights, a config and a nested vocabulary."""
    root = project / "clf"
    (root / "assets").mkdir(parents=True)
    (root / "weights.bin").write_bytes(b"\x00\x01 first weights")
    (root / "config.json").write_text('{"layers": 2}')
    (root / "assets" / "vocab.txt").write_text("a\nb\n")
    return root


@pytest.fixture
def versions(workspace: Path, folder: Path, pickle_file: Path, cli: Cli) -> dict[str, Any]:
    """``clf`` versions 1 and 2 (retrained weights) and ``single`` version 1, with tags and properties."""
    first = cli.json("model", "register", str(folder), "--name", "clf", "-t", "area=iris", "-p", "owner=ana")
    (folder / "weights.bin").write_bytes(b"\x00\x02 retrained weights")
    second = cli.json(
        "model", "register", str(folder), "-n", "clf", "-t", "area=iris", "-t", "stage=candidate",
        "-p", "owner=bo", "--description", "Retrained on more data",
    )  # fmt: skip
    single = cli.json(
        "model", "register", str(pickle_file), "--name", "single", "--tag", "area=demo",
        "--framework", "scikit-learn", "--framework-version", "1.5.2",
    )  # fmt: skip
    return {"first": first, "second": second, "single": single}


def _versions(found: dict[str, Any]) -> list[tuple[str, int]]:
    return [(m["name"], m["version"]) for m in found["models"]]


def _row(table: str, *start: str) -> list[str]:
    return next(line.split() for line in table.splitlines() if line.split()[: len(start)] == list(start))


# -- registering -----------------------------------------------------------------------------------


def test_a_file_and_a_folder_register_as_numbered_versions(
    workspace: Path, folder: Path, pickle_file: Path, cli: Cli
) -> None:
    said = cli.ok("model", "register", str(pickle_file), "--name", "single").stdout
    first = cli.json("model", "register", str(folder), "--name", "clf", "--tag", "area=iris")
    (folder / "weights.bin").write_bytes(b"retrained")
    second = cli.json("model", "register", str(folder), "--name", "clf", "--property", "owner=bo")

    assert "Registered model single version 1: 1 file (15 bytes)." in said
    assert (first["version"], second["version"]) == (1, 2)
    assert first["file_count"] == 3
    assert first["tags"] == {"area": "iris"}
    assert second["properties"] == {"owner": "bo"}
    assert second["total_size"] == len(b"retrained") + len('{"layers": 2}') + len("a\nb\n")
    assert second["format"] == "files"
    assert second["run_id"] is None


def test_list_shows_every_version_and_filters_by_tag_property_and_latest(
    versions: dict[str, Any], cli: Cli
) -> None:
    table = cli.ok("model", "list").stdout
    everything = cli.json("model", "list")
    one_name = cli.json("model", "list", "--name", "clf")
    tagged = cli.json("model", "list", "--tag", "area=iris")
    any_stage = cli.json("model", "list", "--tag", "stage")
    owned = cli.json("model", "list", "--property", "owner=ana")
    latest = cli.json("model", "list", "--latest")
    both = cli.json("model", "list", "--latest", "-t", "area=iris", "-p", "owner")
    nothing = cli.ok("model", "list", "--tag", "area=nope").stdout

    assert _versions(everything) == [("clf", 2), ("clf", 1), ("single", 1)]
    assert _row(table, "clf", "2")[2:5] == ["3", "37", "bytes"]  # 20 + 13 + 4
    assert "scikit-learn" in _row(table, "single")
    assert "area=iris, stage=candidate" in table
    assert _versions(one_name) == [("clf", 2), ("clf", 1)]
    assert _versions(tagged) == [("clf", 2), ("clf", 1)]
    assert _versions(any_stage) == [("clf", 2)]
    assert _versions(owned) == [("clf", 1)]
    assert _versions(latest) == [("clf", 2), ("single", 1)]
    assert _versions(both) == [("clf", 2)]
    assert "No model version matches." in nothing


def test_show_finds_a_version_by_number_alias_or_latest_with_its_files(
    versions: dict[str, Any], cli: Cli
) -> None:
    latest = cli.json("model", "show", "clf")
    first = cli.ok("model", "show", "clf:1").stdout
    single = cli.ok("model", "show", "single").stdout

    assert latest["model"]["version"] == 2
    assert [f["path"] for f in latest["files"]] == ["assets/vocab.txt", "config.json", "weights.bin"]
    assert latest["experiment_name"] is None
    assert versions["first"]["id"] in first
    assert "assets/vocab.txt" in first
    assert "owner" in first
    assert "ana" in first
    assert "Retrained" not in first  # version 2's description
    assert "scikit-learn 1.5.2" in single
    assert "model.pkl" in single


def test_an_alias_names_a_version_moves_and_is_removed(versions: dict[str, Any], cli: Cli) -> None:
    set_first = cli.ok("model", "alias", "set", "clf", "production", "1").stdout
    moved = cli.ok("model", "alias", "set", "clf", "production", "2").stdout
    shown = cli.ok("model", "show", "clf:production").stdout
    by_alias = cli.json("model", "show", "clf:production")["model"]
    table = cli.ok("model", "list", "-n", "clf").stdout
    removed = cli.json("model", "alias", "remove", "clf", "production")
    gone = cli("model", "show", "clf:production")

    assert "Alias production now names model clf version 1." in set_first
    assert "moved from version 1" in moved
    assert by_alias["version"] == 2
    assert by_alias["aliases"] == ["production"]
    assert "production" in shown
    assert "production" in _row(table, "clf", "2")
    assert "production" not in _row(table, "clf", "1")
    assert removed == {"name": "clf", "alias": "production", "version": 2, "removed": True}
    assert gone.exit_code == 1
    assert "model 'clf' has no alias 'production'" in gone.stderr


def test_tag_sets_changes_and_removes_tags_of_one_version(versions: dict[str, Any], cli: Cli) -> None:
    said = cli.ok("model", "tag", "clf:2", "stage=production", "reviewed=yes").stdout
    removed = cli.json("model", "tag", "clf:2", "--remove", "stage", "--remove", "reviewed")
    first = cli.json("model", "show", "clf:1")["model"]

    assert "Tagged model clf version 2: set reviewed, stage." in said
    assert removed["tags"] == {"area": "iris"}
    assert first["tags"] == {"area": "iris"}


# -- downloading -----------------------------------------------------------------------------------


def test_download_writes_a_file_model_as_its_file_and_a_folder_model_as_a_folder(
    versions: dict[str, Any], project: Path, folder: Path, cli: Cli
) -> None:
    file_said = cli.ok("model", "download", "single", "out").stdout
    old = cli.json("model", "download", "clf:1", str(project / "first"))
    refused = cli("model", "download", "clf:1", str(project / "first"))
    again = cli.json("model", "download", "clf:1", str(project / "first"), "--exist-ok")

    assert (project / "out" / "model.pkl").read_bytes() == b"pickled weights"
    assert str(project / "out" / "model.pkl") in file_said.replace("\n", "")
    assert old["path"] == str(project / "first")
    assert old["version"] == 1
    assert old["files"] == ["assets/vocab.txt", "config.json", "weights.bin"]
    assert (project / "first" / "weights.bin").read_bytes() == b"\x00\x01 first weights"
    assert (project / "first" / "assets" / "vocab.txt").read_text() == "a\nb\n"
    assert refused.exit_code == 1
    assert "--exist-ok" in refused.stderr
    assert again["path"] == str(project / "first")


# -- deleting --------------------------------------------------------------------------------------


def test_delete_needs_yes_when_nobody_can_answer(versions: dict[str, Any], cli: Cli) -> None:
    refused = cli("model", "delete", "clf:1")
    deleted = cli.ok("model", "delete", "clf:1", "--yes").stdout

    assert refused.exit_code == 1
    assert "--yes" in refused.stderr
    assert "Deleted model clf version 1." in deleted
    assert _versions(cli.json("model", "list")) == [("clf", 2), ("single", 1)]


def test_delete_asks_at_a_terminal_and_takes_the_aliases_with_it(
    versions: dict[str, Any], cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_cli, "_can_ask", lambda: True)
    cli.ok("model", "alias", "set", "clf", "production", "2")

    declined = cli("model", "delete", "clf:production", input="n\n")
    kept = cli.json("model", "show", "clf:2")["model"]
    accepted = cli.ok("model", "delete", "clf:production", input="y\n")
    unaliased = cli("model", "show", "clf:production")

    assert declined.exit_code == 1
    assert "This deletes model clf version 2 and its aliases (production)" in declined.stderr
    assert kept["version"] == 2
    assert "Deleted model clf version 2 (and its aliases production)." in accepted.stdout
    assert unaliased.exit_code == 1
    assert cli.json("model", "show", "clf")["model"]["version"] == 1


# -- lineage ---------------------------------------------------------------------------------------


def test_a_run_output_registers_by_run_id_prefix_with_the_run_as_lineage(
    ws: Workspace, pickle_file: Path, cli: Cli
) -> None:
    with Experiment(ws, "iris").start_logging() as run:
        run.upload_file("outputs/model.pkl", pickle_file)
        run.upload_file("outputs/extra/notes.txt", pickle_file)

    said = cli.ok("model", "register", "outputs/model.pkl", "--name", "from-run", "--run", run.id[:6]).stdout
    folder = cli.json("model", "register", "outputs", "--name", "from-run", "--run", run.id)
    shown = cli.ok("model", "show", "from-run:1").stdout
    listed = cli.json("model", "list", "--run", run.id[:8])
    missing = cli("model", "register", "outputs/nope.pkl", "--name", "from-run", "--run", run.id)

    assert f"Registered model from-run version 1: 1 file (15 bytes) from run {run.id[:8]}." in said
    assert folder["run_id"] == run.id
    assert folder["file_count"] == 2
    assert run.id in shown
    assert "iris" in shown
    assert "model.pkl" in shown
    assert _versions(listed) == [("from-run", 2), ("from-run", 1)]
    assert missing.exit_code == 1
    assert "outputs/nope.pkl" in missing.stderr


def test_an_mlflow_folder_shows_its_flavors_signature_and_datasets(
    workspace: Path, project: Path, folder: Path, cli: Cli
) -> None:
    (project / "data" / "iris").mkdir(parents=True)
    (project / "data" / "iris" / "a.csv").write_text("sepal,petal\n5.1,1.4\n")
    (project / "raw.yml").write_text("name: raw\nkind: local\nroot: data\n")
    (project / "iris.yml").write_text("name: iris\ntype: file\npaths: {datastore: raw, path: iris/*.csv}\n")
    cli.ok("datastore", "register", "-f", str(project / "raw.yml"))
    cli.ok("dataset", "register", "-f", str(project / "iris.yml"))
    (folder / "MLmodel").write_text(MLMODEL)

    said = cli.ok(
        "model", "register", str(folder), "--name", "mlf", "--dataset", "training=iris:1",
        "--dataset", "validation=iris",
    ).stdout  # fmt: skip
    shown = cli.ok("model", "show", "mlf").stdout
    info = cli.json("model", "show", "mlf")["model"]

    assert "an MLflow model" in said
    assert info["format"] == "mlflow"
    assert sorted(info["flavors"]) == ["python_function", "sklearn"]
    assert [(d["role"], d["dataset_name"], d["dataset_version"]) for d in info["datasets"]] == [
        ("training", "iris", 1),
        ("validation", "iris", 1),
    ]
    assert "MLflow model" in shown
    assert "python_function, sklearn" in shown
    assert "sepal (double), petal (double)" in shown
    assert "iris version 1" in shown


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("show", "nope"), 1, "model 'nope' not found"),
        (("download", "nope:2"), 1, "model 'nope' not found"),
        (("show", "clf:7"), 1, "model 'clf' has no version 7; its latest is version 2"),
        (("show", "clf:staging"), 1, "model 'clf' has no alias 'staging'"),
        (("alias", "remove", "clf", "staging"), 1, "model 'clf' has no alias 'staging'"),
        (("alias", "set", "clf", "production", "9"), 1, "no version 9"),
        (("delete", "clf", "--yes"), 2, "names no version"),
        (("tag", "clf:1"), 2, "give tags to set"),
        (("register", "model.pkl", "-n", "x", "--tag", "stage"), 2, "'stage' is not KEY=VALUE"),
        (("register", "model.pkl", "-n", "x", "--tag", "=v"), 2, "'=v' is not KEY=VALUE"),
        (("register", "missing.pkl", "-n", "x"), 1, "neither a file nor a folder"),
        (("register", "model.pkl", "-n", "x", "--dataset", "training=iris:latest"), 2, "ROLE=DATASET"),
        (("register", "model.pkl", "-n", "x", "--dataset", "training=nope"), 1, "dataset 'nope' not found"),
        (("register", "outputs/m.pkl", "-n", "x", "--run", "zz"), 1, "is not a run id"),
        (("list", "--run", "abcdef"), 1, "no run id starts with 'abcdef'"),
    ],
)
def test_bad_input_is_a_clear_error_without_a_traceback(
    versions: dict[str, Any], cli: Cli, args: tuple[str, ...], code: int, message: str
) -> None:
    result = cli("model", *args)

    assert result.exit_code == code
    assert message in " ".join(result.stderr.replace("│", " ").split())
    assert "Traceback" not in result.output
    assert _versions(cli.json("model", "list")) == [("clf", 2), ("clf", 1), ("single", 1)]
