"""Snapshots: a run's source directory as content-addressed blobs plus a manifest, whose digest is the id."""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import logging
import os
import stat
import threading
import time
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pathspec

from ember.artifacts import BlobStore, is_valid_digest, normalize_artifact_path
from ember.artifacts.tree import write_tree
from ember.errors import InvalidInput, NotFound, PayloadTooLarge

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_FILES", "HashCache", "Snapshot", "SnapshotFile", "capture"]
__all__ += ["encode_manifest", "hash_directory", "load", "open_file", "restore", "scan_directory"]

logger = logging.getLogger(__name__)
_StrPath = str | os.PathLike[str]

DEFAULT_MAX_BYTES = 300 * 1024 * 1024
DEFAULT_MAX_FILES = 2000
MANIFEST_FORMAT = "ember.snapshot/1"
IGNORE_FILES = (".emberignore", ".gitignore")  # per folder, the first one present holds its rules
_ALWAYS_IGNORED = frozenset({".git", "__pycache__", ".ember", ".venv", "node_modules", ".ipynb_checkpoints"})
_EXECUTABLE, _REGULAR = 0o755, 0o644
_MAX_MANIFEST_BYTES = 64 * 1024 * 1024
_WALK_CAP_FACTOR = 10  # stop walking a folder this many times over the file limit: it is refused anyway
_RACY_NS = 2_000_000_000  # fresher files are not cached: a rewrite within one mtime tick would hide
_WORKSPACE_DB = "ember.db"  # a folder holding it is an Ember workspace, never part of a snapshot
_WORKERS = 8  # existence checks and uploads wait on I/O (a remote store answers in milliseconds)


@dataclass(frozen=True)
class SnapshotFile:
    """One captured file: its relative POSIX path, the digest of its content, its size and mode."""

    path: str
    digest: str
    size: int
    mode: int


@dataclass(frozen=True)
class Snapshot:
    """A captured source directory: the manifest's digest (the snapshot id) and its files sorted by path."""

    digest: str
    files: tuple[SnapshotFile, ...]

    @property
    def total_size(self) -> int:
        """The sum of the files' sizes in bytes."""
        return sum(file.size for file in self.files)

    @property
    def file_count(self) -> int:
        """How many files the snapshot holds."""
        return len(self.files)


