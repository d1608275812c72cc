"""Snapshots and model files are stored once, by content, on a local folder or any fsspec filesystem."""

from __future__ import annotations

import hashlib
import io
import os
import threading
import tracemalloc
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import fsspec
import pytest

from ember.artifacts import BlobInfo, BlobStore
from ember.errors import InvalidInput, NotFound, PayloadTooLarge


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _files_under(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture
def store(tmp_path: Path) -> BlobStore:
    return BlobStore(str(tmp_path / "ws" / "artifacts"))


@pytest.fixture
def memory_store() -> Iterator[BlobStore]:
    name = f"ember-test-{uuid.uuid4().hex}"
    yield BlobStore(f"memory://{name}")
    fs = fsspec.filesystem("memory")
    if fs.exists(f"/{name}"):
        fs.rm(f"/{name}", recursive=True)


def test_a_file_is_stored_under_its_sha256(store: BlobStore, tmp_path: Path) -> None:
    data = b"weights" * 1000
    source = tmp_path / "model.pkl"
    source.write_bytes(data)

    info = store.put_file(source)

    assert info == BlobInfo(digest=_sha(data), size=len(data))
    blob = tmp_path / "ws" / "artifacts" / "blobs" / info.digest[:2] / info.digest[2:]
    assert blob.read_bytes() == data
    assert store.exists(info.digest)
    assert store.size(info.digest) == len(data)
    with store.open(info.digest) as handle:
        assert handle.read() == data


def test_root_uri_is_canonical(tmp_path: Path) -> None:
    assert BlobStore(str(tmp_path) + "/").root_uri == f"file://{tmp_path}"
    assert BlobStore(f"file://{tmp_path}").root_uri == f"file://{tmp_path}"


def test_the_same_bytes_twice_are_stored_once(store: BlobStore, tmp_path: Path) -> None:
    first = store.put_stream([b"hello ", b"world"])
    second = store.put_stream(io.BytesIO(b"hello world"))

    assert first == second == BlobInfo(digest=_sha(b"hello world"), size=11)
    root = tmp_path / "ws" / "artifacts"
    assert _files_under(root / "blobs") == [root / "blobs" / first.digest[:2] / first.digest[2:]]
    assert _files_under(root / "tmp") == []
    assert list(store.list_digests()) == [first.digest]


def test_an_empty_stream_is_a_valid_blob(store: BlobStore) -> None:
    info = store.put_stream([])
    assert info == BlobInfo(digest=_sha(b""), size=0)
    assert list(store.iter_chunks(info.digest)) == []


def test_a_50_mb_stream_is_hashed_without_holding_it_in_memory(store: BlobStore) -> None:
    chunk = bytes(range(256)) * 4096  # 1 MiB, reused: the generator itself holds one chunk
    count = 50
    expected = hashlib.sha256()
    for _ in range(count):
        expected.update(chunk)

    def generate() -> Iterator[bytes]:
        for _ in range(count):
            yield chunk

    tracemalloc.start()
    try:
        info = store.put_stream(generate())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert info == BlobInfo(digest=expected.hexdigest(), size=count * len(chunk))
    assert store.size(info.digest) == count * len(chunk)
    assert peak < 10 * len(chunk), f"put_stream peaked at {peak} bytes of Python memory"


def test_a_stream_over_the_limit_is_refused_and_leaves_nothing_behind(
    store: BlobStore, tmp_path: Path
) -> None:
    def generate() -> Iterator[bytes]:
        yield b"a" * 600
        yield b"b" * 600
        raise AssertionError("the store kept reading past the limit")

    with pytest.raises(PayloadTooLarge, match="1000 bytes"):
        store.put_stream(generate(), max_size=1000)

    root = tmp_path / "ws" / "artifacts"
    assert _files_under(root) == []
    assert list(store.list_digests()) == []


def test_a_stream_exactly_at_the_limit_is_accepted(store: BlobStore) -> None:
    assert store.put_stream([b"x" * 1000], max_size=1000).size == 1000


def test_a_failing_stream_leaves_no_temporary_file(store: BlobStore, tmp_path: Path) -> None:
    def generate() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionError("client went away")

    with pytest.raises(ConnectionError):
        store.put_stream(generate())

    assert _files_under(tmp_path / "ws" / "artifacts") == []


def test_eight_threads_storing_the_same_content_all_succeed(store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(3 << 20)
    barrier = threading.Barrier(8)

    def put(_: int) -> BlobInfo:
        barrier.wait(timeout=30)
        return store.put_stream(io.BytesIO(data))

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(put, range(8)))

    assert set(results) == {BlobInfo(digest=_sha(data), size=len(data))}
    root = tmp_path / "ws" / "artifacts"
    assert len(_files_under(root / "blobs")) == 1
    assert _files_under(root / "tmp") == []
    with store.open(results[0].digest) as handle:
        assert handle.read() == data


def test_the_memory_filesystem_works_the_same(memory_store: BlobStore) -> None:
    data = b"in memory" * 100
    info = memory_store.put_stream([data[:50], data[50:]])
    again = memory_store.put_stream(io.BytesIO(data))

    assert info == again == BlobInfo(digest=_sha(data), size=len(data))
    assert memory_store.root_uri.startswith("memory://")
    assert memory_store.exists(info.digest)
    assert memory_store.size(info.digest) == len(data)
    assert b"".join(memory_store.iter_chunks(info.digest, chunk_size=7, start=3, end=40)) == data[3:40]
    assert list(memory_store.list_digests()) == [info.digest]
    with pytest.raises(PayloadTooLarge):
        memory_store.put_stream([b"z" * 10], max_size=5)
    assert list(memory_store.list_digests()) == [info.digest]

    memory_store.delete(info.digest)
    assert not memory_store.exists(info.digest)
    assert list(memory_store.list_digests()) == []


@pytest.mark.parametrize(
    ("start", "end", "chunk_size"),
    [
        (0, None, 1 << 20),
        (0, None, 7),
        (10, None, 7),
        (10, 11, 7),
        (10, 10, 7),
        (5, 95, 10),
        (0, 10_000, 33),
        (500, None, 4),
        (500, 600, 4),
        (99, 100, 1),
    ],
)
def test_byte_ranges_are_streamed_like_slices(
    store: BlobStore, start: int, end: int | None, chunk_size: int
) -> None:
    data = bytes(range(100))
    info = store.put_stream([data])

    chunks = list(store.iter_chunks(info.digest, chunk_size=chunk_size, start=start, end=end))

    assert b"".join(chunks) == data[start:end]
    assert all(0 < len(chunk) <= chunk_size for chunk in chunks)


@pytest.mark.parametrize(("start", "end", "chunk_size"), [(-1, None, 8), (5, 4, 8), (0, None, 0)])
def test_invalid_ranges_are_refused(store: BlobStore, start: int, end: int | None, chunk_size: int) -> None:
    info = store.put_stream([b"0123456789"])
    with pytest.raises(InvalidInput):
        list(store.iter_chunks(info.digest, chunk_size=chunk_size, start=start, end=end))


def test_download_creates_folders_and_leaves_no_partial_file(store: BlobStore, tmp_path: Path) -> None:
    data = os.urandom(3 << 20)
    info = store.put_stream(io.BytesIO(data))
    dest = tmp_path / "restore" / "deep" / "model.pkl"

    store.download_to(info.digest, dest)

    assert dest.read_bytes() == data
    assert sorted(p.name for p in dest.parent.iterdir()) == ["model.pkl"]


def test_a_missing_blob_is_not_found(store: BlobStore, tmp_path: Path) -> None:
    missing = _sha(b"never stored")
    assert not store.exists(missing)
    with pytest.raises(NotFound, match=missing):
        store.size(missing)
    with pytest.raises(NotFound):
        store.open(missing)
    with pytest.raises(NotFound):
        list(store.iter_chunks(missing))
    with pytest.raises(NotFound):
        store.download_to(missing, tmp_path / "out" / "x")
    assert not (tmp_path / "out").exists()


def test_delete_is_idempotent(store: BlobStore) -> None:
    info = store.put_stream([b"bye"])
    store.delete(info.digest)
    store.delete(info.digest)
    assert not store.exists(info.digest)
    assert list(store.list_digests()) == []


def test_list_digests_returns_every_blob(store: BlobStore) -> None:
    digests = {store.put_stream([f"blob {i}".encode()]).digest for i in range(20)}
    assert set(store.list_digests()) == digests
    assert len(list(store.list_digests())) == 20


@pytest.mark.parametrize(
    "digest",
    [
        "",
        "abc",
        "../../etc/passwd",
        _sha(b"x").upper(),
        _sha(b"x")[:63],
        _sha(b"x") + "0",
        "g" * 64,
        "../" + "a" * 61,
    ],
)
def test_a_malformed_digest_is_refused_before_touching_storage(
    store: BlobStore, digest: str, tmp_path: Path
) -> None:
    for call in (store.exists, store.size, store.open, store.delete):
        with pytest.raises(InvalidInput, match="64 lowercase hexadecimal"):
            call(digest)
    with pytest.raises(InvalidInput):
        list(store.iter_chunks(digest))
    with pytest.raises(InvalidInput):
        store.download_to(digest, tmp_path / "out")
    assert not (tmp_path / "ws").exists()
