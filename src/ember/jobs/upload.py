"""Sending a source directory's snapshot to a workspace: hash locally, upload only what it lacks."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ember.contracts.jobs import JobsBackend
from ember.jobs.snapshot import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_FILES,
    HashCache,
    encode_manifest,
    hash_directory,
)

__all__ = ["default_cache_dir", "upload_snapshot"]

_CHUNK = 1 << 20


def default_cache_dir(source_dir: str | os.PathLike[str]) -> Path:
    """Where file hashes of one source directory are remembered between submissions."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    key = hashlib.sha256(os.fsencode(os.path.realpath(source_dir))).hexdigest()[:16]
    return Path(base) / "ember" / "snapshot-hashes" / key


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


def upload_snapshot(
    jobs: JobsBackend,
    source_dir: str | os.PathLike[str],
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
    cache_dir: Path | None = None,
) -> str:
    """Snapshot ``source_dir`` into the workspace and return the snapshot's digest.

    Unchanged files are neither re-hashed (a local cache keyed by path, size, mtime and inode) nor
    re-uploaded (one ``missing_blobs`` question for the whole tree).
    """
    cache = HashCache(cache_dir or default_cache_dir(source_dir))
    snapshot, sources = hash_directory(source_dir, max_bytes=max_bytes, max_files=max_files, hash_cache=cache)
    manifest = encode_manifest(snapshot.files)
    missing = set(jobs.missing_blobs([*sources, snapshot.digest]))
    files = [d for d in missing if d != snapshot.digest]
    if files:
        with ThreadPoolExecutor(max_workers=4, thread_name_prefix="ember-upload") as pool:
            list(pool.map(lambda d: jobs.upload_blob(d, _chunks(sources[d])), files))
    if snapshot.digest in missing:
        jobs.upload_blob(snapshot.digest, [manifest])
    jobs.register_snapshot(snapshot.digest)
    return snapshot.digest