class HashCache:
    """Remembers each file's digest by (path, size, mtime, inode), so unchanged files are not read again.

    Saving keeps only the files seen since opening: use one cache folder per source directory (its
    ``.ember/`` is never captured). A corrupt cache starts empty; a failed save only logs a warning.
    """

    def __init__(self, cache_dir: _StrPath) -> None:
        """Open the cache kept in ``<cache_dir>/snapshot-hashes.json`` (the folder is created on save)."""
        self._path = Path(cache_dir) / "snapshot-hashes.json"
        self._entries: dict[str, Any] = {}
        self._seen: set[str] = set()
        self._dirty = False
        try:
            document = json.loads(self._path.read_bytes()) if self._path.exists() else {}
            if isinstance(document, dict) and document.get("version") == 1:
                self._entries = dict(document.get("entries") or {})
        except (OSError, ValueError, TypeError) as exc:
            logger.warning("ignoring unreadable snapshot hash cache %s: %s", self._path, exc)

    def lookup(self, path: str, info: os.stat_result) -> str | None:
        """Return the cached digest of the file at ``path`` if ``info`` shows it unchanged, else None."""
        entry, key = self._entries.get(path), [info.st_size, info.st_mtime_ns, info.st_ino]
        if isinstance(entry, list) and len(entry) == 4 and entry[:3] == key and is_valid_digest(entry[3]):
            self._seen.add(path)
            return str(entry[3])
        return None

    def store(self, path: str, info: os.stat_result, digest: str) -> None:
        """Remember the digest of the file at ``path`` as it was when ``info`` was taken."""
        if time.time_ns() - info.st_mtime_ns >= _RACY_NS:
            self._entries[path] = [info.st_size, info.st_mtime_ns, info.st_ino, digest]
            self._seen.add(path)
            self._dirty = True

    def save(self) -> None:
        """Write the cache atomically if it changed, dropping the files not seen since it was opened."""
        if not self._dirty and self._entries.keys() <= self._seen:
            return
        self._entries = {key: value for key, value in self._entries.items() if key in self._seen}
        partial = self._path.with_name(f"{self._path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(json.dumps({"version": 1, "entries": self._entries}), encoding="utf-8")
            os.replace(partial, self._path)
            self._dirty = False
        except OSError as exc:
            logger.warning("could not save the snapshot hash cache %s: %s", self._path, exc)
            partial.unlink(missing_ok=True)


class _Entry(NamedTuple):
    path: str
    local: str
    info: os.stat_result
    mode: int


@dataclass(frozen=True)
class _Rules:
    """The patterns of one ignore file, matched against paths relative to its folder ``base``."""

    base: str
    patterns: tuple[tuple[Any, bool], ...]  # (compiled pattern, matches folders only), in file order

    @classmethod
    def load(cls, directory: str, base: str) -> _Rules | None:
        name = next((name for name in IGNORE_FILES if os.path.isfile(os.path.join(directory, name))), None)
        if name is None:
            return None
        try:
            with open(os.path.join(directory, name), encoding="utf-8", errors="replace") as handle:
                spec = pathspec.GitIgnoreSpec.from_lines(handle.read().splitlines())
        except (OSError, ValueError) as exc:
            raise InvalidInput(f"cannot use {base}{name} ({exc}); fix it (gitignore syntax)") from exc
        kept = [pattern for pattern in spec.patterns if pattern.include is not None]
        return cls(base, tuple((p, str(p.pattern).rstrip(" ").endswith("/")) for p in kept))

    def verdict(self, path: str, is_dir: bool) -> bool | None:
        local = path[len(self.base) :]
        for pattern, dir_only in reversed(self.patterns):  # the last matching pattern decides
            # pathspec needs the trailing '/' to match "build/"; without it "data/**" does not match the
            # folder "data" itself, so (as in git) "!data/keep" can re-include a file in it.
            if (is_dir or not dir_only) and pattern.match_file(local + "/" * dir_only) is not None:
                return bool(pattern.include)
        return None


def _is_ignored(stack: tuple[_Rules, ...], path: str, is_dir: bool) -> bool:  # deeper files override
    return next((v for rules in reversed(stack) if (v := rules.verdict(path, is_dir)) is not None), False)


def _human(size: int) -> str:
    units = (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10))
    return next((f"{size / scale:.1f} {unit}" for unit, scale in units if size >= scale), f"{size} B")


def _largest(entries: list[_Entry], *, by_count: bool, limit: int = 5) -> list[tuple[str, int]]:
    """The heaviest entries: the top-level ones, the heaviest folder split until ``limit`` show."""
    weights: dict[str, int] = {}
    children: dict[str, set[str]] = {"": set()}
    for entry in entries:
        weight, parent, parts = 1 if by_count else entry.info.st_size, "", entry.path.split("/")
        for depth in range(1, len(parts)):
            folder = "/".join(parts[:depth]) + "/"
            children[parent].add(folder)
            children.setdefault(folder, set())
            weights[folder] = weights.get(folder, 0) + weight
            parent = folder
        children[parent].add(entry.path)
        weights[entry.path] = weight
    shown = set(children[""])
    while len(shown) < limit and (folders := [name for name in shown if name.endswith("/")]):
        biggest = max(folders, key=lambda name: (weights[name], name))
        shown.remove(biggest)
        shown.update(children[biggest])
    return [(name, weights[name]) for name in sorted(shown, key=lambda name: (-weights[name], name))[:limit]]


def _check_limits(root: Path, entries: list[_Entry], truncated: bool, max_bytes: int, max_files: int) -> None:
    total, count = sum(entry.info.st_size for entry in entries), len(entries)
    if count <= max_files and total <= max_bytes:
        return
    if count > max_files:
        offenders = _largest(entries, by_count=True)
        shown = ", ".join(f"{name} ({weight} files)" for name, weight in offenders)
        problem = f"{'at least ' if truncated else ''}{count} files, above the limit of {max_files} files"
    else:
        offenders = _largest(entries, by_count=False)
        shown = ", ".join(f"{name} ({_human(weight)})" for name, weight in offenders)
        problem = f"{_human(total)}, above the limit of {_human(max_bytes)}"
    raise PayloadTooLarge(
        f"the source directory {root} holds {problem} for a snapshot; the largest entries are: {shown}; "
        f"add what the run does not need to {root / IGNORE_FILES[0]} (gitignore syntax, e.g. 'data/') "
        "or raise the limit",
        details={"largest": [name for name, _ in offenders], "files": count, "bytes": total},
    )


