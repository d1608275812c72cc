"""Online endpoints from the SDK: create one, deploy model versions with a scoring script, wait for the
serving host to report them ready, split traffic, manage keys and tokens, score, and delete.

No serving host runs here (``EMBER_SERVING_AUTOSTART=0``): the tests play its part by reporting
deployments' status through the host-side API, and scoring goes through a fake HTTP transport.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import ember
from ember import Autoscale, Deployment, DeploymentConfig, Endpoint, Environment, InferenceConfig, Model
from ember.entities.jobs import EnvironmentRef
from ember.errors import Conflict, EmberError, InvalidInput, NotFound, Unavailable
from ember.jobs import snapshot
from ember.serving.endpoint import DeploymentFailed, DeploymentTimeout, ScoringError

SCORE = "def init():\n    pass\n\n\ndef run(raw_data):\n    return {'echo': raw_data}\n"


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ember.Workspace]:
    monkeypatch.setenv("EMBER_SERVING_AUTOSTART", "0")  # no serving host: the tests report for it
    workspace = ember.Workspace.create(str(tmp_path / "ws"))
    try:
        yield workspace
    finally:
        workspace.backend.close()


@pytest.fixture
def model(ws: ember.Workspace, tmp_path: Path) -> Model:
    path = tmp_path / "model.pkl"
    path.write_bytes(b"pickled weights")
    return Model.register(ws, path, "iris-clf")


@pytest.fixture
def serve(tmp_path: Path) -> Path:
    """A scoring folder: the script, a helper, and a large data folder its .gitignore leaves out."""
    folder = tmp_path / "serve"
    (folder / "data").mkdir(parents=True)
    (folder / "score.py").write_text(SCORE)
    (folder / "helpers.py").write_text("SCALE = 2\n")
    (folder / "data" / "train.csv").write_text("a,b\n1,2\n")
    (folder / ".gitignore").write_text("data/\n")
    return folder


@pytest.fixture
def inference(serve: Path) -> InferenceConfig:
    return InferenceConfig("score.py", source_directory=serve)


def report(
    ws: ember.Workspace, endpoint: str, deployment: str, *, status: str, generation: int = 1, **fields: Any
) -> None:
    """Report a deployment's state the way the serving host does."""
    values: dict[str, Any] = {"message": "", "desired": 1, "ready": 1, "restarts": 0, "replicas": []}
    values.update(fields)
    ws.backend.endpoints.report_deployment(  # type: ignore[attr-defined]
        endpoint, deployment, generation=generation, status=status, **values
    )


def report_later(
    ws: ember.Workspace, endpoint: str, deployment: str, *, status: str, generation: int = 1, **fields: Any
) -> threading.Thread:
    """Report once the deployment's ``generation`` is recorded, in the background, like a host would."""

    def wait_then_report() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if ws.backend.endpoints.get_deployment(endpoint, deployment).generation >= generation:
                    break
            except NotFound:
                pass
            time.sleep(0.02)
        time.sleep(0.2)  # the caller is waiting by now
        report(ws, endpoint, deployment, status=status, generation=generation, **fields)

    thread = threading.Thread(target=wait_then_report, daemon=True)
    thread.start()
    return thread


