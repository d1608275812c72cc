"""Resolving dataset sources to files (local, S3, Azure) and noticing when registered files change."""

from __future__ import annotations

import os
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import fsspec
import pytest
from fsspec.implementations.local import LocalFileSystem

from ember.data.engine import read_table
from ember.data.files import (
    DataChangedWarning,
    ResolvedFile,
    changed_files,
    check_fingerprint,
    fingerprint_digest,
    open_filesystem,
    resolve_files,
    resolve_source,
)
from ember.entities.data import DatasetDefinition, DatasetFile, DatasetSource, DatastoreAccess
from ember.errors import Conflict, InvalidInput, NotFound
from support.azurite import AzuriteServer, AzuriteUnavailable
from support.s3 import MotoServer
from support.storage import adlfs_key_options, isolate_client_environment, s3fs_options


def _tree(root: Path, *paths: str) -> None:
    for path in paths:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"content of {path}\n")


def _local(root: Path) -> DatastoreAccess:
    return DatastoreAccess(datastore="raw", protocol="file", root=str(root))


def _paths(root: Path, path: str) -> list[str]:
    return [
        f.path
        for f in resolve_source(LocalFileSystem(), str(root), DatasetSource(datastore="raw", path=path))
    ]


def _definition(*paths: str, datastore: str = "raw") -> DatasetDefinition:
    return DatasetDefinition(kind="file", sources=[DatasetSource(datastore=datastore, path=p) for p in paths])


TREE = ("iris/a.csv", "iris/b.csv", "iris/2024/c.csv", "iris/2024/notes.txt", "top.csv")


# ---- resolving sources --------------------------------------------------------------------------------


def test_a_file_path_resolves_to_that_file_with_its_size_and_mtime(tmp_path: Path) -> None:
    _tree(tmp_path, *TREE)

    [found] = resolve_source(
        LocalFileSystem(), str(tmp_path), DatasetSource(datastore="raw", path="iris/a.csv")
    )

    stat = (tmp_path / "iris/a.csv").stat()
    assert found == DatasetFile(
        datastore="raw", path="iris/a.csv", size=stat.st_size, modified_time=stat.st_mtime, etag=None
    )


def test_a_folder_resolves_to_every_file_below_it(tmp_path: Path) -> None:
    _tree(tmp_path, *TREE)

    assert _paths(tmp_path, "iris") == ["iris/2024/c.csv", "iris/2024/notes.txt", "iris/a.csv", "iris/b.csv"]


@pytest.mark.parametrize(
    ("glob", "expected"),
    [
        ("iris/*.csv", ["iris/a.csv", "iris/b.csv"]),
        ("iris/**/*.csv", ["iris/2024/c.csv", "iris/a.csv", "iris/b.csv"]),
        ("**/*.csv", ["iris/2024/c.csv", "iris/a.csv", "iris/b.csv", "top.csv"]),
        ("iris/**", ["iris/2024/c.csv", "iris/2024/notes.txt", "iris/a.csv", "iris/b.csv"]),
        ("iris/?.csv", ["iris/a.csv", "iris/b.csv"]),
        ("iris/[b-z].csv", ["iris/b.csv"]),
    ],
)
def test_a_glob_resolves_to_matching_files_only_sorted(
    tmp_path: Path, glob: str, expected: list[str]
) -> None:
    _tree(tmp_path, *TREE)

    assert _paths(tmp_path, glob) == expected


def test_a_glob_matching_nothing_is_not_found_naming_source_and_datastore(tmp_path: Path) -> None:
    _tree(tmp_path, *TREE)

    with pytest.raises(
        NotFound, match=r"dataset source 'iris/\*\.parquet' matched no file in datastore 'raw'"
    ):
        _paths(tmp_path, "iris/*.parquet")


def test_a_missing_path_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"dataset source 'iris/gone\.csv' does not exist .*datastore 'raw'"):
        _paths(tmp_path, "iris/gone.csv")


def test_a_malformed_glob_is_invalid_input(tmp_path: Path) -> None:
    _tree(tmp_path, *TREE)

    with pytest.raises(InvalidInput, match="not a valid glob"):
        _paths(tmp_path, "iris/**.csv")


def test_resolve_files_keeps_source_order_and_lists_each_file_once(tmp_path: Path) -> None:
    _tree(tmp_path, *TREE)

    resolved = resolve_files({"raw": _local(tmp_path)}, _definition("top.csv", "iris/*.csv", "iris/a.csv"))

    assert [r.file.path for r in resolved] == ["top.csv", "iris/a.csv", "iris/b.csv"]
    assert resolved[1].full_path == f"{tmp_path}/iris/a.csv"
    assert resolved[1].is_local
    assert Path(resolved[1].full_path).read_text() == "content of iris/a.csv\n"


