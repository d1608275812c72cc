"""Stories about downloading a run's files: the right bytes, in the right place, never outside it."""

from __future__ import annotations

import hashlib
import os
from datetime import timedelta
from pathlib import Path

import pytest
from cli_fakes import EPOCH, FakeBackend, FakeTracking
from cli_support import Cli, seed_run

from ember.cli._common import CliState
from ember.cli.transfer import destination
from ember.entities import ArtifactInfo, RunDetails, RunInfo, RunStatus
from ember.errors import InvalidInput
from ember.tracking.contract import TrackingBackend

MODEL = os.urandom(300_000)
FILES = {
    "outputs/model.pkl": MODEL,
    "outputs/metrics/summary.json": b'{"accuracy": 0.93}',
    "logs/std_log.txt": b"epoch 1\nepoch 2\n",
}


@pytest.fixture
def trained(workspace: Path, tracking: TrackingBackend) -> str:
    return seed_run(tracking, name="train", files=FILES, status=RunStatus.COMPLETED)


def _files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_download_writes_every_file_with_its_bytes_into_a_folder_named_after_the_run(
    trained: str, cli: Cli, project: Path
) -> None:
    result = cli.ok("run", "download", trained[:8])

    assert _files_under(project / trained) == FILES
    assert "Downloaded 3 files" in result.stdout
    assert str(project / trained) in result.stdout


def test_download_with_a_prefix_into_a_chosen_folder(trained: str, cli: Cli, tmp_path: Path) -> None:
    target = tmp_path / "out"

    cli.ok("run", "download", trained, str(target), "--prefix", "outputs")

    assert _files_under(target) == {k: v for k, v in FILES.items() if k.startswith("outputs/")}


def test_download_overwrites_an_older_copy_and_leaves_no_part_files(
    trained: str, cli: Cli, tmp_path: Path
) -> None:
    target = tmp_path / "out"
    (target / "outputs").mkdir(parents=True)
    (target / "outputs" / "model.pkl").write_bytes(b"stale")

    cli.ok("run", "download", trained, str(target))

    assert (target / "outputs" / "model.pkl").read_bytes() == MODEL
    assert not list(target.rglob("*.part"))


def test_download_of_an_unknown_prefix_fails(trained: str, cli: Cli, tmp_path: Path) -> None:
    result = cli("run", "download", trained, str(tmp_path / "out"), "--prefix", "checkpoints")

    assert result.exit_code == 1
    assert "has no files under 'checkpoints'" in result.stderr
    assert not (tmp_path / "out").exists()


def test_download_of_a_run_without_files_says_so(
    workspace: Path, tracking: TrackingBackend, cli: Cli
) -> None:
    run_id = seed_run(tracking)

    result = cli.ok("run", "download", run_id)

    assert f"Run {run_id} has no files." in result.stdout


def test_download_refuses_to_follow_a_symlink_out_of_the_folder(
    trained: str, cli: Cli, tmp_path: Path
) -> None:
    target = tmp_path / "out"
    outside = tmp_path / "outside"
    target.mkdir()
    outside.mkdir()
    (target / "outputs").symlink_to(outside, target_is_directory=True)

    result = cli("run", "download", trained, str(target))

    assert result.exit_code == 1
    assert "refusing to write 'outputs/metrics/summary.json'" in result.stderr
    assert list(outside.iterdir()) == []


@pytest.mark.parametrize("bad", ["../evil.txt", "/etc/evil.txt", "a/../../evil.txt", "a\\..\\evil.txt", ""])
def test_destination_refuses_paths_that_leave_the_folder(tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidInput, match="refusing to write"):
        destination(tmp_path, bad)


def test_destination_keeps_plain_paths_inside(tmp_path: Path) -> None:
    assert destination(tmp_path, "outputs/model.pkl") == tmp_path / "outputs" / "model.pkl"


def _fake_run(run_id: str) -> RunDetails:
    info = RunInfo(
        id=run_id,
        experiment_id="e" * 32,
        experiment_name="iris",
        status=RunStatus.COMPLETED,
        created_time=EPOCH,
        start_time=EPOCH,
        end_time=EPOCH + timedelta(seconds=83),
    )
    return RunDetails(info=info)


def test_a_backend_that_sends_an_escaping_path_writes_nothing(project: Path, tmp_path: Path) -> None:
    fake = FakeTracking()
    run_id = "a" * 32
    fake.add_run(_fake_run(run_id), {"ok.txt": b"fine", "../escape.txt": b"evil"})
    fake.listed[run_id] = [
        ArtifactInfo(path=p, size=len(d), digest=hashlib.sha256(d).hexdigest(), created_time=EPOCH)
        for p, d in (("ok.txt", b"fine"), ("../escape.txt", b"evil"))
    ]
    cli = Cli(obj=CliState(workspace="fake", opener=lambda target: FakeBackend(fake)))

    result = cli("run", "download", run_id, str(tmp_path / "out"))

    assert result.exit_code == 1
    assert "refusing to write '../escape.txt'" in result.stderr
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "out" / "ok.txt").exists()  # every path is checked before anything is written
    assert fake.closed


def test_a_damaged_download_is_not_kept(project: Path, tmp_path: Path) -> None:
    fake = FakeTracking()
    run_id = "b" * 32
    fake.add_run(_fake_run(run_id), {"model.pkl": b"the real bytes"})
    fake.damaged.add("model.pkl")
    cli = Cli(obj=CliState(workspace="fake", opener=lambda target: FakeBackend(fake)))

    result = cli("run", "download", run_id, str(tmp_path / "out"))

    assert result.exit_code == 1
    assert "arrived damaged" in result.stderr
    assert list((tmp_path / "out").iterdir()) == []
