"""A run's source directory is captured as a snapshot at submit time and restored, unchanged, to run."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import time
from pathlib import Path

import pytest

from ember.artifacts import BlobStore
from ember.errors import EmberError, InvalidInput, NotFound, PayloadTooLarge
from ember.jobs import snapshot as snapshots
from ember.jobs.snapshot import HashCache, Snapshot, SnapshotFile


@pytest.fixture
def blobs(tmp_path: Path) -> BlobStore:
    return BlobStore(str(tmp_path / "artifacts"))


def _write(root: Path, files: dict[str, bytes | str]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)


def _stored_blobs(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "artifacts" / "blobs"
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def _paths(snapshot: Snapshot) -> list[str]:
    return [file.path for file in snapshot.files]


def _age(root: Path, seconds: float = 60.0) -> None:
    """Make every file look edited a while ago, as a real project's files are."""
    past = time.time() - seconds
    for path in root.rglob("*"):
        os.utime(path, (past, past), follow_symlinks=False)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    _write(
        root,
        {
            "train.py": "print('training')\n",
            "src/model/net.py": "class Net: ...\n",
            "src/model/__init__.py": "",
            "configs/base.yaml": "lr: 0.1\n",
        },
    )
    script = root / "run.sh"
    script.write_text("#!/bin/sh\npython train.py\n")
    script.chmod(0o755)
    return root


# -- capture and restore --------------------------------------------------------------------------


def test_a_captured_directory_is_restored_with_contents_folders_and_modes(
    blobs: BlobStore, project: Path, tmp_path: Path
) -> None:
    snapshot = snapshots.capture(blobs, project)

    assert _paths(snapshot) == [
        "configs/base.yaml",
        "run.sh",
        "src/model/__init__.py",
        "src/model/net.py",
        "train.py",
    ]
    assert snapshot.file_count == 5
    assert snapshot.total_size == sum(p.stat().st_size for p in project.rglob("*") if p.is_file())
    modes = {file.path: file.mode for file in snapshot.files}
    assert modes["run.sh"] == 0o755
    assert modes["train.py"] == 0o644

    target = tmp_path / "restored" / "source"
    snapshots.restore(blobs, snapshot.digest, target)

    restored = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert restored == _paths(snapshot)
    for path in restored:
        assert (target / path).read_bytes() == (project / path).read_bytes()
    assert stat.S_IMODE((target / "run.sh").stat().st_mode) == 0o755
    assert stat.S_IMODE((target / "train.py").stat().st_mode) == 0o644


def test_the_snapshot_id_is_the_digest_of_a_canonical_manifest(blobs: BlobStore, project: Path) -> None:
    snapshot = snapshots.capture(blobs, project)

    with blobs.open(snapshot.digest) as handle:
        manifest = handle.read()
    assert hashlib.sha256(manifest).hexdigest() == snapshot.digest
    document = json.loads(manifest)
    assert manifest == json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    assert [entry["path"] for entry in document["files"]] == _paths(snapshot)
    assert document["files"][0] == {
        "path": "configs/base.yaml",
        "digest": hashlib.sha256(b"lr: 0.1\n").hexdigest(),
        "size": 8,
        "mode": 0o644,
    }
    assert snapshots.load(blobs, snapshot.digest) == snapshot


def test_the_same_sources_in_another_folder_give_the_same_snapshot(
    blobs: BlobStore, project: Path, tmp_path: Path
) -> None:
    copy = tmp_path / "elsewhere" / "copy"
    for path in project.rglob("*"):
        if path.is_file():
            _write(copy, {str(path.relative_to(project)): path.read_bytes()})
            (copy / path.relative_to(project)).chmod(stat.S_IMODE(path.stat().st_mode))

    assert snapshots.capture(blobs, project).digest == snapshots.capture(blobs, copy).digest