def test_a_source_in_a_datastore_without_access_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="datastore 'other'"):
        resolve_files({"raw": _local(tmp_path)}, _definition("x.csv", datastore="other"))


def test_a_file_deleted_after_resolving_is_not_found_when_read(tmp_path: Path) -> None:
    _tree(tmp_path, "iris/a.csv")
    tabular = DatasetDefinition(
        kind="tabular", sources=[DatasetSource(datastore="raw", path="iris")], format="delimited"
    )
    resolved = resolve_files({"raw": _local(tmp_path)}, tabular)
    (tmp_path / "iris/a.csv").unlink()

    with pytest.raises(NotFound, match=r"raw:iris/a\.csv no longer exists"):
        read_table(tabular, resolved)


def test_open_filesystem_of_a_local_datastore_is_the_local_filesystem(tmp_path: Path) -> None:
    assert isinstance(open_filesystem(_local(tmp_path)), LocalFileSystem)


def test_no_repr_shows_the_credentials() -> None:
    access = DatastoreAccess(
        datastore="lake", protocol="s3", root="bucket/x", storage_options={"key": "AK", "secret": "TOPSECRET"}
    )
    fs = open_filesystem(access)
    resolved = ResolvedFile(
        file=DatasetFile(datastore="lake", path="a", size=1), fs=fs, full_path="bucket/x/a"
    )

    assert "TOPSECRET" not in repr(fs)
    assert "TOPSECRET" not in repr(resolved)
    assert "TOPSECRET" not in repr(access)


# ---- object stores ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3_server() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture(scope="module")
def azure_server() -> Iterator[AzuriteServer]:
    try:
        server = AzuriteServer()
        server.start()
    except AzuriteUnavailable as exc:
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"CI=true but Azurite is missing: {exc}", pytrace=False)
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_client_environment(monkeypatch, tmp_path)


@pytest.mark.usefixtures("isolated")
def test_s3_files_resolve_with_etag_and_last_modified_from_the_listing(s3_server: MotoServer) -> None:
    bucket = f"ember-{uuid.uuid4().hex[:12]}"
    s3_server.create_bucket(bucket)
    options = s3fs_options(s3_server, key=s3_server.access_key_id, secret=s3_server.secret_access_key)
    writer = fsspec.filesystem("s3", skip_instance_cache=True, **options)
    for path in ("prefix/iris/a.csv", "prefix/iris/2024/b.csv", "prefix/other.txt"):
        writer.pipe(f"{bucket}/{path}", b"x,y\n1,2\n")
    access = DatastoreAccess(
        datastore="lake", protocol="s3", root=f"{bucket}/prefix", storage_options=options
    )

    globbed_source = [DatasetSource(datastore="lake", path="iris/**/*.csv")]
    globbed = resolve_files({"lake": access}, _definition("iris/**/*.csv", datastore="lake"))
    folder = resolve_files({"lake": access}, _definition("iris", datastore="lake"))

    assert [r.file.path for r in globbed] == ["iris/2024/b.csv", "iris/a.csv"]
    assert [r.file for r in folder] == [r.file for r in globbed]
    first = globbed[0].file
    assert first.size == 8
    assert first.etag
    assert '"' not in first.etag
    assert first.modified_time is not None
    assert globbed[0].full_path == f"{bucket}/prefix/iris/2024/b.csv"

    tabular = DatasetDefinition(kind="tabular", sources=globbed_source, format="delimited")
    table = read_table(tabular, resolve_files({"lake": access}, tabular))
    assert table.to_pydict() == {"x": [1, 1], "y": [2, 2]}

    writer.pipe(f"{bucket}/prefix/iris/a.csv", b"x,y\n1,3\n")  # same size, new content
    again = resolve_files({"lake": access}, _definition("iris/**/*.csv", datastore="lake"))
    assert changed_files([r.file for r in globbed], [r.file for r in again]) == ["lake:iris/a.csv (modified)"]


