"""Online endpoints through the contract: names, keys and tokens, deployments, traffic rules, deletion
protection, and what a user sees with no serving host running — on SQLite, PostgreSQL and a real server.

The serving host's side of the control plane (its lease, the desired state, status reports) is not in the
contract: those tests run on the local backends only.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from contract_support import Target, unique

from ember.backend import Backend
from ember.entities.jobs import EnvironmentRef
from ember.entities.registry import ModelFile, ModelInfo, ModelRegister
from ember.entities.serving import (
    Autoscale,
    DeploymentCreate,
    EndpointCreate,
    EndpointInvoke,
    EndpointUpdate,
    ReplicaStatus,
)
from ember.environments import EnvironmentRegister, EnvironmentSpec
from ember.errors import Conflict, InvalidInput, NotFound, Unavailable
from ember.jobs.snapshot import SnapshotFile, encode_manifest
from ember.serving import keys

MLMODEL = b"""\
artifact_path: model
flavors:
  python_function:
    loader_module: mlflow.sklearn
    model_path: model.pkl
    python_version: 3.11.7
  sklearn:
    pickled_model: model.pkl
    sklearn_version: 1.7.2
mlflow_version: 3.17.0
"""
SCORE_PY = b"def init():\n    pass\n\n\ndef run(raw_data):\n    return raw_data\n"
UNKNOWN_ID = "0123456789abcdef0123456789abcdef"
THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"


# -- helpers -------------------------------------------------------------------------------------------
def _name(prefix: str = "ep") -> str:
    """A unique endpoint name (lower-case, as endpoint names must be)."""
    return unique(prefix).lower()


def _blob(backend: Backend, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    backend.jobs.upload_blob(digest, [data])
    return digest


def _model(backend: Backend, files: dict[str, bytes] | None = None) -> ModelInfo:
    files = files or {"model.pkl": b"weights " + unique("w").encode()}
    entries = [ModelFile(path=p, digest=_blob(backend, b), size=len(b)) for p, b in files.items()]
    return backend.registry.register_model(ModelRegister(name=unique("clf"), files=entries))


def _mlflow_model(backend: Backend) -> ModelInfo:
    return _model(backend, {"MLmodel": MLMODEL, "model.pkl": b"pickled " + unique("p").encode()})


def _snapshot(backend: Backend, files: dict[str, bytes]) -> str:
    """Upload files and their manifest the way a client does; the snapshot's digest."""
    entries = [
        SnapshotFile(path=p, digest=hashlib.sha256(b).hexdigest(), size=len(b), mode=0o644)
        for p, b in files.items()
    ]
    for data in files.values():
        _blob(backend, data)
    manifest = encode_manifest(entries)
    digest = _blob(backend, manifest)
    backend.jobs.register_snapshot(digest)
    return digest


def _scripted(backend: Backend, name: str, **fields: Any) -> DeploymentCreate:
    """A deployment of a plain model with an entry script."""
    snapshot = _snapshot(backend, {"score.py": SCORE_PY, "util/helpers.py": b"X = 1\n"})
    fields.setdefault("model_ids", [_model(backend).id])
    return DeploymentCreate(name=name, entry_script="score.py", snapshot_digest=snapshot, **fields)


def _endpoint(backend: Backend, **fields: Any) -> str:
    return backend.endpoints.create_endpoint(EndpointCreate(name=_name(), **fields)).name


def _endpoint_with(backend: Backend, *deployments: str) -> str:
    """An endpoint with these deployments (the first takes all the traffic)."""
    name = _endpoint(backend)
    model = _mlflow_model(backend)
    for deployment in deployments:
        backend.endpoints.deploy(name, DeploymentCreate(name=deployment, model_ids=[model.id]))
    return name


def _local(target: Target) -> Any:
    """The LocalEndpoints behind a local backend (its serving-host side is not in the contract)."""
    if target.kind == "remote":
        pytest.skip("the serving host's side of the control plane is local only")
    return cast(Any, target.backend.endpoints)


