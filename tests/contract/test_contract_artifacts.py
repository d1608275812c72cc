"""Artifacts: streamed round trips, prefixes, content addressing, refused paths and symlinks."""

from __future__ import annotations

import io
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from contract_support import (
    Target,
    blob_files,
    blob_path,
    chunks_of,
    new_experiment,
    new_run,
    read_artifact,
    sha256,
    unique,
)

import ember
from ember.backend import Backend
from ember.errors import EmberError, InvalidInput, NotFound


def _run(backend: Backend) -> str:
    return new_run(backend, new_experiment(backend, "files").id).info.id


def test_a_5_mb_random_file_round_trips_byte_for_byte(
    target: Target, ws: ember.Workspace, tmp_path: Path
) -> None:
    data = os.urandom(5 * 2**20 + 123)
    source = tmp_path / "weights.bin"
    source.write_bytes(data)
    run = ember.Experiment(ws, unique("big")).start_logging()

    assert run.upload_file("outputs/weights.bin", source) == "outputs/weights.bin"

    (info,) = target.backend.tracking.list_artifacts(run.id)
    assert (info.path, info.size, info.digest) == ("outputs/weights.bin", len(data), sha256(data))
    opened, chunks = target.backend.tracking.open_artifact(run.id, "outputs/weights.bin")
    assert (opened.path, opened.size, opened.digest) == (info.path, info.size, info.digest)
    assert b"".join(chunks) == data
    assert run.download_file("outputs/weights.bin", tmp_path / "copy.bin").read_bytes() == data
    assert blob_path(target.artifact_root, sha256(data)).read_bytes() == data
    run.complete()


def test_upload_from_a_stream_and_overwrite(backend: Backend, ws: ember.Workspace) -> None:
    run = ember.Experiment(ws, unique("stream")).start_logging()
    run.upload_file("notes.txt", io.BytesIO(b"first"))
    run.upload_file("notes.txt", io.BytesIO(b"second version"))
    (info,) = backend.tracking.list_artifacts(run.id)
    assert (info.path, info.size) == ("notes.txt", len(b"second version"))
    assert read_artifact(backend, run.id, "notes.txt") == b"second version"
    run.complete()


def test_empty_file(backend: Backend) -> None:
    run_id = _run(backend)
    info = backend.tracking.upload_artifact(run_id, "empty.txt", iter([]))
    assert (info.size, info.digest) == (0, sha256(b""))
    assert read_artifact(backend, run_id, "empty.txt") == b""


def test_list_by_prefix_is_by_folder_not_by_string(backend: Backend) -> None:
    run_id = _run(backend)
    for path in (
        "outputs/b.txt",
        "outputs/a.txt",
        "outputs/sub/c.txt",
        "outputsx/d.txt",
        "logs/e.txt",
        "top.txt",
    ):
        backend.tracking.upload_artifact(run_id, path, [path.encode()])

    def listed(prefix: str) -> list[str]:
        return [a.path for a in backend.tracking.list_artifacts(run_id, prefix)]

    assert listed("") == [
        "logs/e.txt",
        "outputs/a.txt",
        "outputs/b.txt",
        "outputs/sub/c.txt",
        "outputsx/d.txt",
        "top.txt",
    ]
    assert listed("outputs") == ["outputs/a.txt", "outputs/b.txt", "outputs/sub/c.txt"]
    assert listed("outputs/") == listed("outputs")
    assert listed("outputs/sub") == ["outputs/sub/c.txt"]
    assert listed("top.txt") == ["top.txt"]
    assert listed("nothing") == []
    assert listed("out") == []
    for path in listed(""):
        assert read_artifact(backend, run_id, path) == path.encode()


def test_paths_are_normalized(backend: Backend) -> None:
    run_id = _run(backend)
    info = backend.tracking.upload_artifact(run_id, "./a//b/./c.txt", [b"x"])
    assert info.path == "a/b/c.txt"
    assert read_artifact(backend, run_id, "a/b/c.txt") == b"x"
    assert read_artifact(backend, run_id, "a//b/c.txt") == b"x"


def test_names_with_unusual_but_valid_characters(backend: Backend) -> None:
    run_id = _run(backend)
    names = ["with space.txt", "uni-ß-名前.txt", "q?x#y&z=1.txt", "plus+sign.txt", "dot.dir/x", "a'b\"c.txt"]
    for name in names:
        backend.tracking.upload_artifact(run_id, name, [name.encode()])
    assert [a.path for a in backend.tracking.list_artifacts(run_id)] == sorted(names)
    for name in names:
        assert read_artifact(backend, run_id, name) == name.encode()


def test_the_same_bytes_under_two_runs_are_stored_once(target: Target) -> None:
    backend = target.backend
    exp = new_experiment(backend, "dedup")
    one, two = new_run(backend, exp.id).info.id, new_run(backend, exp.id).info.id
    data = os.urandom(300_000)
    before = blob_files(target.artifact_root)

    a = backend.tracking.upload_artifact(one, "model.bin", chunks_of(data, 65536))
    b = backend.tracking.upload_artifact(two, "copy/of/model.bin", chunks_of(data, 100_000))
    backend.tracking.upload_artifact(one, "again.bin", [data])

    assert a.digest == b.digest == sha256(data)
    new_blobs = blob_files(target.artifact_root) - before
    assert new_blobs == {blob_path(target.artifact_root, a.digest)}
    assert read_artifact(backend, two, "copy/of/model.bin") == data


