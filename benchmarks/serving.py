"""Online scoring: an Ember endpoint with two replicas against ``mlflow models serve``, side by side.

Usage (``make bench-serving`` runs it)::

    .venv/bin/python benchmarks/serving.py [--seconds 20] [--connections 8] [--reps 3] [--markdown FILE]

The same scikit-learn model (a LogisticRegression on iris, trained here once and pickled) is served by:

- Ember: a folder workspace in ``.bench/serving/``, the model registered, an endpoint with key auth and one
  deployment of two replicas running an entry script (``init()`` unpickles, ``run()`` predicts one row) in a
  registered environment (scikit-learn pinned), built before the timing starts;
- MLflow: the pickled model saved with ``mlflow.sklearn.save_model`` by the MLflow virtualenv that
  ``tracking.py`` builds in ``.bench/mlflow-venv``, served by ``mlflow models serve --env-manager local``,
  sent its cheapest payload (``{"inputs": [[...]]}``, a tensor; ``dataframe_split`` is half as fast).

Each repetition measures, for both (alternating which goes first):

1. cold start: Ember from ``endpoint.deploy(...)`` (no wait) to the first 200 from the scoring URI;
   MLflow from starting ``mlflow models serve`` to its first 200 from ``/invocations``;
2. load: single-row requests on ``--connections`` keep-alive connections for ``--seconds`` after a 2 s
   warm-up, from ``_loadgen.py`` (a closed-loop asyncio generator; there is no wrk here) on the same
   machine, so the generator shares the cores with the servers. Requests/s, p50 and p99 latency.

The table gives medians of ``--reps`` repetitions and Ember / MLflow ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from _loadgen import LoadResult, run_load
from tracking import BENCH_DIR, MLFLOW_ENV, ensure_mlflow_venv, say

WORK = BENCH_DIR / "serving"
ROW = [5.1, 3.5, 1.4, 0.2]
SCORE = """
import json
import pickle

import numpy as np

import ember

model = None


def init():
    global model
    with open(ember.Model.get_model_path("iris-bench"), "rb") as f:
        model = pickle.load(f)


def run(raw_data):
    return model.predict(np.asarray(json.loads(raw_data)["data"], dtype=float)).tolist()
"""
SAVE_MLFLOW = """
import pickle, sys
import mlflow.sklearn
with open(sys.argv[1], "rb") as f:
    model = pickle.load(f)
mlflow.sklearn.save_model(model, sys.argv[2], serialization_format="cloudpickle")
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def train(path: Path) -> None:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    path.write_bytes(pickle.dumps(LogisticRegression(max_iter=500).fit(x, y)))


def first_answer(url: str, body: bytes, headers: dict[str, str], deadline: float) -> float:
    """Poll until ``url`` answers 200; the time it did."""
    with httpx.Client() as client:
        while time.monotonic() < deadline:
            try:
                if client.post(url, content=body, headers=headers, timeout=5).status_code == 200:
                    return time.monotonic()
            except httpx.TransportError:
                pass
            time.sleep(0.01)
    raise RuntimeError(f"{url} did not answer 200 in time")


class EmberSide:
    """A workspace, a registered model, and an endpoint deployed fresh for each repetition."""

    def __init__(self, model_file: Path) -> None:
        import ember

        self.ember = ember
        shutil.rmtree(WORK / "ws", ignore_errors=True)
        os.environ["EMBER_SERVING_IDLE_EXIT"] = "600"
        self.ws = ember.Workspace.create(WORK / "ws")
        self.model = ember.Model.register(self.ws, model_name="iris-bench", model_path=str(model_file))
        serve = WORK / "serve"
        serve.mkdir(parents=True, exist_ok=True)
        (serve / "score.py").write_text(SCORE)
        # A registered environment, built before anything is timed (the cold start is "with a built
        # environment"): scikit-learn pinned to the version that trained the model.
        import sklearn

        from ember.environments.materialize import EnvironmentCache, default_cache_root

        env = ember.Environment("bench-sk", pip=[f"scikit-learn=={sklearn.__version__}"]).register(self.ws)
        EnvironmentCache(default_cache_root()).python_for(env.spec, timeout=900)
        self.inference = ember.InferenceConfig(
            entry_script="score.py", source_directory=serve, environment=env
        )
        self.body = json.dumps({"data": [ROW]}).encode()

    def start(self, rep: int) -> tuple[str, dict[str, str], float]:
        """Deploy; returns the scoring URI, the headers and the cold start (deploy call to first 200)."""
        name = f"iris-{rep}"
        endpoint = self.ember.Endpoint.create(self.ws, name)
        key = endpoint.get_keys()[0]
        headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
        began = time.monotonic()
        endpoint.deploy("blue", models=[self.model], inference_config=self.inference, replicas=2, wait=False)
        answered = first_answer(endpoint.scoring_uri, self.body, headers, began + 120)
        endpoint.deployments["blue"].wait_for_deployment(timeout=120)  # both replicas, before the load
        self.endpoint = endpoint
        return endpoint.scoring_uri, headers, answered - began

    def stop(self) -> None:
        self.endpoint.delete()

    def close(self) -> None:
        host = self.ws.backend.endpoints.get_serving_host()
        if host.pid and host.alive:
            os.kill(host.pid, signal.SIGTERM)


