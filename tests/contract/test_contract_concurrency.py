"""Concurrency: many processes writing to one workspace lose nothing and agree on names."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ThreadPoolExecutor

import pytest
from contract_support import Target, new_experiment, new_run, unique
from contract_workers import get_or_create, log_points

import ember

PROCESSES = 16
POINTS = 5_000
DEADLINE_S = 240


@pytest.mark.slow
def test_16_processes_logging_to_one_run_lose_no_point(target: Target) -> None:
    backend = target.backend
    run_id = new_run(backend, new_experiment(backend, "concurrent").id).info.id
    context = multiprocessing.get_context("spawn")
    with context.Pool(PROCESSES) as pool:
        pending = [
            pool.apply_async(log_points, (target.location, target.artifact_uri, run_id, worker, POINTS))
            for worker in range(PROCESSES)
        ]
        counts = [result.get(timeout=DEADLINE_S) for result in pending]
    assert counts == [POINTS] * PROCESSES

    history = backend.tracking.get_metric_history(run_id, "shared")
    assert history.total_points == PROCESSES * POINTS
    assert len(history.values) == PROCESSES * POINTS
    assert len(set(history.values)) == PROCESSES * POINTS, "a point was stored twice"
    # Each process's points keep their order within the series.
    for worker in range(PROCESSES):
        mine = [v for v in history.values if worker * 1_000_000 <= v < (worker + 1) * 1_000_000]
        assert mine == [float(worker * 1_000_000 + i) for i in range(POINTS)]
        own = backend.tracking.get_metric_history(run_id, f"worker_{worker}")
        assert own.steps == list(range(POINTS))
    assert len(backend.tracking.get_run(run_id).metrics) == PROCESSES + 1


@pytest.mark.slow
def test_get_or_create_from_many_processes_makes_one_experiment(target: Target) -> None:
    name = unique("race")
    context = multiprocessing.get_context("spawn")
    with context.Pool(8) as pool:
        pending = [
            pool.apply_async(get_or_create, (target.location, target.artifact_uri, name)) for _ in range(8)
        ]
        ids = {result.get(timeout=DEADLINE_S) for result in pending}
    assert len(ids) == 1
    assert target.backend.tracking.get_experiment_by_name(name).id in ids


@pytest.mark.slow
def test_threads_logging_through_one_run_object_lose_no_point(ws: ember.Workspace) -> None:
    run = ember.Experiment(ws, unique("threads")).start_logging()
    threads = 8
    points = 10_000

    def work(worker: int) -> None:
        for i in range(points):
            run.log("shared", float(worker * 1_000_000 + i))

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(work, range(threads)))
    run.complete()

    values = [p["value"] for p in run.get_metric_history("shared")]
    assert len(values) == threads * points
    for worker in range(threads):
        mine = [v for v in values if worker * 1_000_000 <= v < (worker + 1) * 1_000_000]
        assert mine == [float(worker * 1_000_000 + i) for i in range(points)], "a thread's order was lost"
