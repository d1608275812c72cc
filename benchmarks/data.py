"""Ember's data area: a large CSV into pandas, a profile of ten million rows, and 2,000 small files moved.

Usage (``make bench-data`` runs the first)::

    .venv/bin/python benchmarks/data.py [--size-mb 1024] [--rows 10000000] [--files 2000] [--reps 3]
    .venv/bin/python benchmarks/data.py --quick                    # 200 MiB, 1,000,000 rows, 200 files
    .venv/bin/python benchmarks/data.py --only csv --size-mb 200 --markdown .bench/data.md --keep

Measured in one invocation, on this machine:

1. ``Dataset.Tabular.from_delimited_files(...).register(...).to_pandas_dataframe()`` of a generated CSV
   (an int id, five numbers, a region, a timestamp and a short comment per row) against
   ``pandas.read_csv(path)`` with its defaults. Target: Ember at least 3x faster. Ember is timed on a first
   read (its parsed-table cache empty), on a read again (the cache filled) and with the cache off. Each
   repetition of each reader runs in a fresh interpreter, the readers interleaved, so none inherits
   another's memory pools.
2. ``dataset.get_profile(refresh=True)`` of a registered 10,000,000-row Parquet dataset in a local
   datastore, and ``ember.data.profile.profile_table`` on the same table in memory. Target: under 10 s.
3. ``Datastore.upload`` and ``Datastore.download`` of 2,000 files of 1 to 8 KB on Azurite (Azure Blob) and
   moto (S3), both started here, against a sequential loop of one request per file through the cloud's
   own client library (azure-storage-blob ``upload_blob``/``download_blob``, boto3
   ``put_object``/``get_object``).

The CSV and the Parquet file are generated once into ``.bench/data/`` (which git ignores) and reused;
each number is the median of ``--reps`` repetitions (3 by default).
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import math
import os
import platform
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from _bench_common import RESULT_PREFIX
from tracking import (
    BENCH_DIR,
    ROOT,
    BenchError,
    check,
    duration,
    fmt_ratio,
    load_average,
    median,
    say,
    tree_ticks,
)

HERE = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
GENERATOR = 2  # bump when the generated data changes: the cached files' names carry it
CHUNK_ROWS = 500_000  # rows generated and written at a time (about 58 MB of CSV)
CASE_TIMEOUT_S = 1800
TARGET_CSV_RATIO = 3.0
TARGET_PROFILE_S = 10.0
TRANSFER_CONCURRENCY = 16  # Datastore.upload/download's default max_concurrency
DATASTORE = "bench-data"
# The comments are four of these words, so some hold a comma and are quoted in the CSV.
WORDS = (
    "order shipped returned late early great poor fine item box blue red green small large fast slow "
    "however, also, customer said price refund again never always new old service support quality"
)
REGIONS = ("north", "south", "east", "west", "central", "online", "partner", "retail")


@dataclass(frozen=True)
class Scale:
    """How much work each measurement does."""

    csv_mib: int
    profile_rows: int
    files: int


FULL = Scale(csv_mib=1024, profile_rows=10_000_000, files=2_000)
QUICK = Scale(csv_mib=200, profile_rows=1_000_000, files=200)


# -- test data -------------------------------------------------------------------------------------


def make_rows(start: int, count: int, *, text_times: bool = True) -> Any:
    """``count`` rows from row ``start`` on, as a pyarrow Table; the same rows on every call.

    ``event_time`` is text (``2024-05-01 12:00:00``) for the CSV, or a timestamp for Parquet, the type
    a reader of the CSV infers.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    rng = np.random.default_rng([GENERATOR, start])
    words = pa.array(WORDS.split(" "))
    comment = pc.binary_join_element_wise(
        *(words.take(pa.array(rng.integers(0, len(words), count))) for _ in range(4)), " "
    )
    region = pa.array(REGIONS).take(pa.array(rng.integers(0, len(REGIONS), count)))
    times = pa.array(1_700_000_000 + rng.integers(0, 365 * 86_400, count), pa.timestamp("s"))
    return pa.table(
        {
            "id": np.arange(start, start + count, dtype=np.int64),
            "price": np.round(rng.lognormal(3.0, 1.0, count), 2),
            "score": rng.standard_normal(count),
            "temperature": np.round(rng.normal(20.0, 5.0, count), 1),
            "ratio": pa.array(rng.random(count), mask=rng.random(count) < 0.01),  # 1 % missing
            "quantity": rng.integers(1, 100, count),
            "region": region,
            "event_time": times.cast(pa.string()) if text_times else times,
            "comment": comment,
        }
    )


