"""A submitted run's script logs to a memory-mapped spool; the runner reads it, even after a SIGKILL."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ember.entities import MetricSeries
from ember.errors import Conflict, InvalidInput
from ember.tracking.spool import KEYS_FILE, SpoolReader, SpoolWriter, segment_name

Points = dict[str, list[tuple[float, int | None]]]


def _collect(series: list[MetricSeries], into: Points | None = None) -> Points:
    """Flatten what the reader returned into key -> [(value, step), ...], checking its shape."""
    out: Points = {} if into is None else into
    for s in series:
        assert s.timestamps is not None
        assert len(s.timestamps) == len(s.values)
        steps = s.steps if s.steps is not None else [None] * len(s.values)
        assert len(steps) == len(s.values)
        out.setdefault(s.key, []).extend(zip(s.values, steps, strict=True))
    return out


def _read_until(reader: SpoolReader, total: int, *, timeout: float = 30.0) -> Points:
    """Poll the reader until ``total`` points came in or the deadline passes."""
    points: Points = {}
    deadline = time.monotonic() + timeout
    while sum(map(len, points.values())) < total and time.monotonic() < deadline:
        _collect(reader.read_new(), points)
    return points


@pytest.fixture
def spool(tmp_path: Path) -> Path:
    return tmp_path / "spool"


@pytest.fixture
def reader(spool: Path) -> Iterator[SpoolReader]:
    with SpoolReader(spool) as r:
        yield r


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


def test_mixed_keys_steps_and_special_values_round_trip(spool: Path, reader: SpoolReader) -> None:
    logged: list[tuple[str, float, int | None]] = [
        ("loss", 0.5, 0),
        ("acc", 0.1, None),
        ("loss", float("nan"), 1),
        ("acc", float("inf"), None),
        ("loss", float("-inf"), None),
        ("lr", -0.0, -(2**63)),
        ("lr", 1e308, 2**63 - 1),
        ("acc", 3, None),
        ("loss", 2.25, 7),
    ]
    with SpoolWriter(spool) as writer:
        for key, value, step in logged:
            writer.add(key, value, step)

    series = reader.read_new()

    assert [s.key for s in series] == ["loss", "acc", "lr"]  # in order of first appearance
    got = _collect(series)
    for key in ("loss", "acc", "lr"):
        expected = [(float(v), s) for k, v, s in logged if k == key]
        assert len(got[key]) == len(expected)
        assert all(_same(g[0], e[0]) and g[1] == e[1] for g, e in zip(got[key], expected, strict=True))
    assert next(s for s in series if s.key == "acc").steps is None  # never a step: none at all
    assert reader.read_new() == []


def test_keys_with_spaces_slashes_and_colons(spool: Path, reader: SpoolReader) -> None:
    keys = ["train/loss", "eval loss", "gpu:0/mem used", "_x.y-z"]
    with SpoolWriter(spool) as writer:
        for i, key in enumerate(keys):
            writer.add(key, float(i), i)

    assert _collect(reader.read_new()) == {key: [(float(i), i)] for i, key in enumerate(keys)}


def test_points_are_kept_in_order_across_segment_rollover(spool: Path, reader: SpoolReader) -> None:
    with SpoolWriter(spool, segment_records=3) as writer:
        for i in range(20):
            writer.add("a" if i % 3 else "b", float(i), i)

    assert (spool / segment_name(6)).exists()
    got = _collect(reader.read_new())
    assert got == {
        "a": [(float(i), i) for i in range(20) if i % 3],
        "b": [(float(i), i) for i in range(20) if not i % 3],
    }


def test_reader_sees_points_while_the_writer_goes_on(spool: Path, reader: SpoolReader) -> None:
    assert reader.read_new() == []  # the script has not started yet: no directory
    with SpoolWriter(spool, segment_records=4) as writer:
        for batch in range(5):
            for i in range(batch * 3, batch * 3 + 3):
                writer.add("loss", float(i), i)
            assert _collect(reader.read_new()) == {
                "loss": [(float(i), i) for i in range(batch * 3, batch * 3 + 3)]
            }
        assert reader.read_new() == []


def test_read_new_returns_at_most_max_points(spool: Path, reader: SpoolReader) -> None:
    with SpoolWriter(spool, segment_records=7) as writer:
        for i in range(25):
            writer.add("loss", float(i), None)

    sizes = []
    while batch := reader.read_new(max_points=10):
        sizes.append(sum(len(s.values) for s in batch))
    assert sizes == [10, 10, 5]


def test_many_threads_logging_at_once_lose_nothing(spool: Path, reader: SpoolReader) -> None:
    threads, per_thread = 8, 20_000
    with SpoolWriter(spool, segment_records=5_000) as writer:
        start = threading.Barrier(threads)

        def log(t: int) -> None:
            start.wait()
            for i in range(per_thread):
                writer.add(f"thread/{t}", float(i), i)
                writer.add("shared", float(t), None)

        workers = [threading.Thread(target=log, args=(t,)) for t in range(threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()

    got = _read_until(reader, threads * per_thread * 2)
    for t in range(threads):
        assert got[f"thread/{t}"] == [(float(i), i) for i in range(per_thread)]
    assert sorted(v for v, _ in got["shared"]) == sorted(
        float(t) for t in range(threads) for _ in range(per_thread)
    )


WRITER_SCRIPT = textwrap.dedent(
    """
    import sys
    from ember.tracking.spool import SpoolWriter

    directory, n, segment_records = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    writer = SpoolWriter(directory, segment_records=segment_records)
    i = 0
    while n < 0 or i < n:
        k = i % 3
        writer.add(f"key{k}", i * 2.0 + 0.5, i)  # value and step agree: a torn record would not
        i += 1
    print("done", flush=True)
    sys.stdin.read()  # wait to be killed
    """
)


def _start_writer(spool: Path, n: int, *, segment_records: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER_SCRIPT, str(spool), str(n), str(segment_records)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_a_script_killed_with_sigkill_loses_no_point(spool: Path, reader: SpoolReader) -> None:
    n = 100_003
    proc = _start_writer(spool, n, segment_records=4096)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "done"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    got = _read_until(reader, n)

    assert sum(map(len, got.values())) == n
    for k in range(3):
        assert got[f"key{k}"] == [(i * 2.0 + 0.5, i) for i in range(k, n, 3)]
    assert reader.read_new() == []

    # The script's run context re-opened after the kill continues where it stopped.
    with SpoolWriter(spool) as writer:
        writer.add("key1", -1.0, n)
    assert _collect(reader.read_new()) == {"key1": [(-1.0, n)]}


def test_reader_never_returns_a_torn_record(spool: Path, reader: SpoolReader) -> None:
    proc = _start_writer(spool, -1, segment_records=1000)  # logs until killed
    try:
        got: Points = {}
        deadline = time.monotonic() + 30
        reads = 0
        while sum(map(len, got.values())) < 600_000 and time.monotonic() < deadline:
            _collect(reader.read_new(max_points=5_000), got)
            reads += 1
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)

    assert reads > 10  # the reader really read while the writer wrote
    assert sum(map(len, got.values())) >= 600_000
    for k in range(3):
        points = got[f"key{k}"]
        steps = [s for _, s in points]
        assert steps == list(range(k, k + 3 * len(points), 3))  # no gap, no repeat
        assert all(v == s * 2.0 + 0.5 for v, s in points if s is not None)


def test_a_second_writer_continues_after_the_first_and_reuses_key_ids(
    spool: Path, reader: SpoolReader
) -> None:
    with SpoolWriter(spool, segment_records=4) as writer:
        for i in range(6):
            writer.add("loss", float(i), i)
        writer.add("acc", 0.5, None)
    first = _collect(reader.read_new())

    with SpoolWriter(spool, segment_records=4) as writer:
        writer.add("loss", 6.0, 6)
        writer.add("lr", 0.1, None)
        writer.add("acc", 0.7, None)
    second = _collect(reader.read_new())

    assert first == {"loss": [(float(i), i) for i in range(6)], "acc": [(0.5, None)]}
    assert second == {"loss": [(6.0, 6)], "lr": [(0.1, None)], "acc": [(0.7, None)]}
    assert (spool / KEYS_FILE).read_text().splitlines() == ["1\tloss", "2\tacc", "3\tlr"]
    with SpoolReader(spool) as fresh:  # a runner that starts over reads both writers' points
        everything = _collect(fresh.read_new())
    assert everything["loss"] == [(float(i), i) for i in range(7)]
    assert everything["acc"] == [(0.5, None), (0.7, None)]


def test_a_key_name_cut_short_by_a_crash_is_dropped(spool: Path, reader: SpoolReader) -> None:
    with SpoolWriter(spool) as writer:
        writer.add("loss", 1.0, 0)
    with (spool / KEYS_FILE).open("a") as f:
        f.write("2\tacc")  # the script died inside this write: no record uses id 2 yet

    with SpoolWriter(spool) as writer:
        writer.add("lr", 0.1, None)
        writer.add("loss", 2.0, 1)

    assert (spool / KEYS_FILE).read_text() == "1\tloss\n2\tlr\n"
    assert _collect(reader.read_new()) == {"loss": [(1.0, 0), (2.0, 1)], "lr": [(0.1, None)]}


def test_only_one_writer_at_a_time(spool: Path) -> None:
    with SpoolWriter(spool), pytest.raises(Conflict, match="already open"):
        SpoolWriter(spool)
    SpoolWriter(spool).close()  # free again once closed


def test_bad_points_are_refused_like_run_log_and_write_nothing(spool: Path, reader: SpoolReader) -> None:
    with SpoolWriter(spool) as writer:
        writer.add("loss", 1.0, 1)
        for key, value, step, message in [
            ("bad..key", 1.0, None, "metric name"),
            ("", 1.0, None, "metric name"),
            ("loss\tx", 1.0, None, "metric name"),
            ("loss", "abc", None, "must be a number, got str"),
            ("loss", None, None, "must be a number, got NoneType"),
            ("loss", [1.0], 2, "must be a number, got list"),
            ("loss", 1.0, True, "steps must be integers"),
            ("loss", 1.0, 1.5, "steps must be integers"),
            ("loss", 1.0, 2**63, "outside the 64-bit integer range"),
            ("loss", 1.0, -(2**63) - 1, "outside the 64-bit integer range"),
        ]:
            with pytest.raises(InvalidInput, match=message):
                writer.add(key, value, step)  # type: ignore[arg-type]
        writer.add("loss", "2.5", 2)  # type: ignore[arg-type]  # what float() takes, Run.log takes
        writer.add("loss", True, 3)

    assert _collect(reader.read_new()) == {"loss": [(1.0, 1), (2.5, 2), (1.0, 3)]}
    assert (spool / KEYS_FILE).read_text() == "1\tloss\n"


def test_logging_after_close_is_refused(spool: Path) -> None:
    writer = SpoolWriter(spool)
    writer.add("loss", 1.0, None)
    writer.flush()
    writer.close()
    writer.close()  # twice is fine
    with pytest.raises(Conflict, match="closed"):
        writer.add("loss", 2.0, None)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_cannot_log_into_the_parents_spool(spool: Path, reader: SpoolReader) -> None:
    with SpoolWriter(spool) as writer:
        writer.add("loss", 1.0, 0)
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child reports through the pipe
            try:
                writer.add("loss", 2.0, 1)
                answer = b"logged"
            except Conflict:
                answer = b"refused"
            os.write(write_end, answer)
            os._exit(0)
        os.close(write_end)
        answer = os.read(read_end, 100)
        os.close(read_end)
        os.waitpid(pid, 0)
        writer.add("loss", 3.0, 2)

    assert answer == b"refused"
    assert _collect(reader.read_new()) == {"loss": [(1.0, 0), (3.0, 2)]}
