"""Writing a tree of files (a snapshot, a download) into a folder without ever leaving it."""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Protocol

from ember.errors import EmberError, InvalidInput

__all__ = ["TreeFile", "write_tree"]


class TreeFile(Protocol):
    """A file to write: a normalised relative POSIX path, the sha256 of its bytes, its size and mode."""

    @property
    def path(self) -> str: ...
    @property
    def digest(self) -> str: ...
    @property
    def size(self) -> int: ...
    @property
    def mode(self) -> int: ...


def _write_file(file: TreeFile, root: str, chunks: Iterable[bytes]) -> None:
    parent = root
    for segment in file.path.split("/")[:-1]:
        parent = os.path.join(parent, segment)
        try:
            os.mkdir(parent, 0o755)
        except FileExistsError:
            if not stat.S_ISDIR(os.lstat(parent).st_mode):
                raise InvalidInput(f"cannot write {file.path!r}: {parent} is not a folder") from None
    # A folder swapped for a symlink behind our back must not redirect the write outside the target.
    if os.path.commonpath([root, os.path.realpath(parent)]) != root:
        raise InvalidInput(f"cannot write {file.path!r}: {parent} leads outside {root}")
    dest = os.path.join(parent, file.path.rsplit("/", 1)[-1])
    # O_EXCL refuses any existing entry, a symlink included, so nothing is overwritten or followed.
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        descriptor = os.open(dest, flags, 0o600)
    except FileExistsError:
        raise InvalidInput(
            f"cannot write {file.path!r}: {dest} already exists "
            "(do two paths differ only in case on a case-insensitive file system?)"
        ) from None
    hasher, size = hashlib.sha256(), 0
    with os.fdopen(descriptor, "wb") as out:
        for chunk in chunks:
            hasher.update(chunk)
            size += out.write(chunk)
        os.chmod(out.fileno() if os.chmod in os.supports_fd else dest, file.mode)  # exact, whatever the umask
    if hasher.hexdigest() != file.digest or size != file.size:
        raise EmberError(f"the stored content of {file.path!r} (blob {file.digest}) is corrupt")


def write_tree(
    files: Sequence[TreeFile],
    target_dir: str | os.PathLike[str],
    *,
    open_file: Callable[[TreeFile], Iterable[bytes]],
) -> str:
    """Write ``files`` into ``target_dir`` (an empty or missing folder), streaming each from ``open_file``.

    Only regular files and folders are created, never links; no write leaves ``target_dir``; every file's
    bytes are checked against its digest and size. A failure may leave part of the files behind.

    Returns:
        The real path of the target folder.

    Raises:
        InvalidInput: The target is not an empty folder, or a file cannot be written safely.
        EmberError: A file's bytes do not match its digest.
    """
    try:
        Path(target_dir).mkdir(parents=True, exist_ok=True)
        if any(Path(target_dir).iterdir()):
            raise InvalidInput(f"cannot write into {target_dir}: the folder is not empty")
    except OSError as exc:
        raise InvalidInput(f"cannot write into {target_dir}: {exc}") from None
    root = os.path.realpath(target_dir)
    for file in files:
        _write_file(file, root, open_file(file))
    return root
