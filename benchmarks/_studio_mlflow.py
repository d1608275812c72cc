"""MLflow's data for ``benchmarks/studio.py``; run in the benchmark's MLflow virtualenv.

``python benchmarks/_studio_mlflow.py '{"case": "seed", ...}'`` prints one JSON result line.

Creating 100,000 runs through MLflow's API takes over 20 minutes, so the runs are written straight
into the tables of a database that MLflow itself created and migrated (``MlflowClient`` on a new
``sqlite:///`` URI runs its migrations), with every NOT NULL column filled. The run with the long
series goes through ``MlflowClient.log_batch`` in calls of 1,000 metrics, its limit.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

import mlflow
from _bench_common import serve_case
from _studio_data import EXPERIMENT, LOSS_KEY, LOSS_RUN_NAME, loss_series, run_rows
from mlflow import MlflowClient
from mlflow.entities import Metric

BATCH = 20_000
MAX_BATCH_METRICS = 1000  # log_batch's limit per call
STATUS = {"Completed": "FINISHED", "Failed": "FAILED", "Running": "RUNNING"}

logging.getLogger("mlflow").setLevel(logging.WARNING)


def _bulk_runs(db_path: str, experiment_id: str, artifact_root: str, count: int) -> None:
    conn = sqlite3.connect(db_path)
    rows = run_rows(count)
    try:
        for lo in range(0, count, BATCH):
            run_list, param_list, metric_list, latest_list, tag_list = [], [], [], [], []
            for row in (next(rows) for _ in range(lo, min(count, lo + BATCH))):
                run_id = f"{row.index:032x}"  # MLflow's ids are 32 hex digits, like a uuid4().hex
                start_ms = int(row.created * 1000)
                status = STATUS[row.status]
                run_list.append(
                    (
                        run_id,
                        row.name,
                        "LOCAL",
                        "",
                        "",
                        "bench",
                        status,
                        start_ms,
                        None if status == "RUNNING" else int(row.end * 1000),
                        "",
                        "active",
                        f"{artifact_root}/{experiment_id}/{run_id}/artifacts",
                        int(experiment_id),
                    )
                )
                param_list.extend((k, v, run_id) for k, v in row.params.items())
                for key, value in row.metrics.items():
                    metric_list.append((key, value, start_ms, run_id, 0, 0))
                    latest_list.append((key, value, start_ms, 0, 0, run_id))
                tag_list.extend((k, v, run_id) for k, v in row.tags.items())
                tag_list.append(("mlflow.runName", row.name, run_id))
                tag_list.append(("mlflow.user", "bench", run_id))
            with conn:
                conn.executemany(
                    "INSERT INTO runs (run_uuid, name, source_type, source_name, entry_point_name, user_id,"
                    " status, start_time, end_time, source_version, lifecycle_stage, artifact_uri,"
                    " experiment_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    run_list,
                )
                conn.executemany("INSERT INTO params (key, value, run_uuid) VALUES (?, ?, ?)", param_list)
                conn.executemany(
                    "INSERT INTO metrics (key, value, timestamp, run_uuid, step, is_nan)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    metric_list,
                )
                conn.executemany(
                    "INSERT INTO latest_metrics (key, value, timestamp, step, is_nan, run_uuid)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    latest_list,
                )
                conn.executemany("INSERT INTO tags (key, value, run_uuid) VALUES (?, ?, ?)", tag_list)
    finally:
        conn.close()


def seed(config: dict[str, Any]) -> dict[str, Any]:
    """One experiment of ``runs`` runs; the last, created now, holds the ``points``-long series."""
    db_path, artifact_root = config["db"], config["artifact_root"]
    start = time.perf_counter()
    client = MlflowClient(f"sqlite:///{db_path}")  # creates the tables with MLflow's migrations
    experiment_id = client.create_experiment(EXPERIMENT, artifact_location=f"{artifact_root}/1")
    _bulk_runs(db_path, experiment_id, artifact_root, config["runs"] - 1)
    bulk_s = time.perf_counter() - start

    start = time.perf_counter()
    values, steps = loss_series(config["points"])
    run_id = client.create_run(experiment_id, run_name=LOSS_RUN_NAME).info.run_id
    stamp = int(time.time() * 1000)
    for lo in range(0, len(values), MAX_BATCH_METRICS):
        hi = min(len(values), lo + MAX_BATCH_METRICS)
        client.log_batch(
            run_id, metrics=[Metric(LOSS_KEY, values[i], stamp, steps[i]) for i in range(lo, hi)]
        )
    client.set_terminated(run_id)
    series_s = time.perf_counter() - start
    stored = len(client.get_metric_history(run_id, LOSS_KEY))
    if stored != len(values):
        raise RuntimeError(f"MLflow stored {stored} points of {LOSS_KEY!r}, {len(values)} were logged")
    conn = sqlite3.connect(db_path)
    try:
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM runs WHERE experiment_id = ?", (int(experiment_id),)
        ).fetchone()
    finally:
        conn.close()
    if count != config["runs"]:
        raise RuntimeError(f"MLflow's experiment holds {count} runs, not {config['runs']}")
    return {
        "experiment_id": experiment_id,
        "run_id": run_id,
        "bulk_s": bulk_s,
        "series_s": series_s,
        "version": mlflow.__version__,
    }


if __name__ == "__main__":
    serve_case({"seed": seed})
