"""The Ember side of ``benchmarks/tracking.py``; run in Ember's virtualenv as a subprocess.

``python benchmarks/_ember_side.py '{"case": "log_per_call", ...}'`` prints one JSON result line.
Every measured number is Ember's own at full scale: nothing here is extrapolated.
"""

from __future__ import annotations

import time
from itertools import islice
from typing import Any

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

import ember
from ember.entities import MetricSeries, RunCreate, RunSearch


def _workspace(target: str) -> ember.Workspace:
    if target.startswith("http"):
        return ember.Workspace.connect(target)
    return ember.Workspace.get(target)


def create_workspace(config: dict[str, Any]) -> dict[str, Any]:
    """Create the workspace folder a server or a later case opens."""
    ember.Workspace.create(config["path"]).close()
    return {"version": ember.__version__}


def log_per_call(config: dict[str, Any]) -> dict[str, Any]:
    """``run.log()`` once per point, then ``run.flush()``: timed until every point is durable."""
    n, values = config["points"], metric_values(config["points"])
    times = []
    with _workspace(config["target"]) as ws:
        experiment = ember.Experiment(ws, "per-call")
        for _ in range(config["reps"]):
            run = experiment.start_logging()
            start = time.perf_counter()
            for step, value in enumerate(values):
                run.log("loss", value, step=step)
            run.flush()
            times.append(time.perf_counter() - start)
            stored = ws.backend.tracking.get_metric_history(run.id, "loss", max_points=10).total_points
            if stored != n:
                raise RuntimeError(f"{stored} points stored, {n} logged")
            run.complete()
    return {"points": n, "times": times}


def batch_ingest(config: dict[str, Any]) -> dict[str, Any]:
    """``log_metrics`` of columnar series batches; building the ``MetricSeries`` is timed too."""
    total, batch = config["points"], config["batch"]
    values = metric_values(total)
    steps = list(range(total))
    stamps = [time.time()] * total
    times = []
    with _workspace(config["target"]) as ws:
        tracking = ws.backend.tracking
        experiment = ember.Experiment(ws, "batch")
        for _ in range(config["reps"]):
            run = experiment.start_logging()
            start = time.perf_counter()
            for lo in range(0, total, batch):
                hi = lo + batch
                series = MetricSeries(
                    key="m", values=values[lo:hi], steps=steps[lo:hi], timestamps=stamps[lo:hi]
                )
                tracking.log_metrics(run.id, [series])
            times.append(time.perf_counter() - start)
            stored = tracking.get_metric_history(run.id, "m", max_points=10).total_points
            if stored != total:
                raise RuntimeError(f"{stored} points stored, {total} logged")
            run.complete()
    return {"points": total, "times": times}


def _populate(ws: ember.Workspace, experiment_id: str, specs: Any, count: int) -> None:
    """One run through the contract, the way a client that only has the contract would do it."""
    tracking = ws.backend.tracking
    now = time.time()
    for params, metrics, tags in islice(specs, count):
        run_id = tracking.create_run(RunCreate(experiment_id=experiment_id, tags=tags)).info.id
        tracking.log_params(run_id, params)
        tracking.log_metrics(
            run_id, [MetricSeries(key=k, values=[v], steps=[0], timestamps=[now]) for k, v in metrics.items()]
        )


def _search(ws: ember.Workspace) -> int:
    return len(
        ws.search_runs(
            experiment="search", filter=SEARCH_FILTER, order_by=[SEARCH_ORDER], max_results=SEARCH_PAGE
        )
    )


def _list_all(ws: ember.Workspace) -> int:
    count, token = 0, None
    while True:
        page = ws.search_runs(experiment="search", max_results=LIST_PAGE, page_token=token)
        count += len(page)
        token = page.next_page_token
        if token is None:
            return count


def search(config: dict[str, Any]) -> dict[str, Any]:
    """Populate runs up to each size in turn; time a filtered, ordered search (and a full listing)."""
    specs = run_specs()
    out: list[dict[str, Any]] = []
    with _workspace(config["target"]) as ws:
        experiment = ember.Experiment(ws, "search")
        have = 0
        for size in config["sizes"]:
            start = time.perf_counter()
            _populate(ws, experiment.id, specs, size - have)
            populate_s, have = time.perf_counter() - start, size
            found = _search(ws)  # warm-up: SQLite's page cache, lazy imports
            entry: dict[str, Any] = {
                "runs": size,
                "populate_s": populate_s,
                "found": found,
                "times": time_reps(config["reps"], lambda: _search(ws)),
                "first_m2": _first_m2(ws, experiment.id),
            }
            if size == config["list_all_at"]:
                listed = _list_all(ws)
                if listed != size:
                    raise RuntimeError(f"listing found {listed} runs of {size}")
                entry["list_all_times"] = time_reps(config["reps"], lambda: _list_all(ws))
            out.append(entry)
    return {"sizes": out}


def _first_m2(ws: ember.Workspace, experiment_id: str) -> list[float]:
    """m2 of the first runs of the search page, to check both sides found the same runs."""
    request = RunSearch(
        experiment_ids=[experiment_id], filter=SEARCH_FILTER, order_by=[SEARCH_ORDER], max_results=5
    )
    return [r.metrics["m2"] for r in ws.backend.tracking.search_runs(request).runs]


if __name__ == "__main__":
    serve_case(
        {
            "create_workspace": create_workspace,
            "log_per_call": log_per_call,
            "batch_ingest": batch_ingest,
            "search": search,
        }
    )