REFUSED = [
    "../evil.txt",
    "outputs/../../evil.txt",
    "outputs/..",
    "..",
    "...",
    "/etc/passwd",
    "//server/share.txt",
    "C:/windows/evil.txt",
    "outputs\\evil.txt",
    "..\\evil.txt",
    "a\x00b.txt",
    "line\nbreak.txt",
    "a;b.txt",
    "%2e%2e/evil.txt",
    "%252e%252e/evil.txt",
    "outputs/%2fevil.txt",
    "file://etc/passwd",
    "",
    "outputs/",
    ".",
    "x" * 1025,
    "y" * 256 + "/z.txt",
]


@pytest.mark.parametrize("path", REFUSED, ids=[repr(p)[:40] for p in REFUSED])
def test_refused_paths_store_nothing(target: Target, path: str) -> None:
    backend = target.backend
    run_id = _run(backend)
    payload = os.urandom(64)
    before = blob_files(target.artifact_root)

    with pytest.raises(InvalidInput):
        backend.tracking.upload_artifact(run_id, path, [payload])

    assert backend.tracking.list_artifacts(run_id) == []
    assert blob_files(target.artifact_root) == before
    assert not blob_path(target.artifact_root, sha256(payload)).exists()
    tmp = target.artifact_root / "tmp"
    assert not (tmp.is_dir() and any(tmp.iterdir())), "a partial upload was left behind"
    outside = target.artifact_root.parent / "evil.txt"
    assert not outside.exists()


@pytest.mark.parametrize("path", ["../evil.txt", "/etc/passwd", "a\\b", "%2e%2e/x", "a;b", ""])
def test_refused_paths_when_reading(backend: Backend, path: str) -> None:
    run_id = _run(backend)
    with pytest.raises(InvalidInput):
        backend.tracking.open_artifact(run_id, path)


@pytest.mark.parametrize("prefix", ["../", "/etc", "a\\b", "%2e%2e", "a;b"])
def test_refused_prefixes_when_listing(backend: Backend, prefix: str) -> None:
    run_id = _run(backend)
    with pytest.raises(InvalidInput):
        backend.tracking.list_artifacts(run_id, prefix)


def test_a_missing_file_is_not_found(backend: Backend) -> None:
    run_id = _run(backend)
    backend.tracking.upload_artifact(run_id, "here.txt", [b"x"])
    with pytest.raises(NotFound):
        backend.tracking.open_artifact(run_id, "there.txt")
    with pytest.raises(NotFound):
        backend.tracking.open_artifact(run_id, "here.txt/child")


def test_upload_folder_with_a_symlink_outside_uploads_nothing(ws: ember.Workspace, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not upload")
    folder = tmp_path / "out"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("a")
    (folder / "sub" / "b.txt").write_text("b")
    (folder / "z-link.txt").symlink_to(secret)
    run = ember.Experiment(ws, unique("symlink")).start_logging()

    with pytest.raises(InvalidInput):
        run.upload_folder("outputs", folder)
    assert run.get_file_names() == []

    (folder / "z-link.txt").unlink()
    (folder / "z-link.txt").symlink_to(folder / "a.txt")  # inside the folder: followed
    assert run.upload_folder("outputs", folder) == [
        "outputs/a.txt",
        "outputs/sub/b.txt",
        "outputs/z-link.txt",
    ]
    assert run.get_file_names("outputs") == ["outputs/a.txt", "outputs/sub/b.txt", "outputs/z-link.txt"]
    run.complete()


def test_upload_folder_with_a_symlinked_folder_outside_uploads_nothing(
    ws: ember.Workspace, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "id_rsa").write_text("key")
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    (folder / "linked").symlink_to(elsewhere, target_is_directory=True)
    run = ember.Experiment(ws, unique("symdir")).start_logging()
    with pytest.raises(InvalidInput):
        run.upload_folder("outputs", folder)
    assert run.get_file_names() == []
    run.complete()


def test_upload_folder_with_a_bad_prefix_uploads_nothing(ws: ember.Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "a.txt").write_text("a")
    run = ember.Experiment(ws, unique("badprefix")).start_logging()
    for prefix in ("../up", "/abs", "a\\b"):
        with pytest.raises(InvalidInput):
            run.upload_folder(prefix, folder)
    assert run.get_file_names() == []
    assert run.upload_folder("", folder) == ["a.txt"]
    run.complete()


def test_artifacts_of_an_unknown_run_are_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound):
        backend.tracking.list_artifacts("0" * 32)
    with pytest.raises(NotFound):
        backend.tracking.open_artifact("0" * 32, "a.txt")
    with pytest.raises(NotFound):
        backend.tracking.upload_artifact("0" * 32, "a.txt", [b"x"])


def test_an_interrupted_upload_stores_nothing(target: Target) -> None:
    backend = target.backend
    run_id = _run(backend)
    backend.tracking.upload_artifact(run_id, "keep.txt", [b"kept"])
    first = os.urandom(1 << 20)
    before = blob_files(target.artifact_root)

    def broken_stream() -> Iterator[bytes]:
        yield first
        yield first
        raise OSError("the disk went away")

    with pytest.raises((OSError, EmberError)):
        backend.tracking.upload_artifact(run_id, "partial.bin", broken_stream())

    # A server notices the broken stream on its own time: poll, with a deadline.
    deadline = time.monotonic() + 15
    tmp = target.artifact_root / "tmp"
    while time.monotonic() < deadline:
        leftovers = list(tmp.iterdir()) if tmp.is_dir() else []
        if not leftovers:
            break
        time.sleep(0.05)
    assert leftovers == [], "a partial upload was left in tmp/"
    assert [a.path for a in backend.tracking.list_artifacts(run_id)] == ["keep.txt"]
    assert blob_files(target.artifact_root) == before
    # The run still takes uploads.
    backend.tracking.upload_artifact(run_id, "partial.bin", [b"whole"])
    assert read_artifact(backend, run_id, "partial.bin") == b"whole"