def _scan(source_dir: _StrPath, max_bytes: int, max_files: int) -> list[_Entry]:
    root = Path(os.path.realpath(source_dir))
    if not root.is_dir():
        raise InvalidInput(f"{str(source_dir)!r} is not a folder; pass the source directory of the run")
    found: list[_Entry] = []
    # Folders to visit: (local path, path prefix in the snapshot, ignore rules in force, real ancestors).
    pending: list[tuple[str, str, tuple[_Rules, ...], frozenset[str]]] = [(str(root), "", (), frozenset())]
    truncated = False
    while pending and not truncated:
        directory, prefix, stack, ancestors = pending.pop()
        if (own := _Rules.load(directory, prefix)) is not None:
            stack = (*stack, own)
        ancestors = ancestors | {os.path.realpath(directory)}
        with os.scandir(directory) as listing:
            children = sorted(listing, key=lambda child: child.name)
        for child in children:
            is_dir, path = child.is_dir(), prefix + child.name
            if child.name in _ALWAYS_IGNORED and (is_dir or child.name == ".git"):
                continue
            if (not is_dir and child.name.endswith(".pyc")) or _is_ignored(stack, path, is_dir):
                continue
            if child.is_symlink():
                real = os.path.realpath(child.path)
                if not os.path.exists(child.path):
                    logger.warning("skipping broken symlink %s in the snapshot of %s", child.path, root)
                    continue
                if os.path.commonpath([root, real]) != str(root):
                    raise InvalidInput(
                        f"symlink {path!r} in {root} points outside the source directory (to {real}); "
                        f"copy the target into the folder, or add {path!r} to {IGNORE_FILES[0]}"
                    )
                if is_dir and real in ancestors:
                    raise InvalidInput(
                        f"symlink {path!r} in {root} loops; remove it or add it to {IGNORE_FILES[0]}"
                    )
            if is_dir:
                if os.path.isfile(os.path.join(child.path, _WORKSPACE_DB)):
                    # A workspace folder inside the source: its live database must never be read by a
                    # process that has it open (closing any descriptor drops SQLite's POSIX locks).
                    logger.info("leaving the workspace folder %s out of the snapshot", child.path)
                    continue
                pending.append((child.path, path + "/", stack, ancestors))
                continue
            info = child.stat()
            if not stat.S_ISREG(info.st_mode):
                logger.warning("skipping %s in the snapshot: not a regular file", child.path)
                continue
            try:
                path.encode("utf-8")
                mode = _EXECUTABLE if info.st_mode & stat.S_IXUSR else _REGULAR
                found.append(_Entry(normalize_artifact_path(path), child.path, info, mode))
            except (UnicodeError, InvalidInput) as exc:
                raise InvalidInput(
                    f"cannot snapshot {path!r} in {root} ({exc}); rename or ignore it"
                ) from None
            if truncated := len(found) > max_files * _WALK_CAP_FACTOR:
                break
    _check_limits(root, found, truncated, max_bytes, max_files)
    return sorted(found, key=lambda entry: entry.path)


def scan_directory(
    source_dir: _StrPath, *, max_bytes: int = DEFAULT_MAX_BYTES, max_files: int = DEFAULT_MAX_FILES
) -> list[tuple[str, Path, int, int]]:
    """List ``(path in the snapshot, local path, size, mode)`` per file of ``source_dir``, sorted by path.

    Each folder's ``.emberignore`` (else ``.gitignore``) holds gitignore rules relative to it; ignored
    folders are not entered. ``.git/ __pycache__/ *.pyc .ember/ .venv/ node_modules/ .ipynb_checkpoints/``
    are always left out. A symlink is captured as its target, which must be inside ``source_dir``; a
    broken one is skipped. The mode is ``0o755`` for an executable file, else ``0o644``.

    Raises:
        InvalidInput: ``source_dir`` is not a folder; a symlink points outside it or loops; a file name
            cannot be a snapshot path.
        PayloadTooLarge: Over ``max_bytes`` or ``max_files``; the message names the largest entries.
    """
    entries = _scan(source_dir, max_bytes, max_files)
    return [(entry.path, Path(entry.local), entry.info.st_size, entry.mode) for entry in entries]