@pytest.mark.usefixtures("isolated")
def test_azure_files_resolve_with_etag_and_last_modified(azure_server: AzuriteServer) -> None:
    container = f"ember-{uuid.uuid4().hex[:12]}"
    azure_server.create_container(container)
    options = adlfs_key_options(azure_server)
    writer = fsspec.filesystem("abfs", skip_instance_cache=True, **options)
    writer.pipe(f"{container}/data/a.csv", b"x\n1\n")
    writer.pipe(f"{container}/data/sub/b.csv", b"x\n22\n")
    access = DatastoreAccess(
        datastore="blob", protocol="abfs", root=f"{container}/data", storage_options=options
    )

    resolved = resolve_files({"blob": access}, _definition("**/*.csv", datastore="blob"))

    assert [(r.file.path, r.file.size) for r in resolved] == [("a.csv", 4), ("sub/b.csv", 5)]
    assert all(r.file.etag and '"' not in r.file.etag for r in resolved)
    assert all(r.file.modified_time for r in resolved)


# ---- fingerprints -------------------------------------------------------------------------------------


def _listing(root: Path) -> list[DatasetFile]:
    return [r.file for r in resolve_files({"raw": _local(root)}, _definition("iris"))]


def test_the_fingerprint_is_stable_and_order_free_but_follows_content(tmp_path: Path) -> None:
    _tree(tmp_path, *TREE)
    files = _listing(tmp_path)

    digest = fingerprint_digest(files)

    assert len(digest) == 64
    assert fingerprint_digest(list(reversed(files))) == digest
    (tmp_path / "iris/a.csv").write_text("grown content of iris/a.csv\n")
    assert fingerprint_digest(_listing(tmp_path)) != digest


def test_changed_files_reports_modified_added_and_removed(tmp_path: Path) -> None:
    _tree(tmp_path, *TREE)
    registered = _listing(tmp_path)

    (tmp_path / "iris/a.csv").write_text("a longer content than before\n")
    (tmp_path / "iris/b.csv").unlink()
    _tree(tmp_path, "iris/d.csv")

    assert changed_files(registered, _listing(tmp_path)) == [
        "raw:iris/a.csv (modified)",
        "raw:iris/b.csv (removed)",
        "raw:iris/d.csv (added)",
    ]


def test_a_rewrite_of_the_same_size_counts_through_its_mtime(tmp_path: Path) -> None:
    _tree(tmp_path, *TREE)
    registered = _listing(tmp_path)
    target = tmp_path / "iris/b.csv"
    target.write_text("CONTENT OF IRIS/B.CSV\n")
    os.utime(target, (1_000_000_000, 1_000_000_000))

    assert changed_files(registered, _listing(tmp_path)) == ["raw:iris/b.csv (modified)"]


def test_etags_decide_when_both_listings_have_them() -> None:
    old = DatasetFile(datastore="s", path="a", size=3, modified_time=1.0, etag="e1")

    assert changed_files([old], [old.model_copy(update={"modified_time": 2.0})]) == []
    assert changed_files([old], [old.model_copy(update={"etag": "e2"})]) == ["s:a (modified)"]
    assert changed_files([old], [old.model_copy(update={"etag": None, "modified_time": 2.0})]) == [
        "s:a (modified)"
    ]


def test_strict_check_refuses_changed_data_naming_the_files(tmp_path: Path) -> None:
    _tree(tmp_path, *TREE)
    registered = _listing(tmp_path)
    (tmp_path / "iris/a.csv").write_text("a longer content than before\n")

    with pytest.raises(Conflict, match=r"dataset 'iris' version 1 changed.*raw:iris/a\.csv \(modified\)"):
        check_fingerprint(registered, _listing(tmp_path), strict=True, what="dataset 'iris' version 1")


def test_a_non_strict_check_warns_and_an_unchanged_one_is_silent(tmp_path: Path) -> None:
    _tree(tmp_path, *TREE)
    registered = _listing(tmp_path)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_fingerprint(registered, _listing(tmp_path), strict=True, what="dataset 'iris' version 1")
    (tmp_path / "iris/b.csv").unlink()
    with pytest.warns(DataChangedWarning, match=r"raw:iris/b\.csv \(removed\)"):
        check_fingerprint(registered, _listing(tmp_path), strict=False, what="dataset 'iris' version 1")


def test_a_long_list_of_changes_is_cut_to_twenty() -> None:
    current = [DatasetFile(datastore="raw", path=f"f{i:02d}.csv", size=1) for i in range(25)]

    with pytest.raises(Conflict) as caught:
        check_fingerprint([], current, strict=True, what="dataset 'many' version 2")

    assert "raw:f19.csv (added) and 5 more" in caught.value.message
    assert "f20.csv" not in caught.value.message
