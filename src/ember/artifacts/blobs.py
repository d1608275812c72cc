"""A content-addressed blob store on any fsspec filesystem: bytes are stored once, under their SHA-256."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, cast

from fsspec.core import url_to_fs
from fsspec.implementations.local import LocalFileSystem
from fsspec.spec import AbstractBufferedFile

from ember.errors import InvalidInput, NotFound, PayloadTooLarge

__all__ = ["CHUNK_SIZE", "BlobInfo", "BlobStore", "is_valid_digest"]

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
_DIGEST_RE = re.compile(r"[0-9a-f]{64}")


def is_valid_digest(value: str) -> bool:
    """Tell whether ``value`` is a SHA-256 hex digest (64 lowercase hexadecimal characters)."""
    return isinstance(value, str) and _DIGEST_RE.fullmatch(value) is not None


def _check_digest(value: str) -> str:
    if not is_valid_digest(value):
        shown = repr(value)[:200]
        raise InvalidInput(f"blob digest must be 64 lowercase hexadecimal characters (SHA-256), got {shown}")
    return value


@dataclass(frozen=True)
class BlobInfo:
    """What a stored blob is: its SHA-256 hex digest and its size in bytes."""

    digest: str
    size: int


class BlobStore:
    """Stores byte streams once each, under ``blobs/<digest[:2]>/<digest[2:]>`` below a root URL.

    Writes go to ``tmp/<uuid>`` first and are moved into place only once complete, so a reader never
    sees a partial blob. On the local filesystem the move is an atomic ``os.replace``; concurrent puts of
    the same content all succeed and leave one blob.

    On object storage (``s3://``, ...) a write is streamed in parts of the filesystem's block size (an S3
    multipart upload; s3fs buffers 50 MiB per part unless ``storage_options`` sets ``default_block_size``,
    5 MiB at least) and a failed or refused write is aborted rather than published. fsspec's cached
    directory listings are dropped before every lookup, because another client (a ``gc`` on another
    machine) may have deleted a blob since.

    S3 needs no code to configure: s3fs (through botocore) reads the standard AWS environment,
    ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION`` and, for an S3-compatible
    service (MinIO, Ceph, moto, ...), ``AWS_ENDPOINT_URL_S3`` or ``AWS_ENDPOINT_URL``; or ``AWS_PROFILE``
    and ``~/.aws``. ``storage_options`` override them (``{"client_kwargs": {"endpoint_url": ...}}``, ...).
    """

    def __init__(self, root_uri: str, *, storage_options: dict[str, Any] | None = None) -> None:
        """Open the store rooted at ``root_uri``.

        Args:
            root_uri: ``"/abs/dir"``, ``"file:///abs/dir"``, ``"s3://bucket/prefix"``, ``"memory://x"``.
            storage_options: Passed to the fsspec filesystem (credentials, endpoint, ...); never logged.
        """
        fs, root = url_to_fs(root_uri, **(storage_options or {}))
        self._fs: Any = fs
        self._root: str = root.rstrip("/") or root
        self._local = isinstance(fs, LocalFileSystem)
        self._root_uri: str = fs.unstrip_protocol(self._root)

    @property
    def root_uri(self) -> str:
        """The canonical URL of the store's root (``"file:///abs/dir"`` for a local folder)."""
        return self._root_uri

    def __repr__(self) -> str:
        return f"BlobStore({self._root_uri!r})"

    def _path(self, digest: str) -> str:
        _check_digest(digest)
        return f"{self._root}/blobs/{digest[:2]}/{digest[2:]}"

    def put_stream(self, chunks: Iterable[bytes] | BinaryIO, *, max_size: int | None = None) -> BlobInfo:
        """Store a stream of bytes, hashing it on the way, and return its digest and size.

        The stream is never held in memory as a whole. If the same content is already stored, the new
        copy is dropped and the existing blob is reused.

        Args:
            chunks: An iterable of ``bytes`` chunks, or a binary file object read in 1 MiB chunks.
            max_size: Refuse streams longer than this many bytes.

        Raises:
            PayloadTooLarge: The stream is longer than ``max_size``; nothing is stored.
        """
        read = getattr(chunks, "read", None)
        source = _read_chunks(read) if callable(read) else chunks
        tmp = f"{self._root}/tmp/{uuid.uuid4().hex}"
        hasher = hashlib.sha256()
        size = 0
        try:
            if self._local:
                self._fs.makedirs(f"{self._root}/tmp", exist_ok=True)
            out = self._fs.open(tmp, "wb")
            try:
                for chunk in source:
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise PayloadTooLarge(
                            f"the upload is larger than the limit of {max_size} bytes; "
                            "upload a smaller file or raise the limit"
                        )
                    hasher.update(chunk)
                    out.write(chunk)
                if self._local:
                    # A blob's name promises its content: make the bytes durable before the name exists.
                    out.flush()
                    os.fsync(out.fileno())
            except BaseException:
                _abandon(out)
                raise
            out.close()
            digest = hasher.hexdigest()
            final = self._path(digest)
            if self._fs.exists(self._fresh(final)):
                self._remove_quietly(tmp)
            else:
                self._move(tmp, final)
        except BaseException:
            self._remove_quietly(tmp)
            raise
        logger.debug("stored blob %s (%d bytes) in %s", digest, size, self._root_uri)
        return BlobInfo(digest=digest, size=size)

    def put_file(self, path: str | os.PathLike[str]) -> BlobInfo:
        """Store a local file, streamed in 1 MiB chunks, and return its digest and size."""
        with open(path, "rb") as handle:
            return self.put_stream(handle)

    def _move(self, tmp: str, final: str) -> None:
        parent = final.rsplit("/", 1)[0]
        if self._local:
            os.makedirs(parent, exist_ok=True)
            # Atomic; a concurrent put of the same content replaces the blob with identical bytes.
            os.replace(tmp, final)
        else:
            self._fs.mv(tmp, final)

    def _fresh(self, path: str) -> str:
        """Return ``path`` once fsspec's cached listings above it are dropped: the next lookup asks the store.

        s3fs answers ``exists``/``info`` from listings it cached earlier (``list_digests`` fills them), which
        go stale when another client deletes a blob; trusting them would deduplicate against a missing blob.
        """
        if not self._local:
            self._fs.invalidate_cache(path)
        return path

    def _remove_quietly(self, path: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._fs.rm(path)

    def exists(self, digest: str) -> bool:
        """Tell whether the blob with this digest is stored."""
        return bool(self._fs.exists(self._fresh(self._path(digest))))

    def size(self, digest: str) -> int:
        """Return the size in bytes of a stored blob.

        Raises:
            NotFound: No blob has this digest.
        """
        path = self._fresh(self._path(digest))
        try:
            return int(self._fs.size(path))
        except FileNotFoundError:
            raise _missing(digest) from None

    def open(self, digest: str) -> BinaryIO:
        """Open a stored blob for reading; the caller closes the file.

        Raises:
            NotFound: No blob has this digest.
        """
        path = self._fresh(self._path(digest))
        try:
            return cast(BinaryIO, self._fs.open(path, "rb"))
        except FileNotFoundError:
            raise _missing(digest) from None

    def iter_chunks(
        self, digest: str, *, chunk_size: int = CHUNK_SIZE, start: int = 0, end: int | None = None
    ) -> Iterator[bytes]:
        """Yield the bytes ``[start, end)`` of a stored blob in chunks of at most ``chunk_size``.

        Like a slice, ``end`` is exclusive and is clamped to the blob's size; ``None`` means the end.

        Raises:
            InvalidInput: ``chunk_size`` is not positive, ``start`` is negative or ``end`` < ``start``.
            NotFound: No blob has this digest.
        """
        if chunk_size <= 0:
            raise InvalidInput(f"chunk_size must be positive, got {chunk_size}")
        if start < 0 or (end is not None and end < start):
            raise InvalidInput(f"invalid byte range start={start}, end={end}; expected 0 <= start <= end")
        with self.open(digest) as handle:
            if start:
                handle.seek(start)
            remaining = None if end is None else end - start
            while remaining is None or remaining > 0:
                chunk = handle.read(chunk_size if remaining is None else min(chunk_size, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    def download_to(self, digest: str, dest: str | os.PathLike[str]) -> None:
        """Copy a stored blob to a local file, creating its folder; the file appears only once complete.

        Raises:
            NotFound: No blob has this digest.
        """
        target = Path(dest)
        partial = target.with_name(target.name + ".part")
        with self.open(digest) as source:
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with open(partial, "wb") as out:
                    for chunk in _read_chunks(source.read):
                        out.write(chunk)
                os.replace(partial, target)
            except BaseException:
                with contextlib.suppress(FileNotFoundError):
                    partial.unlink()
                raise

    def delete(self, digest: str) -> None:
        """Delete a stored blob; deleting a missing blob does nothing."""
        self._remove_quietly(self._path(digest))

    def list_digests(self) -> Iterator[str]:
        """Yield the digest of every stored blob, for garbage collection."""
        base = f"{self._root}/blobs"
        try:
            found = self._fs.find(base)
        except FileNotFoundError:
            return
        for path in sorted(found):
            parts = str(path).rstrip("/").split("/")
            if len(parts) >= 2 and len(parts[-2]) == 2 and is_valid_digest(parts[-2] + parts[-1]):
                yield parts[-2] + parts[-1]


def _abandon(handle: Any) -> None:
    """Close a half-written file without publishing what it holds.

    Closing an fsspec buffered file (s3fs, gcsfs, adlfs) uploads the rest and commits it: S3 would complete
    the multipart upload. ``discard`` aborts it instead (S3's AbortMultipartUpload), so no partial object
    and no orphaned, billed parts are left behind.
    """
    if isinstance(handle, AbstractBufferedFile):
        try:
            handle.discard()
        except Exception:  # the caller's error matters more than a failed clean-up
            logger.warning("could not abort the partial upload %s", handle.path, exc_info=True)
        handle.closed = True
    else:
        handle.close()


def _read_chunks(read: Callable[[int], bytes]) -> Iterator[bytes]:
    while chunk := read(CHUNK_SIZE):
        yield chunk


def _missing(digest: str) -> NotFound:
    return NotFound(f"blob {digest} not found in the artifact store; it may have been garbage-collected")