def _state_dir(target: Target) -> Path:
    if target.kind == "remote":
        return target.artifact_root.parent / ".serving"  # the server's folder workspace
    return Path(cast(Any, target.backend.endpoints).state_dir)


def _until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# -- endpoints -----------------------------------------------------------------------------------------
def test_an_endpoint_is_created_read_back_and_listed(backend: Backend) -> None:
    name = _name()

    created = backend.endpoints.create_endpoint(
        EndpointCreate(name=name, description="iris classifier", tags={"team": "vision"})
    )

    assert (created.name, created.auth_mode, created.description, created.tags) == (
        name,
        "key",
        "iris classifier",
        {"team": "vision"},
    )
    assert (created.traffic, created.mirror_traffic, created.deployments) == ({}, {}, [])
    assert created.scoring_uri.endswith(f"/endpoints/{name}/score")
    assert created.swagger_uri.endswith(f"/endpoints/{name}/swagger.json")
    assert backend.endpoints.get_endpoint(name) == created
    assert created in backend.endpoints.list_endpoints()
    names = [e.name for e in backend.endpoints.list_endpoints()]
    assert names == sorted(names)


def test_endpoint_names_are_unique_and_well_formed(backend: Backend) -> None:
    name = _endpoint(backend)

    with pytest.raises(Conflict, match="exists"):
        backend.endpoints.create_endpoint(EndpointCreate(name=name))
    for bad in ("Upper", "1starts-with-digit", "has_underscore", "x" * 33):
        with pytest.raises(InvalidInput):
            backend.endpoints.create_endpoint(EndpointCreate.model_construct(name=bad))
    with pytest.raises(NotFound, match="not found"):
        backend.endpoints.get_endpoint(_name())


def test_concurrent_creations_of_one_name_make_one_endpoint(backend: Backend) -> None:
    # The workspace key is made on first use; SecretBox does not yet guard concurrent first uses.
    _endpoint(backend)
    name = _name()

    def create(_: int) -> str:
        try:
            backend.endpoints.create_endpoint(EndpointCreate(name=name))
            return "created"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(create, range(4)))

    assert outcomes == ["conflict", "conflict", "conflict", "created"]


def test_description_and_tags_change_and_the_endpoint_is_deleted(backend: Backend) -> None:
    name = _endpoint(backend, tags={"a": "1"})

    changed = backend.endpoints.update_endpoint(name, EndpointUpdate(description="new", tags={"b": "2"}))
    backend.endpoints.delete_endpoint(name)

    assert (changed.description, changed.tags) == ("new", {"b": "2"})
    with pytest.raises(NotFound):
        backend.endpoints.get_endpoint(name)
    assert name not in [e.name for e in backend.endpoints.list_endpoints()]
    with pytest.raises(NotFound):
        backend.endpoints.delete_endpoint(name)


# -- keys and tokens -------------------------------------------------------------------------------------
def test_keys_are_two_secrets_never_shown_with_the_endpoint(backend: Backend) -> None:
    name = _endpoint_with(backend, "blue")

    found = backend.endpoints.get_keys(name)

    assert found.primary_key != found.secondary_key
    assert found.primary_key.startswith(keys.KEY_PREFIX)
    assert found.secondary_key.startswith(keys.KEY_PREFIX)
    assert backend.endpoints.get_keys(name) == found
    shown = [
        backend.endpoints.get_endpoint(name).model_dump_json(),
        *(e.model_dump_json() for e in backend.endpoints.list_endpoints()),
        backend.endpoints.get_deployment(name, "blue").model_dump_json(),
    ]
    for text in shown:
        assert found.primary_key not in text
        assert found.secondary_key not in text
        assert keys.hash_key(found.primary_key) not in text


