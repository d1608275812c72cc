"""Time run search on a SQLite workspace of 100,000 runs (target: under 100 ms per page).

Usage: ``PYTHONPATH=src python benchmarks/search_scale.py [--runs N] [--explain]``
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from sqlalchemy import event, insert

from ember.entities.tracking import RunSearch
from ember.store.database import Database
from ember.store.schema import experiments, metric_latest, params, runs, tags
from ember.store.search import search_run_ids

BATCH = 20_000
TARGET_MS = 100


def populate(db: Database, n_runs: int) -> str:
    """Insert one experiment with ``n_runs`` runs of 5 params, 5 metrics and 3 tags each."""
    rng = random.Random(7)
    exp_id = uuid.uuid4().hex
    t0 = 1_700_000_000.0
    with db.write() as conn:
        conn.execute(insert(experiments), [{"id": exp_id, "name": "bench", "created_time": t0}])
    for lo in range(0, n_runs, BATCH):
        run_rows, param_rows, metric_rows, tag_rows = [], [], [], []
        for i in range(lo, min(n_runs, lo + BATCH)):
            run_id = uuid.uuid4().hex
            created = t0 + i
            run_rows.append(
                {
                    "id": run_id,
                    "experiment_id": exp_id,
                    "status": rng.choice(["Completed", "Failed", "Running"]),
                    "lifecycle_stage": "active",
                    "run_type": "interactive",
                    "created_time": created,
                    "start_time": created,
                    "end_time": created + rng.uniform(1, 1000),
                    "display_name": f"run-{i}",
                }
            )
            for p in range(1, 6):
                value = rng.choice("abcde") if p == 1 else str(rng.randint(0, 100))
                num = None if p == 1 else float(value)
                param_rows.append({"run_id": run_id, "key": f"p{p}", "value": value, "value_num": num})
            for m in range(1, 6):
                metric_rows.append(
                    {
                        "run_id": run_id,
                        "key": f"m{m}",
                        "value": rng.random(),
                        "step": 10,
                        "timestamp": created,
                        "count": 11,
                        "next_seq": 1,
                    }
                )
            for t in range(1, 4):
                tag_rows.append({"run_id": run_id, "key": f"t{t}", "value": rng.choice(["x", "y", "z"])})
        with db.write() as conn:
            conn.execute(insert(runs), run_rows)
            conn.execute(insert(params), param_rows)
            conn.execute(insert(metric_latest), metric_rows)
            conn.execute(insert(tags), tag_rows)
    return exp_id


def median_ms(db: Database, request: RunSearch, repeat: int = 5) -> tuple[float, int]:
    """Median wall time of ``search_run_ids`` in milliseconds, and the size of the page."""
    times, count = [], 0
    for _ in range(repeat):
        with db.read() as conn:
            start = time.perf_counter()
            ids, _ = search_run_ids(conn, request)
            times.append((time.perf_counter() - start) * 1000)
            count = len(ids)
    return statistics.median(times), count


def explain(db: Database, request: RunSearch) -> None:
    """Print SQLite's plan of every statement one search runs."""
    statements: list[tuple[str, object]] = []

    def capture(conn: object, cursor: object, sql: str, params: object, *args: object) -> None:
        if not sql.startswith("EXPLAIN"):
            statements.append((sql, params))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        with db.read() as conn:
            search_run_ids(conn, request)
            for sql, params in list(statements):
                print("    --", " ".join(sql.split())[:150])
                for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}", params):  # type: ignore[arg-type]
                    print("      ", row[3])
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN QUERY PLAN of each search")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database("sqlite:///" + str(Path(tmp) / "ember.db"))
        start = time.perf_counter()
        exp_id = populate(db, args.runs)
        print(f"populated {args.runs} runs in {time.perf_counter() - start:.1f} s")
        cases = {
            "filter + order by metric": RunSearch(
                experiment_ids=[exp_id],
                filter="metrics.m1 < 0.5 and params.p1 = 'a'",
                order_by=["metrics.m2 ASC"],
                max_results=100,
            ),
            "no filter, created_time": RunSearch(experiment_ids=[exp_id], max_results=100),
        }
        for name, request in cases.items():
            ms, count = median_ms(db, request)
            verdict = "ok" if ms < TARGET_MS else f"OVER the {TARGET_MS} ms target"
            print(f"{name:<28} {ms:8.1f} ms  (median of 5, {count} runs on the page) {verdict}")
            if args.explain:
                explain(db, request)
        db.dispose()


if __name__ == "__main__":
    main()
