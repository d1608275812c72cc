"""Artifacts on S3: the blob store and a whole workspace, against a real S3-compatible server.

moto's standalone server runs in its own process on a loopback port and speaks the S3 HTTP
protocol; Ember reaches it through s3fs exactly as it would reach AWS, configured only by the
standard AWS environment variables a user would set. Nothing in this process is patched.
"""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from s3fs import S3FileSystem

import ember
from ember.artifacts import BlobInfo, BlobStore
from ember.errors import NotFound, PayloadTooLarge
from support.s3 import MotoServer

MiB = 1 << 20
PART = 5 * MiB  # the smallest part S3 accepts in a multipart upload
SECRET = "ember-test-secret-do-not-log"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _chunks(data: bytes, size: int = MiB) -> Iterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.fixture(scope="module")
def moto() -> Iterator[MotoServer]:
    with MotoServer() as server:
        yield server


@pytest.fixture(autouse=True)
def aws_env(moto: MotoServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Point every AWS client at moto with the standard environment, as a user would."""
    for name in (
        "AWS_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "ember-test-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto.endpoint_url)
    # A developer's ~/.aws must not redirect or re-credential the tests, nor a proxy see loopback traffic.
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    # s3fs caches filesystems by constructor arguments, not by environment: each test builds its own.
    S3FileSystem.clear_instance_cache()
    yield
    S3FileSystem.clear_instance_cache()


@pytest.fixture
def s3(aws_env: None) -> Any:
    """A plain boto3 client: the independent witness of what is really in the bucket."""
    return boto3.client("s3")


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"ember-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


@pytest.fixture
def store(bucket: str) -> BlobStore:
    # 5 MiB blocks (s3fs's default is 50 MiB) so that a 12 MiB stream goes up as a multipart upload.
    return BlobStore(f"s3://{bucket}/prefix", storage_options={"default_block_size": PART})


def _keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def _pending_uploads(s3: Any, bucket: str) -> list[dict[str, Any]]:
    uploads: list[dict[str, Any]] = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    return uploads


def _blob_key(digest: str, prefix: str = "prefix") -> str:
    return f"{prefix}/blobs/{digest[:2]}/{digest[2:]}"


def test_a_large_stream_goes_up_in_parts_and_reads_back_whole(store: BlobStore, s3: Any, bucket: str) -> None:
    data = os.urandom(12 * MiB)
    in_flight: list[dict[str, Any]] = []

    def stream() -> Iterator[bytes]:
        for offset, chunk in zip(range(0, len(data), MiB), _chunks(data), strict=True):
            if offset == 7 * MiB:  # past the first part: look at the bucket while the upload is open
                for upload in _pending_uploads(s3, bucket):
                    parts = s3.list_parts(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
                    in_flight.append({"key": upload["Key"], "parts": [p["Size"] for p in parts["Parts"]]})
            yield chunk

    info = store.put_stream(stream())

    assert info == BlobInfo(digest=_sha(data), size=len(data))
    # The first 5 MiB were already on S3 before the stream ended: it was never held in memory whole.
    assert len(in_flight) == 1
    assert in_flight[0]["key"].startswith("prefix/tmp/")
    assert in_flight[0]["parts"] == [PART]
    assert _keys(s3, bucket) == [_blob_key(info.digest)]
    assert _pending_uploads(s3, bucket) == []
    assert s3.get_object(Bucket=bucket, Key=_blob_key(info.digest))["Body"].read() == data
    assert b"".join(store.iter_chunks(info.digest)) == data


def test_the_same_file_twice_is_stored_once(store: BlobStore, s3: Any, bucket: str, tmp_path: Path) -> None:
    data = os.urandom(12 * MiB)
    source = tmp_path / "model.bin"
    source.write_bytes(data)

    first = store.put_file(source)
    second = store.put_file(source)
    third = store.put_stream(_chunks(data, 3 * MiB))

    assert first == second == third == BlobInfo(digest=_sha(data), size=len(data))
    assert _keys(s3, bucket) == [_blob_key(first.digest)]
    assert list(store.list_digests()) == [first.digest]
    copy = tmp_path / "out" / "model.bin"
    store.download_to(first.digest, copy)
    assert copy.read_bytes() == data


def test_byte_ranges_are_read_across_part_boundaries(store: BlobStore) -> None:
    data = os.urandom(11 * MiB)
    digest = store.put_stream(_chunks(data)).digest

    across = list(store.iter_chunks(digest, start=PART - 10, end=PART + 10, chunk_size=7))
    assert b"".join(across) == data[PART - 10 : PART + 10]
    assert [len(c) for c in across] == [7, 7, 6]
    assert b"".join(store.iter_chunks(digest, start=len(data) - 3)) == data[-3:]
    assert b"".join(store.iter_chunks(digest, start=2 * PART, end=len(data) + 100)) == data[2 * PART :]
    assert list(store.iter_chunks(digest, start=100, end=100)) == []
    assert b"".join(store.iter_chunks(digest, chunk_size=3 * MiB)) == data


def test_exists_size_and_delete(store: BlobStore, s3: Any, bucket: str) -> None:
    info = store.put_stream([b"hello ", b"world"])
    missing = _sha(b"never stored")

    assert store.exists(info.digest)
    assert store.size(info.digest) == 11
    assert not store.exists(missing)
    with pytest.raises(NotFound):
        store.size(missing)

    store.delete(info.digest)
    store.delete(info.digest)  # deleting a missing blob does nothing

    assert not store.exists(info.digest)
    assert _keys(s3, bucket) == []
    assert list(store.list_digests()) == []
    with pytest.raises(NotFound):
        store.size(info.digest)
    with pytest.raises(NotFound):
        store.open(info.digest)
    with pytest.raises(NotFound):
        list(store.iter_chunks(info.digest))


def test_a_refused_upload_leaves_nothing_behind(store: BlobStore, s3: Any, bucket: str) -> None:
    # A versioned bucket remembers every object ever written, even deleted: the witness that the
    # partial upload was aborted rather than completed and then deleted.
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    data = os.urandom(12 * MiB)

    with pytest.raises(PayloadTooLarge):
        store.put_stream(_chunks(data), max_size=11 * MiB)

    history = s3.list_object_versions(Bucket=bucket)
    assert history.get("Versions", []) == []
    assert history.get("DeleteMarkers", []) == []
    assert _pending_uploads(s3, bucket) == []
    assert list(store.list_digests()) == []


def test_a_blob_deleted_by_another_client_is_stored_again(store: BlobStore, s3: Any, bucket: str) -> None:
    data = b"weights" * 1000
    digest = store.put_stream([data]).digest
    assert list(store.list_digests()) == [digest]  # the listing is now in s3fs's cache

    # Another machine (a `gc` elsewhere, a lifecycle rule) removes the object behind this process's back.
    s3.delete_object(Bucket=bucket, Key=_blob_key(digest))

    assert not store.exists(digest)
    assert store.put_stream([data]).digest == digest
    assert _keys(s3, bucket) == [_blob_key(digest)]
    assert b"".join(store.iter_chunks(digest)) == data


def test_the_generic_endpoint_variable_is_honoured_too(
    moto: MotoServer, monkeypatch: pytest.MonkeyPatch, s3: Any, bucket: str
) -> None:
    monkeypatch.delenv("AWS_ENDPOINT_URL_S3")
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint_url)

    info = BlobStore(f"s3://{bucket}/other").put_stream([b"via AWS_ENDPOINT_URL"])

    assert _keys(s3, bucket) == [_blob_key(info.digest, "other")]


def test_a_workspace_keeps_run_files_on_s3_and_gc_frees_them(
    s3: Any, bucket: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ember")
    data = os.urandom(3 * MiB)
    model = tmp_path / "model.bin"
    model.write_bytes(data)
    key = _blob_key(_sha(data), "ws")

    ws = ember.Workspace.create(
        metadata_uri=f"sqlite:///{tmp_path}/ember.db", artifact_uri=f"s3://{bucket}/ws"
    )
    try:
        run = ember.Experiment(ws, "s3").start_logging()
        assert run.upload_file("outputs/model.bin", model) == "outputs/model.bin"
        run.complete()

        assert _keys(s3, bucket) == [key]
        assert run.download_file("outputs/model.bin", tmp_path / "back" / "model.bin").read_bytes() == data

        run.delete()
        report = ws.gc()
    finally:
        ws.close()

    assert report["blobs"] == 1
    assert report["bytes_freed"] == len(data)
    assert _keys(s3, bucket) == []
    assert SECRET not in caplog.text