def test_regenerating_a_key_replaces_exactly_that_key(backend: Backend) -> None:
    name = _endpoint(backend)
    before = backend.endpoints.get_keys(name)

    primary = backend.endpoints.regenerate_key(name, "primary")
    secondary = backend.endpoints.regenerate_key(name, "secondary")

    assert primary.primary_key != before.primary_key
    assert primary.secondary_key == before.secondary_key
    assert secondary.primary_key == primary.primary_key
    assert secondary.secondary_key != before.secondary_key
    assert backend.endpoints.get_keys(name) == secondary
    with pytest.raises(InvalidInput, match="primary"):
        backend.endpoints.regenerate_key(name, "tertiary")
    assert backend.endpoints.get_keys(name) == secondary


def test_a_token_endpoint_gives_hour_long_tokens_and_no_keys(backend: Backend) -> None:
    name = _endpoint(backend, auth_mode="token")
    key_name = _endpoint(backend)

    token = backend.endpoints.get_token(name)

    assert token.access_token.startswith(keys.TOKEN_PREFIX)
    assert token.token_type == "Bearer"
    assert abs(token.expiry_time - (time.time() + keys.TOKEN_TTL_SECONDS)) < 120
    assert backend.endpoints.get_endpoint(name).auth_mode == "token"
    with pytest.raises(InvalidInput, match="token auth"):
        backend.endpoints.get_keys(name)
    with pytest.raises(InvalidInput, match="token auth"):
        backend.endpoints.regenerate_key(name, "primary")
    with pytest.raises(InvalidInput, match="key auth"):
        backend.endpoints.get_token(key_name)


# -- deployments -------------------------------------------------------------------------------------
def test_the_first_deployment_takes_all_traffic_and_the_next_none(backend: Backend) -> None:
    name = _endpoint(backend)
    mlflow = _mlflow_model(backend)

    blue = backend.endpoints.deploy(name, DeploymentCreate(name="blue", model_ids=[mlflow.id]))
    green = backend.endpoints.deploy(name, _scripted(backend, "green", replicas=2, collect_data=True))

    assert (blue.generation, blue.status, blue.endpoint) == (1, "Creating", name)
    assert [(m.id, m.name, m.version) for m in blue.models] == [(mlflow.id, mlflow.name, mlflow.version)]
    assert (blue.entry_script, blue.snapshot_digest, blue.environment) == (None, None, None)
    assert (green.entry_script, green.replicas, green.collect_data) == ("score.py", 2, True)
    info = backend.endpoints.get_endpoint(name)
    assert info.traffic == {"blue": 100, "green": 0}
    assert [d.name for d in info.deployments] == ["blue", "green"]
    assert backend.endpoints.get_deployment(name, "green") == green
    with pytest.raises(NotFound, match="no deployment"):
        backend.endpoints.get_deployment(name, "red")


def test_a_deployment_after_traffic_was_stopped_takes_nothing(backend: Backend) -> None:
    name = _endpoint_with(backend, "blue")
    backend.endpoints.update_endpoint(name, EndpointUpdate(traffic={}))

    backend.endpoints.deploy(name, _scripted(backend, "green"))

    assert backend.endpoints.get_endpoint(name).traffic == {"blue": 0, "green": 0}


def test_deploying_an_existing_name_updates_it_as_a_new_generation(backend: Backend) -> None:
    name = _endpoint(backend)
    first = backend.endpoints.deploy(name, _scripted(backend, "blue"))
    model = _model(backend)

    second = backend.endpoints.deploy(
        name,
        _scripted(backend, "blue", model_ids=[model.id], autoscale=Autoscale(min_replicas=2, max_replicas=3)),
    )

    assert (second.id, second.generation, second.status) == (first.id, 2, "Updating")
    assert [m.id for m in second.models] == [model.id]
    assert second.autoscale == Autoscale(min_replicas=2, max_replicas=3)
    assert second.created_time == first.created_time
    assert backend.endpoints.get_endpoint(name).traffic == {"blue": 100}