def encode_manifest(files: Iterable[SnapshotFile]) -> bytes:
    """Return the canonical manifest of ``files``: JSON, keys and paths sorted, no spaces (hashed: the id)."""
    ordered = sorted(files, key=lambda file: file.path)
    document = {"format": MANIFEST_FORMAT, "files": [vars(file) for file in ordered]}
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def hash_directory(
    source_dir: _StrPath,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
    hash_cache: HashCache | None = None,
) -> tuple[Snapshot, dict[str, Path]]:
    """Compute the snapshot of ``source_dir`` without storing anything (arguments as for ``capture``).

    Returns:
        The snapshot (its manifest is ``encode_manifest(snapshot.files)``) and, per distinct file digest, a
        local file with that content, so that a client uploads only the blobs a store lacks.
    """
    entries = _scan(source_dir, max_bytes, max_files)

    def describe(entry: _Entry) -> SnapshotFile:
        digest = hash_cache.lookup(entry.local, entry.info) if hash_cache is not None else None
        size = entry.info.st_size
        if digest is None:
            with open(entry.local, "rb") as handle:
                digest, size = hashlib.file_digest(handle, "sha256").hexdigest(), handle.tell()
            if hash_cache is not None and size == entry.info.st_size:
                hash_cache.store(entry.local, entry.info, digest)
        return SnapshotFile(path=entry.path, digest=digest, size=size, mode=entry.mode)

    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="ember-snapshot") as pool:
        files = list(pool.map(describe, entries))
    if hash_cache is not None:
        hash_cache.save()
    sources = {file.digest: Path(entry.local) for file, entry in zip(files, entries, strict=True)}
    return Snapshot(digest=hashlib.sha256(encode_manifest(files)).hexdigest(), files=tuple(files)), sources


def capture(
    blobs: BlobStore,
    source_dir: _StrPath,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_files: int = DEFAULT_MAX_FILES,
    hash_cache: HashCache | None = None,
) -> Snapshot:
    """Store the files of ``source_dir`` and their manifest as blobs, and return the snapshot.

    Files are hashed locally first and uploaded only when the store lacks them, so capturing an
    unchanged directory again uploads nothing. The limits are checked before anything is stored.

    Args:
        blobs: Where the files and the manifest are stored.
        source_dir: The run's source directory; ``scan_directory`` says which files are captured.
        max_bytes: Refuse a directory whose files hold more bytes than this.
        max_files: Refuse a directory with more files than this.
        hash_cache: Remembers the digests of unchanged files between captures.

    Raises:
        InvalidInput: See ``scan_directory``; or a file changed while it was being captured.
        PayloadTooLarge: A limit is exceeded; nothing is stored.
    """
    started = time.perf_counter()
    snapshot, sources = hash_directory(
        source_dir, max_bytes=max_bytes, max_files=max_files, hash_cache=hash_cache
    )

    def upload(item: tuple[str, Path]) -> bool:
        if blobs.exists(item[0]):
            return False
        if blobs.put_file(item[1]).digest != item[0]:
            raise InvalidInput(f"{item[1]} changed while the snapshot was being taken; submit again")
        return True

    with ThreadPoolExecutor(max_workers=_WORKERS, thread_name_prefix="ember-snapshot") as pool:
        uploaded = sum(pool.map(upload, sorted(sources.items())))
    if not blobs.exists(snapshot.digest):
        uploaded += bool(blobs.put_stream([encode_manifest(snapshot.files)]))
    elapsed, size = time.perf_counter() - started, _human(snapshot.total_size)
    logger.info(
        "captured snapshot %s of %s: %d files, %s, %d new blobs, in %.3f s",
        *(snapshot.digest, source_dir, snapshot.file_count, size, uploaded, elapsed),
    )
    return snapshot


def _not_a_manifest(digest: str, problem: str) -> InvalidInput:
    return InvalidInput(f"blob {digest} is not a valid snapshot manifest: {problem}; pass a snapshot id")


