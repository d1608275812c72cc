"""Helpers of the CLI stories: an in-process ``ember`` runner and a way to seed runs like a script would."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner, Result

from ember.cli.main import app
from ember.entities import MetricSeries, RunCreate, RunStatus, RunUpdate
from ember.tracking.contract import TrackingBackend

__all__ = ["Cli", "seed_run"]


def _refuse_constant(name: str) -> Any:
    raise AssertionError(f"the CLI printed the non-JSON constant {name}")


class Cli:
    """Runs ``ember …`` in process, the way a user types it."""

    def __init__(self, obj: Any = None) -> None:
        self.runner = CliRunner()
        self.obj = obj

    def __call__(self, *args: str, input: str | None = None) -> Result:
        extra = {} if self.obj is None else {"obj": self.obj}
        return self.runner.invoke(app, list(args), input=input, **extra)

    def ok(self, *args: str, input: str | None = None) -> Result:
        """Run a command that must succeed."""
        result = self(*args, input=input)
        assert result.exit_code == 0, f"ember {' '.join(args)} -> {result.exit_code}\n{result.output}"
        return result

    def json(self, *args: str) -> Any:
        """Run a command with --json; its stdout must be strict JSON and nothing else."""
        result = self.ok(*args, "--json")
        return json.loads(result.stdout, parse_constant=_refuse_constant)


def seed_run(
    tracking: TrackingBackend,
    *,
    experiment: str = "iris",
    name: str | None = None,
    params: dict[str, str] | None = None,
    metrics: dict[str, list[float]] | None = None,
    files: dict[str, bytes] | None = None,
    status: RunStatus | None = None,
    parent: str | None = None,
) -> str:
    """Create a run through the contract with what a training script would log; return its id."""
    exp = tracking.get_or_create_experiment(experiment)
    run_id = tracking.create_run(
        RunCreate(experiment_id=exp.id, display_name=name, parent_run_id=parent)
    ).info.id
    if params:
        tracking.log_params(run_id, params)
    if metrics:
        tracking.log_metrics(run_id, [MetricSeries(key=k, values=v) for k, v in metrics.items()])
    for path, data in (files or {}).items():
        tracking.upload_artifact(run_id, path, [data[: len(data) // 2], data[len(data) // 2 :]])
    if status is not None:
        tracking.update_run(run_id, RunUpdate(status=status))
    return run_id