def test_an_environment_is_stored_with_its_resolved_version(backend: Backend) -> None:
    name = _endpoint(backend)
    env_name = unique("env")
    backend.environments.register(
        EnvironmentRegister(name=env_name, spec=EnvironmentSpec(python=THIS_PYTHON, pip=["six==1.16.0"]))
    )

    deployed = backend.endpoints.deploy(
        name, _scripted(backend, "blue", environment=EnvironmentRef(name=env_name))
    )

    assert deployed.environment == EnvironmentRef(name=env_name, version=1)
    with pytest.raises(NotFound):
        backend.endpoints.deploy(
            name, _scripted(backend, "green", environment=EnvironmentRef(name=unique("no")))
        )
    assert [d.name for d in backend.endpoints.get_endpoint(name).deployments] == ["blue"]


def test_deployments_that_cannot_be_served_are_refused(backend: Backend) -> None:
    name = _endpoint(backend)
    plain, mlflow = _model(backend), _mlflow_model(backend)
    no_script = _snapshot(backend, {"other.py": b"x = 1\n"})

    with pytest.raises(NotFound):
        backend.endpoints.deploy(_name(), DeploymentCreate(name="blue", model_ids=[mlflow.id]))
    with pytest.raises(NotFound):
        backend.endpoints.deploy(name, DeploymentCreate(name="blue", model_ids=[UNKNOWN_ID]))
    with pytest.raises(InvalidInput, match="entry script"):
        backend.endpoints.deploy(name, DeploymentCreate(name="blue", model_ids=[plain.id]))
    with pytest.raises(InvalidInput, match="entry script"):
        backend.endpoints.deploy(name, DeploymentCreate(name="blue", model_ids=[mlflow.id, plain.id]))
    with pytest.raises(InvalidInput, match="not in the snapshot"):
        backend.endpoints.deploy(
            name, DeploymentCreate(name="blue", entry_script="score.py", snapshot_digest=no_script)
        )
    with pytest.raises(InvalidInput, match="not registered"):
        backend.endpoints.deploy(
            name, DeploymentCreate(name="blue", entry_script="score.py", snapshot_digest="a" * 64)
        )
    with pytest.raises(InvalidInput):
        backend.endpoints.deploy(name, DeploymentCreate.model_construct(name="Blue", model_ids=[mlflow.id]))
    info = backend.endpoints.get_endpoint(name)
    assert (info.deployments, info.traffic) == ([], {})


def test_a_deployment_with_traffic_is_deleted_only_once_its_traffic_is_moved(backend: Backend) -> None:
    name = _endpoint_with(backend, "blue", "green")

    with pytest.raises(Conflict, match="traffic to 0 first"):
        backend.endpoints.delete_deployment(name, "blue")
    backend.endpoints.update_endpoint(name, EndpointUpdate(traffic={"green": 100}))
    backend.endpoints.delete_deployment(name, "blue")

    info = backend.endpoints.get_endpoint(name)
    assert [d.name for d in info.deployments] == ["green"]
    assert info.traffic == {"green": 100}
    with pytest.raises(NotFound):
        backend.endpoints.delete_deployment(name, "blue")


def test_a_served_model_version_cannot_be_deleted_until_its_endpoint_is(backend: Backend) -> None:
    name = _endpoint(backend)
    model = _model(backend)
    backend.endpoints.deploy(name, _scripted(backend, "blue", model_ids=[model.id]))

    with pytest.raises(Conflict, match=f"{name}/blue"):
        backend.registry.delete_model(model.id)
    assert backend.registry.get_model_by_id(model.id) == model
    backend.endpoints.delete_endpoint(name)
    backend.registry.delete_model(model.id)

    with pytest.raises(NotFound):
        backend.registry.get_model_by_id(model.id)


