"""The files behind a dataset: sources resolved through fsspec, and fingerprints that notice changes.

A source is a path or a glob inside a datastore. Resolving it lists the datastore once (``find`` or
``glob`` with details), so each file's size, modification time and ETag come from the listing with no
extra round-trip per file. Those identities make a version's fingerprint: reading the version later
compares them with a fresh listing and warns (or refuses, in strict mode) when the data changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import fsspec
from fsspec import AbstractFileSystem
from fsspec.implementations.local import LocalFileSystem

from ember.entities.data import DatasetDefinition, DatasetFile, DatasetSource, DatastoreAccess
from ember.errors import Conflict, EmberError, InvalidInput, NotFound

__all__ = [
    "DataChangedWarning",
    "ResolvedFile",
    "changed_files",
    "check_fingerprint",
    "fingerprint_digest",
    "open_filesystem",
    "resolve_files",
    "resolve_source",
    "storage_errors",
]

logger = logging.getLogger(__name__)

_GLOB_CHARS = ("*", "?", "[")
_MAX_LISTED = 20


class DataChangedWarning(UserWarning):
    """The files of a registered dataset version changed since it was registered."""


@dataclass(frozen=True)
class ResolvedFile:
    """A dataset file with the filesystem that reads it; ``full_path`` is its fsspec path."""

    file: DatasetFile
    fs: AbstractFileSystem = field(repr=False)  # its options hold credentials
    full_path: str

    @property
    def is_local(self) -> bool:
        """Whether ``full_path`` is a path on this machine (readable without fsspec, memory-mapped)."""
        return isinstance(self.fs, LocalFileSystem)


def open_filesystem(access: DatastoreAccess) -> AbstractFileSystem:
    """The fsspec filesystem that reaches a datastore, built from its access options.

    fsspec keeps one instance per protocol and options, so opening the same access twice is cheap.
    The options (credentials) are never logged; neither the filesystem's nor the access's ``repr``
    shows them.
    """
    if access.protocol == "file":
        return LocalFileSystem()
    try:
        fs: AbstractFileSystem = fsspec.filesystem(access.protocol, **access.storage_options)
    except ImportError as exc:
        package = "s3fs" if access.protocol == "s3" else "adlfs"
        raise InvalidInput(
            f"datastore {access.datastore!r} is on {access.protocol}, which needs the {package} package: "
            f"pip install {package}"
        ) from exc
    return fs


def _is_glob(path: str) -> bool:
    return any(ch in path for ch in _GLOB_CHARS)


def _epoch(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
        except ValueError:
            return None
    return None


def _dataset_file(datastore: str, path: str, info: Mapping[str, Any]) -> DatasetFile:
    """A listing entry as a ``DatasetFile``.

    Local files give ``mtime``; S3 ``ETag`` (quoted), ``LastModified``; Azure ``etag``, ``last_modified``.
    """
    etag = info.get("ETag") or info.get("etag")
    modified = info.get("mtime")
    if modified is None:
        modified = info.get("LastModified") or info.get("last_modified")
    return DatasetFile(
        datastore=datastore,
        path=path,
        size=int(info.get("size") or 0),
        modified_time=_epoch(modified),
        etag=str(etag).strip('"') if etag else None,
    )


def _root(fs: AbstractFileSystem, root: str) -> str:
    stripped: str = fs._strip_protocol(root)
    return stripped.rstrip("/") or "/"


def _join(root: str, path: str) -> str:
    return f"{root.rstrip('/')}/{path}" if path else root


def resolve_source(fs: AbstractFileSystem, root: str, source: DatasetSource) -> list[DatasetFile]:
    """The files a source names, sorted by path; raises ``NotFound`` when it names none.

    A file path gives that file, a folder every file below it, and a glob (``*``, ``?``, ``[ab]``,
    ``**`` for any number of folders) the files that match it.

    Args:
        fs: The datastore's filesystem (``open_filesystem``).
        root: The datastore's root as an fsspec path; returned paths are relative to it.
        source: The datastore name and the path or glob inside it.
    """
    base = _root(fs, root)
    target = _join(base, source.path)
    where = f"datastore {source.datastore!r}"
    with contextlib.suppress(OSError, NotImplementedError):  # a cache that cannot be dropped is harmless
        fs.invalidate_cache(target if not _is_glob(source.path) else base)
    listing: Mapping[str, Mapping[str, Any]]
    try:
        if _is_glob(source.path):
            listing = fs.glob(target, detail=True)
        else:
            info = fs.info(target)
            listing = fs.find(target, detail=True) if info.get("type") == "directory" else {target: info}
    except FileNotFoundError:
        listing = {}
    except ValueError as exc:  # fsspec rejects a malformed glob, e.g. '**' inside a name
        raise InvalidInput(f"dataset source {source.path!r} in {where} is not a valid glob: {exc}") from None
    except PermissionError as exc:
        raise InvalidInput(f"dataset source {source.path!r} in {where} cannot be listed: {exc}") from None
    files: list[DatasetFile] = []
    prefix = base.rstrip("/") + "/"
    for name, info in listing.items():
        if info.get("type", "file") != "file":
            continue
        name = fs._strip_protocol(name)
        if not name.startswith(prefix):  # pragma: no cover - fsspec lists below the path it was given
            logger.warning("skipping %s: listed outside the datastore root", name)
            continue
        files.append(_dataset_file(source.datastore, name[len(prefix) :], info))
    if not files:
        kind = "matched no file" if _is_glob(source.path) else "does not exist (or is an empty folder)"
        raise NotFound(f"dataset source {source.path!r} {kind} in {where}")
    files.sort(key=lambda f: f.path)
    return files


def resolve_files(
    accesses: Mapping[str, DatastoreAccess], definition: DatasetDefinition
) -> list[ResolvedFile]:
    """Every file of a definition's sources, in source order then path order, each once.

    Args:
        accesses: How to reach each datastore the sources name, by datastore name.
        definition: The dataset definition whose sources are resolved.
    """
    seen: set[tuple[str, str]] = set()
    resolved: list[ResolvedFile] = []
    for source in definition.sources:
        access = accesses.get(source.datastore)
        if access is None:
            raise NotFound(
                f"dataset source {source.path!r} is in datastore {source.datastore!r}, "
                "which was not given (is it registered in this workspace?)"
            )
        fs = open_filesystem(access)
        base = _root(fs, access.root)
        for item in resolve_source(fs, access.root, source):
            key = (item.datastore, item.path)
            if key in seen:
                continue
            seen.add(key)
            resolved.append(ResolvedFile(file=item, fs=fs, full_path=_join(base, item.path)))
    return resolved


def _identity(item: DatasetFile) -> list[Any]:
    """What identifies a file's content: its ETag where the store gives one, else its modification time."""
    return [
        item.datastore,
        item.path,
        item.size,
        item.etag or None,
        None if item.etag else item.modified_time,
    ]


