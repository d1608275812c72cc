"""Time the metric spool of a submitted run: ``SpoolWriter.add`` calls/s and the reader's ingest rate.

Target: at least 1,000,000 ``add`` calls/s in the script's process. Each repetition writes a fresh spool
(so page faults of new segments are counted), cycling over a few keys with steps, then reads it back.

Usage: ``PYTHONPATH=src python benchmarks/spool_rate.py [--calls N] [--reps R] [--keys K] [--threads T]``
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from pathlib import Path

from ember.tracking.spool import SpoolReader, SpoolWriter

TARGET_CALLS_PER_S = 1_000_000


def write(directory: Path, *, calls: int, keys: list[str], threads: int) -> float:
    """Log ``calls`` points from ``threads`` threads; returns the wall-clock seconds of the calls."""
    writer = SpoolWriter(directory)
    add = writer.add
    n_keys = len(keys)
    per_thread = calls // threads

    def loop(offset: int) -> None:
        for i in range(offset, offset + per_thread):
            add(keys[i % n_keys], 0.5, i)

    workers = [threading.Thread(target=loop, args=(t * per_thread,)) for t in range(threads)]
    start = time.perf_counter()
    if threads == 1:
        loop(0)
    else:
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    elapsed = time.perf_counter() - start
    writer.close()
    return elapsed


def loop_overhead(calls: int, keys: list[str]) -> float:
    """Seconds of the same loop calling a function that does nothing: the floor of any ``add``."""

    def add(key: str, value: float, step: int | None) -> None:
        return None

    n_keys = len(keys)
    start = time.perf_counter()
    for i in range(calls):
        add(keys[i % n_keys], 0.5, i)
    return time.perf_counter() - start


def read_all(directory: Path, expected: int) -> float:
    """Read the whole spool back; returns the seconds it took."""
    reader = SpoolReader(directory)
    got = 0
    start = time.perf_counter()
    while True:
        batch = reader.read_new()
        if not batch:
            break
        got += sum(len(s.values) for s in batch)
    elapsed = time.perf_counter() - start
    reader.close()
    if got != expected:
        raise SystemExit(f"read {got} points, wrote {expected}")
    return elapsed


def main() -> None:
    """Print the median rates of ``--reps`` repetitions."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2_000_000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--keys", type=int, default=4)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    keys = [f"train/metric_{k}" for k in range(args.keys)]
    calls = args.calls // args.threads * args.threads
    write_s, read_s, floor_s = [], [], []
    for _ in range(args.reps):
        with tempfile.TemporaryDirectory(prefix="ember-spool-") as tmp:
            write_s.append(write(Path(tmp), calls=calls, keys=keys, threads=args.threads))
            read_s.append(read_all(Path(tmp), calls))
        floor_s.append(loop_overhead(calls, keys))
    writer_rate = calls / statistics.median(write_s)
    print(
        f"SpoolWriter.add: {writer_rate:>12,.0f} calls/s  (median of {args.reps}, {calls:,} calls, "
        f"{args.keys} keys, {args.threads} thread(s); all: "
        + ", ".join(f"{calls / s:,.0f}" for s in write_s)
        + ")"
    )
    print(
        f"  loop floor:    {calls / statistics.median(floor_s):>12,.0f} calls/s  (same loop, empty function)"
    )
    print(f"SpoolReader:     {calls / statistics.median(read_s):>12,.0f} points/s ingested")
    verdict = "meets" if writer_rate >= TARGET_CALLS_PER_S else "MISSES"
    print(f"writer {verdict} the target of {TARGET_CALLS_PER_S:,} calls/s")


if __name__ == "__main__":
    main()