# -- traffic -------------------------------------------------------------------------------------------
def test_traffic_moves_between_deployments_and_mirrors_to_an_idle_one(backend: Backend) -> None:
    name = _endpoint_with(backend, "blue", "green")

    split = backend.endpoints.update_endpoint(name, EndpointUpdate(traffic={"blue": 70, "green": 30}))
    moved = backend.endpoints.update_endpoint(name, EndpointUpdate(traffic={"blue": 100}))
    mirrored = backend.endpoints.update_endpoint(name, EndpointUpdate(mirror_traffic={"green": 20}))

    assert split.traffic == {"blue": 70, "green": 30}
    assert moved.traffic == {"blue": 100, "green": 0}
    assert (mirrored.traffic, mirrored.mirror_traffic) == ({"blue": 100, "green": 0}, {"green": 20})
    with pytest.raises(Conflict, match="mirrored"):
        backend.endpoints.delete_deployment(name, "green")
    stopped = backend.endpoints.update_endpoint(name, EndpointUpdate(mirror_traffic={"green": 0}))
    assert stopped.mirror_traffic == {}
    backend.endpoints.delete_deployment(name, "green")
    assert backend.endpoints.get_endpoint(name).traffic == {"blue": 100}


def test_all_zero_traffic_is_allowed(backend: Backend) -> None:
    name = _endpoint_with(backend, "blue", "green")

    stopped = backend.endpoints.update_endpoint(name, EndpointUpdate(traffic={"blue": 0}))

    assert stopped.traffic == {"blue": 0, "green": 0}


@pytest.mark.parametrize(
    ("traffic", "mirror", "message"),
    [
        ({"blue": 50, "nope": 50}, None, "'nope'"),
        ({"blue": 50, "green": 30}, None, "sum to 80"),
        ({"blue": -10, "green": 110}, None, "'blue'"),
        ({"blue": 150}, None, "'blue'"),
        (None, {"green": 60}, "'green'"),
        (None, {"blue": 10}, "'blue'.*live traffic"),
        ({"green": 100}, {"green": 10}, "'green'.*live traffic"),
        (None, {"green": 10, "red": 10}, "at most one"),
        (None, {"nope": 10}, "'nope'"),
    ],
)
def test_traffic_that_breaks_a_rule_is_refused_and_changes_nothing(
    backend: Backend, traffic: dict[str, int] | None, mirror: dict[str, int] | None, message: str
) -> None:
    name = _endpoint_with(backend, "blue", "green", "red")
    before = backend.endpoints.get_endpoint(name)

    with pytest.raises(InvalidInput, match=message):
        backend.endpoints.update_endpoint(name, EndpointUpdate(traffic=traffic, mirror_traffic=mirror))

    assert backend.endpoints.get_endpoint(name) == before


# -- logs, telemetry, test calls and the serving host with no host running -----------------------------
def test_logs_of_a_deployment_that_has_not_run_are_empty(backend: Backend) -> None:
    name = _endpoint_with(backend, "blue")

    logs = backend.endpoints.get_logs(name, "blue")

    assert (logs.endpoint, logs.deployment, logs.lines) == (name, "blue", [])
    with pytest.raises(InvalidInput):
        backend.endpoints.get_logs(name, "blue", tail=0)
    with pytest.raises(NotFound):
        backend.endpoints.get_logs(name, "red")


def test_logs_are_the_last_lines_of_the_host_events_and_replica_logs(target: Target) -> None:
    backend = target.backend
    name = _endpoint_with(backend, "blue")
    folder = _state_dir(target) / "logs" / name / "blue"
    folder.mkdir(parents=True)
    (folder / "events.log").write_text("".join(f"event {i}\n" for i in range(10)))
    (folder / "r1.log").write_text("one\ntwo\nthree\n")
    (folder / "r2.log").write_text("only\n")

    logs = backend.endpoints.get_logs(name, "blue", tail=2)

    assert logs.lines[:2] == ["[host] event 8", "[host] event 9"]
    assert sorted(logs.lines[2:]) == ["[r1] three", "[r1] two", "[r2] only"]


def test_telemetry_without_a_host_says_so_with_zero_counters(backend: Backend) -> None:
    name = _endpoint_with(backend, "blue", "green")

    telemetry = backend.endpoints.get_telemetry(name)

    assert (telemetry.endpoint, telemetry.host_running) == (name, False)
    assert [(d.deployment, d.requests, d.errors) for d in telemetry.deployments] == [
        ("blue", 0, 0),
        ("green", 0, 0),
    ]
    with pytest.raises(NotFound):
        backend.endpoints.get_telemetry(_name())


