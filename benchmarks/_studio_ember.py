"""Ember's data for ``benchmarks/studio.py``: many runs written straight into the store, one long series.

The runs go in with bulk INSERTs, as ``search_scale.populate`` does (through the contract, 100,000
runs would take many minutes and measure nothing the studio cares about). The run with the long
series is created and logged through the Backend contract, the way a client would.
"""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from _studio_data import EXPERIMENT, LOSS_KEY, LOSS_RUN_NAME, T0, run_rows
from _studio_data import loss_series as make_loss_series
from sqlalchemy import insert

import ember
from ember.entities import MetricSeries, RunCreate
from ember.entities.tracking import RunStatus, RunUpdate
from ember.store.database import Database
from ember.store.schema import experiments, metric_latest, params, runs, tags

BATCH = 20_000
LOG_BATCH = 100_000  # points per log_metrics call for the long series


def _bulk_runs(db: Database, experiment_id: str, count: int) -> None:
    rows = run_rows(count)
    for lo in range(0, count, BATCH):
        run_list: list[dict[str, Any]] = []
        param_list: list[dict[str, Any]] = []
        metric_list: list[dict[str, Any]] = []
        tag_list: list[dict[str, Any]] = []
        for row in (next(rows) for _ in range(lo, min(count, lo + BATCH))):
            run_id = uuid.uuid4().hex
            run_list.append(
                {
                    "id": run_id,
                    "experiment_id": experiment_id,
                    "status": row.status,
                    "lifecycle_stage": "active",
                    "run_type": "interactive",
                    "created_time": row.created,
                    "start_time": row.created,
                    "end_time": None if row.status == "Running" else row.end,
                    "display_name": row.name,
                }
            )
            for key, value in row.params.items():
                number = None if key == "p1" else float(value)
                param_list.append({"run_id": run_id, "key": key, "value": value, "value_num": number})
            for key, metric in row.metrics.items():
                metric_list.append(
                    {
                        "run_id": run_id,
                        "key": key,
                        "value": metric,
                        "step": 0,
                        "timestamp": row.created,
                        "count": 1,
                        "next_seq": 1,
                    }
                )
            for key, value in row.tags.items():
                tag_list.append({"run_id": run_id, "key": key, "value": value})
        with db.write() as conn:
            conn.execute(insert(runs), run_list)
            conn.execute(insert(params), param_list)
            conn.execute(insert(metric_latest), metric_list)
            conn.execute(insert(tags), tag_list)


def seed(folder: Path, *, runs_total: int, points: int) -> dict[str, Any]:
    """Create a workspace in ``folder`` holding one experiment of ``runs_total`` runs.

    ``runs_total - 1`` runs come from ``run_rows``; the last one, created now (so it tops the
    default newest-first order), holds the ``points``-long series. Returns the ids and timings.
    """
    start = time.perf_counter()
    ember.Workspace.create(folder).close()
    db = Database(f"sqlite:///{folder / 'ember.db'}")
    try:
        experiment_id = uuid.uuid4().hex
        with db.write() as conn:
            conn.execute(insert(experiments), [{"id": experiment_id, "name": EXPERIMENT, "created_time": T0}])
        _bulk_runs(db, experiment_id, runs_total - 1)
    finally:
        db.dispose()
    bulk_s = time.perf_counter() - start

    start = time.perf_counter()
    values, steps = make_loss_series(points)
    with ember.Workspace.get(folder) as ws:
        tracking = ws.backend.tracking
        run_id = tracking.create_run(
            RunCreate(experiment_id=experiment_id, display_name=LOSS_RUN_NAME)
        ).info.id
        for lo in range(0, points, LOG_BATCH):
            hi = lo + LOG_BATCH
            tracking.log_metrics(
                run_id, [MetricSeries(key=LOSS_KEY, values=values[lo:hi], steps=steps[lo:hi])]
            )
        tracking.update_run(run_id, RunUpdate(status=RunStatus.COMPLETED))
        stored = tracking.get_metric_history(run_id, LOSS_KEY, max_points=10).total_points
    if stored != points:
        raise RuntimeError(f"Ember stored {stored} points of {LOSS_KEY!r}, {points} were logged")
    return {
        "experiment_id": experiment_id,
        "run_id": run_id,
        "bulk_s": bulk_s,
        "series_s": time.perf_counter() - start,
        "version": ember.__version__,
    }
