"""What both sides of ``benchmarks/tracking.py`` share: the command-line protocol and the test data.

Standard library only: it is imported by ``_ember_side.py`` (Ember's virtualenv) and by
``_mlflow_side.py`` (the benchmark's MLflow virtualenv) alike.
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

RESULT_PREFIX = "BENCH-RESULT "

SEARCH_FILTER = "metrics.m1 < 0.5 and params.p1 = 'a'"
SEARCH_ORDER = "metrics.m2 ASC"
SEARCH_PAGE = 100
LIST_PAGE = 1000  # MLflow's default page size; Ember's Experiment.get_runs uses the same

Case = Callable[[dict[str, Any]], dict[str, Any]]


def serve_case(cases: dict[str, Case]) -> None:
    """Run the case named in the JSON config on argv[1]; print its JSON result on one marked line."""
    config = json.loads(sys.argv[1])
    result = cases[config["case"]](config)
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def metric_values(n: int, seed: int = 1) -> list[float]:
    """``n`` values of a made-up, noisy, decreasing loss curve."""
    rng = random.Random(seed)
    return [1.0 / (1 + i / 1000) + rng.random() * 0.01 for i in range(n)]


def run_specs(seed: int = 7) -> Iterator[tuple[dict[str, str], dict[str, float], dict[str, str]]]:
    """Endless (params, metrics, tags) of runs: 5 params, 5 metrics and 3 tags each.

    Both sides draw the same sequence, so both hold the same data and a search must return the
    same page on both (the orchestrator checks it).
    """
    rng = random.Random(seed)
    while True:
        params = {"p1": rng.choice("abcde")} | {f"p{k}": str(rng.randint(0, 100)) for k in range(2, 6)}
        metrics = {f"m{k}": rng.random() for k in range(1, 6)}
        tags = {f"t{k}": rng.choice("xyz") for k in range(1, 4)}
        yield params, metrics, tags


def time_reps(reps: int, action: Callable[[], Any]) -> list[float]:
    """Wall-clock seconds of ``reps`` calls of ``action``."""
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return times