def fingerprint_digest(files: Sequence[DatasetFile]) -> str:
    """SHA-256 hex digest of the files' identities (datastore, path, size, ETag or mtime), order-free."""
    identities = sorted((_identity(f) for f in files), key=lambda i: (i[0], i[1]))
    canonical = json.dumps(identities, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _modified(old: DatasetFile, new: DatasetFile) -> bool:
    if old.size != new.size:
        return True
    if old.etag and new.etag:
        return old.etag != new.etag
    return old.modified_time != new.modified_time


def changed_files(registered: Sequence[DatasetFile], current: Sequence[DatasetFile]) -> list[str]:
    """What changed between two listings, like ``["raw:iris/a.csv (modified)", "raw:b.csv (added)"]``.

    A file is modified when its size differs, or its ETag (when both listings have one), or else its
    modification time. The list is sorted by datastore and path.
    """
    before = {(f.datastore, f.path): f for f in registered}
    after = {(f.datastore, f.path): f for f in current}
    changes: list[str] = []
    for key in sorted(before.keys() | after.keys()):
        old, new = before.get(key), after.get(key)
        if old is None:
            what = "added"
        elif new is None:
            what = "removed"
        elif _modified(old, new):
            what = "modified"
        else:
            continue
        changes.append(f"{key[0]}:{key[1]} ({what})")
    return changes


def check_fingerprint(
    registered: Sequence[DatasetFile], current: Sequence[DatasetFile], *, strict: bool, what: str
) -> None:
    """Refuse (``strict``) or warn with ``DataChangedWarning`` when the files changed since registration.

    Args:
        registered: The files as listed when the version was registered.
        current: The files as listed now.
        strict: Raise ``Conflict`` instead of warning.
        what: What is being read, for the message, e.g. ``"dataset 'iris' version 3"``.
    """
    changes = changed_files(registered, current)
    if not changes:
        return
    shown = ", ".join(changes[:_MAX_LISTED])
    if len(changes) > _MAX_LISTED:
        shown += f" and {len(changes) - _MAX_LISTED} more"
    message = f"the files of {what} changed since it was registered: {shown}"
    if strict:
        raise Conflict(
            f"{message}; register a new version to read the current files",
            details={"changed": changes[:1000]},
        )
    warnings.warn(
        f"{message}; reading the current files (register a new version to pin them)",
        DataChangedWarning,
        stacklevel=2,
    )


@contextmanager
def storage_errors(what: str) -> Iterator[None]:
    """Turn a storage client's failure (refused credentials, unreachable endpoint, missing bucket) into
    ``InvalidInput`` naming ``what``: it is the datastore's configuration, not the server, that is wrong."""
    try:
        yield
    except EmberError:
        raise
    except Exception as exc:
        logger.warning("%s: %s: %s", what, type(exc).__name__, str(exc)[:500])
        detail = " ".join(str(exc).split())[:300]
        raise InvalidInput(f"{what}: the storage failed with {type(exc).__name__}: {detail}") from None