def test_a_test_call_without_a_serving_host_is_unavailable(backend: Backend) -> None:
    name = _endpoint_with(backend, "blue")

    with pytest.raises(Unavailable, match="not running"):
        backend.endpoints.invoke(name, EndpointInvoke(body='{"data": [1]}'))
    with pytest.raises(NotFound):
        backend.endpoints.invoke(_name(), EndpointInvoke(body="{}"))


def test_the_serving_host_is_on_loopback_and_the_scoring_urls_point_at_it(backend: Backend) -> None:
    name = _endpoint(backend)

    host = backend.endpoints.get_serving_host()

    assert host.url.startswith("http://127.0.0.1:")
    assert backend.endpoints.get_endpoint(name).scoring_uri == f"{host.url}/endpoints/{name}/score"


def test_the_deployment_in_the_url_and_the_body_must_agree(target: Target) -> None:
    if target.kind != "remote":
        pytest.skip("a question of the HTTP API")
    name = _endpoint_with(target.backend, "blue")
    body = DeploymentCreate(name="green", model_ids=[_mlflow_model(target.backend).id])

    answer = httpx.put(
        f"{target.location}/api/v1/endpoints/{name}/deployments/blue", json=body.model_dump(mode="json")
    )

    assert answer.status_code == 400
    assert "must agree" in answer.json()["error"]["message"]


# -- the serving host's side (local only) -----------------------------------------------------------
def test_one_host_holds_the_lease_until_it_goes_stale_or_releases_it(target: Target) -> None:
    local = _local(target)
    assert local.claim_host(host_id="a", pid=1, hostname="h") is None  # no endpoint yet: nothing to serve
    _endpoint(target.backend)
    port = target.backend.endpoints.get_serving_host().url.rsplit(":", 1)[1]

    assert local.claim_host(host_id="a", pid=11, hostname="host-a") == int(port)
    assert local.claim_host(host_id="b", pid=22, hostname="host-b") is None
    assert local.host_heartbeat("a", applied_revision=local.serving_revision()) is True
    assert local.host_heartbeat("b", applied_revision=0) is False
    shown = target.backend.endpoints.get_serving_host()
    assert (shown.alive, shown.pid, shown.hostname) == (True, 11, "host-a")

    assert _until(
        lambda: local.claim_host(host_id="b", pid=22, hostname="host-b", stale_after=0.05) is not None
    )
    assert local.host_heartbeat("a", applied_revision=0) is False
    local.release_host("a")  # not its lease any more: nothing changes
    assert target.backend.endpoints.get_serving_host().pid == 22
    local.release_host("b")
    assert target.backend.endpoints.get_serving_host().alive is False
    assert local.claim_host(host_id="a", pid=11, hostname="host-a") == int(port)
    local.release_host("a")


def test_every_change_bumps_the_revision_the_host_polls(target: Target) -> None:
    local = _local(target)
    assert local.serving_revision() == 0
    name = _endpoint(target.backend)
    revisions = [local.serving_revision()]

    target.backend.endpoints.deploy(name, _scripted(target.backend, "blue"))
    revisions.append(local.serving_revision())
    target.backend.endpoints.regenerate_key(name, "secondary")
    revisions.append(local.serving_revision())
    target.backend.endpoints.update_endpoint(name, EndpointUpdate(description="x"))
    revisions.append(local.serving_revision())
    target.backend.endpoints.delete_endpoint(name)
    revisions.append(local.serving_revision())

    assert revisions == sorted(set(revisions))
    assert len(revisions) == 5
    assert local.endpoint_count() == 0


