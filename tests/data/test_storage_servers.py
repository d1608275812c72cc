"""The object-store client configurations datastores use, against real servers on loopback.

Azurite (Azure Blob) and moto (S3, STS) run as separate processes; adlfs and s3fs reach them
through their full client stacks with exactly the storage options in ``support.storage``. These
tests pin what those options do: which credentials work, what ``ls`` reports, what is refused.
"""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import fsspec
import pytest
from azure.core.exceptions import HttpResponseError

from support.azurite import AzuriteServer
from support.s3 import MotoServer
from support.storage import (
    adlfs_key_options,
    adlfs_sas_options,
    container_sas,
    isolate_client_environment,
    s3fs_options,
    session_credentials,
)

FILES = 200


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_client_environment(monkeypatch, tmp_path)


def _filesystem(protocol: str, options: dict[str, Any]) -> Any:
    # fsspec caches filesystems by their arguments; each test gets its own clients.
    return fsspec.filesystem(protocol, skip_instance_cache=True, **options)


def _name() -> str:
    return f"ember-{uuid.uuid4().hex[:12]}"


def _in(minutes: int) -> dt.datetime:
    return dt.datetime.now(dt.UTC) + dt.timedelta(minutes=minutes)


@pytest.fixture
def container(azurite: AzuriteServer) -> str:
    name = _name()
    azurite.create_container(name)
    return name


@pytest.fixture
def bucket(moto: MotoServer) -> str:
    name = _name()
    moto.create_bucket(name)
    return name


def _write_tree(fs: Any, root: str, tmp_path: Path) -> None:
    """``root/model.bin`` by put_file, ``root/eval/metrics.json`` by open for writing."""
    local = tmp_path / "model.bin"
    local.write_bytes(b"\x00weights" * 100)
    fs.put_file(str(local), f"{root}/model.bin")
    with fs.open(f"{root}/eval/metrics.json", "wb") as handle:
        handle.write(b'{"auc": 0.91}')


def _assert_tree(fs: Any, root: str) -> list[dict[str, Any]]:
    """The tree _write_tree made reads back, lists and globs; returns ``ls(root, detail=True)``."""
    with fs.open(f"{root}/eval/metrics.json", "rb") as handle:
        assert handle.read() == b'{"auc": 0.91}'
    assert fs.cat_file(f"{root}/model.bin") == b"\x00weights" * 100
    tree = [f"{root}/eval", f"{root}/eval/metrics.json", f"{root}/model.bin"]
    # s3fs counts the root itself as a match of "root/**", adlfs does not; "root/**/*" agrees.
    assert sorted(path for path in fs.glob(f"{root}/**") if path != root) == tree
    assert sorted(fs.glob(f"{root}/**/*")) == tree
    assert fs.find(root) == [f"{root}/eval/metrics.json", f"{root}/model.bin"]
    listing: list[dict[str, Any]] = fs.ls(root, detail=True)
    by_name = {entry["name"]: entry for entry in listing}
    assert by_name[f"{root}/model.bin"]["type"] == "file"
    assert by_name[f"{root}/model.bin"]["size"] == 800
    assert by_name[f"{root}/eval"]["type"] == "directory"
    return listing


def _file_entry(listing: list[dict[str, Any]]) -> dict[str, Any]:
    return next(entry for entry in listing if entry["type"] == "file")


def _assert_parallel_round_trip(fs: Any, root: str, tmp_path: Path) -> None:
    """FILES small files go up and come back down through a thread pool of single-file calls."""
    names = [f"part-{index:03d}.txt" for index in range(FILES)]
    (tmp_path / "up").mkdir()
    (tmp_path / "down").mkdir()
    for name in names:
        (tmp_path / "up" / name).write_text(f"content of {name}")

    def upload(name: str) -> None:
        fs.put_file(str(tmp_path / "up" / name), f"{root}/{name}")

    def download(name: str) -> None:
        fs.get_file(f"{root}/{name}", str(tmp_path / "down" / name))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(upload, names))  # list() re-raises the first error of any call
    assert sorted(fs.ls(root, detail=False)) == [f"{root}/{name}" for name in names]
    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(download, names))
    assert [(tmp_path / "down" / name).read_text() for name in names] == [
        f"content of {name}" for name in names
    ]


# Azure Blob Storage through adlfs, against Azurite.


def test_adlfs_with_the_account_key_writes_lists_globs_and_reads(
    azurite: AzuriteServer, container: str, tmp_path: Path
) -> None:
    fs = _filesystem("abfs", adlfs_key_options(azurite))
    _write_tree(fs, f"{container}/run-1", tmp_path)

    listing = _assert_tree(fs, f"{container}/run-1")

    entry = _file_entry(listing)
    assert {"name", "size", "type", "etag", "last_modified", "content_settings", "metadata"} <= entry.keys()
    assert isinstance(entry["last_modified"], dt.datetime)
    assert entry["etag"].startswith('"')  # quoted, as the service sends it


