"""The data ``benchmarks/studio.py`` puts into both tools: one experiment of many runs, one long series.

Standard library only: imported by ``_studio_ember.py`` (Ember's virtualenv) and by
``_studio_mlflow.py`` (the benchmark's MLflow virtualenv), so both sides hold the same runs.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

EXPERIMENT = "studio-bench"
LOSS_KEY = "loss"
LOSS_RUN_NAME = "long-series"
T0 = 1_700_000_000.0  # created time of run 0, epoch seconds; run i is created i seconds later


@dataclass(frozen=True)
class RunRow:
    """One run as both sides store it; statuses are Ember's names (the MLflow side maps them)."""

    index: int
    name: str
    status: str
    created: float
    end: float
    params: dict[str, str]
    metrics: dict[str, float]
    tags: dict[str, str]


def run_rows(count: int, seed: int = 7) -> Iterator[RunRow]:
    """``count`` runs of 5 params, 5 metrics and 3 tags each, as ``search_scale.populate`` makes them."""
    rng = random.Random(seed)
    for i in range(count):
        created = T0 + i
        yield RunRow(
            index=i,
            name=f"run-{i}",
            status=rng.choice(["Completed", "Failed", "Running"]),
            created=created,
            end=created + rng.uniform(1, 1000),
            params={"p1": rng.choice("abcde")} | {f"p{k}": str(rng.randint(0, 100)) for k in range(2, 6)},
            metrics={f"m{k}": rng.random() for k in range(1, 6)},
            tags={f"t{k}": rng.choice("xyz") for k in range(1, 4)},
        )


def loss_series(points: int) -> tuple[list[float], list[int]]:
    """The long metric: values and steps 0..points-1 (the same noisy curve as the tracking benchmark)."""
    rng = random.Random(1)
    return [1.0 / (1 + i / 1000) + rng.random() * 0.01 for i in range(points)], list(range(points))