def ensure_csv(mib: int) -> Path:
    """The cached CSV of about ``mib`` MiB, written in chunks the first time."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    path = DATA_DIR / f"mixed-{mib}mib-v{GENERATOR}.csv"
    if path.exists():
        return path
    say(f"generating {path.relative_to(ROOT)} (once)")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    target = mib << 20
    rows, bytes_per_row = 0, 120.0  # a guess until the first chunk is written
    with pa.OSFile(str(part), "wb") as sink:
        writer: pacsv.CSVWriter | None = None
        while sink.tell() < target:
            # Size the last chunk so that the file ends close to the target.
            count = min(CHUNK_ROWS, max(1, math.ceil((target - sink.tell()) / bytes_per_row)))
            table = make_rows(rows, count)
            if writer is None:
                writer = pacsv.CSVWriter(sink, table.schema)
            writer.write_table(table)
            rows += count
            bytes_per_row = sink.tell() / rows
        assert writer is not None
        writer.close()
    part.rename(path)
    return path


def ensure_parquet(rows: int) -> Path:
    """The cached Parquet file of ``rows`` rows, written in chunks (one row group each) the first time."""
    import pyarrow.parquet as pq

    path = DATA_DIR / f"profile-{rows}-v{GENERATOR}.parquet"
    if path.exists():
        return path
    say(f"generating {path.relative_to(ROOT)} (once)")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    part = path.with_suffix(".part")
    writer: pq.ParquetWriter | None = None
    for start in range(0, rows, 2 * CHUNK_ROWS):
        table = make_rows(start, min(2 * CHUNK_ROWS, rows - start), text_times=False)
        if writer is None:
            writer = pq.ParquetWriter(part, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    part.rename(path)
    return path


def warm_page_cache(path: Path) -> None:
    """Read the file once, so that every reader finds it in the page cache."""
    with open(path, "rb") as handle:
        while handle.read(16 << 20):
            pass


def write_small_files(root: Path, count: int) -> list[Path]:
    """``count`` files of 1 to 8 KB of random bytes in folders of 100."""
    rng = random.Random(5)
    paths = []
    for i in range(count):
        path = root / f"part-{i // 100:02d}" / f"sample-{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rng.randbytes(rng.randint(1024, 8192)))
        paths.append(path)
    return paths


def tree_digest(root: Path) -> tuple[int, str]:
    """(file count, one digest of every relative path and content) of a folder."""
    digest = hashlib.sha256()
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for path in files:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    return len(files), digest.hexdigest()


# -- results ---------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table: Ember's median seconds against a baseline's, and the target if any."""

    name: str
    ember: float | None
    baseline: float | None = None
    baseline_name: str = ""
    target: str = ""
    status: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float | None:
        """How many times faster Ember is than the baseline."""
        if not self.ember or not self.baseline:
            return None
        return self.baseline / self.ember


def _seconds(value: float | None) -> str:
    return "not measured" if value is None else f"{value:.3f} s"


def spread(values: list[float]) -> str:
    return f"{min(values):.3f} to {max(values):.3f} s"


def table(rows: list[Row]) -> list[list[str]]:
    header = ["measurement", "Ember", "baseline", "baseline is", "Ember vs baseline", "target", "result"]
    body = [
        [
            r.name,
            _seconds(r.ember),
            _seconds(r.baseline) if r.baseline_name else "",
            r.baseline_name,
            fmt_ratio(r.ratio),
            r.target,
            r.status,
        ]
        for r in rows
    ]
    return [header, *body]


def print_report(rows: list[Row], env: list[tuple[str, str]], notes: list[str]) -> None:
    cells = table(rows)
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    right = {1, 2, 4}
    print()
    for i, row in enumerate(cells):
        print(
            "  ".join(
                cell.rjust(width) if j in right else cell.ljust(width)
                for j, (cell, width) in enumerate(zip(row, widths, strict=True))
            ).rstrip()
        )
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print()
    for line in [*(f"{r.name}: {n}" for r in rows for n in r.notes), *notes]:
        print(f"- {line}")
    print()
    for key, value in env:
        print(f"{key}: {value}")


