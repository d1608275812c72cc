"""The MLflow side of ``benchmarks/tracking.py``; run in the benchmark's MLflow virtualenv.

``python benchmarks/_mlflow_side.py '{"case": "log_per_call", ...}'`` prints one JSON result line.
Where MLflow would take minutes, the orchestrator asks for fewer points than Ember logs and turns
the time into a rate; the result says how many points were actually measured.
"""

from __future__ import annotations

import logging
import time
from itertools import islice
from typing import Any

import mlflow
from _bench_common import (
    LIST_PAGE,
    SEARCH_FILTER,
    SEARCH_ORDER,
    SEARCH_PAGE,
    metric_values,
    run_specs,
    serve_case,
    time_reps,
)
from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag

MAX_BATCH_METRICS = 1000  # log_batch's limit per call

logging.getLogger("mlflow").setLevel(logging.WARNING)


def _experiment_id(client: MlflowClient, name: str) -> str:
    found = client.get_experiment_by_name(name)
    return found.experiment_id if found is not None else client.create_experiment(name)


def version(config: dict[str, Any]) -> dict[str, Any]:
    """MLflow's version (and that of the SQLite it links)."""
    import sqlite3

    return {"version": mlflow.__version__, "sqlite": sqlite3.sqlite_version}


def log_per_call(config: dict[str, Any]) -> dict[str, Any]:
    """``mlflow.log_metric`` once per point, synchronous or not; timed until every point is durable."""
    n, values = config["points"], metric_values(config["points"])
    synchronous = config["synchronous"]
    mlflow.set_tracking_uri(config["tracking_uri"])
    mlflow.set_experiment("per-call-sync" if synchronous else "per-call-async")
    client = MlflowClient()
    times = []
    for _ in range(config["reps"]):
        with mlflow.start_run() as run:
            start = time.perf_counter()
            for step, value in enumerate(values):
                mlflow.log_metric("loss", value, step=step, synchronous=synchronous)
            if not synchronous:
                mlflow.flush_async_logging()
            times.append(time.perf_counter() - start)
            stored = len(client.get_metric_history(run.info.run_id, "loss"))
            if stored != n:
                raise RuntimeError(f"{stored} points stored, {n} logged")
    return {"points": n, "times": times}


def batch_ingest(config: dict[str, Any]) -> dict[str, Any]:
    """``MlflowClient.log_batch`` of 1,000 metrics per call; building the ``Metric`` objects is timed too."""
    total = config["points"]
    values = metric_values(total)
    stamp = int(time.time() * 1000)
    client = MlflowClient(config["tracking_uri"])
    experiment_id = _experiment_id(client, "batch")
    times = []
    for _ in range(config["reps"]):
        run_id = client.create_run(experiment_id).info.run_id
        start = time.perf_counter()
        for lo in range(0, total, MAX_BATCH_METRICS):
            hi = min(total, lo + MAX_BATCH_METRICS)
            client.log_batch(run_id, metrics=[Metric("m", values[i], stamp, i) for i in range(lo, hi)])
        times.append(time.perf_counter() - start)
        stored = len(client.get_metric_history(run_id, "m"))
        if stored != total:
            raise RuntimeError(f"{stored} points stored, {total} logged")
        client.set_terminated(run_id)
    return {"points": total, "times": times}


def _populate(client: MlflowClient, experiment_id: str, specs: Any, count: int, deadline: float) -> bool:
    """``create_run`` + one ``log_batch`` per run; False when the deadline passed first."""
    stamp = int(time.time() * 1000)
    for i, (params, metrics, tags) in enumerate(islice(specs, count)):
        run_id = client.create_run(experiment_id).info.run_id
        client.log_batch(
            run_id,
            metrics=[Metric(k, v, stamp, 0) for k, v in metrics.items()],
            params=[Param(k, v) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()],
        )
        if i % 100 == 0 and time.monotonic() > deadline:
            return False
    return True


def _search(client: MlflowClient, experiment_id: str, max_results: int = SEARCH_PAGE) -> list[Any]:
    return client.search_runs(
        [experiment_id], filter_string=SEARCH_FILTER, order_by=[SEARCH_ORDER], max_results=max_results
    )


def _list_all(client: MlflowClient, experiment_id: str) -> int:
    count, token = 0, None
    while True:
        page = client.search_runs([experiment_id], max_results=LIST_PAGE, page_token=token)
        count += len(page)
        token = page.token
        if not token:
            return count


def search(config: dict[str, Any]) -> dict[str, Any]:
    """Populate runs up to each size in turn; time a filtered, ordered search (and a full listing).

    A size is skipped when populating it would run past ``populate_budget_s``, estimated from the
    rate of the previous size (and enforced by a deadline while populating).
    """
    client = MlflowClient(config["tracking_uri"])
    experiment_id = _experiment_id(client, "search")
    specs = run_specs()
    out: list[dict[str, Any]] = []
    budget = config["populate_budget_s"]
    have, rate = 0, None
    stopped: str | None = None  # why this size and every larger one are not measured
    for size in config["sizes"]:
        if stopped is None and rate is not None and (size - have) / rate > budget:
            stopped = (
                f"populating {have:,} runs went at {rate:.0f} runs/s, so the other {size - have:,} would "
                f"take about {(size - have) / rate / 60:.0f} min, over the {budget / 60:.0f}-min budget"
            )
        if stopped is None:
            start = time.perf_counter()
            if not _populate(client, experiment_id, specs, size - have, time.monotonic() + budget):
                stopped = f"populating ran past the {budget / 60:.0f}-min budget"
        if stopped is not None:
            out.append({"runs": size, "skipped": stopped})
            continue
        populate_s = time.perf_counter() - start
        rate, have = (size - have) / populate_s, size
        found = len(_search(client, experiment_id))  # warm-up, as on the Ember side
        entry: dict[str, Any] = {
            "runs": size,
            "populate_s": populate_s,
            "found": found,
            "times": time_reps(config["reps"], lambda: _search(client, experiment_id)),
            "first_m2": [r.data.metrics["m2"] for r in _search(client, experiment_id, max_results=5)],
        }
        if size == config["list_all_at"]:
            listed = _list_all(client, experiment_id)
            if listed != size:
                raise RuntimeError(f"listing found {listed} runs of {size}")
            entry["list_all_times"] = time_reps(config["reps"], lambda: _list_all(client, experiment_id))
        out.append(entry)
    return {"sizes": out}


if __name__ == "__main__":
    serve_case(
        {"version": version, "log_per_call": log_per_call, "batch_ingest": batch_ingest, "search": search}
    )
