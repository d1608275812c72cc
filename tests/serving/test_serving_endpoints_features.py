"""Endpoint features beyond the main story: tokens, mirroring, autoscaling, collection, failures, restarts."""

from __future__ import annotations

import os
import pickle
import signal
import threading
import time
from pathlib import Path

import httpx
import pytest
from serving_support import (
    IRIS_ROW,
    SLOW_SCORE,
    poll,
    process_alive,
    score,
    served_workspace,
    stop_serving_host,
    write_scoring_code,
)
from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import ember
from ember.serving.endpoint import DeploymentFailed
from support.server_harness import start_server, stop_server

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def _model(ws: ember.Workspace, tmp_path: Path) -> ember.Model:
    x, y = load_iris(return_X_y=True)
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps(LogisticRegression(max_iter=500).fit(x, y)))
    return ember.Model.register(ws, model_name="iris-clf", model_path=str(path))


def _inference(folder: Path, **kwargs: object) -> ember.InferenceConfig:
    return ember.InferenceConfig(
        entry_script="score.py", source_directory=write_scoring_code(folder, **kwargs)
    )  # type: ignore[arg-type]


def test_a_token_endpoint_takes_short_lived_tokens_and_no_keys(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_workspace(tmp_path, monkeypatch) as ws:
        model = _model(ws, tmp_path)
        endpoint = ember.Endpoint.create(ws, "tokens", auth_mode="token")
        endpoint.deploy("blue", models=[model], inference_config=_inference(tmp_path / "serve"))

        token, expiry = endpoint.get_token()

        assert score(endpoint, key=token).status_code == 200
        assert endpoint.run(IRIS_ROW)["predictions"] == [0]
        assert score(endpoint).status_code == 401
        assert score(endpoint, key=token[:-2] + "xx").status_code == 401  # a forged signature
        other = ember.Endpoint.create(ws, "other", auth_mode="token")
        assert score(endpoint, key=other.get_token()[0]).status_code == 401  # scoped to one endpoint
        assert expiry > time.time() + 3000


def test_mirrored_traffic_reaches_the_mirror_and_never_the_caller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_workspace(tmp_path, monkeypatch) as ws:
        model = _model(ws, tmp_path)
        endpoint = ember.Endpoint.create(ws, "mirror")
        endpoint.deploy("blue", models=[model], inference_config=_inference(tmp_path / "v1", version=1))
        endpoint.deploy("shadow", models=[model], inference_config=_inference(tmp_path / "v2", version=2))
        endpoint.set_mirror_traffic({"shadow": 50})
        key = endpoint.get_keys()[0]

        with httpx.Client() as client:
            answers = [score(endpoint, key=key, client=client) for _ in range(100)]

        assert {a.headers["x-ember-deployment"] for a in answers} == {"blue"}
        assert {a.json()["version"] for a in answers} == {1}

        def mirrored() -> int:
            by_name = {d.deployment: d for d in endpoint.get_telemetry().deployments}
            return by_name["shadow"].mirrored if "shadow" in by_name else 0

        count = poll(mirrored, what="mirrored requests")
        assert 20 <= count <= 80


def test_autoscaling_adds_replicas_under_load_and_removes_them_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_workspace(tmp_path, monkeypatch) as ws:
        endpoint = ember.Endpoint.create(ws, "scale")
        slow = write_scoring_code(tmp_path / "slow", script=SLOW_SCORE.format(seconds=0.2))
        dep = endpoint.deploy(
            "blue",
            inference_config=ember.InferenceConfig(entry_script="score.py", source_directory=slow),
            autoscale=ember.Autoscale(
                min_replicas=1, max_replicas=3, target_concurrency=1, scale_down_delay_seconds=1
            ),
        )
        assert dep.ready_replicas == 1
        key = endpoint.get_keys()[0]
        stop = threading.Event()

        def load() -> None:
            with httpx.Client() as client:
                while not stop.is_set():
                    score(endpoint, {"x": 1}, key=key, client=client)

        senders = [threading.Thread(target=load) for _ in range(6)]
        for sender in senders:
            sender.start()
        try:

            def scaled_out() -> bool:
                dep.refresh()
                return dep.ready_replicas == 3

            poll(scaled_out, timeout=60, what="three ready replicas")
        finally:
            stop.set()
            for sender in senders:
                sender.join()

        def scaled_in() -> bool:
            dep.refresh()
            return dep.info.desired_replicas == 1 and dep.ready_replicas == 1

        poll(scaled_in, timeout=60, what="scaling back to one replica")
        assert "scaling out" in dep.get_logs()


def test_collected_requests_are_parquet_in_the_default_datastore(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_workspace(tmp_path, monkeypatch) as ws:
        model = _model(ws, tmp_path)
        endpoint = ember.Endpoint.create(ws, "collect")
        endpoint.deploy(
            "blue", models=[model], inference_config=_inference(tmp_path / "v1"), collect_data=True
        )
        for row in ([5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3], [5.9, 3.0, 4.2, 1.5]):
            endpoint.run({"data": [row]})
        store = ember.Datastore.get_default(ws)

        def collected() -> list[str]:
            return [
                path for path, _ in store.list_files("collected/collect/blue") if path.endswith(".parquet")
            ]

        poll(collected, timeout=20, what="a Parquet file of collected requests")
        dataset = ember.Dataset.Tabular.from_parquet_files(
            path=(store, "collected/collect/blue/**/*.parquet")
        )
        frame = dataset.to_pandas_dataframe()

        assert len(frame) == 3
        assert set(frame.columns) >= {
            "time",
            "request_id",
            "deployment",
            "status",
            "latency_ms",
            "input",
            "output",
        }
        assert set(frame["status"]) == {200}
        assert '"predictions": [2]' in " ".join(frame["output"])
        assert "6.7" in " ".join(frame["input"])


def test_a_failing_update_keeps_the_old_generation_serving(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_workspace(tmp_path, monkeypatch) as ws:
        model = _model(ws, tmp_path)
        endpoint = ember.Endpoint.create(ws, "safe")
        endpoint.deploy("blue", models=[model], inference_config=_inference(tmp_path / "v1"))
        broken = write_scoring_code(
            tmp_path / "broken",
            script="def init():\n    raise RuntimeError('no model here')\n\ndef run(d):\n    return 1\n",
        )

        with pytest.raises(DeploymentFailed, match="no model here"):
            endpoint.deploy(
                "blue",
                models=[model],
                inference_config=ember.InferenceConfig(entry_script="score.py", source_directory=broken),
                timeout=60,
            )

        assert endpoint.run(IRIS_ROW) == {"version": 1, "predictions": [0]}
        endpoint.refresh()
        dep = endpoint.deployments["blue"]
        assert dep.status == "Failed"
        assert "still serves" in dep.info.status_message


def test_endpoints_come_back_after_the_server_and_its_host_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_workspace(tmp_path, monkeypatch) as local:
        model = _model(local, tmp_path)
        folder = Path(local.backend.folder)  # type: ignore[attr-defined]
        server = start_server(folder, tmp_path / "server.log")
        try:
            ws = ember.Workspace.get(server.url)
            endpoint = ember.Endpoint.create(ws, "durable")
            endpoint.deploy("blue", models=[model], inference_config=_inference(tmp_path / "v1"), replicas=2)
            key = endpoint.get_keys()[0]
            assert score(endpoint, key=key).status_code == 200
            uri = endpoint.scoring_uri
        finally:
            stop_server(server.process)
        # The machine "reboots": the host is killed outright, its replicas follow it.
        host = local.backend.endpoints.get_serving_host()
        assert host.pid is not None
        replica_pids = [r.pid for r in endpoint.deployments["blue"].info.replica_states if r.pid]
        os.kill(host.pid, signal.SIGKILL)
        poll(
            lambda: not any(process_alive(p) for p in replica_pids),
            timeout=20,
            what="orphaned replicas to stop",
        )
        with pytest.raises(httpx.TransportError):
            httpx.post(uri, json=IRIS_ROW, headers={"Authorization": f"Bearer {key}"}, timeout=2)

        server = start_server(folder, tmp_path / "server.log")
        try:
            ws = ember.Workspace.get(server.url)
            endpoint = ember.Endpoint(ws, "durable")
            assert endpoint.scoring_uri == uri

            def serving() -> bool:
                try:
                    return score(endpoint, key=key).status_code == 200
                except httpx.TransportError:
                    return False

            poll(serving, timeout=60, what="the endpoint to come back on the same URL")
            endpoint.delete()
        finally:
            stop_server(server.process)
            stop_serving_host(local)
