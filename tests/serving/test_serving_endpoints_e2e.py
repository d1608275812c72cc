"""An online endpoint through real processes: train, register, deploy, score, update, crash, delete.

Everything runs as a user would have it: a run trains the model in its own process, the serving host is the
detached ``python -m ember.hosting`` that a deploy starts, replicas are its child processes, and requests go
over HTTP to the scoring URI.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from serving_support import (
    IRIS_ROW,
    TRAIN,
    poll,
    process_alive,
    score,
    served_workspace,
    write_scoring_code,
)

import ember
from ember.errors import Conflict

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def _train_and_register(ws: ember.Workspace, tmp_path: Path) -> ember.Model:
    source = tmp_path / "train"
    source.mkdir()
    (source / "train.py").write_text(TRAIN)
    run = ember.Experiment(ws, "iris").submit(
        ember.ScriptRunConfig(source_directory=source, script="train.py")
    )
    run.wait_for_completion(timeout=120)
    assert run.get_status() == "Completed", run.get_details()
    return run.register_model("iris-clf", model_path="outputs/model.pkl", tags={"area": "iris"})


def test_train_register_deploy_score_update_crash_and_delete(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_workspace(tmp_path, monkeypatch) as ws:
        model = _train_and_register(ws, tmp_path)
        serve_v1 = write_scoring_code(tmp_path / "serve-v1", version=1)
        endpoint = ember.Endpoint.create(ws, "iris")

        blue = endpoint.deploy(
            "blue",
            models=[model],
            inference_config=ember.InferenceConfig(entry_script="score.py", source_directory=serve_v1),
            replicas=2,
        )

        assert blue.status == "Healthy", blue.info
        assert blue.ready_replicas == 2
        primary, secondary = endpoint.get_keys()
        assert score(endpoint).status_code == 401
        assert score(endpoint, key="emk_not-the-key").status_code == 401
        for key in (primary, secondary):
            answer = score(endpoint, key=key)
            assert answer.status_code == 200, answer.text
            assert answer.json() == {"version": 1, "predictions": [0]}
            assert answer.headers["x-ember-deployment"] == "blue"
        assert endpoint.run(IRIS_ROW) == {"version": 1, "predictions": [0]}

        # Regenerating the primary key refuses the old one at once; the secondary still works.
        endpoint.regenerate_key("primary")
        new_primary, same_secondary = endpoint.get_keys()
        assert new_primary != primary
        assert same_secondary == secondary
        assert score(endpoint, key=primary).status_code == 401
        assert score(endpoint, key=new_primary).status_code == 200

        # Bad requests are the caller's: 4xx with a clear message.
        assert (
            score(
                endpoint,
                key=new_primary,
                raw=b'{"data": [[1, 2',
            ).status_code
            == 400
        )
        wrong_shape = score(endpoint, {"data": [[1.0, 2.0]]}, key=new_primary)
        assert wrong_shape.status_code == 400
        assert "features" in wrong_shape.json()["error"]["message"]
        pickled = score(
            endpoint, key=new_primary, raw=b"\x80\x04K\x01.", content_type="application/python-pickle"
        )
        assert pickled.status_code == 415
        huge = score(endpoint, key=new_primary, raw=b'{"data": "' + b"x" * (11 * 2**20) + b'"}')
        assert huge.status_code == 413
        assert "larger than" in huge.json()["error"]["message"]
        swagger = httpx.get(endpoint.swagger_uri, headers={"Authorization": f"Bearer {new_primary}"})
        assert swagger.status_code == 200
        assert swagger.json()["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"][
            "schema"
        ]["required"] == ["data"]

        # A second deployment and a traffic split.
        serve_v2 = write_scoring_code(tmp_path / "serve-v2", version=2)
        green = endpoint.deploy(
            "green",
            models=[model],
            inference_config=ember.InferenceConfig(entry_script="score.py", source_directory=serve_v2),
        )
        assert green.status == "Healthy"
        assert endpoint.traffic == {"blue": 100, "green": 0}
        endpoint.set_traffic({"blue": 50, "green": 50})
        with httpx.Client() as client:
            answered = Counter(
                score(endpoint, key=new_primary, client=client).headers["x-ember-deployment"]
                for _ in range(200)
            )
            assert 50 <= answered["blue"] <= 150, answered
            assert 50 <= answered["green"] <= 150, answered
            targeted = score(endpoint, key=new_primary, client=client, deployment="green")
            assert targeted.json()["version"] == 2
        endpoint.set_traffic({"blue": 100, "green": 0})

        # Update blue under load: no request fails while generation 2 replaces generation 1.
        failures: list[str] = []
        versions: Counter[int] = Counter()
        stop = threading.Event()

        def keep_sending() -> None:
            with httpx.Client() as client:
                while not stop.is_set():
                    try:
                        answer = score(endpoint, key=new_primary, client=client, deployment="blue")
                    except httpx.HTTPError as exc:
                        failures.append(repr(exc))
                        continue
                    if answer.status_code != 200:
                        failures.append(f"{answer.status_code} {answer.text}")
                    else:
                        versions[answer.json()["version"]] += 1

        senders = [threading.Thread(target=keep_sending) for _ in range(4)]
        for sender in senders:
            sender.start()
        try:
            time.sleep(0.5)
            updated = endpoint.deploy(
                "blue",
                models=[model],
                inference_config=ember.InferenceConfig(entry_script="score.py", source_directory=serve_v2),
                replicas=2,
            )
            poll(lambda: versions[2] > 50, what="answers of the new generation")
        finally:
            stop.set()
            for sender in senders:
                sender.join()
        assert failures == []
        assert updated.generation == 2
        assert updated.status == "Healthy"
        assert versions[1] > 0, versions
        assert versions[2] > 50, versions
        blue.refresh()
        assert {r.generation for r in blue.info.replica_states if r.state == "ready"} == {2}

        # Kill a replica: requests keep being answered, and it is restarted.
        victim = next(r for r in blue.info.replica_states if r.state == "ready")
        assert victim.pid is not None
        os.kill(victim.pid, signal.SIGKILL)
        with httpx.Client() as client:
            statuses = Counter(
                score(endpoint, key=new_primary, client=client, deployment="blue").status_code
                for _ in range(100)
            )
        assert statuses == {200: 100}

        def restarted() -> bool:
            blue.refresh()
            ready = [r for r in blue.info.replica_states if r.state == "ready"]
            return len(ready) == 2 and victim.pid not in {r.pid for r in ready} and blue.info.restarts >= 1

        poll(restarted, timeout=30, what="the killed replica to be restarted")
        assert "restarting" in blue.get_logs()

        # Telemetry: Prometheus text at /metrics and the workspace's JSON.
        metrics = httpx.get(endpoint.scoring_uri.split("/endpoints/")[0] + "/metrics").text
        assert 'ember_endpoint_requests_total{code="200",deployment="blue",endpoint="iris"}' in metrics
        assert "ember_endpoint_request_duration_seconds_bucket" in metrics
        telemetry = endpoint.get_telemetry()
        by_name = {d.deployment: d for d in telemetry.deployments}
        assert telemetry.host_running
        assert by_name["blue"].requests > 100
        assert telemetry.unauthorized >= 3

        # A served model version cannot be deleted; deleting the endpoint frees it and stops the replicas.
        with pytest.raises(Conflict, match="iris/blue"):
            model.delete()
        pids = [r.pid for r in blue.info.replica_states if r.pid]
        endpoint.delete()
        assert score(endpoint, key=new_primary).status_code == 404
        poll(lambda: not any(process_alive(pid) for pid in pids), timeout=20, what="replicas to stop")
        model.delete()
