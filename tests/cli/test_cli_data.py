"""Stories about data on the command line: datastores from YAML (secrets from the environment), browsing,
uploads and downloads, and datasets registered, previewed, profiled, traced to runs and downloaded."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cli_support import Cli, seed_run

from ember.backend import Backend
from ember.wiring import open_backend

SECRET = "S3cr3tAccountKey" + "A" * 40 + "=="

RAW_YML = """\
name: raw
kind: local
root: ../data
description: raw files
"""

BLOB_YML = """\
name: blob
kind: azure_blob
account_name: myacct
container_name: data
endpoint: http://127.0.0.1:10000/devstoreaccount1
prefix: team
credentials:
  account_key: ${AZURE_STORAGE_KEY}
description: raw files in Azure
"""

S3_YML = """\
name: lake
kind: s3
bucket: my-bucket
region: eu-west-1
credentials:
  access_key_id: AKIAEXAMPLE
  secret_access_key: ${LAKE_SECRET}
"""

IRIS_YML = """\
name: iris
type: tabular
format: delimited
paths:
  - datastore: raw
    path: iris/*.csv
separator: ","
header: true
set_column_types: {species: string}
description: Iris flowers
tags: {area: demo}
create_new_version: true
"""


@pytest.fixture
def data_folder(project: Path) -> Path:
    """A folder of CSV files (and a note that is not data) beside the project's YAML files."""
    iris = project / "data" / "iris"
    iris.mkdir(parents=True)
    (iris / "a.csv").write_text("sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,,virginica\n")
    (iris / "b.csv").write_text("sepal,petal,species\n4.9,1.4,setosa\n")
    (iris / "notes.txt").write_text("not data\n")
    return project / "data"


def _write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text)
    return path


@pytest.fixture
def raw(workspace: Path, data_folder: Path, project: Path, cli: Cli) -> Path:
    """The local datastore ``raw`` over ``data/``, registered from ``conf/raw.yml`` (root relative to it)."""
    cli.ok("datastore", "register", "-f", str(_write(project / "conf", "raw.yml", RAW_YML)))
    return data_folder


@pytest.fixture
def iris(raw: Path, project: Path, cli: Cli) -> dict[str, Any]:
    """The dataset ``iris`` (CSV files of ``raw``), registered from ``iris.yml``; its JSON."""
    found: dict[str, Any] = cli.json("dataset", "register", "-f", str(_write(project, "iris.yml", IRIS_YML)))
    return found


@pytest.fixture
def backend(workspace: Path) -> Iterator[Backend]:
    """The workspace's contract, to arrange what a training script would do."""
    opened = open_backend(str(workspace))
    try:
        yield opened
    finally:
        opened.close()


# -- datastores ------------------------------------------------------------------------------------


def test_a_local_datastore_registers_from_yaml_with_its_root_relative_to_the_file(
    raw: Path, cli: Cli
) -> None:
    shown = cli.json("datastore", "show", "raw")
    listed = cli.json("datastore", "list")["datastores"]
    table = cli.ok("datastore", "list").stdout

    assert shown["kind"] == "local"
    assert shown["root"] == str(raw.resolve())
    assert shown["description"] == "raw files"
    assert [d["name"] for d in listed] == ["workspace", "raw"]
    assert listed[0]["is_default"]
    assert "workspace (default)" in table
    assert "raw" in table
    assert "file://" in table


def test_a_second_registration_needs_overwrite(raw: Path, project: Path, cli: Cli) -> None:
    moved = _write(project / "conf", "moved.yml", RAW_YML.replace("../data", "../data/iris"))

    refused = cli("datastore", "register", "-f", str(moved))
    replaced = cli.json("datastore", "register", "-f", str(moved), "--overwrite")

    assert refused.exit_code == 1
    assert "raw" in refused.stderr
    assert replaced["root"] == str((raw / "iris").resolve())


def test_credentials_come_from_the_environment_and_are_never_shown(
    workspace: Path, project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_KEY", SECRET)
    monkeypatch.setenv("LAKE_SECRET", SECRET + "s3")

    registered = cli.ok("datastore", "register", "-f", str(_write(project, "blob.yml", BLOB_YML))).stdout
    lake = cli.json("datastore", "register", "-f", str(_write(project, "lake.yml", S3_YML)))
    outputs = [
        registered,
        json.dumps(lake),
        cli.ok("datastore", "list").stdout,
        cli.ok("datastore", "list", "--json").stdout,
        cli.ok("datastore", "show", "blob").stdout,
        cli.ok("datastore", "show", "blob", "--json").stdout,
        cli.ok("datastore", "show", "lake").stdout,
    ]
    blob = cli.json("datastore", "show", "blob")

    assert all(SECRET not in text for text in outputs)
    assert blob["credential_type"] == "account_key"
    assert blob["account_name"] == "myacct"
    assert blob["prefix"] == "team"
    assert lake["credential_type"] == "keys"
    assert "account_key" in outputs[4]


def test_an_unset_variable_is_named_and_nothing_is_registered(
    workspace: Path, project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AZURE_STORAGE_KEY", raising=False)

    result = cli("datastore", "register", "-f", str(_write(project, "blob.yml", BLOB_YML)))

    assert result.exit_code == 1
    assert "AZURE_STORAGE_KEY" in result.stderr
    assert "credentials.account_key" in result.stderr
    assert "Traceback" not in result.output
    assert [d["name"] for d in cli.json("datastore", "list")["datastores"]] == ["workspace"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (RAW_YML + "colour: red\n", "unknown key colour"),
        (S3_YML.replace("my-bucket", "My_Bucket"), "bucket: String should match"),
        ("name: x\nkind: ftp\n", "kind: Input should be"),
        ("name: x\n  bad: [\n", "not valid YAML at line 2"),
        ("- just\n- a list\n", "must be a YAML mapping"),
    ],
)
def test_a_bad_datastore_file_is_one_clear_line(
    workspace: Path, project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, text: str, message: str
) -> None:
    monkeypatch.setenv("LAKE_SECRET", SECRET)

    result = cli("datastore", "register", "-f", str(_write(project, "bad.yml", text)))

    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert SECRET not in result.output


def test_ls_browses_one_level_folders_first(raw: Path, cli: Cli) -> None:
    top = cli.ok("datastore", "ls", "raw").stdout
    inside = cli.json("datastore", "ls", "raw", "iris")
    missing = cli("datastore", "ls", "raw", "nope")

    assert "iris/" in top
    assert [(e["path"], e["kind"]) for e in inside["entries"]] == [
        ("iris/a.csv", "file"),
        ("iris/b.csv", "file"),
        ("iris/notes.txt", "file"),
    ]
    assert inside["entries"][1]["size"] == len("sepal,petal,species\n4.9,1.4,setosa\n")
    assert missing.exit_code == 1
    assert "nope" in missing.stderr


def test_upload_and_download_round_trip_through_the_default_datastore(
    data_folder: Path, workspace: Path, project: Path, cli: Cli
) -> None:
    uploaded = cli.ok("datastore", "upload", "workspace", str(data_folder), "--target-path", "up").stdout
    again = cli.json("datastore", "upload", "workspace", str(data_folder), "--target-path", "up")
    listed = cli.ok("datastore", "ls", "workspace", "up/iris").stdout
    downloaded = cli.json("datastore", "download", "workspace", "up/iris", str(project / "copy"))
    kept = cli.ok("datastore", "download", "workspace", "up/iris", str(project / "copy")).stdout
    replaced = cli.json("datastore", "download", "workspace", "up/iris", "copy", "--overwrite")

    assert "Uploaded 3 files" in uploaded
    assert "workspace:up" in uploaded
    assert again["transferred"] == []
    assert sorted(again["skipped"]) == ["iris/a.csv", "iris/b.csv", "iris/notes.txt"]
    assert "a.csv" in listed
    assert sorted(downloaded["transferred"]) == ["a.csv", "b.csv", "notes.txt"]
    for name in ("a.csv", "b.csv", "notes.txt"):
        assert (project / "copy" / name).read_bytes() == (data_folder / "iris" / name).read_bytes()
    assert "Skipped 3 files already there" in kept
    assert len(replaced["transferred"]) == 3


def test_downloading_nothing_says_so(workspace: Path, project: Path, cli: Cli) -> None:
    result = cli("datastore", "download", "workspace", "nothing/here", str(project / "out"))

    assert result.exit_code == 1
    assert "nothing/here" in result.stderr


def test_delete_forgets_a_datastore_unless_datasets_read_from_it(
    iris: dict[str, Any], project: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AZURE_STORAGE_KEY", SECRET)
    cli.ok("datastore", "register", "-f", str(_write(project, "blob.yml", BLOB_YML)))

    forgot = cli.ok("datastore", "delete", "blob").stdout
    refused = cli("datastore", "delete", "raw")
    default = cli("datastore", "delete", "workspace")
    gone = cli("datastore", "show", "blob")

    assert "blob" in forgot
    assert refused.exit_code == 1
    assert "iris" in refused.stderr
    assert default.exit_code == 1
    assert gone.exit_code == 1
    assert "not found" in gone.stderr
    assert (project / "data" / "iris" / "a.csv").exists()


# -- datasets --------------------------------------------------------------------------------------


def test_a_dataset_registers_from_yaml_and_lists(iris: dict[str, Any], project: Path, cli: Cli) -> None:
    said = cli.ok("dataset", "register", "-f", str(project / "iris.yml")).stdout
    table = cli.ok("dataset", "list").stdout
    listed = cli.json("dataset", "list")["datasets"]
    versions = cli.json("dataset", "list", "--name", "iris")["datasets"]

    assert iris["version"] == 1
    assert iris["file_count"] == 2  # the glob leaves notes.txt out
    assert iris["tags"] == {"area": "demo"}
    assert iris["definition"]["parse"]["set_column_types"] == {"species": "string"}
    assert "Dataset iris version 1: 2 files" in said  # unchanged files: the same version
    row = next(line.split() for line in table.splitlines() if line.split()[:1] == ["iris"])
    assert row[1:6] == ["1", "active", "tabular", "delimited", "2"]
    assert [(d["name"], d["version"]) for d in listed] == [("iris", 1)]
    assert [d["version"] for d in versions] == [1]


def test_a_changed_definition_is_the_next_version(iris: dict[str, Any], project: Path, cli: Cli) -> None:
    changed = _write(project, "iris2.yml", IRIS_YML.replace("iris/*.csv", "iris/a.csv"))

    second = cli.json("dataset", "register", "-f", str(changed))
    first = cli.json("dataset", "show", "iris", "--version", "1")
    versions = cli.json("dataset", "list", "-n", "iris")["datasets"]

    assert second["version"] == 2
    assert second["file_count"] == 1
    assert first["file_count"] == 2
    assert [d["version"] for d in versions] == [2, 1]


def test_show_prints_sources_parse_options_and_tags(iris: dict[str, Any], cli: Cli) -> None:
    shown = cli.ok("dataset", "show", "iris").stdout

    assert "raw:iris/*.csv" in shown
    assert "species=string" in shown
    assert "Iris flowers" in shown
    assert "area" in shown
    assert str(iris["fingerprint"]) in shown


def test_preview_shows_the_first_rows_typed(iris: dict[str, Any], cli: Cli) -> None:
    table = cli.ok("dataset", "preview", "iris", "--rows", "2").stdout
    preview = cli.json("dataset", "preview", "iris")

    assert "sepal" in table
    assert "float" in table
    assert "setosa" in table
    assert "versicolor" in table
    assert "virginica" not in table  # the third row is past --rows 2
    assert preview["columns"] == [["sepal", "float"], ["petal", "float"], ["species", "string"]]
    assert preview["rows"][2] == [6.3, None, "virginica"]
    assert len(preview["rows"]) == 4


def test_profile_shows_statistics_per_column(iris: dict[str, Any], cli: Cli) -> None:
    table = cli.ok("dataset", "profile", "iris").stdout
    profile = cli.json("dataset", "profile", "iris", "--refresh")
    shown = cli.json("dataset", "show", "iris")

    header = next(line for line in table.splitlines() if "COLUMN" in line).split()
    assert header[:9] == ["COLUMN", "TYPE", "COUNT", "MISSING", "UNIQUE", "MIN", "MAX", "MEAN", "STD"]
    assert "4 rows, 3 columns" in table
    assert "setosa (2)" in table
    columns = {c["name"]: c for c in profile["columns"]}
    assert profile["row_count"] == 4
    assert columns["petal"]["missing"] == 1
    assert columns["sepal"]["max"] == 7.0
    assert columns["species"]["top_values"][0] == ["setosa", 2]
    assert shown["has_profile"]


def test_runs_shows_the_lineage_of_a_version(iris: dict[str, Any], backend: Backend, cli: Cli) -> None:
    assert "No run has used iris version 1" in cli.ok("dataset", "runs", "iris").stdout
    run_id = seed_run(backend.tracking, name="train")
    backend.data.link_run_dataset(run_id, str(iris["id"]), direction="input", name="training", mode="direct")

    table = cli.ok("dataset", "runs", "iris").stdout
    links = cli.json("dataset", "runs", "iris", "--version", "1")["runs"]

    assert run_id in table
    assert "training" in table
    assert [(link["run_id"], link["direction"], link["name"]) for link in links] == [
        (run_id, "input", "training")
    ]


def test_download_writes_the_files_below_the_source_folder(
    iris: dict[str, Any], project: Path, cli: Cli
) -> None:
    said = cli.ok("dataset", "download", "iris", str(project / "local")).stdout
    found = cli.json("dataset", "download", "iris", "again", "--version", "1")

    assert "2 files" in said
    assert sorted(p.name for p in (project / "local").iterdir()) == ["a.csv", "b.csv"]
    assert (project / "again" / "b.csv").read_text() == (project / "data" / "iris" / "b.csv").read_text()
    assert found["version"] == 1
    assert len(found["files"]) == 2


def test_a_file_dataset_has_no_rows_to_preview(raw: Path, project: Path, cli: Cli) -> None:
    text = "name: notes\ntype: file\npaths: {datastore: raw, path: iris/*.txt}\n"
    registered = cli.json("dataset", "register", "-f", str(_write(project, "notes.yml", text)))

    preview = cli("dataset", "preview", "notes")

    assert registered["kind"] == "file"
    assert registered["file_count"] == 1
    assert preview.exit_code == 1
    assert "file dataset" in preview.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (("species: string", "species: strin"), "unknown column type 'strin' for column 'species'"),
        (("iris/*.csv", "nope/*.csv"), "'nope/*.csv' matched no file"),
        (("create_new_version: true", "colour: red"), "unknown key colour"),
        (("format: delimited", "format: xls"), "format: Input should be"),
        (("datastore: raw", "datastore: lake"), "lake"),
        (('separator: ","', 'separator: ";;"'), "separator:"),
        (("type: tabular", "type: file"), "apply only to tabular datasets"),
        (("    path: iris/*.csv", "    path: ../iris/*.csv"), "paths[0].path"),
    ],
)
def test_a_bad_dataset_file_is_one_clear_line_and_registers_nothing(
    raw: Path, project: Path, cli: Cli, change: tuple[str, str], message: str
) -> None:
    text = IRIS_YML.replace(*change)
    assert text != IRIS_YML

    result = cli("dataset", "register", "-f", str(_write(project, "bad.yml", text)))

    assert result.exit_code == 1
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert cli.json("dataset", "list") == {"datasets": []}


def test_a_missing_file_and_an_unknown_dataset_are_errors(workspace: Path, cli: Cli) -> None:
    missing = cli("dataset", "register", "-f", "nope.yml")
    unknown = cli("dataset", "show", "nope")
    no_version = cli("dataset", "preview", "nope", "--version", "3")

    assert missing.exit_code == 1
    assert "does not exist" in missing.stderr
    assert unknown.exit_code == 1
    assert "dataset 'nope' not found" in unknown.stderr
    assert no_version.exit_code == 1
    assert "Traceback" not in unknown.output + no_version.output


# -- lifecycle ----------------------------------------------------------------------------------------


def _second_version(project: Path, cli: Cli) -> dict[str, Any]:
    found: dict[str, Any] = cli.json(
        "dataset",
        "register",
        "-f",
        str(_write(project, "iris2.yml", IRIS_YML.replace("iris/*.csv", "iris/a.csv"))),
    )
    return found


def _rows(table: str) -> dict[str, list[str]]:
    """The list table's rows by ``name:version``."""
    rows = [line.split() for line in table.splitlines()]
    return {f"{r[0]}:{r[1]}": r for r in rows if len(r) > 2 and r[1].isdigit()}


def test_deprecate_names_the_replacement_in_list_show_and_reads(
    iris: dict[str, Any], project: Path, cli: Cli
) -> None:
    second = _second_version(project, cli)

    said = cli.ok("dataset", "deprecate", "iris:1", "--by", "iris:2").stdout
    shown = cli.ok("dataset", "show", "iris", "--version", "1").stdout
    as_json = cli.json("dataset", "show", "iris", "--version", "1")
    table = cli.ok("dataset", "list", "--name", "iris").stdout

    assert f"Deprecated dataset iris version 1: deprecated by iris:2 ({second['id']})." in said
    assert "deprecated by" in shown
    assert f"iris:2 ({second['id']})" in shown
    assert (as_json["state"], as_json["deprecated_by"], as_json["deprecated_by_version"]) == (
        "deprecated",
        second["id"],
        2,
    )
    assert _rows(table)["iris:1"][2] == "deprecated"
    assert _rows(table)["iris:2"][2] == "active"


def test_archive_hides_a_version_until_it_is_listed_with_include_archived_or_reactivated(
    iris: dict[str, Any], project: Path, cli: Cli, tmp_path: Path
) -> None:
    _second_version(project, cli)

    archived = cli.json("dataset", "archive", "iris:2")
    latest = cli.json("dataset", "show", "iris")
    hidden = cli.ok("dataset", "list").stdout
    everything = cli.ok("dataset", "list", "--name", "iris", "--include-archived").stdout
    refused = cli("dataset", "download", "iris", str(tmp_path / "out"), "--version", "2")
    reactivated = cli.ok("dataset", "reactivate", "iris:2").stdout

    assert archived["state"] == "archived"
    assert latest["version"] == 1  # "latest" skips archived versions
    assert list(_rows(hidden)) == ["iris:1"]
    assert _rows(everything)["iris:2"][2] == "archived"
    assert refused.exit_code == 1
    assert "is archived and cannot be read: reactivate it first" in refused.stderr
    assert "Traceback" not in refused.output
    assert "Reactivated dataset iris version 2." in reactivated
    assert cli.json("dataset", "show", "iris")["version"] == 2


def test_bad_lifecycle_requests_are_one_clear_line_and_change_nothing(iris: dict[str, Any], cli: Cli) -> None:
    by_itself = cli("dataset", "deprecate", "iris:1", "--by", "iris:1")
    no_version = cli("dataset", "archive", "iris")
    unknown = cli("dataset", "reactivate", "iris:9")

    assert by_itself.exit_code == 1
    assert "cannot be deprecated by itself" in by_itself.stderr
    assert no_version.exit_code == 2  # a usage error
    assert "NAME:VERSION" in no_version.output
    assert unknown.exit_code == 1
    assert "has no version 9" in unknown.stderr
    assert cli.json("dataset", "show", "iris")["state"] == "active"


def test_unregister_needs_all_versions_and_a_confirmation(
    iris: dict[str, Any], project: Path, cli: Cli, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ember.cli import dataset as dataset_cli

    _second_version(project, cli)
    run_id = seed_run(backend.tracking, experiment="train")
    backend.data.link_run_dataset(run_id, iris["id"], direction="input", name="train", mode="direct")

    without_flag = cli("dataset", "unregister", "iris")
    not_at_a_terminal = cli("dataset", "unregister", "iris", "--all-versions")
    monkeypatch.setattr(dataset_cli, "_can_ask", lambda: True)
    declined = cli("dataset", "unregister", "iris", "--all-versions", input="n\n")
    still_there = cli.json("dataset", "list")["datasets"]
    accepted = cli.ok("dataset", "unregister", "iris", "--all-versions", input="y\n")

    assert without_flag.exit_code == 1
    assert "--all-versions" in without_flag.stderr
    assert not_at_a_terminal.exit_code == 1
    assert "pass --yes" in not_at_a_terminal.stderr
    assert declined.exit_code == 1
    assert "2 versions" in declined.stderr
    assert [d["name"] for d in still_there] == ["iris"]
    assert "Unregistered dataset iris (versions 1, 2)." in accepted.stdout
    assert cli.json("dataset", "list", "--include-archived") == {"datasets": []}
    assert cli("dataset", "show", "iris").exit_code == 1
    # the run still shows what it consumed
    (link,) = backend.data.get_run_datasets(run_id)
    assert (link.dataset_name, link.dataset_version) == ("iris", 1)
    again = cli.json("dataset", "register", "-f", str(project / "iris.yml"))
    assert again["version"] == 3


def test_unregister_with_yes_asks_nothing(iris: dict[str, Any], cli: Cli) -> None:
    gone = cli.json("dataset", "unregister", "iris", "--all-versions", "--yes")

    assert gone == {"name": "iris", "unregistered_versions": [1]}
    assert cli("dataset", "unregister", "iris", "--all-versions", "--yes").exit_code == 1