def test_capturing_an_unchanged_directory_again_uploads_nothing(
    blobs: BlobStore, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = snapshots.capture(blobs, project)
    stored = _stored_blobs(tmp_path)
    assert len(stored) == 6  # five files and the manifest
    uploads: list[object] = []
    monkeypatch.setattr(BlobStore, "put_file", lambda self, path: uploads.append(path))
    monkeypatch.setattr(BlobStore, "put_stream", lambda self, chunks, **kw: uploads.append(chunks))

    second = snapshots.capture(blobs, project)

    assert second == first
    assert uploads == []
    assert _stored_blobs(tmp_path) == stored


def test_changing_one_file_uploads_that_file_and_a_new_manifest(
    blobs: BlobStore, project: Path, tmp_path: Path
) -> None:
    first = snapshots.capture(blobs, project)
    before = set(_stored_blobs(tmp_path))
    (project / "train.py").write_text("print('training harder')\n")

    second = snapshots.capture(blobs, project)

    assert second.digest != first.digest
    assert len(set(_stored_blobs(tmp_path)) - before) == 2
    changed = [a.path for a, b in zip(first.files, second.files, strict=True) if a != b]
    assert changed == ["train.py"]


def test_the_hash_cache_spares_reading_unchanged_files(
    blobs: BlobStore, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _age(project)
    cache_dir = tmp_path / "cache"
    first = snapshots.capture(blobs, project, hash_cache=HashCache(cache_dir))
    assert (cache_dir / "snapshot-hashes.json").is_file()
    (project / "train.py").write_text("print('edited')\n")
    hashed: list[str] = []
    real_file_digest = hashlib.file_digest

    def spy(handle: object, digest: str) -> object:
        hashed.append(getattr(handle, "name", ""))
        return real_file_digest(handle, digest)  # type: ignore[arg-type]

    monkeypatch.setattr(hashlib, "file_digest", spy)

    second = snapshots.capture(blobs, project, hash_cache=HashCache(cache_dir))

    assert [Path(name).name for name in hashed] == ["train.py"]
    expected = {f.path: f for f in first.files} | {
        "train.py": SnapshotFile("train.py", hashlib.sha256(b"print('edited')\n").hexdigest(), 16, 0o644)
    }
    assert second.files == tuple(expected[path] for path in sorted(expected))


def test_a_corrupt_hash_cache_is_ignored(blobs: BlobStore, project: Path, tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    (cache_dir / "snapshot-hashes.json").write_text("{not json")

    snapshot = snapshots.capture(blobs, project, hash_cache=HashCache(cache_dir))

    assert snapshot == snapshots.capture(blobs, project)


# -- ignore rules ---------------------------------------------------------------------------------


def test_gitignore_rules_leave_files_out(tmp_path: Path) -> None:
    root = tmp_path / "p"
    _write(
        root,
        {
            ".gitignore": "*.log\n!keep.log\nbuild/\n/data\n",
            "train.py": "",
            "run.log": "",
            "keep.log": "",
            "build/out.bin": "",
            "data/big.csv": "",
            "src/data/small.csv": "",
            "src/debug.log": "",
        },
    )

    listed = [path for path, *_ in snapshots.scan_directory(root)]

    assert listed == [".gitignore", "keep.log", "src/data/small.csv", "train.py"]


def test_emberignore_wins_over_gitignore(tmp_path: Path) -> None:
    root = tmp_path / "p"
    _write(
        root,
        {".emberignore": "data/\n", ".gitignore": "*.csv\n", "data/x.bin": "", "a.csv": "", "t.py": ""},
    )

    listed = [path for path, *_ in snapshots.scan_directory(root)]

    assert listed == [".emberignore", ".gitignore", "a.csv", "t.py"]


def test_a_nested_gitignore_applies_to_its_own_folder(tmp_path: Path) -> None:
    root = tmp_path / "p"
    _write(
        root,
        {
            ".gitignore": "*.tmp\n",
            "a/.gitignore": "/local.txt\n!important.tmp\n",
            "a/local.txt": "",
            "a/important.tmp": "",
            "a/other.tmp": "",
            "local.txt": "",
            "b/local.txt": "",
        },
    )

    listed = [path for path, *_ in snapshots.scan_directory(root)]

    assert listed == [".gitignore", "a/.gitignore", "a/important.tmp", "b/local.txt", "local.txt"]


def test_a_folder_ignored_by_its_contents_pattern_can_keep_one_file(tmp_path: Path) -> None:
    root = tmp_path / "p"
    _write(root, {".emberignore": "data/**\n!data/README.md\n", "data/x.bin": "", "data/README.md": ""})

    listed = [path for path, *_ in snapshots.scan_directory(root)]

    assert listed == [".emberignore", "data/README.md"]


def test_tool_folders_are_always_left_out(tmp_path: Path) -> None:
    root = tmp_path / "p"
    _write(
        root,
        {
            ".emberignore": "!node_modules/\n!*.pyc\n",
            "train.py": "",
            ".git/HEAD": "ref: refs/heads/main\n",
            "__pycache__/train.cpython-311.pyc": "",
            "pkg/__pycache__/x.pyc": "",
            "pkg/mod.pyc": "",
            ".ember/state": "",
            ".venv/bin/python": "",
            "node_modules/left-pad/index.js": "",
            ".ipynb_checkpoints/nb-checkpoint.ipynb": "",
            "pkg/mod.py": "",
        },
    )

    listed = [path for path, *_ in snapshots.scan_directory(root)]

    assert listed == [".emberignore", "pkg/mod.py", "train.py"]


def test_ignored_folders_are_not_entered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "p"
    _write(root, {".gitignore": "data/\n", "data/deep/x.bin": "", "node_modules/a/b.js": "", "t.py": ""})
    entered: list[str] = []
    real_scandir = os.scandir

    def spy(path: str) -> object:
        entered.append(os.path.relpath(path, root))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", spy)

    snapshots.scan_directory(root)

    assert entered == ["."]


# -- limits ---------------------------------------------------------------------------------------


def test_too_many_bytes_names_the_largest_entries_and_stores_nothing(
    blobs: BlobStore, tmp_path: Path
) -> None:
    root = tmp_path / "p"
    _write(
        root,
        {
            "train.py": "x" * 100,
            "src/data/big.bin": b"\0" * (3 * 1024 * 1024),
            "src/data/small.csv": b"\0" * 2048,
            "src/model.py": "y" * 10,
        },
    )

    with pytest.raises(PayloadTooLarge) as caught:
        snapshots.capture(blobs, root, max_bytes=1024 * 1024)

    message = caught.value.message
    assert "src/data/big.bin (3.0 MB)" in message
    assert "src/data/small.csv (2.0 KB)" in message
    assert message.index("src/data/big.bin") < message.index("src/data/small.csv")
    assert ".emberignore" in message
    assert "1.0 MB" in message
    assert _stored_blobs(tmp_path) == []


def test_too_many_files_names_the_fullest_folders_and_stores_nothing(
    blobs: BlobStore, tmp_path: Path
) -> None:
    root = tmp_path / "p"
    _write(root, {f"cache/{i:03}.npy": "" for i in range(30)})
    _write(root, {f"src/m{i}.py": "" for i in range(3)})
    _write(root, {"train.py": "", "README.md": "", "setup.cfg": ""})

    with pytest.raises(PayloadTooLarge) as caught:
        snapshots.capture(blobs, root, max_files=20)

    message = caught.value.message
    assert "36 files" in message
    assert "cache/ (30 files)" in message
    assert "src/ (3 files)" in message
    largest = caught.value.details["largest"]
    assert isinstance(largest, list)
    assert largest[:2] == ["cache/", "src/"]
    assert _stored_blobs(tmp_path) == []


def test_a_huge_tree_is_refused_without_walking_all_of_it(tmp_path: Path) -> None:
    root = tmp_path / "p"
    _write(root, {f"d/{i:04}": "" for i in range(200)})

    with pytest.raises(PayloadTooLarge, match="at least 11 files"):
        snapshots.scan_directory(root, max_files=1)


# -- symlinks -------------------------------------------------------------------------------------


def test_a_symlink_inside_the_directory_is_captured_as_its_target(
    blobs: BlobStore, project: Path, tmp_path: Path
) -> None:
    (project / "latest.yaml").symlink_to("configs/base.yaml")
    (project / "lib").symlink_to("src/model", target_is_directory=True)

    snapshot = snapshots.capture(blobs, project)
    target = tmp_path / "out"
    snapshots.restore(blobs, snapshot.digest, target)

    assert "latest.yaml" in _paths(snapshot)
    assert "lib/net.py" in _paths(snapshot)
    assert not (target / "latest.yaml").is_symlink()
    assert (target / "latest.yaml").read_text() == "lr: 0.1\n"
    assert not (target / "lib").is_symlink()
    assert (target / "lib" / "net.py").read_text() == "class Net: ...\n"


def test_a_symlink_pointing_outside_is_refused_by_name(
    blobs: BlobStore, project: Path, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("password")
    (project / "configs" / "creds").symlink_to(secret)

    with pytest.raises(InvalidInput, match="configs/creds") as caught:
        snapshots.capture(blobs, project)

    assert "outside" in caught.value.message
    assert _stored_blobs(tmp_path) == []


def test_an_ignored_symlink_pointing_outside_is_fine(blobs: BlobStore, project: Path, tmp_path: Path) -> None:
    (project / "datasets").symlink_to(tmp_path, target_is_directory=True)
    (project / ".emberignore").write_text("datasets\n")

    snapshot = snapshots.capture(blobs, project)

    assert not any(path.startswith("datasets") for path in _paths(snapshot))


def test_a_symlink_loop_is_refused(project: Path) -> None:
    (project / "src" / "again").symlink_to("..", target_is_directory=True)

    with pytest.raises(InvalidInput, match="src/again"):
        snapshots.scan_directory(project)


def test_a_broken_symlink_is_skipped_with_a_warning(
    blobs: BlobStore, project: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (project / "gone.txt").symlink_to("nowhere.txt")

    with caplog.at_level(logging.WARNING, logger="ember.jobs.snapshot"):
        snapshot = snapshots.capture(blobs, project)

    assert "gone.txt" not in _paths(snapshot)
    assert any("gone.txt" in record.getMessage() for record in caplog.records)


def test_a_name_that_cannot_be_a_snapshot_path_is_refused(project: Path) -> None:
    (project / "50%.txt").write_text("")

    with pytest.raises(InvalidInput, match=r"50%\.txt"):
        snapshots.scan_directory(project)


# -- untrusted manifests --------------------------------------------------------------------------


def _manifest(blobs: BlobStore, files: list[dict[str, object]]) -> str:
    document = {"format": "ember.snapshot/1", "files": files}
    return blobs.put_stream([json.dumps(document).encode()]).digest


def _entry(blobs: BlobStore, path: str, content: bytes = b"x") -> dict[str, object]:
    digest = blobs.put_stream([content]).digest
    return {"path": path, "digest": digest, "size": len(content), "mode": 0o644}


@pytest.mark.parametrize(
    ("paths", "problem"),
    [
        (["../escape.txt"], "'..'"),
        (["ok/../../escape.txt"], "'..'"),
        (["/etc/cron.d/job"], "absolute"),
        (["a\\..\\b"], "backslash"),
        (["same.txt", "same.txt"], "appears twice"),
        (["a", "a/b"], "both a file and a folder"),
        (["./a"], "canonical"),
    ],
)
def test_restore_refuses_a_crafted_manifest_before_writing_anything(
    blobs: BlobStore, tmp_path: Path, paths: list[str], problem: str
) -> None:
    digest = _manifest(blobs, [_entry(blobs, path) for path in paths])
    target = tmp_path / "work" / "source"

    with pytest.raises(InvalidInput, match=problem):
        snapshots.restore(blobs, digest, target)

    assert not target.exists()
    assert not (tmp_path / "escape.txt").exists()
    assert not (tmp_path / "work" / "escape.txt").exists()


@pytest.mark.parametrize(
    "change",
    [
        {"mode": 0o4755},
        {"size": -1},
        {"digest": "../../etc/passwd"},
        {"extra": 1},
    ],
)
def test_load_refuses_bad_file_entries(blobs: BlobStore, change: dict[str, object]) -> None:
    entry = _entry(blobs, "a.txt") | change

    with pytest.raises(InvalidInput, match="not a valid snapshot manifest"):
        snapshots.load(blobs, _manifest(blobs, [entry]))


def test_restore_refuses_a_target_holding_a_symlink_that_points_outside(
    blobs: BlobStore, project: Path, tmp_path: Path
) -> None:
    snapshot = snapshots.capture(blobs, project)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "target"
    target.mkdir()
    (target / "configs").symlink_to(outside, target_is_directory=True)

    with pytest.raises(InvalidInput, match="not empty"):
        snapshots.restore(blobs, snapshot.digest, target)

    assert list(outside.iterdir()) == []


def test_restore_never_writes_through_a_folder_swapped_for_a_symlink(
    blobs: BlobStore, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = snapshots.capture(blobs, project)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "target"
    real_mkdir = os.mkdir

    def hostile_mkdir(path: str, mode: int = 0o777) -> None:
        # Another process wins the race and plants a link where restore creates a folder.
        if os.path.basename(os.fspath(path)) == "configs":
            os.symlink(outside, path)
            raise FileExistsError(path)
        real_mkdir(path, mode)

    monkeypatch.setattr(os, "mkdir", hostile_mkdir)

    with pytest.raises(InvalidInput, match="configs"):
        snapshots.restore(blobs, snapshot.digest, target)

    assert list(outside.iterdir()) == []


def test_restore_never_writes_into_a_parent_folder_moved_behind_its_back(
    blobs: BlobStore, project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snapshot = snapshots.capture(blobs, project)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = tmp_path / "target"
    real_mkdir = os.mkdir

    def hostile_mkdir(path: str, mode: int = 0o777) -> None:
        # After restore checked "src", another process replaces it with a link leading outside.
        if os.fspath(path).endswith(os.path.join("src", "model")):
            parent = os.path.dirname(os.fspath(path))
            os.rename(parent, parent + ".moved")
            os.symlink(outside, parent)
        real_mkdir(path, mode)

    monkeypatch.setattr(os, "mkdir", hostile_mkdir)

    with pytest.raises(InvalidInput, match="outside"):
        snapshots.restore(blobs, snapshot.digest, target)

    assert [p for p in outside.rglob("*") if p.is_file()] == []


def test_restore_refuses_a_non_empty_target_and_a_file_target(
    blobs: BlobStore, project: Path, tmp_path: Path
) -> None:
    snapshot = snapshots.capture(blobs, project)
    busy = tmp_path / "busy"
    _write(busy, {"mine.txt": "keep me"})
    afile = tmp_path / "a-file"
    afile.write_text("")

    with pytest.raises(InvalidInput, match="not empty"):
        snapshots.restore(blobs, snapshot.digest, busy)
    with pytest.raises(InvalidInput):
        snapshots.restore(blobs, snapshot.digest, afile)

    assert (busy / "mine.txt").read_text() == "keep me"
    assert afile.read_text() == ""


def test_restore_refuses_a_file_whose_stored_content_is_corrupt(
    blobs: BlobStore, project: Path, tmp_path: Path
) -> None:
    snapshot = snapshots.capture(blobs, project)
    victim = next(file for file in snapshot.files if file.path == "train.py")
    blob = tmp_path / "artifacts" / "blobs" / victim.digest[:2] / victim.digest[2:]
    blob.write_text("print('tampered')\n")

    with pytest.raises(EmberError, match="corrupt"):
        snapshots.restore(blobs, snapshot.digest, tmp_path / "out")


def test_load_of_a_blob_that_is_not_a_manifest_is_invalid_input(blobs: BlobStore) -> None:
    not_json = blobs.put_stream([b"\x89PNG not a manifest"]).digest
    other_json = blobs.put_stream([b'{"files": []}']).digest
    a_list = blobs.put_stream([b"[1, 2]"]).digest

    for digest in (not_json, other_json, a_list):
        with pytest.raises(InvalidInput, match="not a valid snapshot manifest"):
            snapshots.load(blobs, digest)
    with pytest.raises(InvalidInput, match="64 lowercase"):
        snapshots.load(blobs, "../manifest")
    with pytest.raises(NotFound, match="snapshot"):
        snapshots.load(blobs, "0" * 64)


# -- browsing -------------------------------------------------------------------------------------


def test_one_file_of_a_snapshot_can_be_read(blobs: BlobStore, project: Path) -> None:
    snapshot = snapshots.capture(blobs, project)

    file, chunks = snapshots.open_file(blobs, snapshot.digest, "src/model/net.py")

    assert file.path == "src/model/net.py"
    assert file.size == len("class Net: ...\n")
    assert b"".join(chunks) == b"class Net: ...\n"
    with pytest.raises(NotFound, match="no file"):
        snapshots.open_file(blobs, snapshot.digest, "src/model")
    with pytest.raises(InvalidInput):
        snapshots.open_file(blobs, snapshot.digest, "../etc/passwd")


# -- the client-side pieces -----------------------------------------------------------------------


def test_hashing_a_directory_stores_nothing_and_matches_capture(
    blobs: BlobStore, project: Path, tmp_path: Path
) -> None:
    planned, sources = snapshots.hash_directory(project)

    assert _stored_blobs(tmp_path) == []
    assert hashlib.sha256(snapshots.encode_manifest(planned.files)).hexdigest() == planned.digest
    assert {file.digest for file in planned.files} == set(sources)
    for file in planned.files:
        assert hashlib.sha256(sources[file.digest].read_bytes()).hexdigest() == file.digest
    assert snapshots.capture(blobs, project) == planned


def test_the_hash_cache_forgets_files_that_are_gone(blobs: BlobStore, project: Path, tmp_path: Path) -> None:
    _age(project)
    cache_dir = tmp_path / "cache"
    snapshots.capture(blobs, project, hash_cache=HashCache(cache_dir))
    (project / "train.py").unlink()

    snapshots.capture(blobs, project, hash_cache=HashCache(cache_dir))

    cached = json.loads((cache_dir / "snapshot-hashes.json").read_text())["entries"]
    assert sorted(Path(path).name for path in cached) == ["__init__.py", "base.yaml", "net.py", "run.sh"]


def test_a_workspace_folder_inside_the_source_is_left_out(tmp_path: Path) -> None:
    import ember

    source = tmp_path / "project"
    source.mkdir()
    (source / "train.py").write_text("print('hi')\n")
    ws = ember.Workspace.create(source / "ember-workspace")  # the usual `ember workspace create` layout
    try:
        paths = [rel for rel, *_ in snapshots.scan_directory(source)]
    finally:
        ws.close()
    assert paths == ["train.py"]
