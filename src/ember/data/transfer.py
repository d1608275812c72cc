"""Parallel, streamed uploads and downloads between a local folder and a datastore, with progress.

Each file is one ``put_file``/``get_file`` call on the datastore's fsspec filesystem; a thread pool keeps
``max_concurrency`` of them in flight (s3fs and adlfs run them on their own event loop, so threads only
wait). Files are streamed in blocks by the filesystem, never read whole into memory. A download writes
each file to a temporary name beside its target and renames it, so a failed transfer leaves no partial
file under the final name, and it never writes outside the target folder.
"""

from __future__ import annotations

import logging
import os
import posixpath
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ember.errors import InvalidInput

__all__ = ["TransferReport", "download_files", "local_files", "upload_files"]

logger = logging.getLogger(__name__)

DEFAULT_CONCURRENCY = 16


@dataclass
class TransferReport:
    """What a transfer did: files moved and skipped, bytes moved."""

    transferred: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    bytes: int = 0

    def __repr__(self) -> str:
        return (
            f"TransferReport(transferred={len(self.transferred)} files, skipped={len(self.skipped)}, "
            f"bytes={self.bytes})"
        )


def local_files(source: Path) -> list[tuple[Path, str]]:
    """Every regular file under ``source`` (or ``source`` itself) with its '/'-relative path; no links."""
    if source.is_file():
        return [(source, source.name)]
    if not source.is_dir():
        raise InvalidInput(f"nothing to upload: {str(source)!r} is neither a file nor a folder")
    found: list[tuple[Path, str]] = []
    for folder, dirs, names in os.walk(source):
        dirs.sort()
        for name in sorted(names):
            path = Path(folder) / name
            if path.is_symlink() or not path.is_file():
                continue
            found.append((path, path.relative_to(source).as_posix()))
    return found


@contextmanager
def _progress(enabled: bool, total: int, what: str) -> Iterator[Callable[[int], None]]:
    if not enabled or total == 0:
        yield lambda n: None
        return
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(), transient=True
    ) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


def _run(jobs: Sequence[Callable[[], int]], *, concurrency: int, advance: Callable[[int], None]) -> int:
    total = 0
    if not jobs:
        return 0
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(jobs)))) as pool:
        futures = [pool.submit(job) for job in jobs]
        _, pending = wait(futures, return_when=FIRST_EXCEPTION)
        for future in pending:
            future.cancel()
        for future in futures:
            if future.cancelled():
                continue
            size = future.result()  # re-raises the first failure
            total += size
            advance(size)
    return total


def upload_files(
    fs: Any,
    files: Sequence[tuple[Path, str]],
    *,
    root: str,
    target_path: str,
    overwrite: bool,
    show_progress: bool,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> TransferReport:
    """Upload ``(local file, relative path)`` pairs under ``root/target_path``; existing files are skipped
    unless ``overwrite``."""
    base = posixpath.join(root, target_path) if target_path else root
    existing: set[str] = set()
    if not overwrite:
        try:
            existing = {posixpath.relpath(p, base) for p in fs.find(base)}
        except FileNotFoundError:
            existing = set()
    report = TransferReport()
    jobs: list[Callable[[], int]] = []
    total_bytes = 0
    for local, relative in files:
        if relative in existing:
            report.skipped.append(relative)
            continue
        size = local.stat().st_size
        total_bytes += size
        report.transferred.append(relative)
        jobs.append(_upload_one(fs, local, posixpath.join(base, relative), size))
    with _progress(show_progress, total_bytes, f"uploading {len(jobs)} files") as advance:
        report.bytes = _run(jobs, concurrency=concurrency, advance=advance)
    logger.info("uploaded %d files (%d bytes), skipped %d", len(jobs), report.bytes, len(report.skipped))
    return report


def _upload_one(fs: Any, local: Path, remote: str, size: int) -> Callable[[], int]:
    def job() -> int:
        protocols = fs.protocol if isinstance(fs.protocol, tuple) else (fs.protocol,)
        if "file" in protocols:  # object stores have no folders to make
            fs.makedirs(posixpath.dirname(remote), exist_ok=True)
        fs.put_file(str(local), remote)
        return size

    return job


def download_files(
    fs: Any,
    files: Sequence[tuple[str, str, int]],
    *,
    target: Path,
    overwrite: bool,
    show_progress: bool,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> TransferReport:
    """Download ``(remote path, relative path, size)`` triples into ``target``; existing files are skipped
    unless ``overwrite``."""
    target.mkdir(parents=True, exist_ok=True)
    root = target.resolve()
    report = TransferReport()
    jobs: list[Callable[[], int]] = []
    total_bytes = 0
    for remote, relative, size in files:
        parts = [p for p in relative.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts) or "\\" in relative:
            raise InvalidInput(f"refusing to download {relative!r}: it would land outside {str(target)!r}")
        dest = root.joinpath(*parts)
        if dest.exists() and not overwrite:
            report.skipped.append(relative)
            continue
        total_bytes += size
        report.transferred.append(relative)
        jobs.append(_download_one(fs, remote, dest, size))
    with _progress(show_progress, total_bytes, f"downloading {len(jobs)} files") as advance:
        report.bytes = _run(jobs, concurrency=concurrency, advance=advance)
    logger.info("downloaded %d files (%d bytes), skipped %d", len(jobs), report.bytes, len(report.skipped))
    return report


def _download_one(fs: Any, remote: str, dest: Path, size: int) -> Callable[[], int]:
    def job() -> int:
        dest.parent.mkdir(parents=True, exist_ok=True)
        if dest.parent.is_symlink():
            raise InvalidInput(f"refusing to download through the link {str(dest.parent)!r}")
        tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
        try:
            fs.get_file(remote, str(tmp))
            os.replace(tmp, dest)
        finally:
            tmp.unlink(missing_ok=True)
        return size

    return job
