"""Ember's end-to-end demo: track a small training job in a local workspace, then look at it.

Run with ``make demo``. It trains a logistic-regression classifier (plain Python, no extra
packages) on generated data with 3-fold cross-validation, logging params, per-step loss, per-fold
child runs, tables and files; searches the runs; submits ``examples/src/train.py`` as a run on the
``local`` compute target and streams its output; serves the workspace with ``ember server`` and reads
the same runs back over HTTP; and lists them with the CLI. The training data is registered as a
dataset in the workspace's datastore and fed to the submitted run, which records the lineage. The
submitted run's model is registered, deployed behind an endpoint (``examples/serve/score.py``), scored
with its key from the SDK, plain HTTP and the CLI, and the endpoint deleted.
"""

from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

import ember

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE = ROOT / "demo-workspace"


def make_data(n: int, seed: int) -> list[tuple[float, float, int]]:
    """Two Gaussian blobs in 2-D, labels 0/1."""
    rng = random.Random(seed)
    data = []
    for i in range(n):
        label = i % 2
        cx = 1.5 if label else -1.5
        data.append((rng.gauss(cx, 1.2), rng.gauss(-cx / 2, 1.2), label))
    return data


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))


def train(run: ember.Run, rows: list[tuple[float, float, int]], *, lr: float, epochs: int) -> list[float]:
    """Batch gradient descent; logs the loss each epoch."""
    w = [0.0, 0.0, 0.0]
    for epoch in range(epochs):
        grad = [0.0, 0.0, 0.0]
        loss = 0.0
        for x1, x2, y in rows:
            p = sigmoid(w[0] + w[1] * x1 + w[2] * x2)
            loss -= y * math.log(p + 1e-12) + (1 - y) * math.log(1 - p + 1e-12)
            for j, xj in enumerate((1.0, x1, x2)):
                grad[j] += (p - y) * xj
        w = [wj - lr * g / len(rows) for wj, g in zip(w, grad, strict=True)]
        run.log("loss", loss / len(rows), step=epoch)
    return w


def accuracy(w: list[float], rows: list[tuple[float, float, int]]) -> float:
    hits = sum((sigmoid(w[0] + w[1] * x1 + w[2] * x2) > 0.5) == bool(y) for x1, x2, y in rows)
    return hits / len(rows)


def svg_plot(losses: list[float]) -> str:
    """A tiny SVG line chart of the loss curve."""
    top = max(losses)
    points = " ".join(
        f"{i * 300 / (len(losses) - 1):.1f},{150 - 140 * v / top:.1f}" for i, v in enumerate(losses)
    )
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="150">'
        f'<polyline fill="none" stroke="#e25822" stroke-width="2" points="{points}"/></svg>'
    )


def main() -> None:
    ws = ember.Workspace.create(WORKSPACE)
    ws.write_config(ROOT)  # so `ember …` commands run in the repository find this workspace
    exp = ember.Experiment(ws, "demo-logreg")
    data = make_data(600, seed=7)
    folds = [data[i::3] for i in range(3)]
    out_dir = Path(tempfile.mkdtemp(prefix="ember-demo-"))

    for lr in (0.05, 0.5):
        with exp.start_logging(display_name=f"logreg-lr{lr}", tags={"team": "demo"}) as run:
            run.log_params({"model": "logreg", "lr": lr, "epochs": 60, "folds": 3})
            run.add_properties({"dataset": "two-blobs-v1"})
            accs = []
            for k in range(3):
                child = run.child_run(f"fold-{k}")
                train_rows = [r for j, f in enumerate(folds) if j != k for r in f]
                w = train(child, train_rows, lr=lr, epochs=60)
                acc = accuracy(w, folds[k])
                child.log("accuracy", acc)
                child.complete()
                accs.append(acc)
                run.log_row("per_fold", fold=k, accuracy=acc)
            w = train(run, data, lr=lr, epochs=60)
            run.log_list("fold_accuracy", accs)
            run.log("accuracy", sum(accs) / len(accs))
            run.log_table("confusion", {"label": [0, 1], "predicted_ok": _per_class_hits(w, data)})
            model_file = out_dir / "model.json"
            model_file.write_text(json.dumps({"weights": w}))
            run.upload_file("outputs/model.json", model_file)
            losses = run.get_metrics()["loss"]
            (out_dir / "plots").mkdir(exist_ok=True)
            (out_dir / "plots" / "loss.svg").write_text(svg_plot(losses))
            run.upload_folder("outputs/plots", out_dir / "plots")
        print(f"run {run.id}  lr={lr:<5} accuracy={sum(accs) / 3:.3f}  status={run.get_status()}")

    best = ws.search_runs(
        experiment="demo-logreg",
        filter="metrics.accuracy > 0.5 and params.model = 'logreg' and attributes.status = 'Completed'",
        order_by=["metrics.accuracy DESC"],
        max_results=1,
    )[0]
    print(f"\nbest run by search_runs: {best.id} ({best.display_name}), files: {best.get_file_names()}")

    print("\nregistering the training data as a dataset in the workspace's datastore:")
    training = register_training_data(ws, data, out_dir)
    profile = training.get_profile()
    x1 = next(c for c in profile.columns if c.name == "x1")
    print(
        f"dataset {training.name} version {training.version}: {profile.row_count} rows, "
        f"x1 mean {x1.mean:.3f} std {x1.std:.3f}, {training.info.file_count} files"  # type: ignore[union-attr]
    )

    print("\nsubmitting examples/src/train.py as a run on the 'local' compute target, with the dataset:")
    script_run = ember.Experiment(ws, "demo-submitted").submit(
        ember.ScriptRunConfig(
            source_directory=ROOT / "examples" / "src",
            script="train.py",
            arguments=["--lr", 0.5, "--data", training.as_named_input("training").as_download()],
        ),
        tags={"how": "submitted"},
    )
    details = script_run.wait_for_completion(show_output=True, timeout=300)
    submitted_acc = script_run.get_metrics()["accuracy"][-1]
    status = details["info"]["status"]
    files = script_run.get_file_names()
    print(f"run {script_run.id}: {status}, accuracy={submitted_acc:.3f}, files: {files}")
    consumers = [link.run_id for link in training.get_runs()]
    print(f"lineage: dataset {training.name} v{training.version} was consumed by run(s) {consumers}")

    deploy_and_score(ws, script_run)

    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "ember", "server", "--workspace", str(WORKSPACE), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}")
        remote = ember.Workspace.connect(f"http://127.0.0.1:{port}")
        same = remote.get_run(best.id)
        remote_acc = same.get_metrics()["accuracy"][-1]
        print(f"through `ember server` on port {port}: {same.display_name} accuracy={remote_acc:.3f}")
        remote.close()
    finally:
        server.terminate()
        server.wait(timeout=10)

    print("\n$ ember run list --experiment demo-logreg")
    subprocess.run(
        [sys.executable, "-m", "ember", "run", "list", "--experiment", "demo-logreg"], check=True, cwd=ROOT
    )
    print(
        f"\nWorkspace: {WORKSPACE}  (metadata: ember.db, files: artifacts/)\n"
        "Next: `ember run show <id>`, `ember run metrics <id>`, `ember run logs <id>`.\n"
        "\nOpen the studio on this workspace (http://127.0.0.1:5000):\n\n"
        f"    {_shown(Path(sys.executable).parent / 'ember')} studio --workspace {_shown(WORKSPACE)}\n"
    )
    ws.close()


