"""The MLflow side of ``benchmarks/runs.py``; run in the benchmark's MLflow virtualenv.

``python benchmarks/_runs_mlflow.py '{"case": "submit_api", ...}'`` prints one JSON result line. The
orchestrator writes the MLflow project (``MLproject`` + ``train.py``) and the source tree; this side
submits, polls and times exactly as ``runs.py`` does for Ember.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import mlflow
import mlflow.projects
from _bench_common import serve_case
from mlflow import MlflowClient

POLL_S = 0.005  # the same polling interval as the Ember side
DEADLINE_S = 600

logging.getLogger("mlflow").setLevel(logging.WARNING)


def _project_env(tracking_uri: str) -> dict[str, str]:
    """This virtualenv first on PATH, so that the project's ``python`` is the one with MLflow."""
    bin_dir = str(Path(sys.executable).parent)
    return os.environ | {
        "PATH": bin_dir + os.pathsep + os.environ.get("PATH", ""),
        "MLFLOW_TRACKING_URI": tracking_uri,
    }


def _wait_for_file(path: Path) -> dict[str, Any]:
    """The JSON the script wrote (atomically) to ``path``, once it is there."""
    deadline = time.monotonic() + DEADLINE_S
    while not path.exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the script did not write {path} within {DEADLINE_S} s")
        time.sleep(POLL_S)
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def _parameters(stamps: Path, name: str, points: int) -> dict[str, str]:
    return {
        "start_file": str(stamps / f"{name}.start"),
        "points": str(points),
        "end_file": str(stamps / f"{name}.end"),
    }


def submit_cli(config: dict[str, Any]) -> dict[str, Any]:
    """``mlflow run <dir> --env-manager local``: from just before the command to the script's first line."""
    stamps = Path(config["stamps"])
    mlflow_cli = str(Path(sys.executable).parent / "mlflow")
    env = _project_env(config["tracking_uri"])
    latencies, totals = [], []
    for i in range(config["reps"] + 1):  # the first is a warm-up
        params = _parameters(stamps, f"mlflow-cli-{i}", 0)
        command = [mlflow_cli, "run", config["project"], "--env-manager", "local", "--experiment-name", "cli"]
        for key, value in params.items():
            command += ["-P", f"{key}={value}"]
        before = time.time()
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL, stderr=sys.stderr)
        total = time.time() - before
        started = _wait_for_file(Path(params["start_file"]))["time"]
        if i > 0:
            latencies.append(started - before)
            totals.append(total)
    return {"latency": latencies, "total": totals}


def submit_api(config: dict[str, Any]) -> dict[str, Any]:
    """``mlflow.projects.run(uri, env_manager="local", synchronous=False)``: to the script's first line."""
    stamps = Path(config["stamps"])
    os.environ.update(_project_env(config["tracking_uri"]))
    mlflow.set_tracking_uri(config["tracking_uri"])
    latencies, calls = [], []
    for i in range(config["reps"] + 1):  # the first is a warm-up
        params = _parameters(stamps, f"mlflow-api-{i}", 0)
        before = time.time()
        submitted = mlflow.projects.run(
            config["project"],
            entry_point="main",
            parameters=params,
            env_manager="local",
            experiment_name="api",
            synchronous=False,
        )
        call = time.time() - before
        started = _wait_for_file(Path(params["start_file"]))["time"]
        if not submitted.wait():
            raise RuntimeError(f"MLflow run {submitted.run_id} failed")
        if i > 0:
            latencies.append(started - before)
            calls.append(call)
    return {"latency": latencies, "submit_call": calls}


def log_in_run(config: dict[str, Any]) -> dict[str, Any]:
    """``mlflow.log_metric`` in a loop inside a project run: calls/s, then script end → all points stored."""
    stamps, points = Path(config["stamps"]), config["points"]
    os.environ.update(_project_env(config["tracking_uri"]))
    mlflow.set_tracking_uri(config["tracking_uri"])
    client = MlflowClient(config["tracking_uri"])
    rates, durable = [], []
    for i in range(config["reps"]):
        params = _parameters(stamps, f"mlflow-log-{i}", points)
        submitted = mlflow.projects.run(
            config["project"],
            entry_point="main",
            parameters=params,
            env_manager="local",
            experiment_name="log",
            synchronous=False,
        )
        end = _wait_for_file(Path(params["end_file"]))
        while True:
            polled = time.time()
            if len(client.get_metric_history(end["run_id"], "m")) == points:
                break
            if polled - end["end"] > DEADLINE_S:
                raise RuntimeError(f"MLflow run {end['run_id']} never held {points} points")
            time.sleep(POLL_S)
        if not submitted.wait():
            raise RuntimeError(f"MLflow run {submitted.run_id} failed")
        rates.append(end["calls_per_s"])
        durable.append(polled - end["end"])
    return {"points": points, "calls_per_s": rates, "durable": durable}


def log_artifacts(config: dict[str, Any]) -> dict[str, Any]:
    """``mlflow.log_artifacts(dir)`` in a new run, then again in another after one file changed."""
    source, changed = config["source"], Path(config["changed_file"])
    mlflow.set_tracking_uri(config["tracking_uri"])
    experiment_id = mlflow.create_experiment("code", artifact_location=Path(config["artifacts"]).as_uri())
    first, second = [], []
    for i in range(config["reps"]):
        for times in (first, second):
            if times is second:
                with open(changed, "a") as handle:
                    handle.write(f"# mlflow edit {i}\n")
            with mlflow.start_run(experiment_id=experiment_id):
                start = time.perf_counter()
                mlflow.log_artifacts(source, artifact_path="code")
                times.append(time.perf_counter() - start)
    return {"first": first, "second": second}


if __name__ == "__main__":
    serve_case(
        {
            "submit_cli": submit_cli,
            "submit_api": submit_api,
            "log_in_run": log_in_run,
            "log_artifacts": log_artifacts,
        }
    )