def fake_router(endpoint: Endpoint, answer: Callable[[httpx.Request], httpx.Response]) -> list[httpx.Request]:
    """Send the endpoint's scoring requests to ``answer`` instead of the network; returns what it got."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    endpoint._client = httpx.Client(transport=httpx.MockTransport(handle))
    return seen


# -- creating and finding --------------------------------------------------------------------------


def test_a_new_endpoint_has_stable_uris_and_no_deployments(ws: ember.Workspace) -> None:
    endpoint = Endpoint.create(ws, "iris", description="Iris species", tags={"team": "ml"})

    assert endpoint.name == "iris"
    assert endpoint.auth_mode == "key"
    assert endpoint.scoring_uri.endswith("/endpoints/iris/score")
    assert endpoint.swagger_uri
    assert endpoint.deployments == {}
    assert endpoint.traffic == {}
    assert endpoint.description == "Iris species"
    assert endpoint.tags == {"team": "ml"}
    found = Endpoint(ws, "iris")
    assert found.id == endpoint.id
    assert [e.name for e in Endpoint.list(ws)] == ["iris"]


def test_an_endpoint_shows_itself_without_its_keys(ws: ember.Workspace) -> None:
    endpoint = Endpoint.create(ws, "iris")
    primary, secondary = endpoint.get_keys()

    shown = repr(endpoint) + endpoint._repr_html_()

    assert "iris" in shown
    assert endpoint.scoring_uri in shown
    assert primary not in shown
    assert secondary not in shown


def test_endpoint_names_are_checked_and_unique(ws: ember.Workspace) -> None:
    Endpoint.create(ws, "iris")

    with pytest.raises(Conflict):
        Endpoint.create(ws, "iris")
    with pytest.raises(InvalidInput):
        Endpoint.create(ws, "Iris_Classifier")
    with pytest.raises(NotFound):
        Endpoint(ws, "absent")


# -- deploying -------------------------------------------------------------------------------------


def test_deploying_uploads_the_source_folder_as_a_snapshot_that_honours_ignore_files(
    ws: ember.Workspace, model: Model, inference: InferenceConfig
) -> None:
    endpoint = Endpoint.create(ws, "iris")

    deployment = endpoint.deploy("blue", models=[model], inference_config=inference, replicas=2, wait=False)

    info = deployment.info
    assert (deployment.name, deployment.status, deployment.generation) == ("blue", "Creating", 1)
    assert [(m.name, m.version) for m in deployment.models] == [("iris-clf", 1)]
    assert deployment.replicas == 2
    assert info.entry_script == "score.py"
    assert info.snapshot_digest is not None
    stored = snapshot.load(ws.backend.blobs, info.snapshot_digest)  # type: ignore[attr-defined]
    assert [f.path for f in stored.files] == [".gitignore", "helpers.py", "score.py"]
    assert endpoint.traffic == {"blue": 100}  # the first deployment takes all the traffic
    assert list(endpoint.deployments) == ["blue"]


def test_redeploying_an_unchanged_folder_uploads_nothing(
    ws: ember.Workspace,
    model: Model,
    inference: InferenceConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint = Endpoint.create(ws, "iris")
    first = endpoint.deploy("blue", models=[model], inference_config=inference, wait=False)
    uploads: list[str] = []
    real_upload = ws.backend.jobs.upload_blob
    monkeypatch.setattr(
        ws.backend.jobs,
        "upload_blob",
        lambda digest, chunks: uploads.append(digest) or real_upload(digest, chunks),
    )

    second = endpoint.deploy("blue", models=[model], inference_config=inference, wait=False)

    assert uploads == []
    assert second.info.snapshot_digest == first.info.snapshot_digest
    assert second.generation == 2
    assert second.status == "Updating"


def test_a_bad_deployment_is_refused_before_anything_is_uploaded(
    ws: ember.Workspace,
    model: Model,
    inference: InferenceConfig,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    endpoint = Endpoint.create(ws, "iris")
    uploads: list[str] = []
    monkeypatch.setattr(ws.backend.jobs, "upload_blob", lambda digest, chunks: uploads.append(digest))

    with pytest.raises(InvalidInput, match="name"):
        endpoint.deploy("Blue Team", models=[model], inference_config=inference, wait=False)
    with pytest.raises(InvalidInput, match=r"ember\.Model"):
        endpoint.deploy("blue", models=[3.14], inference_config=inference, wait=False)

    assert uploads == []
    assert Endpoint(ws, "iris").deployments == {}


def test_an_unregistered_environment_is_registered_on_deploy(
    ws: ember.Workspace, model: Model, serve: Path
) -> None:
    endpoint = Endpoint.create(ws, "iris")
    inference = InferenceConfig(
        "score.py", source_directory=serve, environment=Environment("sk", pip=["six"])
    )

    deployment = endpoint.deploy("blue", models=[model], inference_config=inference, wait=False)

    assert deployment.info.environment == EnvironmentRef(name="sk", version=1)
    assert Environment.get(ws, "sk").version == 1


def test_settings_come_from_a_deployment_config_and_arguments_win(
    ws: ember.Workspace, model: Model, inference: InferenceConfig
) -> None:
    endpoint = Endpoint.create(ws, "iris")
    config = DeploymentConfig(
        replicas=3, autoscale=Autoscale(min_replicas=1, max_replicas=4), collect_data=True
    )

    deployment = endpoint.deploy(
        "blue", models=[model], inference_config=inference, deployment_config=config, replicas=2, wait=False
    )

    assert deployment.replicas == 2
    assert deployment.autoscale == Autoscale(min_replicas=1, max_replicas=4)
    assert deployment.info.collect_data is True
    with pytest.raises(InvalidInput, match="replicas"):
        DeploymentConfig(replicas=0)
    with pytest.raises(InvalidInput, match="auth_mode"):
        DeploymentConfig(auth_mode="password")  # type: ignore[arg-type]


def test_waiting_returns_as_soon_as_the_host_reports_the_deployment_healthy(
    ws: ember.Workspace, model: Model, inference: InferenceConfig
) -> None:
    endpoint = Endpoint.create(ws, "iris")
    reporter = report_later(ws, "iris", "blue", status="Healthy")
    started = time.monotonic()

    deployment = endpoint.deploy("blue", models=[model], inference_config=inference, timeout=10)

    reporter.join()
    assert time.monotonic() - started < 1.0  # polled often in the first seconds: no added latency
    assert deployment.status == "Healthy"
    assert deployment.ready_replicas == 1
    assert endpoint.deployments["blue"].status == "Healthy"


def test_waiting_for_an_update_ignores_the_previous_generation(
    ws: ember.Workspace, model: Model, inference: InferenceConfig
) -> None:
    endpoint = Endpoint.create(ws, "iris")
    endpoint.deploy("blue", models=[model], inference_config=inference, wait=False)
    report(ws, "iris", "blue", status="Healthy")
    updated = endpoint.deploy("blue", models=[model], inference_config=inference, wait=False)
    report(ws, "iris", "blue", status="Healthy", generation=1)  # old replicas still serving

    with pytest.raises(DeploymentTimeout):
        updated.wait_for_deployment(timeout=0.3)
    report_later(ws, "iris", "blue", status="Healthy", generation=2)
    updated.wait_for_deployment(timeout=10)

    assert (updated.status, updated.generation) == ("Healthy", 2)


def test_a_failed_deployment_raises_with_its_status_message_and_last_log_lines(
    ws: ember.Workspace, model: Model, inference: InferenceConfig
) -> None:
    endpoint = Endpoint.create(ws, "iris")
    deployment = endpoint.deploy("blue", models=[model], inference_config=inference, wait=False)
    logs = ws.backend.endpoints.state_dir / "logs" / "iris" / "blue"  # type: ignore[attr-defined]
    logs.mkdir(parents=True)
    (logs / "events.log").write_text("".join(f"line {i}\n" for i in range(1, 31)))
    report(ws, "iris", "blue", status="Failed", message="init() raised ValueError: no model", ready=0)

    with pytest.raises(DeploymentFailed) as caught:
        deployment.wait_for_deployment(timeout=10)

    message = str(caught.value)
    assert "init() raised ValueError: no model" in message
    assert "line 30" in message
    assert "line 11" in message
    assert "line 10\n" not in message  # the last 20 lines only
    assert len(caught.value.logs) == 20
    assert isinstance(caught.value, EmberError)


def test_a_deployment_not_ready_in_time_raises_a_timeout(
    ws: ember.Workspace, model: Model, inference: InferenceConfig
) -> None:
    endpoint = Endpoint.create(ws, "iris")
    started = time.monotonic()

    with pytest.raises(DeploymentTimeout, match=r"not ready after 0\.4 s") as caught:
        endpoint.deploy("blue", models=[model], inference_config=inference, timeout=0.4)

    assert time.monotonic() - started < 2.0
    assert isinstance(caught.value, TimeoutError)
    assert "Creating" in str(caught.value)


def test_show_output_prints_each_change_of_status(
    ws: ember.Workspace, model: Model, inference: InferenceConfig, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = Endpoint.create(ws, "iris")
    report_later(ws, "iris", "blue", status="Healthy", desired=1, ready=1)

    endpoint.deploy("blue", models=[model], inference_config=inference, timeout=10, show_output=True)

    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("iris/blue generation 1: Creating")
    assert printed[-1] == "iris/blue generation 1: Healthy (1/1 replicas ready)"


# -- traffic, keys, logs ---------------------------------------------------------------------------


def test_traffic_moves_between_deployments_and_mirrors_to_one(
    ws: ember.Workspace, model: Model, inference: InferenceConfig
) -> None:
    endpoint = Endpoint.create(ws, "iris")
    endpoint.deploy("blue", models=[model], inference_config=inference, wait=False)
    endpoint.deploy("green", models=[model], inference_config=inference, wait=False)
    assert endpoint.traffic == {"blue": 100, "green": 0}

    endpoint.set_traffic({"blue": 90, "green": 10})
    assert Endpoint(ws, "iris").traffic == {"blue": 90, "green": 10}

    with pytest.raises(InvalidInput):
        endpoint.set_traffic({"blue": 50, "green": 20})
    endpoint.set_traffic({"blue": 100, "green": 0})
    endpoint.set_mirror_traffic({"green": 10})
    assert endpoint.mirror_traffic == {"green": 10}
    endpoint.set_mirror_traffic({})
    assert endpoint.mirror_traffic == {}


def test_keys_are_two_and_can_be_regenerated_one_at_a_time(ws: ember.Workspace) -> None:
    endpoint = Endpoint.create(ws, "iris")
    primary, secondary = endpoint.get_keys()

    assert endpoint.regenerate_key("primary") is None
    new_primary, same_secondary = endpoint.get_keys()

    assert primary != secondary
    assert new_primary != primary
    assert same_secondary == secondary
    with pytest.raises(InvalidInput, match="primary"):
        endpoint.regenerate_key("tertiary")


def test_a_token_endpoint_hands_out_tokens_not_keys(ws: ember.Workspace) -> None:
    endpoint = Endpoint.create(ws, "iris", auth_mode="token")

    token, expiry = endpoint.get_token()

    assert endpoint.auth_mode == "token"
    assert token
    assert expiry > time.time() + 60
    with pytest.raises(InvalidInput):
        endpoint.get_keys()


def test_logs_and_telemetry_are_there_before_the_host_runs(
    ws: ember.Workspace, model: Model, inference: InferenceConfig
) -> None:
    endpoint = Endpoint.create(ws, "iris")
    deployment = endpoint.deploy("blue", models=[model], inference_config=inference, wait=False)

    assert deployment.get_logs(tail=10) == ""
    telemetry = endpoint.get_telemetry()
    assert telemetry.host_running is False
    assert [d.deployment for d in telemetry.deployments] == ["blue"]


# -- deleting --------------------------------------------------------------------------------------


def test_a_deployment_with_live_traffic_cannot_be_deleted_until_the_traffic_moves(
    ws: ember.Workspace, model: Model, inference: InferenceConfig
) -> None:
    endpoint = Endpoint.create(ws, "iris")
    blue = endpoint.deploy("blue", models=[model], inference_config=inference, wait=False)
    endpoint.deploy("green", models=[model], inference_config=inference, wait=False)

    with pytest.raises(Conflict):
        blue.delete()
    endpoint.set_traffic({"blue": 0, "green": 100})
    blue.delete()

    assert list(endpoint.deployments) == ["green"]
    endpoint.delete()
    with pytest.raises(NotFound):
        Endpoint(ws, "iris")


# -- scoring ---------------------------------------------------------------------------------------


def test_run_sends_json_with_the_key_and_returns_the_parsed_answer(ws: ember.Workspace) -> None:
    endpoint = Endpoint.create(ws, "iris")
    primary, _ = endpoint.get_keys()
    seen = fake_router(
        endpoint,
        lambda r: httpx.Response(200, json={"predictions": [0]}, headers={"X-Ember-Deployment": "blue"}),
    )

    answer = endpoint.run({"data": [[5.1, 3.5, 1.4, 0.2]]}, deployment="blue", debug=True)
    endpoint.run('{"data": []}')

    assert answer == {"predictions": [0]}
    first, second = seen
    assert str(first.url) == endpoint.scoring_uri
    assert first.headers["Authorization"] == f"Bearer {primary}"
    assert first.headers["Content-Type"] == "application/json"
    assert first.headers["X-Ember-Deployment"] == "blue"
    assert first.headers["X-Ember-Debug"] == "true"
    assert json.loads(first.content) == {"data": [[5.1, 3.5, 1.4, 0.2]]}
    assert second.content == b'{"data": []}'
    assert "X-Ember-Deployment" not in second.headers


def test_an_error_answer_raises_with_its_status_message_and_request_id(ws: ember.Workspace) -> None:
    endpoint = Endpoint.create(ws, "iris")
    fake_router(
        endpoint,
        lambda r: httpx.Response(
            500,
            json={
                "error": {"code": "scoring_error", "message": "ValueError: bad shape", "request_id": "r-1"}
            },
            headers={"X-Request-Id": "r-1", "X-Ember-Deployment": "blue"},
        ),
    )

    with pytest.raises(ScoringError) as caught:
        endpoint.run({"data": [1]})

    error = caught.value
    assert (error.status_code, error.request_id, error.deployment) == (500, "r-1", "blue")
    assert "500" in error.message
    assert "ValueError: bad shape" in error.message
    assert "r-1" in error.message


def test_run_refuses_data_that_is_not_json(ws: ember.Workspace) -> None:
    endpoint = Endpoint.create(ws, "iris")
    seen = fake_router(endpoint, lambda r: httpx.Response(200, json={}))

    with pytest.raises(InvalidInput, match="JSON"):
        endpoint.run({"value": float("nan")})
    with pytest.raises(InvalidInput, match="JSON"):
        endpoint.run({"value": object()})

    assert seen == []


def test_a_key_regenerated_elsewhere_is_fetched_again_once(ws: ember.Workspace) -> None:
    endpoint = Endpoint.create(ws, "iris")
    current = {"key": endpoint.get_keys()[0]}

    def router(request: httpx.Request) -> httpx.Response:
        if request.headers["Authorization"] != f"Bearer {current['key']}":
            return httpx.Response(401, json={"error": {"code": "unauthorized", "message": "wrong key"}})
        return httpx.Response(200, json={"ok": True})

    seen = fake_router(endpoint, router)
    assert endpoint.run({}) == {"ok": True}
    other = Endpoint(ws, "iris")
    other.regenerate_key("primary")
    current["key"] = other.get_keys()[0]

    assert endpoint.run({}) == {"ok": True}
    assert len(seen) == 3  # the refused attempt with the old key, then the new key


def test_a_token_is_fetched_once_and_reused_until_it_nearly_expires(
    ws: ember.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = Endpoint.create(ws, "iris", auth_mode="token")
    fetched: list[str] = []
    real_get_token = endpoint.get_token

    def counting_get_token() -> tuple[str, float]:
        token, expiry = real_get_token()
        fetched.append(token)
        return token, expiry

    monkeypatch.setattr(endpoint, "get_token", counting_get_token)
    seen = fake_router(endpoint, lambda r: httpx.Response(200, json=1))

    endpoint.run({})
    endpoint.run({})

    assert len(fetched) == 1
    assert {r.headers["Authorization"] for r in seen} == {f"Bearer {fetched[0]}"}


def test_run_without_a_serving_host_says_it_cannot_reach_it(ws: ember.Workspace) -> None:
    endpoint = Endpoint.create(ws, "iris")

    with pytest.raises(Unavailable, match="serving host"):
        endpoint.run({"data": []}, timeout=5)
    endpoint.close()


# -- Model.deploy ----------------------------------------------------------------------------------


def test_model_deploy_creates_the_endpoint_and_its_deployment_in_one_call(
    ws: ember.Workspace, model: Model, inference: InferenceConfig
) -> None:
    report_later(ws, "iris", "default", status="Healthy")

    endpoint = Model.deploy(ws, "iris", [model], inference, DeploymentConfig(replicas=1), timeout=10)

    assert isinstance(endpoint, Endpoint)
    assert endpoint.traffic == {"default": 100}
    assert isinstance(endpoint.deployments["default"], Deployment)
    assert endpoint.deployments["default"].status == "Healthy"


def test_model_deploy_to_an_existing_endpoint_needs_overwrite(
    ws: ember.Workspace, model: Model, inference: InferenceConfig
) -> None:
    Model.deploy(ws, "iris", [model], inference, wait=False)

    with pytest.raises(Conflict, match="overwrite=True"):
        Model.deploy(ws, "iris", [model], inference, wait=False)
    with pytest.raises(Conflict, match="auth"):
        Model.deploy(ws, "iris", [model], inference, DeploymentConfig(auth_mode="token"), overwrite=True)
    endpoint = Model.deploy(ws, "iris", [model], inference, overwrite=True, wait=False)

    assert endpoint.deployments["default"].generation == 2


def test_model_deploy_leaves_no_endpoint_behind_when_the_deployment_is_refused(
    ws: ember.Workspace, model: Model
) -> None:
    with pytest.raises(InvalidInput, match="MLflow"):
        Model.deploy(ws, "iris", [model], wait=False)  # not an MLflow model, and no entry script

    assert Endpoint.list(ws) == []