@pytest.mark.filterwarnings("error")  # adlfs warns when it cannot read a container's properties
def test_adlfs_with_a_container_sas_writes_lists_globs_and_reads(
    azurite: AzuriteServer, container: str, tmp_path: Path
) -> None:
    sas = container_sas(azurite, container, write=True, delete=True, expiry=_in(60))
    fs = _filesystem("abfs", adlfs_sas_options(azurite, sas))
    _write_tree(fs, f"{container}/run-1", tmp_path)

    _assert_tree(fs, f"{container}/run-1")

    fs.rm(f"{container}/run-1/model.bin")
    assert not fs.exists(f"{container}/run-1/model.bin")


def test_a_read_only_sas_reads_but_cannot_write(azurite: AzuriteServer, container: str) -> None:
    owner = _filesystem("abfs", adlfs_key_options(azurite))
    owner.pipe_file(f"{container}/kept.txt", b"kept")
    reader = _filesystem(
        "abfs", adlfs_sas_options(azurite, container_sas(azurite, container, expiry=_in(60)))
    )

    assert reader.cat_file(f"{container}/kept.txt") == b"kept"
    assert reader.ls(container, detail=False) == [f"{container}/kept.txt"]
    with pytest.raises(HttpResponseError) as refused:
        reader.pipe_file(f"{container}/new.txt", b"new")
    assert refused.value.status_code == 403
    assert refused.value.error_code == "AuthorizationPermissionMismatch"
    # Writing through a file object, adlfs wraps the service's refusal in a RuntimeError.
    with (
        pytest.raises(RuntimeError, match="AuthorizationPermissionMismatch") as wrapped,
        reader.open(f"{container}/streamed.txt", "wb") as handle,
    ):
        handle.write(b"new")
    assert isinstance(wrapped.value.__cause__, HttpResponseError)
    assert owner.ls(container, detail=False) == [f"{container}/kept.txt"]


def test_an_expired_sas_is_refused(azurite: AzuriteServer, container: str) -> None:
    _filesystem("abfs", adlfs_key_options(azurite)).pipe_file(f"{container}/kept.txt", b"kept")
    expired = container_sas(azurite, container, expiry=_in(-1))
    fs = _filesystem("abfs", adlfs_sas_options(azurite, expired))

    with pytest.raises(HttpResponseError) as refused:
        fs.cat_file(f"{container}/kept.txt")
    assert refused.value.status_code == 403
    # Azurite says AuthorizationFailure; Azure itself says AuthenticationFailed for an expired SAS.
    assert refused.value.error_code in {"AuthorizationFailure", "AuthenticationFailed"}
    with pytest.raises(HttpResponseError):
        fs.ls(container)


def test_adlfs_uploads_and_downloads_many_files_in_parallel(
    azurite: AzuriteServer, container: str, tmp_path: Path
) -> None:
    _assert_parallel_round_trip(
        _filesystem("abfs", adlfs_key_options(azurite)), f"{container}/many", tmp_path
    )


# S3 through s3fs, against moto.


def test_s3fs_with_access_keys_writes_lists_globs_and_reads(
    moto: MotoServer, bucket: str, tmp_path: Path
) -> None:
    fs = _filesystem("s3", s3fs_options(moto, key=moto.access_key_id, secret=moto.secret_access_key))
    _write_tree(fs, f"{bucket}/run-1", tmp_path)

    listing = _assert_tree(fs, f"{bucket}/run-1")

    entry = _file_entry(listing)
    assert {"name", "size", "type", "Key", "Size", "ETag", "LastModified", "StorageClass"} <= entry.keys()
    assert isinstance(entry["LastModified"], dt.datetime)
    assert entry["ETag"].startswith('"')


def test_sts_session_credentials_work_with_s3fs(moto: MotoServer, bucket: str, tmp_path: Path) -> None:
    credentials = session_credentials(moto, duration_seconds=900)
    assert {"AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"} <= credentials.keys()
    assert credentials["Expiration"] > dt.datetime.now(dt.UTC)
    fs = _filesystem(
        "s3",
        s3fs_options(
            moto,
            key=credentials["AccessKeyId"],
            secret=credentials["SecretAccessKey"],
            token=credentials["SessionToken"],
        ),
    )
    fs.connect()
    # moto accepts any token, so prove the token is what s3fs signs with, on the wire.
    sent_tokens: list[str | bytes | None] = []

    def record(request: Any, **_: Any) -> None:
        sent_tokens.append(request.headers.get("X-Amz-Security-Token"))

    fs.s3.meta.events.register("before-send.s3", record)

    _write_tree(fs, f"{bucket}/run-1", tmp_path)
    _assert_tree(fs, f"{bucket}/run-1")

    assert sent_tokens
    assert {token.decode() if isinstance(token, bytes) else token for token in sent_tokens} == {
        credentials["SessionToken"]
    }


def test_s3fs_uploads_and_downloads_many_files_in_parallel(
    moto: MotoServer, bucket: str, tmp_path: Path
) -> None:
    fs = _filesystem("s3", s3fs_options(moto, key=moto.access_key_id, secret=moto.secret_access_key))
    _assert_parallel_round_trip(fs, f"{bucket}/many", tmp_path)