def deploy_and_score(ws: ember.Workspace, script_run: Any) -> None:
    """Register the submitted run's model, serve it behind an endpoint, score a request, tear it down."""
    print("\nregistering the submitted run's model and deploying it behind an endpoint:")
    model = script_run.register_model("demo-logreg", model_path="outputs/model.json", tags={"demo": "yes"})
    print(f"model {model.name} version {model.version} (from run {model.run_id})")
    for stale in ember.Endpoint.list(ws):  # a previous demo's endpoint
        if stale.name == "demo":
            stale.delete()
    endpoint = ember.Endpoint.create(ws, "demo")
    started = time.monotonic()
    deployment = endpoint.deploy(
        "blue",
        models=[model],
        inference_config=ember.InferenceConfig(
            entry_script="score.py", source_directory=ROOT / "examples" / "serve"
        ),
    )
    print(
        f"deployment {deployment.name}: {deployment.status} in {time.monotonic() - started:.1f} s, "
        f"scoring URI {endpoint.scoring_uri}"
    )
    answer = endpoint.run({"data": [-2.0, 0.1, 2.5]})
    print(f"endpoint.run({{'data': [-2.0, 0.1, 2.5]}}) -> {answer}")
    key = endpoint.get_keys()[0]
    refused = httpx.post(endpoint.scoring_uri, json={"data": [1.0]}).status_code
    with_key = httpx.post(
        endpoint.scoring_uri, json={"data": [1.0]}, headers={"Authorization": f"Bearer {key}"}
    )
    print(f"without a key: HTTP {refused}; with `Authorization: Bearer <key>`: HTTP {with_key.status_code}")
    print("\n$ ember endpoint invoke demo --data '{\"data\": [0.5]}'")
    subprocess.run(
        [sys.executable, "-m", "ember", "endpoint", "invoke", "demo", "--data", '{"data": [0.5]}'],
        check=True,
        cwd=ROOT,
    )
    telemetry = {d.deployment: d.requests for d in endpoint.get_telemetry().deployments}
    print(f"requests answered per deployment: {telemetry}")
    endpoint.delete()
    print("endpoint deleted (its replicas stopped)")


def register_training_data(ws: ember.Workspace, data: list[tuple[float, float, int]], out_dir: Path) -> Any:
    """Write the data as CSV files, upload them to the default datastore and register a dataset."""
    folder = out_dir / "two-blobs"
    folder.mkdir(exist_ok=True)
    for part in range(3):
        rows = data[part::3]
        lines = ["x1,x2,label", *(f"{x1:.6f},{x2:.6f},{y}" for x1, x2, y in rows)]
        (folder / f"part-{part}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = ws.get_default_datastore()
    store.upload(folder, "demo/two-blobs", show_progress=False)  # unchanged files are skipped: same version
    tabular = ember.Dataset.Tabular.from_delimited_files(
        [(store, "demo/two-blobs/*.csv")], set_column_types={"label": "int"}
    )
    return tabular.register(
        ws,
        "two-blobs",
        description="two Gaussian blobs, 600 rows",
        tags={"demo": "yes"},
        create_new_version=True,
    )


def _per_class_hits(w: list[float], rows: list[tuple[float, float, int]]) -> list[int]:
    hits = [0, 0]
    for x1, x2, y in rows:
        if (sigmoid(w[0] + w[1] * x1 + w[2] * x2) > 0.5) == bool(y):
            hits[y] += 1
    return hits


def _shown(path: Path) -> str:
    """A path as the user can type it from the repository root (where `make demo` runs)."""
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_healthy(url: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"ember server did not start at {url}")


if __name__ == "__main__":
    main()