def test_the_desired_state_gives_the_router_hashes_and_token_secrets(target: Target) -> None:
    local = _local(target)
    key_name = _endpoint_with(target.backend, "blue")
    token_name = _endpoint(target.backend, auth_mode="token")
    found = target.backend.endpoints.get_keys(key_name)
    token = target.backend.endpoints.get_token(token_name)

    state = local.desired_state()

    routed = {e.name: e for e in state.endpoints}
    assert state.revision == local.serving_revision()
    assert state.port == int(target.backend.endpoints.get_serving_host().url.rsplit(":", 1)[1])
    assert routed[key_name].key_hashes == [
        keys.hash_key(found.primary_key),
        keys.hash_key(found.secondary_key),
    ]
    assert routed[key_name].token_secret == ""
    assert found.primary_key not in state.model_dump_json()
    assert [(d.name, d.status) for d in routed[key_name].deployments] == [("blue", "Creating")]
    assert routed[key_name].traffic == {"blue": 100}
    assert routed[token_name].key_hashes == []
    endpoint_id = routed[token_name].id
    assert keys.verify_token(routed[token_name].token_secret, endpoint_id, token.access_token)
    assert local.endpoint_count() == 2


def test_replica_reports_show_in_the_deployment_and_a_stale_generation_keeps_its_status(
    target: Target,
) -> None:
    local = _local(target)
    name = _endpoint(target.backend)
    target.backend.endpoints.deploy(name, _scripted(target.backend, "blue"))
    replica = ReplicaStatus(id="r1", pid=123, state="ready", generation=1, started_time=time.time())

    local.report_deployment(
        name,
        "blue",
        generation=1,
        status="Healthy",
        message="",
        desired=1,
        ready=1,
        restarts=0,
        replicas=[replica],
    )
    healthy = target.backend.endpoints.get_deployment(name, "blue")
    target.backend.endpoints.deploy(name, _scripted(target.backend, "blue", replicas=2))
    local.report_deployment(
        name,
        "blue",
        generation=1,
        status="Healthy",
        message="old",
        desired=1,
        ready=1,
        restarts=3,
        replicas=[],
    )
    updating = target.backend.endpoints.get_deployment(name, "blue")
    local.report_deployment(
        name, "gone", generation=1, status="Healthy", message="", desired=0, ready=0, restarts=0, replicas=[]
    )

    assert (healthy.status, healthy.ready_replicas, healthy.desired_replicas) == ("Healthy", 1, 1)
    assert healthy.replica_states == [replica]
    assert (updating.generation, updating.status, updating.status_message) == (2, "Updating", "")
    assert (updating.replica_states, updating.restarts, updating.desired_replicas) == ([], 0, 2)


def test_a_change_waits_for_a_live_host_to_apply_it(target: Target) -> None:
    local = _local(target)
    name = _endpoint(target.backend)
    local.claim_host(host_id="h", pid=1, hostname="x")
    acks = 0

    def host() -> None:  # heartbeats, applying whatever revision it sees
        nonlocal acks
        while local.host_heartbeat("h", applied_revision=local.serving_revision()):
            acks += 1
            time.sleep(0.02)

    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(host)
        try:
            started = time.monotonic()
            target.backend.endpoints.regenerate_key(name, "primary")
            elapsed = time.monotonic() - started
            applied = local.serving_revision()
        finally:
            local.release_host("h")
        running.result(timeout=5)

    assert elapsed < 2.5
    assert acks > 0
    assert applied >= 2


def test_garbage_collection_keeps_the_scoring_code_of_a_deployment(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    if target.kind == "remote":
        pytest.skip("the snapshot grace period is patched in this process")
    import ember.tracking.local as tracking_local
    from ember.jobs import snapshot as snapshots

    backend = target.backend
    name = _endpoint(backend)
    backend.endpoints.deploy(name, _scripted(backend, "blue"))
    digest = backend.endpoints.get_deployment(name, "blue").snapshot_digest
    assert digest is not None
    monkeypatch.setattr(tracking_local, "SNAPSHOT_GRACE_SECONDS", -60.0)  # every snapshot is "old"

    backend.tracking.purge(older_than_seconds=0)

    restored = target.artifact_root.parent / "restored"
    snapshots.restore(cast(Any, backend).blobs, digest, restored)
    assert (restored / "score.py").read_bytes() == SCORE_PY