def write_markdown(
    path: Path, rows: list[Row], env: list[tuple[str, str]], notes: list[str], command: str
) -> None:
    cells = table(rows)
    lines = [f"`{command}`", "", *[f"- {key}: {value}" for key, value in env], ""]
    lines.append("| " + " | ".join(cells[0]) + " |")
    lines.append("| --- | ---: | ---: | --- | ---: | --- | --- |")
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in cells[1:]]
    lines += ["", *[f"- {r.name}: {n}" for r in rows for n in r.notes], *[f"- {n}" for n in notes]]
    path.write_text("\n".join(lines) + "\n")


# -- one reader in a fresh interpreter (``data.py --case JSON``) ------------------------------------


def _peak_rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB on Linux


def run_case(config: dict[str, Any]) -> dict[str, Any]:
    """Read the CSV once with one reader; the imports and the workspace are opened before the clock."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    import ember

    reader, path = config["reader"], config["path"]
    action: Callable[[], Any]
    if reader.startswith("ember"):
        import ember.data.engine  # imported by the first read: imported before the clock, as pandas is

        os.environ["EMBER_DATA_CACHE"] = config["cache"]  # the parsed-table cache: empty, or primed
        ws = ember.Workspace.get(config["workspace"])
        dataset = ember.Dataset.get_by_name(ws, config["dataset"])
        assert isinstance(dataset, ember.TabularDataset)
        action = dataset.to_arrow if reader == "ember_arrow" else dataset.to_pandas_dataframe
    elif reader in ("pandas", "pandas_1_thread"):
        if reader == "pandas_1_thread":
            pd.set_option("mode.max_threads", 1)  # pandas 3.1 parses a large file on several threads
        action = partial(pd.read_csv, path)
    elif reader == "pyarrow":
        action = partial(pacsv.read_csv, path)
    else:
        assert reader == "pyarrow_pandas"

        def action() -> Any:
            return pacsv.read_csv(path).to_pandas()

    rss_before = _peak_rss_gib()
    cpu_before = os.times()
    start = time.perf_counter()
    result = action()
    seconds = time.perf_counter() - start
    cpu_after = os.times()
    if isinstance(result, pa.Table):
        columns, id_sum = result.num_columns, pc.sum(result["id"]).as_py()
    else:
        columns, id_sum = len(result.columns), int(result["id"].sum())
    return {
        "seconds": seconds,
        "rows": len(result),
        "columns": columns,
        "id_sum": id_sum,
        "peak_rss_gib": _peak_rss_gib(),
        "rss_before_gib": rss_before,
        "user_s": cpu_after.user - cpu_before.user,
        "system_s": cpu_after.system - cpu_before.system,
    }


def child(config: dict[str, Any], log: Path) -> dict[str, Any]:
    """``run_case`` in a fresh interpreter; its JSON result."""
    with open(log, "a") as err:
        err.write(f"\n=== {json.dumps(config)}\n")
        err.flush()
        try:
            proc = subprocess.run(
                [sys.executable, str(Path(__file__).resolve()), "--case", json.dumps(config)],
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                check=False,
                timeout=CASE_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            raise BenchError(f"{config['reader']} ran over {CASE_TIMEOUT_S} s; see {log}") from None
    if proc.returncode != 0:
        raise BenchError(f"{config['reader']} exited with {proc.returncode}; see {log}")
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            return json.loads(line[len(RESULT_PREFIX) :])  # type: ignore[no-any-return]
    raise BenchError(f"{config['reader']} printed no result; see {log}")


# -- the measurements ------------------------------------------------------------------------------


# (reader, what it runs), in the order of the first repetition; later repetitions rotate it. Ember's
# first reads start with an empty parsed-table cache (``$EMBER_DATA_CACHE``); its cached reads use one that
# an untimed read filled before the first repetition.
CSV_READERS = (
    ("ember", "`to_pandas_dataframe()`, first read"),
    ("pandas", "`pandas.read_csv(path)`"),
    ("ember_cached", "`to_pandas_dataframe()`, read again"),
    ("pyarrow", "`pyarrow.csv.read_csv(path)`"),
    ("ember_arrow", "`to_arrow()`, first read"),
    ("ember_no_cache", "`to_pandas_dataframe()`, cache off"),
    ("pyarrow_pandas", "`pyarrow.csv.read_csv(path).to_pandas()`"),
    ("pandas_1_thread", "`pandas.read_csv(path)`, `mode.max_threads=1`"),
)


class Bench:
    """The measurements of one invocation, on one workspace in a work folder under ``.bench/``."""

    def __init__(self, *, work: Path, scale: Scale, reps: int) -> None:
        import ember

        self.work = work
        self.scale = scale
        self.reps = reps
        self.ws_path = work / "ws"
        self.ws = ember.Workspace.create(self.ws_path)
        self.local = ember.Datastore.register_local(self.ws, DATASTORE, DATA_DIR)

    def close(self) -> None:
        self.ws.close()

    def csv(self) -> list[Row]:
        import ember

        path = ensure_csv(self.scale.csv_mib)
        size = path.stat().st_size
        name = "csv-bench"
        ember.Dataset.Tabular.from_delimited_files([(self.local, path.name)]).register(self.ws, name)
        warm_page_cache(path)
        log = self.work / "csv-readers.log"
        base = {"path": str(path), "workspace": str(self.ws_path), "dataset": name}
        primed = self.work / "table-cache-primed"
        say(f"CSV of {size / 2**30:.2f} GiB: filling the parsed-table cache for the cached reads")
        child({**base, "reader": "ember", "cache": str(primed)}, log)
        cache_bytes = sum(p.stat().st_size for p in primed.rglob("*") if p.is_file())
        say(f"CSV: {len(CSV_READERS)} readers x {self.reps}, each in a new process")
        results: dict[str, list[dict[str, Any]]] = {reader: [] for reader, _ in CSV_READERS}
        for rep in range(self.reps):
            shift = rep % len(CSV_READERS)  # a different reader goes first in each repetition
            for reader, _ in CSV_READERS[shift:] + CSV_READERS[:shift]:
                empty = self.work / f"table-cache-{reader}-{rep}"
                cache = {"ember_cached": str(primed), "ember_no_cache": "off"}.get(reader, str(empty))
                result = child({**base, "reader": reader, "cache": cache}, log)
                shutil.rmtree(empty, ignore_errors=True)  # a first read's entry: about as large as the table
                results[reader].append(result)
                say(f"  {reader}: {result['seconds']:.3f} s, peak RSS {result['peak_rss_gib']:.2f} GiB")
        shapes = {(r["rows"], r["columns"], r["id_sum"]) for rs in results.values() for r in rs}
        if len(shapes) != 1:
            raise BenchError(f"the readers disagree on (rows, columns, sum of id): {sorted(shapes)}")
        rows_read, columns, _ = shapes.pop()
        seconds = {reader: median([r["seconds"] for r in rs]) for reader, rs in results.items()}
        what = dict(CSV_READERS)
        label = f"CSV {size / 2**30:.2f} GiB, {rows_read:,} rows x {columns}"
        rows = [
            Row(f"{label}: Ember {what[ember]}", seconds[ember], seconds[other], what[other])
            for ember, other in (
                ("ember", "pandas"),
                ("ember_cached", "pandas"),
                ("ember_no_cache", "pandas"),
                ("ember", "pandas_1_thread"),
                ("ember", "pyarrow_pandas"),
                ("ember_arrow", "pyarrow"),
            )
        ]
        for row in rows[:2]:
            row.target = f"≥ {TARGET_CSV_RATIO:g}x"
            row.status = check(row.ratio is not None and row.ratio >= TARGET_CSV_RATIO)
        first, cached = rows[:2]
        first.notes.append(
            "each reader's runs: "
            + "; ".join(f"{reader} {spread([r['seconds'] for r in rs])}" for reader, rs in results.items())
        )
        first.notes.append(
            "peak RSS of each reader's process (median): "
            + "; ".join(
                f"{reader} {median([r['peak_rss_gib'] for r in rs]):.2f} GiB"
                for reader, rs in results.items()
            )
            + f" (about {median([r['rss_before_gib'] for rs in results.values() for r in rs]):.2f} GiB "
            "of it is the interpreter and its imports)"
        )
        first.notes.append(
            "CPU seconds of each reader's call (median, user + system): "
            + "; ".join(
                f"{reader} {median([r['user_s'] for r in rs]):.1f} + "
                f"{median([r['system_s'] for r in rs]):.1f}"
                for reader, rs in results.items()
            )
        )
        first.notes.append(
            f"throughput: Ember's first read {size / 2**20 / seconds['ember']:,.0f} MiB/s, "
            f"pandas {size / 2**20 / seconds['pandas']:,.0f} MiB/s"
        )
        cached.notes.append(
            f"a hit in Ember's parsed-table cache ({cache_bytes / 2**30:.2f} GiB of Arrow IPC on local disk, "
            "filled by one untimed first read): nothing is parsed; pandas parses the file every time"
        )
        return rows

    def profile(self) -> list[Row]:
        import pyarrow.parquet as pq

        import ember
        from ember.data.profile import profile_table

        rows = self.scale.profile_rows
        path = ensure_parquet(rows)
        dataset = ember.Dataset.Tabular.from_parquet_files([(self.local, path.name)]).register(
            self.ws, "profile-bench"
        )
        warm_page_cache(path)
        say(f"profile of {rows:,} rows: get_profile(refresh=True) and profile_table x {self.reps}")
        registered, direct, reads = [], [], []
        profile = None
        for rep in range(self.reps):
            cache = self.work / f"table-cache-profile-{rep}"
            os.environ["EMBER_DATA_CACHE"] = str(cache)  # empty: every repetition reads the file
            start = time.perf_counter()
            profile = dataset.get_profile(refresh=True)
            registered.append(time.perf_counter() - start)
            shutil.rmtree(cache, ignore_errors=True)
            start = time.perf_counter()
            table = pq.read_table(path)
            reads.append(time.perf_counter() - start)
            start = time.perf_counter()
            in_memory = profile_table(table)
            direct.append(time.perf_counter() - start)
            del table
            gc.collect()
            say(f"  get_profile {registered[-1]:.3f} s, profile_table {direct[-1]:.3f} s")
        assert profile is not None
        if profile.row_count != rows or in_memory.row_count != rows:
            raise BenchError(f"the profile counted {profile.row_count:,} rows, not {rows:,}")
        label = f"profile, {rows:,} rows x {len(profile.columns)} (Parquet, local datastore)"
        main = Row(
            f"{label}: `get_profile(refresh=True)`",
            median(registered),
            target=f"< {TARGET_PROFILE_S:g} s",
        )
        main.status = check(main.ember is not None and main.ember < TARGET_PROFILE_S)
        main.notes.append(
            f"{self.reps} runs: {spread(registered)}; it reads the file, profiles and stores the result. "
            f"Reading the file alone (`pyarrow.parquet.read_table`) took {median(reads):.3f} s (median)"
        )
        direct_row = Row(f"{label}: `profile_table(table)` on the table in memory", median(direct))
        direct_row.notes.append(f"{self.reps} runs: {spread(direct)}")
        return [main, direct_row]

    def transfer(self) -> list[Row]:
        files = self.scale.files
        source = self.work / "files"
        write_small_files(source, files)
        expected = tree_digest(source)
        size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
        rows: list[Row] = []
        for kind in ("azure_blob", "s3"):
            try:
                with object_store(kind, self.ws) as cloud:
                    rows += self._transfer(cloud, source, expected, size)
            except ServerUnavailable as exc:
                say(f"{_CLOUD[kind]}: not measured ({exc})")
                for op in ("upload", "download"):
                    row = Row(f"{op} {files:,} files, {_CLOUD[kind]}", None, status="not measured")
                    row.notes.append(str(exc))
                    rows.append(row)
        return rows

    def _transfer(self, cloud: Cloud, source: Path, expected: tuple[int, str], size: int) -> list[Row]:
        files = self.scale.files
        say(f"{files:,} files ({size / 2**20:.1f} MiB) on {cloud.label}: Ember and a loop x {self.reps}")
        warm = self.work / "warm"
        write_small_files(warm, 8)
        cloud.store.upload(warm, "warm", show_progress=False)
        cloud.store.download("warm", self.work / f"warm-{cloud.kind}-ember", show_progress=False)
        cloud.loop_upload(warm, "warm-loop")
        cloud.loop_download(warm, "warm-loop", self.work / f"warm-{cloud.kind}-loop")
        keys = ("ember_up", "loop_up", "ember_down", "loop_down")
        times: dict[str, list[float]] = {key: [] for key in keys}
        cpu: dict[str, list[tuple[float, float]]] = {key: [] for key in keys}  # (client, server) seconds
        for rep in range(self.reps):
            out = self.work / f"down-{cloud.kind}-{rep}"
            ups: list[tuple[str, Callable[[], Any]]] = [
                ("ember_up", partial(cloud.store.upload, source, f"ember-{rep}", show_progress=False)),
                ("loop_up", partial(cloud.loop_upload, source, f"loop-{rep}")),
            ]
            downs: list[tuple[str, Callable[[], Any]]] = [
                (
                    "ember_down",
                    partial(cloud.store.download, f"ember-{rep}", out / "ember", show_progress=False),
                ),
                ("loop_down", partial(cloud.loop_download, source, f"loop-{rep}", out / "loop")),
            ]
            for steps in (ups, downs):
                for key, action in steps[::-1] if rep % 2 else steps:  # alternate which side goes first
                    cpu_before = cpu_seconds()
                    start = time.perf_counter()
                    action()
                    times[key].append(time.perf_counter() - start)
                    cpu_after = cpu_seconds()
                    cpu[key].append((cpu_after[0] - cpu_before[0], cpu_after[1] - cpu_before[1]))
            for side in ("ember", "loop"):
                if tree_digest(out / side) != expected:
                    raise BenchError(f"{cloud.label}: the {side} download differs from what was uploaded")
            say("  " + ", ".join(f"{k} {v[-1]:.3f} s" for k, v in times.items()))
        up = Row(
            f"upload {files:,} files of 1-8 KB, {cloud.label}: `Datastore.upload`",
            median(times["ember_up"]),
            median(times["loop_up"]),
            cloud.loop_up_name,
        )
        down = Row(
            f"download {files:,} files of 1-8 KB, {cloud.label}: `Datastore.download`",
            median(times["ember_down"]),
            median(times["loop_down"]),
            cloud.loop_down_name,
        )
        for row, ember_key, loop_key in ((up, "ember_up", "loop_up"), (down, "ember_down", "loop_down")):
            row.notes.append(
                f"{self.reps} runs: Ember {spread(times[ember_key])}, loop {spread(times[loop_key])}; "
                f"Ember {files / median(times[ember_key]):,.0f} files/s, "
                f"loop {files / median(times[loop_key]):,.0f} files/s"
            )
            row.notes.append(
                "CPU seconds per run (median), this process / the server: "
                + ", ".join(
                    f"{side} {median([c for c, _ in cpu[key]]):.2f} / {median([s for _, s in cpu[key]]):.2f}"
                    for side, key in (("Ember", ember_key), ("loop", loop_key))
                )
            )
        return [up, down]


# -- object stores ---------------------------------------------------------------------------------


class ServerUnavailable(BenchError):
    """Azurite or moto could not start here (Node.js or the package missing, or it failed)."""


def cpu_seconds() -> tuple[float, float]:
    """CPU seconds used so far by this process (all its threads) and by its children (the servers)."""
    hz = os.sysconf("SC_CLK_TCK")
    ticks = tree_ticks(os.getpid())
    own = ticks.pop(os.getpid())
    return own / hz, sum(ticks.values()) / hz


_CLOUD = {"azure_blob": "Azure Blob (Azurite)", "s3": "S3 (moto)"}


@dataclass
class Cloud:
    """A datastore on a local object store, and the sequential loop through the cloud's own client."""

    kind: str
    store: Any  # ember.Datastore
    put: Callable[[str, Path], None]  # one object from a local file, by its key
    get: Callable[[str, Path], None]  # one object into a local file
    loop_up_name: str
    loop_down_name: str

    @property
    def label(self) -> str:
        return _CLOUD[self.kind]

    def loop_upload(self, root: Path, prefix: str) -> None:
        """Upload every file under ``root``, one request after another."""
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            self.put(f"loop/{prefix}/{path.relative_to(root).as_posix()}", path)

    def loop_download(self, root: Path, prefix: str, target: Path) -> None:
        """Download what ``loop_upload(root, prefix)`` uploaded, by the names it knows (no listing)."""
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            relative = path.relative_to(root).as_posix()
            dest = target / relative
            dest.parent.mkdir(parents=True, exist_ok=True)
            self.get(f"loop/{prefix}/{relative}", dest)


