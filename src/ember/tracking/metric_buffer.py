"""The in-memory buffer behind ``run.log``: the training loop appends, a background thread flushes.

A call to ``add`` costs a lock and a list append; batches go to the backend as columnar series, so
logging 100,000 points is a handful of transactions, not 100,000. ``flush()`` returns once every
point added before it is durable. Points logged from several threads keep their order per key.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
import weakref
from typing import Any

from ember.contracts.tracking import TrackingBackend
from ember.entities import MetricSeries
from ember.errors import EmberError

__all__ = ["MetricBuffer"]

logger = logging.getLogger(__name__)

_LIVE: weakref.WeakSet[MetricBuffer] = weakref.WeakSet()


@atexit.register
def _flush_all_at_exit() -> None:
    for buffer in list(_LIVE):
        try:
            buffer.close()
        except Exception:  # exit must go on; the error was logged by the buffer
            logger.exception("could not flush metrics at exit")


class MetricBuffer:
    """Buffers metric points of one run and sends them in batches."""

    def __init__(
        self,
        backend: TrackingBackend,
        run_id: str,
        *,
        flush_interval: float = 1.0,
        batch_points: int = 200_000,
        max_pending: int = 2_000_000,
    ) -> None:
        self._backend = backend
        self._run_id = run_id
        self._interval = flush_interval
        self._batch_points = batch_points
        self._max_pending = max_pending
        self._lock = threading.Lock()
        self._points: list[tuple[str, float, int | None, float]] = []
        self._send_lock = threading.Lock()  # one batch in flight at a time keeps per-key order
        self._wake = threading.Event()
        self._stop = False
        self._thread: threading.Thread | None = None
        self._error: EmberError | None = None
        _LIVE.add(self)

    def add(self, key: str, value: float, step: int | None) -> None:
        """Queue one point; never blocks on I/O unless far too many points are pending."""
        now = time.time()
        with self._lock:
            self._points.append((key, value, step, now))
            pending = len(self._points)
            if self._thread is None:
                self._start()
        if pending >= self._batch_points:
            self._wake.set()
            if pending >= self._max_pending:  # back-pressure: the producer outruns the store
                self.flush()

    def _start(self) -> None:
        self._thread = threading.Thread(
            target=self._loop, name=f"ember-metrics-{self._run_id[:8]}", daemon=True
        )
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop:
            self._wake.wait(self._interval)
            self._wake.clear()
            try:
                self._send()
            except EmberError as exc:
                if _is_refusal(exc):
                    self._error = exc
                    logger.error("metrics of run %s were refused: %s", self._run_id, exc.message)
                else:
                    logger.warning("could not send metrics of run %s (%s); will retry", self._run_id, exc)
            except Exception:  # e.g. the database is busy: the points were put back; retry later
                logger.warning("could not send metrics of run %s; will retry", self._run_id, exc_info=True)

    def _send(self) -> None:
        with self._send_lock:
            with self._lock:
                points, self._points = self._points, []
            if not points:
                return
            try:
                self._backend.log_metrics(self._run_id, _columnar(points))
            except Exception as exc:
                if not (isinstance(exc, EmberError) and _is_refusal(exc)):
                    with self._lock:  # transient: keep the points, in order, for the next try
                        self._points[:0] = points
                raise  # a refusal (bad name, finished run) drops the batch for good

    def flush(self) -> None:
        """Send everything queued so far and wait until it is durable; re-raise a refusal."""
        self._send()
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> None:
        """Flush and stop the background thread."""
        self._stop = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        self._thread = None
        _LIVE.discard(self)
        self.flush()


def _is_refusal(exc: EmberError) -> bool:
    """A 4xx-class error: sending the same points again would be refused again."""
    return 400 <= exc.http_status < 500


def _columnar(points: list[tuple[str, float, int | None, float]]) -> list[MetricSeries]:
    grouped: dict[str, tuple[list[float], list[int | None], list[float]]] = {}
    for key, value, step, stamp in points:
        cols = grouped.get(key)
        if cols is None:
            cols = grouped[key] = ([], [], [])
        cols[0].append(value)
        cols[1].append(step)
        cols[2].append(stamp)
    out = []
    for key, (values, steps, stamps) in grouped.items():
        data: dict[str, Any] = {"key": key, "values": values, "timestamps": stamps}
        data["steps"] = None if all(s is None for s in steps) else steps
        # Built without re-validating each point: keys and values were checked in Run.log.
        out.append(MetricSeries.model_construct(**data))
    return out
