"""The metric spool of a submitted run: the script appends to memory-mapped files, the runner ingests them.

A point is a 32-byte record in a segment file (``seg-000000.bin``, …) mapped shared: a store into the
map is in the kernel's page cache at once, seen by the runner's own map and kept when the script is
killed (even by SIGKILL right after ``log`` returns), with no system call per point. A record is four
little-endian 64-bit words: header (key id in the low 32 bits; bit 32 committed, bit 33 step given),
step, value (double), timestamp (double). The header is stored last, in one aligned 8-byte store, so a
reader that sees it committed sees the whole record: x86-64 makes stores visible in program order (a
weakly ordered CPU such as arm64 would need a checksum per record). Records are written in slot order
under a lock, so the committed records of a segment are a prefix of it. Key names are ``<id>\\t<key>``
lines of ``keys.txt``, written before a record uses the id. One writer holds the directory at a time
(``flock`` on ``keys.txt``); the next one continues at the first free slot. ``flush`` has nothing to do:
``msync`` would only matter for a crash of the machine, which the runner would not survive either.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import mmap
import os
import threading
import time
import weakref
from bisect import bisect_left
from itertools import compress
from pathlib import Path
from typing import Any

from ember.entities import MetricSeries
from ember.entities.tracking import check_key, check_step
from ember.errors import Conflict, InvalidInput

__all__ = ["KEYS_FILE", "RECORD_SIZE", "SpoolReader", "SpoolWriter", "segment_name"]

logger = logging.getLogger(__name__)

RECORD_SIZE = 32
KEYS_FILE = "keys.txt"
_COMMITTED = 1 << 32
_STEP_GIVEN = 1 << 33
_KEY_MASK = (1 << 32) - 1

_time = time.time  # a global, not an attribute: the hot path saves a lookup
_Columns = tuple[list[float], list[Any], list[float]]  # values, steps (None: not given), timestamps
_LIVE: weakref.WeakSet[SpoolWriter] = weakref.WeakSet()


def segment_name(index: int) -> str:
    """The file name of segment ``index``."""
    return f"seg-{index:06d}.bin"


def _after_fork_in_child() -> None:
    # The child shares the parent's map but not its lock or slot counter: writing would overwrite.
    for writer in list(_LIVE):
        writer._lock = threading.Lock()  # another thread may have held it at the fork
        os.close(writer._keys_fd)  # else the child keeps the flock after the parent lets it go
        writer._keys_fd = -1
        writer._stop("metrics cannot be logged from a forked child of the run's script; log from the parent")


os.register_at_fork(after_in_child=_after_fork_in_child)


def _read_keys(data: bytes) -> tuple[dict[int, str], int]:
    """Parse the complete ``<id>\\t<key>`` lines; returns them and how many bytes they take."""
    end = data.rfind(b"\n") + 1
    pairs = (line.partition("\t") for line in data[:end].decode().splitlines())
    return {int(kid): key for kid, tab, key in pairs if tab and kid.isdigit()}, end


def _map(path: Path, *, writable: bool) -> tuple[mmap.mmap, int] | None:
    """Map the whole records of a segment file (shared); None while it does not exist."""
    try:
        fd = os.open(path, os.O_RDWR if writable else os.O_RDONLY)  # not inherited (PEP 446)
    except FileNotFoundError:
        return None
    try:
        records = os.fstat(fd).st_size // RECORD_SIZE
        access = mmap.ACCESS_WRITE if writable else mmap.ACCESS_READ
        return (mmap.mmap(fd, records * RECORD_SIZE, access=access), records) if records else None
    finally:
        os.close(fd)  # the map keeps its own reference to the file


def _allocate(fd: int, size: int) -> None:
    # Blocks reserved up front: a full disk fails here, as an OSError from `log`, not as a SIGBUS
    # that kills the script when it first writes a page of a sparse file.
    try:
        os.posix_fallocate(fd, 0, size)
    except OSError as exc:
        if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
            raise
        os.ftruncate(fd, size)


def _wait_for(lock: threading.Lock) -> None:
    # The holder waits for the GIL: yield it until the lock is free. A blocking acquire hands the lock
    # to a thread that then waits for the GIL in turn: 0.9 M calls/s from 4 threads instead of 2.2 M.
    for _ in range(1000):
        time.sleep(0)
        if lock.acquire(False):
            return
    lock.acquire()  # the holder is slow (a tensor's __float__ syncing a GPU): stop spinning


def _first_uncommitted(words: memoryview, lo: int, hi: int) -> int:
    """The first slot in ``[lo, hi)`` whose header is not committed (committed slots are a prefix)."""
    return lo + bisect_left(range(lo, hi), True, key=lambda slot: not words[slot * 4] & _COMMITTED)


class SpoolWriter:
    """Appends metric points of one run to a spool directory; used in the script's process.

    It has the shape of ``MetricBuffer`` (``add``, ``flush``, ``close``), so ``Run.log`` can use either.
    Several threads may call ``add`` at once; forked children may not (``add`` raises ``Conflict``).
    """

    def __init__(self, directory: str | Path, *, segment_records: int = 1 << 20) -> None:
        """Open (or continue) the spool in ``directory``; raises ``Conflict`` if another writer holds it."""
        if segment_records < 1:
            raise InvalidInput(f"segment_records must be at least 1, got {segment_records}")
        self._dir = Path(directory)
        self._dir.mkdir(parents=True, exist_ok=True)
        self._segment_records = segment_records
        self._lock = threading.Lock()
        self._stopped: str | None = None
        self._mmap: mmap.mmap | None = None
        self._words: memoryview[int] = memoryview(b"")
        self._doubles: memoryview[float] = memoryview(b"").cast("d")
        self._slot = self._end = 0  # in 8-byte words: 4 per record
        self._keys_fd = os.open(self._dir / KEYS_FILE, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            fcntl.flock(self._keys_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            keys, complete = _read_keys((self._dir / KEYS_FILE).read_bytes())
            os.ftruncate(self._keys_fd, complete)  # drop a line cut short by a crash: no record uses it
            self._headers = {key: kid | _COMMITTED for kid, key in keys.items()}
            self._next_id = max(keys, default=0) + 1
            last = max((int(p.name[4:10]) for p in self._dir.glob("seg-??????.bin")), default=0)
            self._open_segment(last, create=False)
        except BaseException as exc:
            os.close(self._keys_fd)
            if isinstance(exc, BlockingIOError):
                raise Conflict(
                    f"the metric spool {self._dir} is already open for writing (in this or another "
                    "process); close that writer first"
                ) from None
            raise
        _LIVE.add(self)

    def _open_segment(self, index: int, *, create: bool) -> None:
        path = self._dir / segment_name(index)
        mapped = None if create else _map(path, writable=True)
        if mapped is None:
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                _allocate(fd, self._segment_records * RECORD_SIZE)
            finally:
                os.close(fd)
            os.rename(tmp, path)  # a reader never sees a segment before it has its full size
            mapped = _map(path, writable=True)
        if mapped is None:
            raise FileNotFoundError(path)
        self._mmap, records = mapped
        self._index = index
        self._words = memoryview(self._mmap).cast("q")
        self._doubles = memoryview(self._mmap).cast("d")
        self._slot = _first_uncommitted(self._words, 0, records) * 4
        self._end = records * 4
        if self._slot == self._end:
            self._next_segment()

    def _next_segment(self) -> int:
        """Map the next segment (the lock is held); returns the first free slot, in words."""
        if self._stopped is not None:
            raise Conflict(self._stopped)
        self._unmap()
        self._open_segment(self._index + 1, create=True)  # on failure, the next add tries again
        return self._slot

    def _unmap(self) -> None:
        self._words.release()
        self._doubles.release()
        if self._mmap is not None:
            self._mmap.close()
            self._mmap = None

    def add(self, key: str, value: float, step: int | None) -> None:
        """Append one point; it is safe from a crash of this process once this returns.

        Raises ``InvalidInput`` as ``Run.log`` does (bad key, value not a number, step not a 64-bit int).
        """
        try:
            header = self._headers[key]
            if step is None:
                at = 0
            elif type(step) is int:
                at = step
                header |= _STEP_GIVEN
            else:
                raise TypeError
            now = _time()
            lock = self._lock
            if not lock.acquire(False):
                _wait_for(lock)
            try:
                slot = self._slot
                if slot == self._end:
                    slot = self._next_segment()
                words = self._words
                words[slot + 1] = at  # ValueError beyond 64 bits
                doubles = self._doubles
                doubles[slot + 2] = value  # TypeError unless float() would take it without parsing
                doubles[slot + 3] = now
                words[slot] = header  # last: commits the record
                self._slot = slot + 4
            finally:
                lock.release()
        except (KeyError, TypeError, ValueError):
            self._add_checked(key, value, step)

    def _add_checked(self, key: str, value: float, step: int | None) -> None:
        """The slow path of ``add``: validate and normalise, then take the fast path, which cannot fail."""
        if not isinstance(key, str) or key not in self._headers:
            self._intern(key)
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            raise InvalidInput(f"metric {key!r} must be a number, got {type(value).__name__}") from None
        if step is not None:
            try:
                check_step(key, step)
            except ValueError as exc:
                raise InvalidInput(str(exc)) from None
            step = int(step)
        self.add(key, number, step)

    def _intern(self, key: str) -> None:
        """Validate a new key and give it an id, written to ``keys.txt`` before any record uses it."""
        try:
            check_key(key, "metric name")
        except ValueError as exc:
            raise InvalidInput(str(exc)) from None
        with self._lock:
            if self._stopped is not None:
                raise Conflict(self._stopped)
            if key not in self._headers:
                line = f"{self._next_id}\t{key}\n".encode()
                if os.write(self._keys_fd, line) != len(line):
                    raise OSError(f"short write to {self._dir / KEYS_FILE}")
                self._headers[key] = self._next_id | _COMMITTED
                self._next_id += 1

    def flush(self) -> None:
        """Nothing to do: a point is safe from this process's death once ``add`` returns (see the module)."""

    def close(self) -> None:
        """Unmap the spool and let another writer open it; later ``add`` calls raise ``Conflict``."""
        with self._lock:
            if self._mmap is None:
                return
            self._stop(f"the metric spool {self._dir} is closed")
            self._unmap()
            if self._keys_fd >= 0:
                os.close(self._keys_fd)  # releases the flock
        _LIVE.discard(self)

    def _stop(self, reason: str) -> None:  # every later `add` takes the slow path: Conflict(reason)
        self._stopped = reason
        self._headers = {}
        self._slot = self._end = -4

    def __enter__(self) -> SpoolWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SpoolReader:
    """Reads the points of a spool directory as they are committed; used in the runner's process."""

    def __init__(self, directory: str | Path) -> None:
        """Read the spool in ``directory``, which may not exist yet."""
        self._dir = Path(directory)
        self._keys: dict[int, str] = {}
        self._keys_read = 0  # bytes of keys.txt parsed so far
        self._index = self._record = self._records = 0  # segment, next record in it, records in it
        self._mmap: mmap.mmap | None = None
        self._view = self._words = memoryview(b"")

    def read_new(self, max_points: int = 500_000) -> list[MetricSeries]:
        """Everything committed since the last call (at most ``max_points``), one series per key.

        Series come in the order their keys first appear, points in the order they were logged.
        ``steps`` is None for a series logged without steps, else a list with None where a point had
        none. A record is returned only once its writer committed it, so never half-written.
        """
        if max_points < 1:
            raise InvalidInput(f"max_points must be at least 1, got {max_points}")
        groups: dict[int, _Columns] = {}
        budget = max_points
        while budget > 0 and self._open_segment():
            start = self._record
            stop = _first_uncommitted(self._words, start, min(self._records, start + budget))
            if stop > start:
                self._decode(start, stop, groups)
                budget -= stop - start
                self._record = stop
            if self._record < self._records:
                break
            self.close()  # full: the writer has moved on to the next segment
            self._index += 1
            self._record = 0
        out = []
        for kid, (values, steps, stamps) in groups.items():
            data: dict[str, Any] = {"key": self._keys[kid], "values": values, "timestamps": stamps}
            data["steps"] = None if steps.count(None) == len(steps) else steps
            out.append(MetricSeries.model_construct(**data))
        return out

    def _open_segment(self) -> bool:
        if self._mmap is None:
            mapped = _map(self._dir / segment_name(self._index), writable=False)
            if mapped is None:
                return False
            self._mmap, self._records = mapped
            self._view = memoryview(self._mmap)
            self._words = self._view.cast("q")
        return True

    def _refresh_keys(self) -> None:
        with open(self._dir / KEYS_FILE, "rb") as f:  # written before the first segment
            f.seek(self._keys_read)
            keys, complete = _read_keys(f.read())
        self._keys.update(keys)
        self._keys_read += complete

    def _decode(self, start: int, stop: int, groups: dict[int, _Columns]) -> None:
        """Append records ``[start, stop)``, all committed, to ``groups`` (key id -> columns)."""
        # Read only after the headers were seen committed: x86-64 keeps loads in order too.
        chunk = self._view[start * RECORD_SIZE : stop * RECORD_SIZE]
        with chunk, chunk.cast("q") as words, chunk.cast("d") as doubles:
            headers: list[int] = words[0::4].tolist()
            steps: list[Any] = words[1::4].tolist()
            values: list[Any] = doubles[2::4].tolist()  # typeshed takes a strided view for one of ints
            stamps: list[Any] = doubles[3::4].tolist()
        distinct = list(dict.fromkeys(headers))  # in order of first appearance
        kids = {h: h & _KEY_MASK for h in distinct}
        if not all(map(self._keys.__contains__, kids.values())):
            self._refresh_keys()
            for kid in set(kids.values()) - self._keys.keys():
                logger.error("metric spool %s: points of unknown key id %d dropped", self._dir, kid)
        p = len(distinct)
        periodic = headers[p:] == headers[:-p]  # a loop logging the same keys in turn: slice, in C
        if len(set(kids.values())) == p and (periodic or p <= 16):  # 16 C passes beat 1 in Python
            for j, header in enumerate(distinct):  # each key has one header here: select by it
                if periodic:
                    cols = (values[j::p], steps[j::p], stamps[j::p])
                else:
                    picked = list(map(header.__eq__, headers))
                    cols = (list(compress(values, picked)), list(compress(steps, picked)), [])
                    cols[2].extend(compress(stamps, picked))
                if not header & _STEP_GIVEN:
                    cols[1][:] = [None] * len(cols[0])
                self._extend(groups, kids[header], cols)
            return
        for kid in dict.fromkeys(kids.values()):
            self._extend(groups, kid, ([], [], []))
        for header, value, at, stamp in zip(headers, values, steps, stamps, strict=True):
            found = groups.get(header & _KEY_MASK)
            if found is not None:
                found[0].append(value)
                found[1].append(at if header & _STEP_GIVEN else None)
                found[2].append(stamp)

    def _extend(self, groups: dict[int, _Columns], kid: int, cols: _Columns) -> None:
        if kid in self._keys:
            old = groups.setdefault(kid, cols)  # fresh lists: adopted, not copied
            for column, more in zip(old, cols, strict=True):
                if column is not more:
                    column.extend(more)

    def close(self) -> None:
        """Unmap the current segment; the files stay, for the runner to delete."""
        self._words.release()
        self._view.release()
        if self._mmap is not None:
            self._mmap.close()
            self._mmap = None

    def __enter__(self) -> SpoolReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
