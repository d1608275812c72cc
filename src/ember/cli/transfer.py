"""Downloading run files to a local folder: streamed, verified, atomic per file, never outside the folder."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from ember.errors import EmberError, InvalidInput

if TYPE_CHECKING:
    from rich.console import Console

    from ember.contracts.tracking import TrackingBackend
    from ember.entities import ArtifactInfo

__all__ = ["destination", "download_artifacts"]

PART_SUFFIX = ".part"
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


def destination(root: Path, artifact_path: str) -> Path:
    """Where an artifact goes below ``root``; refuses any path that would land outside it.

    Args:
        root: The resolved folder being downloaded into.
        artifact_path: The artifact's relative POSIX path, as the backend reports it.

    Returns:
        The file's local path.

    Raises:
        InvalidInput: The path is empty, absolute, has ``..`` or a backslash, or resolves (through a
            symlink or a drive) outside ``root``.
    """
    pure = PurePosixPath(artifact_path)
    parts = pure.parts
    if (
        not parts
        or pure.is_absolute()
        or any(p in ("..", ".", "") for p in parts)
        or "\\" in artifact_path
        or "\x00" in artifact_path
    ):
        raise InvalidInput(f"refusing to write {artifact_path[:200]!r}: it is not a plain path inside {root}")
    target = root.joinpath(*parts)
    if not target.resolve().is_relative_to(root):
        raise InvalidInput(f"refusing to write {artifact_path[:200]!r}: it would land outside {root}")
    return target


def _write_one(
    tracking: TrackingBackend,
    *,
    run_id: str,
    artifact_path: str,
    target: Path,
    advance: Callable[[int], None],
) -> None:
    """Stream one file to ``<target>.part``, check its size and digest, then rename it into place."""
    part = target.with_name(target.name + PART_SUFFIX)
    info, chunks = tracking.open_artifact(run_id, artifact_path)
    digest = hashlib.sha256()
    size = 0
    try:
        with open(part, "wb") as fh:
            for chunk in chunks:
                fh.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                advance(len(chunk))
        if size != info.size:
            problem = f"{size} bytes instead of {info.size}"
        elif _SHA256_RE.match(info.digest) and digest.hexdigest() != info.digest:
            problem = "its SHA-256 does not match"
        else:
            problem = ""
        if problem:
            raise EmberError(f"{artifact_path!r} arrived damaged ({problem}): download it again")
        os.replace(part, target)
    except BaseException:
        part.unlink(missing_ok=True)
        raise
    finally:
        close = getattr(chunks, "close", None)
        if callable(close):
            close()


def download_artifacts(
    tracking: TrackingBackend, *, run_id: str, files: list[ArtifactInfo], root: Path, console: Console
) -> list[Path]:
    """Download ``files`` of a run into ``root``, keeping their relative paths, with a progress bar.

    Every destination is checked before anything is written. Each file is streamed to a ``.part``
    file and renamed into place once complete and verified, so an interrupted download leaves no
    half-written file under its real name.

    Args:
        tracking: The workspace's tracking backend.
        run_id: The run's full id.
        files: The run's files to fetch (from ``list_artifacts``).
        root: The resolved folder to write into; created when missing.
        console: Where the progress bar goes (stderr).

    Returns:
        The local paths written, in the order of ``files``.

    Raises:
        InvalidInput: A file's path would land outside ``root``.
        EmberError: A file cannot be written, or arrived damaged.
    """
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    root = root.resolve()
    plan = [(f, destination(root, f.path)) for f in files]
    written: list[Path] = []
    progress = Progress(
        TextColumn("{task.description}", markup=False),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,  # no bar in logs and pipes, only on a terminal
    )
    try:
        with progress:
            task = progress.add_task("downloading", total=sum(f.size for f in files))

            def advance(n: int) -> None:
                progress.advance(task, n)

            for info, target in plan:
                shown = info.path if len(info.path) <= 40 else "…" + info.path[-39:]
                progress.update(task, description=shown)
                target.parent.mkdir(parents=True, exist_ok=True)
                # Check again now that folders exist: a symlink among them must not lead outside.
                destination(root, info.path)
                _write_one(tracking, run_id=run_id, artifact_path=info.path, target=target, advance=advance)
                written.append(target)
            progress.update(task, description="done")
    except OSError as exc:
        raise EmberError(f"cannot write below {root}: {exc.strerror or exc}") from None
    return written
