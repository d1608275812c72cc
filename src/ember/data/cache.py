"""A local cache of parsed tables, keyed by what was parsed: the files' identities and the parse options.

Parsing dominates reading a dataset (a 1 GB CSV takes seconds on two cores, however it is parsed), and a
registered version is read again and again: in a notebook, by every run that consumes it. The cache keeps
the parsed table, before transformations, as an uncompressed Arrow IPC file; a later read memory-maps it,
which costs next to nothing, and pandas 3 shares its strings with Arrow.

The key is a digest of the format, the parse options and every file's datastore, path, size, modification
time and ETag as listed *now*, so a changed file misses the cache and is parsed again: the cache can serve
stale data only where the fingerprint itself would not notice the change (a local file rewritten with the
same size within the file system's timestamp resolution). Entries are written to a temporary name and
renamed, so a reader never sees half a table; the least recently used ones are removed beyond the size
budget.

Settings: ``$EMBER_DATA_CACHE`` (a folder, or ``off``; default ``~/.cache/ember/tables``),
``$EMBER_DATA_CACHE_MAX_BYTES`` (default 20 GiB) and ``$EMBER_DATA_CACHE_MIN_BYTES`` (sources smaller than
this are not cached, default 32 MiB: they parse in well under a second).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import pyarrow as pa

from ember.data.files import ResolvedFile
from ember.entities.data import DatasetDefinition

__all__ = ["TableCache"]

logger = logging.getLogger(__name__)

_DEFAULT_MAX_BYTES = 20 << 30
_DEFAULT_MIN_BYTES = 32 << 20
_FORMAT_VERSION = "1"  # bump when the parsing code changes what a cached table holds


def _combined(table: pa.Table) -> pa.Table:
    """The table with each column in one chunk where Arrow allows it (text over 2 GiB stays chunked)."""
    columns = []
    for column in table.columns:
        try:
            columns.append(column.combine_chunks())
        except (pa.ArrowInvalid, pa.ArrowCapacityError):
            columns.append(column)
    return pa.table(columns, schema=table.schema)


class TableCache:
    """Parsed tables on local disk, memory-mapped on a hit."""

    def __init__(
        self, root: Path, *, max_bytes: int = _DEFAULT_MAX_BYTES, min_bytes: int = _DEFAULT_MIN_BYTES
    ):
        self.root = root
        self.max_bytes = max_bytes
        self.min_bytes = min_bytes

    @classmethod
    def from_env(cls) -> TableCache | None:
        """The cache the environment configures, or None when it is switched off."""
        setting = os.environ.get("EMBER_DATA_CACHE", "")
        if setting.lower() in ("off", "0", "false", "no"):
            return None
        root = (
            Path(setting)
            if setting
            else Path(os.environ.get("XDG_CACHE_HOME", "~/.cache")).expanduser() / "ember" / "tables"
        )
        try:
            max_bytes = int(os.environ.get("EMBER_DATA_CACHE_MAX_BYTES", _DEFAULT_MAX_BYTES))
            min_bytes = int(os.environ.get("EMBER_DATA_CACHE_MIN_BYTES", _DEFAULT_MIN_BYTES))
        except ValueError:
            logger.warning("ignoring a malformed EMBER_DATA_CACHE_*_BYTES setting")
            max_bytes, min_bytes = _DEFAULT_MAX_BYTES, _DEFAULT_MIN_BYTES
        return cls(root, max_bytes=max_bytes, min_bytes=min_bytes)

    @staticmethod
    def key(definition: DatasetDefinition, files: Sequence[ResolvedFile]) -> str | None:
        """The entry's name, or None when a file has nothing that identifies its content."""
        identities = []
        for item in files:
            f = item.file
            if f.etag is None and f.modified_time is None:
                return None
            identities.append([f.datastore, f.path, f.size, f.modified_time, f.etag])
        document = {
            "v": _FORMAT_VERSION,
            "format": definition.format,
            "parse": definition.parse.model_dump(mode="json"),
            "files": identities,
        }
        return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.arrow"

    def read(
        self, definition: DatasetDefinition, files: Sequence[ResolvedFile], parse: Callable[[], pa.Table]
    ) -> pa.Table:
        """The parsed table: from the cache when it holds this parse, else ``parse()`` (then stored)."""
        key = self.key(definition, files) if sum(f.file.size for f in files) >= self.min_bytes else None
        if key is None:
            return parse()
        path = self._path(key)
        try:
            table = pa.ipc.open_file(pa.memory_map(str(path))).read_all()
        except (FileNotFoundError, pa.ArrowInvalid, OSError):
            table = None
        if table is not None:
            with contextlib.suppress(OSError):
                os.utime(path)  # recently used
            logger.debug("parsed-table cache hit %s", key[:12])
            return table
        table = parse()
        if table.nbytes <= self.max_bytes:
            # Written beside the caller's work: Arrow memory is immutable, so the caller may use the table
            # meanwhile. Not a daemon: the interpreter waits for the entry at exit rather than lose it.
            threading.Thread(target=self._store, args=(path, table), name="ember-table-cache").start()
        return table

    def _store(self, path: Path, table: pa.Table) -> None:
        tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # One chunk per column: pandas then takes numbers without copying them (0.06 s against
            # 0.2-0.8 s for a 1 GB CSV's table of 16 MB blocks).
            combined = _combined(table)
            with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_file(sink, combined.schema) as writer:
                writer.write_table(combined)
            os.replace(tmp, path)
        except OSError as exc:  # a full or read-only disk costs the cache, never the read
            logger.warning("could not cache a parsed table in %s: %s", self.root, exc)
            with contextlib.suppress(OSError):
                tmp.unlink()
            return
        self._evict(keep=path)

    def _evict(self, *, keep: Path) -> None:
        for stale in self.root.glob("*/.*.tmp"):  # a writer that died; a live one renames within seconds
            with contextlib.suppress(OSError):
                if time.time() - stale.stat().st_mtime > 3600:
                    stale.unlink()
        entries = []
        for item in self.root.glob("*/*.arrow"):
            with contextlib.suppress(OSError):
                stat = item.stat()
                entries.append((stat.st_mtime, stat.st_size, item))
        total = sum(size for _, size, _ in entries)
        for _, size, item in sorted(entries):
            if total <= self.max_bytes:
                break
            if item == keep:
                continue
            with contextlib.suppress(OSError):
                item.unlink()
                total -= size