class MlflowSide:
    """``mlflow models serve`` of the same model, started fresh for each repetition."""

    def __init__(self, model_file: Path) -> None:
        self.python = ensure_mlflow_venv()
        self.model_dir = WORK / "mlflow-model"
        shutil.rmtree(self.model_dir, ignore_errors=True)
        script = WORK / "save_mlflow.py"
        script.write_text(SAVE_MLFLOW)
        env = {**os.environ, **MLFLOW_ENV}
        subprocess.run(
            [str(self.python), str(script), str(model_file), str(self.model_dir)], check=True, env=env
        )
        # MLflow's cheapest payload: a tensor (numpy) input; dataframe_split builds a pandas frame per
        # request and answered half as many requests (522 against ~1,000 req/s) when measured.
        self.body = json.dumps({"inputs": [ROW]}).encode()
        self.proc: subprocess.Popen[bytes] | None = None
        self.version = subprocess.run(
            [str(self.python), "-c", "import mlflow; print(mlflow.__version__)"],
            capture_output=True,
            text=True,
            check=True,
            env=env,
        ).stdout.strip()

    def start(self, rep: int) -> tuple[str, dict[str, str], float]:
        port = free_port()
        bin_dir = str(self.python.parent)
        env = {**os.environ, **MLFLOW_ENV, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}
        log = open(WORK / "mlflow-serve.log", "ab")  # noqa: SIM115 - closed with the process
        began = time.monotonic()
        self.proc = subprocess.Popen(
            [
                str(self.python.parent / "mlflow"),
                "models",
                "serve",
                "-m",
                str(self.model_dir),
                "-p",
                str(port),
                "--env-manager",
                "local",
                "--host",
                "127.0.0.1",
            ],
            stdout=log,
            stderr=log,
            env=env,
            start_new_session=True,
        )
        url = f"http://127.0.0.1:{port}/invocations"
        headers = {"Content-Type": "application/json"}
        answered = first_answer(url, self.body, headers, began + 120)
        return url, headers, answered - began

    def stop(self) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=30)
            self.proc = None

    def close(self) -> None:
        self.stop()


def measure(side: Any, rep: int, args: argparse.Namespace) -> tuple[float, LoadResult]:
    url, headers, cold = side.start(rep)
    try:
        headers = {k: v for k, v in headers.items() if k != "Content-Type"}
        result = run_load(url, side.body, connections=args.connections, seconds=args.seconds, headers=headers)
    finally:
        side.stop()
    return cold, result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    model_file = WORK / "model.pkl"
    train(model_file)
    say("preparing MLflow (its virtualenv, the model saved in its format)")
    mlflow = MlflowSide(model_file)
    say("preparing Ember (workspace, registered model)")
    ember_side = EmberSide(model_file)
    results: dict[str, list[tuple[float, LoadResult]]] = {"ember": [], "mlflow": []}
    try:
        for rep in range(args.reps):
            order = [("ember", ember_side), ("mlflow", mlflow)]
            if rep % 2:
                order.reverse()
            for name, side in order:
                cold, load = measure(side, rep, args)
                results[name].append((cold, load))
                say(f"rep {rep + 1} {name}: cold start {cold:.2f} s, {load.summary()}")
    finally:
        ember_side.close()
        mlflow.close()

    def med(name: str, pick: Any) -> float:
        return statistics.median(pick(cold, load) for cold, load in results[name])

    rows = [
        ("requests/s", lambda c, r: r.requests_per_second, "{:,.0f}", True),
        ("p50 latency (ms)", lambda c, r: r.percentile(50), "{:.2f}", False),
        ("p99 latency (ms)", lambda c, r: r.percentile(99), "{:.2f}", False),
        ("cold start to first answer (s)", lambda c, r: c, "{:.2f}", False),
        ("failed requests", lambda c, r: r.errors, "{:.0f}", False),
    ]
    import ember

    lines = [
        f"Serving benchmark, {time.strftime('%Y-%m-%d')}, {platform.node()} ({os.cpu_count()} CPUs), "
        f"Python {platform.python_version()}, Ember {ember.__version__}, MLflow {mlflow.version}; "
        f"{args.connections} connections, {args.seconds:.0f} s per run, median of {args.reps}.",
        "",
        "| measurement | Ember (2 replicas) | MLflow | Ember / MLflow |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, pick, fmt, higher_better in rows:
        e, m = med("ember", pick), med("mlflow", pick)
        if m and e:
            ratio = e / m if higher_better else m / e
            shown = f"{ratio:.1f}x {'more' if higher_better else 'less'}"
        else:
            shown = "-"
        lines.append(f"| {label} | {fmt.format(e)} | {fmt.format(m)} | {shown} |")
    report = "\n".join(lines)
    print(report)
    if args.markdown:
        args.markdown.write_text(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