def isolate_client_environment(folder: Path) -> None:
    """Keep a developer's cloud settings and proxies out: only explicit options configure the clients."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "AZURE_STORAGE_")):
            del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = str(folder / "no-aws-config")
    os.environ["AWS_SHARED_CREDENTIALS_FILE"] = str(folder / "no-aws-credentials")
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"
    os.environ["NO_PROXY"] = os.environ["no_proxy"] = "127.0.0.1,localhost"


def object_store(kind: str, ws: Any) -> AbstractContextManager[Cloud]:
    """Start Azurite or moto as the tests do (``tests/support``), and register a datastore on it."""
    if str(ROOT / "tests") not in sys.path:
        sys.path.insert(0, str(ROOT / "tests"))
    return azurite_store(ws) if kind == "azure_blob" else moto_store(ws)


@contextmanager
def azurite_store(ws: Any) -> Iterator[Cloud]:
    from azure.storage.blob import ContainerClient

    import ember
    from support.azurite import AzuriteServer, AzuriteServerError, AzuriteUnavailable

    try:
        azurite = AzuriteServer()
        azurite.start()
    except (AzuriteUnavailable, AzuriteServerError) as exc:
        raise ServerUnavailable(str(exc).splitlines()[0]) from None
    try:
        azurite.create_container("bench")
        store = ember.Datastore.register_azure_blob_container(
            ws,
            "bench-azure",
            account_name=azurite.account_name,
            container_name="bench",
            account_key=azurite.account_key,
            endpoint=azurite.blob_endpoint,
            prefix="bench",
        )
        with ContainerClient.from_connection_string(azurite.connection_string, "bench") as container:

            def put(key: str, path: Path) -> None:
                with open(path, "rb") as handle:
                    container.upload_blob(key, handle)

            def get(key: str, dest: Path) -> None:
                with open(dest, "wb") as handle:
                    container.download_blob(key).readinto(handle)

            yield Cloud(
                "azure_blob",
                store,
                put,
                get,
                "azure-storage-blob `upload_blob` loop",
                "azure-storage-blob `download_blob` loop",
            )
    finally:
        azurite.stop()


@contextmanager
def moto_store(ws: Any) -> Iterator[Cloud]:
    import boto3

    import ember
    from support.s3 import MotoServer, MotoServerError

    moto = MotoServer()
    try:
        moto.start()
    except MotoServerError as exc:
        raise ServerUnavailable(str(exc).splitlines()[0]) from None
    try:
        moto.create_bucket("bench")
        store = ember.Datastore.register_s3(
            ws,
            "bench-s3",
            bucket="bench",
            prefix="bench",
            region=moto.region,
            endpoint=moto.endpoint_url,
            access_key_id="AKIAEMBERBENCHKEY001",
            secret_access_key="bench-secret-" + "x" * 27,
        )
        s3 = boto3.client(
            "s3",
            endpoint_url=moto.endpoint_url,
            region_name=moto.region,
            aws_access_key_id=moto.access_key_id,
            aws_secret_access_key=moto.secret_access_key,
        )

        def put(key: str, path: Path) -> None:
            with open(path, "rb") as handle:
                s3.put_object(Bucket="bench", Key=key, Body=handle)

        def get(key: str, dest: Path) -> None:
            body = s3.get_object(Bucket="bench", Key=key)["Body"]
            with open(dest, "wb") as handle:
                shutil.copyfileobj(body, handle)

        yield Cloud("s3", store, put, get, "boto3 `put_object` loop", "boto3 `get_object` loop")
    finally:
        moto.stop()


# -- the report ------------------------------------------------------------------------------------


def _version(module: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(module)
    except PackageNotFoundError:
        return "not installed"


def environment(load_before: str) -> list[tuple[str, str]]:
    """The machine and software the numbers come from."""
    import ember

    cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
    cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    mem_kib = next(int(line.split()[1]) for line in meminfo if line.startswith("MemTotal"))
    azurite = ROOT / "tests" / "support" / "azurite" / "node_modules" / "azurite" / "package.json"
    node = shutil.which("node")
    node_version = (
        subprocess.run([node, "--version"], capture_output=True, text=True).stdout.strip() if node else "?"
    )
    packages = ", ".join(
        f"{name} {_version(name)}"
        for name in ("pyarrow", "pandas", "numpy", "moto", "boto3", "s3fs", "azure-storage-blob", "adlfs")
    )
    return [
        ("date", time.strftime("%Y-%m-%d")),
        ("machine", f"{os.cpu_count()} CPUs ({cpu}), {mem_kib / 2**20:.0f} GiB RAM, {platform.platform()}"),
        ("load average (1, 5, 15 min) before / after", f"{load_before} / {load_average()}"),
        ("Python", platform.python_version()),
        ("Ember", ember.__version__),
        ("packages", packages),
        (
            "Azurite",
            f"{json.loads(azurite.read_text())['version'] if azurite.exists() else 'not installed'} "
            f"(Node.js {node_version})",
        ),
    ]


def methodology(scale: Scale, reps: int) -> list[str]:
    return [
        f"Every number is the median of {reps} repetitions; 'Ember vs baseline' is the baseline's time "
        "divided by Ember's (how many times faster Ember is).",
        "CSV: each repetition of each reader runs in a fresh interpreter (`data.py --case`), which imports "
        "pandas, pyarrow and ember and opens the workspace before the clock starts; the clock covers the "
        "one call. The readers are interleaved, a different one first in each repetition. The file is in "
        "the page cache for all of them (read once before). Ember reads the registered dataset "
        "(`Dataset.get_by_name`) from a local datastore over the folder of the file, so its time includes "
        "listing the file and checking the version's fingerprint. Every reader must agree on rows, "
        "columns and the sum of `id`. pyarrow, and so Ember, infers `event_time` as a timestamp; "
        "pandas leaves it as text. Ember's first reads start with an empty parsed-table cache "
        "(`EMBER_DATA_CACHE`, a new folder each time), so they parse the file and write the cache entry; "
        "its cached reads use a cache filled by one untimed read before the first repetition; 'cache off' "
        "is `EMBER_DATA_CACHE=off`.",
        "Profile: a registered Parquet dataset (one row group per 1,000,000 rows) in the same local "
        "datastore; `get_profile(refresh=True)` computes and stores the profile every time. "
        "Each `get_profile` starts with an empty parsed-table cache, so it reads the file (and writes "
        "the cache entry). `profile_table` runs on the table read by `pyarrow.parquet.read_table`, in "
        "the same loop.",
        f"Transfers: {scale.files:,} files of 1 to 8 KB of random bytes, in folders of 100. Ember calls "
        f"`Datastore.upload(folder, prefix, show_progress=False)` (max_concurrency={TRANSFER_CONCURRENCY}, "
        "its default; it lists the prefix first to skip existing files) and "
        "`Datastore.download(prefix, folder, show_progress=False)` (it lists the prefix, then downloads); "
        "each repetition uses a new prefix. The loop sends one request per file, one after another, with "
        "the names it uploaded (no listing). Both sides did one untimed warm-up transfer of 8 files first, "
        "so connections and Ember's short-lived credentials are in place. The downloads are checked "
        "against the source, byte for byte. Azurite runs in memory (`--inMemoryPersistence`); moto is "
        "`python -m moto.server`, one process; both on loopback, on this machine.",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, help="CSV size in MiB (default 1024, --quick 200)")
    parser.add_argument("--rows", type=int, help="rows to profile (default 10,000,000, --quick 1,000,000)")
    parser.add_argument("--files", type=int, help="small files to transfer (default 2,000, --quick 200)")
    parser.add_argument(
        "--reps", type=int, default=3, help="repetitions of each measurement (median reported)"
    )
    parser.add_argument("--quick", action="store_true", help="a small-scale smoke run")
    parser.add_argument(
        "--only", default="csv,profile,transfer", help="comma-separated parts to run: csv, profile, transfer"
    )
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the results as Markdown")
    parser.add_argument("--keep", action="store_true", help="keep the workspace and logs under .bench/")
    parser.add_argument("--case", help=argparse.SUPPRESS)  # one CSV reader, in a fresh interpreter
    args = parser.parse_args(argv)
    if args.case:
        print(RESULT_PREFIX + json.dumps(run_case(json.loads(args.case))), flush=True)
        return 0
    base = QUICK if args.quick else FULL
    scale = Scale(
        csv_mib=args.size_mb or base.csv_mib,
        profile_rows=args.rows or base.profile_rows,
        files=args.files or base.files,
    )
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - {"csv", "profile", "transfer"}
    if unknown:
        parser.error(f"--only takes csv, profile and transfer, not {', '.join(sorted(unknown))}")
    reps = max(1, args.reps)
    load_before = load_average()
    BENCH_DIR.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="data-", dir=BENCH_DIR))
    isolate_client_environment(work)
    # Ember's parsed-table cache stays in the work folder; each measurement says which one it uses.
    os.environ["EMBER_DATA_CACHE"] = str(work / "table-cache")
    ok = False
    rows: list[Row] = []
    bench: Bench | None = None
    try:
        bench = Bench(work=work, scale=scale, reps=reps)
        for part in parts:
            rows += getattr(bench, part)()
        ok = True
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if bench is not None:
            bench.close()
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"workspace and logs kept in {work}")
    notes = methodology(scale, reps)
    quick = " (--quick: a smoke run at reduced scale, not comparable with full runs)" if args.quick else ""
    notes.append(f"The whole benchmark took {duration(time.monotonic() - _STARTED)}{quick}.")
    env = environment(load_before)
    print_report(rows, env, notes)
    if args.markdown:
        command = " ".join(["python benchmarks/data.py", *(sys.argv[1:] if argv is None else argv)])
        write_markdown(args.markdown, rows, env, notes, command)
        say(f"wrote {args.markdown}")
    return 0


_STARTED = time.monotonic()

if __name__ == "__main__":
    sys.exit(main())
