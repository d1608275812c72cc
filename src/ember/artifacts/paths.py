"""Validation of artifact paths and Ember ids, and a safe walk of local folders for upload."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

from ember.errors import InvalidInput

__all__ = [
    "MAX_PATH_LENGTH",
    "MAX_SEGMENT_LENGTH",
    "check_id",
    "is_valid_id",
    "new_id",
    "normalize_artifact_path",
    "safe_local_files",
]

MAX_PATH_LENGTH = 1024
MAX_SEGMENT_LENGTH = 255

_EXAMPLE = "use a relative POSIX path such as 'outputs/model.pkl'"
_ID_RE = re.compile(r"[0-9a-f]{32}")
_DRIVE_RE = re.compile(r"[A-Za-z]:")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def _shown(value: object) -> str:
    """The value's repr, cut to 200 characters so a hostile input cannot flood a message or a log."""
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def _refuse(path: object, problem: str) -> InvalidInput:
    return InvalidInput(f"invalid artifact path {_shown(path)}: {problem}; {_EXAMPLE}")


def normalize_artifact_path(path: str, *, allow_dir: bool = False) -> str:
    """Return the canonical relative POSIX form of an artifact path, or refuse it.

    Args:
        path: A path relative to a run's (or model's) artifact root, such as ``"outputs/model.pkl"``.
        allow_dir: Accept a directory prefix: ``""`` (the root) or ``"plots/"`` (returned as ``"plots"``).

    Returns:
        The path with ``.`` segments and duplicate slashes removed and no leading or trailing slash.

    Raises:
        InvalidInput: The path is empty, absolute, escapes the root (``..``), is a URL, or contains a
            backslash, a control character, ``;`` or ``%``, or is too long.
    """
    if not isinstance(path, str):
        raise _refuse(path, f"expected a string, got {type(path).__name__}")
    if path == "":
        if allow_dir:
            return ""
        raise _refuse(path, "the path is empty")
    if len(path) > MAX_PATH_LENGTH:
        raise _refuse(path, f"the path is longer than {MAX_PATH_LENGTH} characters")
    if _CONTROL_RE.search(path):
        raise _refuse(path, "control characters (including NUL) are not allowed")
    if "\\" in path:
        raise _refuse(path, "backslashes are not allowed, separate folders with '/'")
    if ";" in path:
        raise _refuse(path, "';' is not allowed")
    if "%" in path:
        raise _refuse(path, "'%' is not allowed (paths are never percent-decoded)")
    if "://" in path:
        raise _refuse(path, "URLs are not artifact paths")
    if path.startswith("/") or _DRIVE_RE.match(path):
        raise _refuse(path, "absolute paths are not allowed")
    if path.endswith("/") and not allow_dir:
        raise _refuse(path, "a trailing '/' names a folder, but a file path is expected here")
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment.strip(".") == "":
            raise _refuse(path, f"segment {segment!r} is not allowed ('..' would leave the root)")
        if len(segment) > MAX_SEGMENT_LENGTH:
            raise _refuse(path, f"a segment is longer than {MAX_SEGMENT_LENGTH} characters")
        segments.append(segment)
    if not segments and not allow_dir:
        raise _refuse(path, "the path names no file")
    return "/".join(segments)


def is_valid_id(value: str) -> bool:
    """Tell whether ``value`` looks like an Ember id: 32 lowercase hexadecimal characters."""
    return isinstance(value, str) and _ID_RE.fullmatch(value) is not None


def check_id(value: str, kind: str) -> str:
    """Return ``value`` if it looks like an Ember id, else raise ``InvalidInput`` naming the ``kind``.

    Args:
        value: The id to check.
        kind: What the id is for, used in the message (``"run"``, ``"model"``).

    Raises:
        InvalidInput: ``value`` is not 32 lowercase hexadecimal characters.
    """
    if not is_valid_id(value):
        raise InvalidInput(f"{kind} id must be 32 hexadecimal characters, got {_shown(value)}")
    return value


def new_id() -> str:
    """Return a fresh random Ember id (``uuid4().hex``)."""
    return uuid.uuid4().hex


def safe_local_files(folder: str | os.PathLike[str]) -> Iterator[tuple[str, Path]]:
    """Yield every file under a local folder as ``(artifact path, absolute path)``, sorted by artifact path.

    Symlinks are followed only while they stay inside the folder. Nothing is skipped silently: the
    whole folder is checked before the first file is yielded, so an upload never stops half-way.

    Args:
        folder: The local folder to upload.

    Raises:
        InvalidInput: ``folder`` is not a directory; a symlink points outside it, is broken or loops;
            an entry is neither a file nor a folder; or a name is not a valid artifact path.
    """
    root = Path(folder).resolve()
    if not root.is_dir():
        raise InvalidInput(f"{_shown(str(folder))} is not a folder; pass the path of a local directory")
    found: list[tuple[str, Path]] = []
    _collect(root, root, "", frozenset({root}), found)
    found.sort(key=lambda item: item[0])
    yield from found


def _collect(
    root: Path, directory: Path, prefix: str, ancestors: frozenset[Path], found: list[tuple[str, Path]]
) -> None:
    with os.scandir(directory) as entries:
        children = sorted(entries, key=lambda entry: entry.name)
    for entry in children:
        local = Path(entry.path)
        relative = f"{prefix}{entry.name}"
        real = local.resolve()
        if entry.is_symlink():
            if not real.is_relative_to(root):
                raise InvalidInput(
                    f"symlink {_shown(str(local))} points outside {_shown(str(root))}; "
                    "copy the target into the folder or remove the link"
                )
            if not real.exists():
                raise InvalidInput(f"symlink {_shown(str(local))} is broken; fix or remove it")
        if real.is_dir():
            if real in ancestors:
                raise InvalidInput(f"symlink {_shown(str(local))} loops back to a parent folder; remove it")
            _collect(root, local, relative + "/", ancestors | {real}, found)
        elif real.is_file():
            found.append((normalize_artifact_path(relative), local))
        else:
            raise InvalidInput(f"{_shown(str(local))} is neither a file nor a folder and cannot be uploaded")
