"""Collect scoring inputs and predictions of deployments that ask for it, as Parquet in the default datastore.

Files land at ``collected/<endpoint>/<deployment>/<yyyy>/<mm>/<dd>/<HHMMSS>-<id>.parquet`` in the
workspace's default datastore, one file per deployment every ``flush_seconds`` (or sooner once
``max_rows`` are waiting), with the columns ``time`` (UTC), ``request_id``, ``endpoint``, ``deployment``,
``status``, ``latency_ms``, ``input`` and ``output`` (the JSON texts). A dataset over
``collected/<endpoint>/<deployment>/**/*.parquet`` reads them back (the drift monitor's input).
Recording costs the router one append; writing happens on a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from ember.backend import Backend

__all__ = ["COLLECTED_PREFIX", "RequestCollector"]

logger = logging.getLogger(__name__)

COLLECTED_PREFIX = "collected"
MAX_VALUE_BYTES = 1 * 2**20  # longer inputs/outputs are cut (and flagged) to keep files readable


class RequestCollector:
    """Buffers (input, output) pairs per deployment and writes them as Parquet files by date."""

    def __init__(self, backend: Backend, *, flush_seconds: float = 10.0, max_rows: int = 5000) -> None:
        self.backend = backend
        self.flush_seconds = flush_seconds
        self.max_rows = max_rows
        self._rows: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
        self._access: Any = None
        self._access_until = 0.0
        self._warned = False

    def record(
        self,
        endpoint: str,
        deployment: str,
        request_id: str,
        body: bytes,
        status: int,
        answer: bytes,
        seconds: float,
    ) -> None:
        """Keep one request and its answer for the next file (called by the router)."""
        rows = self._rows.setdefault((endpoint, deployment), [])
        rows.append(
            (
                time.time(),
                request_id,
                status,
                seconds * 1000.0,
                body[:MAX_VALUE_BYTES],
                answer[:MAX_VALUE_BYTES],
            )
        )

    def recorder(self) -> Callable[[str, Any, str, bytes, int, bytes, float], None]:
        """The router's hook (it passes its deployment object; only the name is kept)."""

        def hook(
            endpoint: str, route: Any, request_id: str, body: bytes, status: int, answer: bytes, s: float
        ) -> None:
            self.record(endpoint, route.name, request_id, body, status, answer, s)

        return hook

    def pending(self) -> int:
        return sum(len(rows) for rows in self._rows.values())

    async def run(self) -> None:
        """Flush on a timer until cancelled, then once more."""
        loop = asyncio.get_running_loop()
        try:
            while True:
                waited = 0.0
                while waited < self.flush_seconds and self.pending() < self.max_rows:
                    await asyncio.sleep(0.25)
                    waited += 0.25
                await loop.run_in_executor(None, self.flush, self._take())
        finally:
            rest = self._take()
            if rest:
                await loop.run_in_executor(None, self.flush, rest)

    def _take(self) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
        taken, self._rows = self._rows, {}
        return taken

    def _filesystem(self) -> tuple[Any, str]:
        from ember.data.files import open_filesystem

        if self._access is None or time.time() > self._access_until:
            self._access = self.backend.data.get_datastore_access("workspace", write=True)
            expires = self._access.expires_time
            self._access_until = (expires.timestamp() - 300) if expires is not None else time.time() + 3600
        return open_filesystem(self._access), self._access.root.rstrip("/")

    def flush(self, batches: dict[tuple[str, str], list[tuple[Any, ...]]]) -> None:
        """Write each deployment's rows as one Parquet file (blocking; runs on a worker thread)."""
        if not batches:
            return
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            if not self._warned:
                logger.error(
                    "collecting requests needs pyarrow (pip install 'ember-ml[data]'); rows are dropped"
                )
                self._warned = True
            return
        try:
            fs, root = self._filesystem()
        except Exception:
            logger.exception(
                "cannot reach the default datastore; %d collected rows dropped",
                sum(map(len, batches.values())),
            )
            return
        for (endpoint, deployment), rows in batches.items():
            if not rows:
                continue
            first = datetime.fromtimestamp(rows[0][0], tz=UTC)
            table = pa.table(
                {
                    "time": pa.array(
                        [datetime.fromtimestamp(r[0], tz=UTC) for r in rows], pa.timestamp("us", tz="UTC")
                    ),
                    "request_id": pa.array([r[1] for r in rows], pa.string()),
                    "endpoint": pa.array([endpoint] * len(rows), pa.string()),
                    "deployment": pa.array([deployment] * len(rows), pa.string()),
                    "status": pa.array([r[2] for r in rows], pa.int16()),
                    "latency_ms": pa.array([r[3] for r in rows], pa.float32()),
                    "input": pa.array([r[4].decode("utf-8", "replace") for r in rows], pa.string()),
                    "output": pa.array([r[5].decode("utf-8", "replace") for r in rows], pa.string()),
                }
            )
            folder = f"{root}/{COLLECTED_PREFIX}/{endpoint}/{deployment}/{first:%Y/%m/%d}"
            path = f"{folder}/{first:%H%M%S}-{uuid.uuid4().hex[:8]}.parquet"
            try:
                fs.makedirs(folder, exist_ok=True)
                with fs.open(path, "wb") as out:
                    pq.write_table(table, out, compression="zstd")
            except Exception:
                logger.exception("writing %d collected rows of %s/%s failed", len(rows), endpoint, deployment)