def _parse_file(digest: str, item: object) -> SnapshotFile:
    if not isinstance(item, dict) or set(item) != {"path", "digest", "size", "mode"}:
        raise _not_a_manifest(digest, "every file needs exactly 'path', 'digest', 'size' and 'mode'")
    path, file_digest, size, mode = item["path"], item["digest"], item["size"], item["mode"]
    try:
        canonical = normalize_artifact_path(path)
    except InvalidInput as exc:
        raise _not_a_manifest(digest, exc.message) from None
    if canonical != path:
        raise _not_a_manifest(digest, f"path {path!r:.200} is not in canonical form")
    if not isinstance(file_digest, str) or not is_valid_digest(file_digest):
        raise _not_a_manifest(digest, f"the digest of {path!r} is not a SHA-256 digest")
    if type(size) is not int or size < 0 or type(mode) is not int or mode not in (_REGULAR, _EXECUTABLE):
        raise _not_a_manifest(digest, f"{path!r} needs a size >= 0 and a mode of 0o644 or 0o755")
    return SnapshotFile(path=path, digest=file_digest, size=size, mode=mode)


def load(blobs: BlobStore, digest: str) -> Snapshot:
    """Read a snapshot's manifest and validate it as untrusted input.

    Raises:
        InvalidInput: ``digest`` is not a SHA-256 digest, or its blob is not a valid manifest (not JSON,
            an unsafe, duplicate or clashing path, a bad digest, size or mode).
        NotFound: No blob has this digest.
    """
    if not is_valid_digest(digest):
        raise InvalidInput(f"snapshot id must be 64 lowercase hexadecimal characters, got {digest!r:.80}")
    try:
        if blobs.size(digest) > _MAX_MANIFEST_BYTES:
            raise _not_a_manifest(digest, "it is too large")
        document = json.loads(b"".join(blobs.iter_chunks(digest)))
    except NotFound:
        raise NotFound(f"snapshot {digest} not found; it may have been garbage-collected") from None
    except ValueError:
        raise _not_a_manifest(digest, "it is not JSON") from None
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        raise _not_a_manifest(digest, f"its format is not {MANIFEST_FORMAT!r}")
    if set(document) != {"format", "files"} or not isinstance(document["files"], list):
        raise _not_a_manifest(digest, "expected exactly the keys 'format' and 'files' (a list)")
    files = sorted((_parse_file(digest, item) for item in document["files"]), key=lambda file: file.path)
    paths = [file.path for file in files]
    if twice := next((path for path, after in itertools.pairwise(paths) if path == after), None):
        raise _not_a_manifest(digest, f"path {twice!r} appears twice")
    folders = {path[:index] for path in paths for index, char in enumerate(path) if char == "/"}
    if clash := next((path for path in paths if path in folders), None):
        raise _not_a_manifest(digest, f"{clash!r} is both a file and a folder")
    return Snapshot(digest=digest, files=tuple(files))


def open_file(blobs: BlobStore, digest: str, path: str) -> tuple[SnapshotFile, Iterator[bytes]]:
    """Return one file of a snapshot and an iterator over its bytes, for browsing.

    Raises:
        InvalidInput: ``path`` is not a valid path, or the snapshot is invalid (see ``load``).
        NotFound: The snapshot or the file in it does not exist (a missing blob raises it when iterated).
    """
    wanted = normalize_artifact_path(path)
    snapshot = load(blobs, digest)
    index = bisect.bisect_left(snapshot.files, wanted, key=lambda file: file.path)
    if index == len(snapshot.files) or snapshot.files[index].path != wanted:
        raise NotFound(f"snapshot {digest} has no file {wanted!r}; list the snapshot to see its files")
    return snapshot.files[index], blobs.iter_chunks(snapshot.files[index].digest)


def restore(blobs: BlobStore, digest: str, target_dir: _StrPath) -> None:
    """Write the files of a snapshot into ``target_dir`` with their modes, streaming each blob.

    The manifest is validated before anything is written; only regular files and folders are created,
    never links, and no write leaves ``target_dir``. A failed restore may leave part of the files behind.

    Args:
        blobs: Where the snapshot is stored.
        digest: The snapshot id.
        target_dir: An empty or missing folder (created with its parents).

    Raises:
        InvalidInput: The target is not an empty folder, or the manifest is invalid or unsafe.
        NotFound: The snapshot or one of its files is missing from the store.
        EmberError: A stored file's content does not match its digest.
    """
    snapshot = load(blobs, digest)
    try:
        root = write_tree(snapshot.files, target_dir, open_file=lambda file: blobs.iter_chunks(file.digest))
    except InvalidInput as exc:
        raise InvalidInput(f"cannot restore snapshot {digest}: {exc}") from None
    logger.info("restored snapshot %s into %s: %d files", digest, root, snapshot.file_count)
