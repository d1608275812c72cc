"""A small closed-loop HTTP load generator: N keep-alive connections, each sending request after request.

Used by the serving benchmark (no wrk or hey on these machines). It speaks HTTP/1.1 over asyncio streams and
parses only what it needs (status line, Content-Length), so the generator costs little CPU per request;
on a 2-core machine it still competes with the server, which the benchmark reports.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from dataclasses import dataclass, field

__all__ = ["LoadResult", "run_load"]


@dataclass
class LoadResult:
    """What a run of the load generator saw."""

    seconds: float
    ok: int = 0
    errors: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def requests_per_second(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]

    def summary(self) -> str:
        return (
            f"{self.requests_per_second:,.0f} req/s, p50 {self.percentile(50):.2f} ms, "
            f"p99 {self.percentile(99):.2f} ms, {self.ok} ok, {self.errors} errors "
            f"(median {statistics.median(self.latencies_ms) if self.latencies_ms else float('nan'):.2f} ms)"
        )


async def _connection(
    host: str, port: int, request: bytes, deadline: float, result: LoadResult, warmup_until: float
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while True:
            started = time.perf_counter()
            if started >= deadline:
                return
            writer.write(request)
            status_line = await reader.readline()
            length = 0
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b""):
                    break
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:].strip())
            if length:
                await reader.readexactly(length)
            elapsed = (time.perf_counter() - started) * 1000
            if not status_line:
                result.errors += 1
                return
            status = int(status_line.split(b" ", 2)[1])
            if started < warmup_until:
                continue
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if status == 200:
                result.ok += 1
                result.latencies_ms.append(elapsed)
            else:
                result.errors += 1
    finally:
        writer.close()


async def _run(
    url_host: str,
    port: int,
    path: str,
    body: bytes,
    headers: dict[str, str],
    connections: int,
    seconds: float,
    warmup: float,
) -> LoadResult:
    head = f"POST {path} HTTP/1.1\r\nHost: {url_host}:{port}\r\nContent-Type: application/json\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    head += f"Content-Length: {len(body)}\r\n\r\n"
    request = head.encode() + body
    start = time.perf_counter()
    warmup_until = start + warmup
    deadline = warmup_until + seconds
    result = LoadResult(seconds=seconds)
    await asyncio.gather(
        *(_connection(url_host, port, request, deadline, result, warmup_until) for _ in range(connections))
    )
    return result


def run_load(
    url: str,
    body: bytes,
    *,
    connections: int = 8,
    seconds: float = 20.0,
    warmup: float = 2.0,
    headers: dict[str, str] | None = None,
) -> LoadResult:
    """POST ``body`` to ``url`` on ``connections`` keep-alive connections, ``seconds`` after ``warmup``."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.hostname is None or parts.port is None:
        raise ValueError(f"give a URL with a host and a port, not {url!r}")
    return asyncio.run(
        _run(parts.hostname, parts.port, parts.path or "/", body, headers or {}, connections, seconds, warmup)
    )
