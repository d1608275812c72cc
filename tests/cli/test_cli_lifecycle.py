"""Stories about deleting, restoring and purging runs and experiments."""

from __future__ import annotations

import hashlib
from pathlib import Path

from cli_support import Cli, seed_run

from ember.entities import RunStatus
from ember.tracking.contract import TrackingBackend


def _blob(workspace: Path, data: bytes) -> Path:
    digest = hashlib.sha256(data).hexdigest()
    return workspace / "artifacts" / "blobs" / digest[:2] / digest[2:]


def _listed_ids(cli: Cli, *args: str) -> set[str]:
    return {run["info"]["id"] for run in cli.json("run", "list", *args)["runs"]}


def test_a_deleted_run_leaves_the_list_and_restore_brings_it_back(
    workspace: Path, tracking: TrackingBackend, cli: Cli
) -> None:
    keep = seed_run(tracking, name="keep")
    drop = seed_run(tracking, name="drop")

    deleted = cli.ok("run", "delete", drop[:8])

    assert f"Deleted run {drop}" in deleted.stdout
    assert _listed_ids(cli) == {keep}
    assert _listed_ids(cli, "--deleted") == {drop}
    assert drop[:8] not in cli.ok("run", "list").stdout

    cli.ok("run", "restore", drop[:8])

    assert _listed_ids(cli) == {keep, drop}
    assert _listed_ids(cli, "--deleted") == set()


def test_experiments_can_be_archived_deleted_and_restored(
    workspace: Path, tracking: TrackingBackend, cli: Cli
) -> None:
    seed_run(tracking, experiment="iris")
    seed_run(tracking, experiment="mnist")

    def names(*args: str) -> set[str]:
        return {e["name"] for e in cli.json("experiment", "list", *args)["experiments"]}

    cli.ok("experiment", "archive", "iris")
    assert names() == {"mnist"}
    assert names("--archived") == {"iris"}

    mnist_id = cli.json("experiment", "show", "mnist")["id"]
    cli.ok("experiment", "delete", mnist_id)
    assert names() == set()
    assert names("--deleted") == {"mnist"}
    assert names("--all") == {"iris", "mnist"}
    assert cli.json("experiment", "show", "mnist")["lifecycle_stage"] == "deleted"

    cli.ok("experiment", "restore", "iris")
    cli.ok("experiment", "restore", "mnist")
    assert names() == {"iris", "mnist"}
    table = cli.ok("experiment", "list").stdout
    assert "iris" in table
    assert mnist_id in table


def test_experiment_list_flags_exclude_each_other(workspace: Path, cli: Cli) -> None:
    result = cli("experiment", "list", "--all", "--deleted")

    assert result.exit_code == 2
    assert "exclude each other" in result.output


def test_experiment_show_of_an_unknown_name_fails(workspace: Path, cli: Cli) -> None:
    result = cli("experiment", "show", "nope")

    assert result.exit_code == 1
    assert "experiment 'nope' not found" in result.stderr


def test_gc_purges_deleted_runs_and_frees_only_their_bytes(
    workspace: Path, tracking: TrackingBackend, cli: Cli
) -> None:
    shared = b"a dataset both runs uploaded"
    own = b"checkpoint only the deleted run has" * 1000
    keep = seed_run(tracking, files={"data.csv": shared}, status=RunStatus.COMPLETED)
    drop = seed_run(tracking, files={"data.csv": shared, "ckpt.bin": own}, status=RunStatus.COMPLETED)
    cli.ok("run", "delete", drop)
    assert _blob(workspace, own).is_file()

    report = cli.json("gc", "--yes")

    assert report == {"experiments": 0, "runs": 1, "blobs": 1, "bytes_freed": len(own)}
    assert not _blob(workspace, own).exists()
    assert _blob(workspace, shared).is_file()
    assert _listed_ids(cli, "--deleted") == set()
    assert _listed_ids(cli) == {keep}
    restore = cli("run", "restore", drop)
    assert restore.exit_code == 1
    assert "not found" in restore.stderr


def test_gc_asks_first_and_does_nothing_when_told_no(
    workspace: Path, tracking: TrackingBackend, cli: Cli
) -> None:
    own = b"bytes of a deleted run"
    drop = seed_run(tracking, files={"f.bin": own})
    cli.ok("run", "delete", drop)

    refused = cli("gc", input="n\n")

    assert refused.exit_code == 1
    assert "cannot be undone" in refused.stderr
    assert _listed_ids(cli, "--deleted") == {drop}
    assert _blob(workspace, own).is_file()

    accepted = cli.ok("gc", input="y\n")

    assert "Removed 1 run and 0 experiments; freed 1 file" in accepted.stdout
    assert not _blob(workspace, own).exists()


def test_gc_older_than_spares_recent_deletions(workspace: Path, tracking: TrackingBackend, cli: Cli) -> None:
    drop = seed_run(tracking, files={"f.bin": b"recent"})
    cli.ok("run", "delete", drop)

    report = cli.json("gc", "--yes", "--older-than", "1h")

    assert report == {"experiments": 0, "runs": 0, "blobs": 0, "bytes_freed": 0}
    assert _listed_ids(cli, "--deleted") == {drop}


def test_gc_purges_a_deleted_experiment_with_its_runs(
    workspace: Path, tracking: TrackingBackend, cli: Cli
) -> None:
    seed_run(tracking, experiment="scratch", files={"a.txt": b"scratch a"})
    seed_run(tracking, experiment="scratch", files={"b.txt": b"scratch b"})
    cli.ok("experiment", "delete", "scratch")

    report = cli.json("gc", "-y")

    assert report == {"experiments": 1, "runs": 2, "blobs": 2, "bytes_freed": 18}
    assert cli.json("experiment", "list", "--all")["experiments"] == []


def test_gc_rejects_a_malformed_age(workspace: Path, cli: Cli) -> None:
    result = cli("gc", "--yes", "--older-than", "soon")

    assert result.exit_code == 1
    assert "is not an age" in result.stderr
