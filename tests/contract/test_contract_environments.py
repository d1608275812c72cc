"""Registered environments: versioning, reading back, refusals, deletion, and runs that use them."""

from __future__ import annotations

import hashlib
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

import pytest
from contract_support import Target, new_experiment, unique

import ember
from ember.backend import Backend
from ember.entities import RunStatus
from ember.entities.jobs import EnvironmentRef, RunConfiguration, RunSubmit
from ember.entities.registry import ModelFile, ModelRegister
from ember.entities.serving import DeploymentCreate, EndpointCreate
from ember.environments import EnvironmentInfo, EnvironmentRegister, EnvironmentSpec, spec_hash
from ember.errors import Conflict, InvalidInput, NotFound
from ember.jobs.snapshot import SnapshotFile, encode_manifest
from support.hanging import hanging_index

THIS_PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
NO_VARS: dict[str, str] = {}
RUN_DEADLINE_S = 240.0


def _register(backend: Backend, name: str, *pip: str, description: str | None = None) -> EnvironmentInfo:
    spec = EnvironmentSpec(python=THIS_PYTHON, pip=pip)
    return backend.environments.register(EnvironmentRegister(name=name, spec=spec, description=description))


# -- versioning ----------------------------------------------------------------------------------
def test_a_new_name_starts_at_version_1_and_reads_back(backend: Backend) -> None:
    name = unique("sk")

    info = _register(backend, name, "six==1.16.0", description="tiny")

    assert (info.name, info.version, info.description) == (name, 1, "tiny")
    assert info.spec.pip == ("six==1.16.0",)
    assert info.spec_hash == spec_hash(info.spec)
    assert isinstance(info.created_time, datetime)
    assert info.created_time.tzinfo is not None
    assert backend.environments.get(name) == info
    assert backend.environments.get(name, 1) == info


def test_the_same_spec_is_the_same_version_and_a_new_one_is_the_next(backend: Backend) -> None:
    name = unique("sk")
    first = _register(backend, name, "six==1.16.0", "packaging>=23", description="first")

    again = _register(backend, name, "Packaging >= 23", "SIX==1.16.0", description="second")
    second = _register(backend, name, "six==1.15.0")
    third = _register(backend, name, "six==1.14.0")

    assert again == first
    assert [second.version, third.version] == [2, 3]
    assert backend.environments.get(name).version == 3
    assert backend.environments.get(name, 2) == second
    assert [e.version for e in backend.environments.list(name)] == [3, 2, 1]


def test_python_left_open_is_pinned_at_registration(backend: Backend) -> None:
    name = unique("open")
    info = backend.environments.register(
        EnvironmentRegister(name=name, spec=EnvironmentSpec(pip=("six==1.16.0",)))
    )

    assert info.spec.python == THIS_PYTHON  # the local backend's, and the test server's, interpreter
    assert _register(backend, name, "six==1.16.0").version == info.version


def test_list_gives_the_latest_version_of_each_name(backend: Backend) -> None:
    prefix = unique("list")
    a, b = f"{prefix}-a", f"{prefix}-b"
    _register(backend, b, "six==1.16.0")
    _register(backend, a, "six==1.16.0")
    latest_a = _register(backend, a, "six==1.15.0")

    mine = [e for e in backend.environments.list() if e.name.startswith(prefix)]

    assert [(e.name, e.version) for e in mine] == [(a, 2), (b, 1)]
    assert mine[0] == latest_a
    assert backend.environments.list(unique("nobody")) == []


def test_concurrent_registrations_of_one_name_agree_on_versions(backend: Backend) -> None:
    name = unique("race")
    specs = [f"six==1.1{i}.0" for i in range(4)]
    threads = 8
    barrier = threading.Barrier(threads)

    def work(worker: int) -> dict[str, int]:
        barrier.wait(30)
        return {
            spec: _register(backend, name, spec).version
            for spec in (specs[(worker + i) % len(specs)] for i in range(len(specs)))
        }

    with ThreadPoolExecutor(threads) as pool:
        answers = list(pool.map(work, range(threads)))

    stored = {e.spec.pip[0]: e.version for e in backend.environments.list(name)}
    assert sorted(stored.values()) == [1, 2, 3, 4]
    assert all(answer == stored for answer in answers)


# -- refusals ------------------------------------------------------------------------------------
def test_unknown_names_and_versions_are_not_found(backend: Backend) -> None:
    name = unique("sk")
    _register(backend, name, "six==1.16.0")

    with pytest.raises(NotFound, match="not found"):
        backend.environments.get(unique("missing"))
    with pytest.raises(NotFound, match="no version 2"):
        backend.environments.get(name, 2)
    with pytest.raises(InvalidInput):
        backend.environments.get(name, 0)
    with pytest.raises(InvalidInput):
        backend.environments.get("no/such name")


@pytest.mark.parametrize(
    "spec",
    [
        EnvironmentSpec.model_construct(python=THIS_PYTHON, pip=("-e .",), env_vars=NO_VARS),
        EnvironmentSpec.model_construct(python="2.7", pip=(), env_vars=NO_VARS),
        EnvironmentSpec.model_construct(python=None, pip=(), env_vars={"PATH": "/x"}),
        EnvironmentSpec(inherit_current=True),
    ],
    ids=["pip-option", "old-python", "reserved-variable", "inherits-current"],
)
def test_a_bad_spec_is_invalid_input_and_registers_nothing(backend: Backend, spec: EnvironmentSpec) -> None:
    name = unique("bad")
    # model_construct skips the client's validation: the backend itself must refuse.
    request = EnvironmentRegister.model_construct(name=name, spec=spec, description=None)

    with pytest.raises(InvalidInput):
        backend.environments.register(request)
    assert backend.environments.list(name) == []


def test_a_bad_name_is_invalid_input(backend: Backend) -> None:
    request = EnvironmentRegister.model_construct(name="has space", spec=EnvironmentSpec(), description=None)

    with pytest.raises(InvalidInput, match="name"):
        backend.environments.register(request)


def test_submitting_with_an_unknown_environment_is_not_found(backend: Backend) -> None:
    experiment = new_experiment(backend, "envs")
    config = RunConfiguration(script="train.py", environment=EnvironmentRef(name=unique("missing")))

    with pytest.raises(NotFound, match="register it first"):
        backend.jobs.submit_run(RunSubmit(experiment_id=experiment.id, config=config))


# -- deletion ------------------------------------------------------------------------------------
SCORE_PY = b"def init():\n    pass\n\n\ndef run(raw_data):\n    return raw_data\n"


def _blob(backend: Backend, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    backend.jobs.upload_blob(digest, [data])
    return digest


def _model(backend: Backend) -> str:
    """A registered model version's id."""
    data = b"weights " + unique("w").encode()
    files = [ModelFile(path="model.pkl", digest=_blob(backend, data), size=len(data))]
    return backend.registry.register_model(ModelRegister(name=unique("clf"), files=files)).id


def _snapshot(backend: Backend) -> str:
    """A scoring folder uploaded the way a client does; the snapshot's digest."""
    entry = SnapshotFile(path="score.py", digest=_blob(backend, SCORE_PY), size=len(SCORE_PY), mode=0o644)
    digest = _blob(backend, encode_manifest([entry]))
    backend.jobs.register_snapshot(digest)
    return digest


def _scripted(backend: Backend, name: str, environment: EnvironmentInfo) -> DeploymentCreate:
    """A deployment of a plain model with an entry script, running in ``environment``."""
    return DeploymentCreate(
        name=name,
        entry_script="score.py",
        snapshot_digest=_snapshot(backend),
        model_ids=[_model(backend)],
        environment=EnvironmentRef(name=environment.name, version=environment.version),
    )


def test_deleting_a_version_keeps_the_others_and_never_reuses_its_number(backend: Backend) -> None:
    name = unique("sk")
    first = _register(backend, name, "six==1.16.0")
    second = _register(backend, name, "six==1.15.0")
    third = _register(backend, name, "six==1.14.0")

    backend.environments.delete(name, 2)

    with pytest.raises(NotFound, match="no version 2"):
        backend.environments.get(name, 2)
    assert backend.environments.list(name) == [third, first]
    assert backend.environments.get(name) == third
    assert _register(backend, name, "six==1.13.0").version == 4
    again = _register(backend, name, *second.spec.pip)  # the deleted spec is new again
    assert (again.version, again.spec_hash) == (5, second.spec_hash)
    with pytest.raises(NotFound, match="no version 2"):
        backend.environments.delete(name, 2)
    experiment = new_experiment(backend, "envs")
    config = RunConfiguration(script="train.py", environment=EnvironmentRef(name=name, version=2))
    with pytest.raises(NotFound, match="no version 2"):
        backend.jobs.submit_run(RunSubmit(experiment_id=experiment.id, config=config))


def test_deleting_the_latest_version_never_gives_its_number_again(backend: Backend) -> None:
    name = unique("sk")
    first = _register(backend, name, "six==1.16.0")
    _register(backend, name, "six==1.15.0")

    backend.environments.delete(name, 2)
    latest = backend.environments.get(name)
    third = _register(backend, name, "six==1.14.0")
    backend.environments.delete(name, 3)
    backend.environments.delete(name, 1)

    assert latest == first
    assert third.version == 3  # not 2: a run that recorded "sk:2" never finds another spec under it
    assert backend.environments.list(name) == []
    assert name not in [e.name for e in backend.environments.list()]
    with pytest.raises(NotFound, match="register it first"):
        backend.environments.get(name)
    assert _register(backend, name, "six==1.16.0").version == 4


def test_deleting_an_unknown_version_is_not_found(backend: Backend) -> None:
    name = unique("sk")
    _register(backend, name, "six==1.16.0")

    with pytest.raises(NotFound, match="register it first"):
        backend.environments.delete(unique("missing"), 1)
    with pytest.raises(NotFound, match="no version 2; its latest is version 1"):
        backend.environments.delete(name, 2)
    with pytest.raises(InvalidInput):
        backend.environments.delete(name, 0)
    with pytest.raises(InvalidInput):
        backend.environments.delete("no/such name", 1)
    assert [e.version for e in backend.environments.list(name)] == [1]


def test_a_version_a_deployment_uses_is_deleted_only_once_its_endpoint_is(backend: Backend) -> None:
    used = _register(backend, unique("serve"), "six==1.16.0")
    other = _register(backend, used.name, "six==1.15.0")
    endpoint = backend.endpoints.create_endpoint(EndpointCreate(name=unique("ep").lower())).name
    backend.endpoints.deploy(endpoint, _scripted(backend, "blue", used))
    backend.endpoints.deploy(endpoint, _scripted(backend, "green", used))

    with pytest.raises(Conflict, match=f"{endpoint}/blue, {endpoint}/green: delete or update"):
        backend.environments.delete(used.name, used.version)
    backend.endpoints.deploy(endpoint, _scripted(backend, "green", other))  # green moves to the other
    with pytest.raises(Conflict, match=f"used by {endpoint}/blue: delete or update") as refused:
        backend.environments.delete(used.name, used.version)
    assert "green" not in str(refused.value)
    assert backend.environments.get(used.name, used.version) == used
    backend.endpoints.delete_endpoint(endpoint)
    backend.environments.delete(used.name, used.version)
    backend.environments.delete(other.name, other.version)

    assert backend.environments.list(used.name) == []


def test_the_sdk_deletes_a_registered_version(ws: ember.Workspace) -> None:
    name = unique("sk")
    kept = ember.Environment(name, pip=["six==1.16.0"]).register(ws)
    doomed = ember.Environment(name, pip=["six==1.15.0"]).register(ws)

    doomed.delete()

    assert ember.Environment.list(ws, name) == [kept]
    with pytest.raises(NotFound):
        doomed.delete()
    with pytest.raises(InvalidInput, match="not a registered version"):
        ember.Environment(name, pip=["six==1.14.0"]).delete()


# -- runs in registered environments (real uv, real PyPI) -----------------------------------------
TRAIN = textwrap.dedent(
    """
    import os
    import six
    import ember

    print("six", six.__version__)
    print("greeting", os.environ["GREETING"])
    run = ember.Run.get_context()
    run.log("answer", 42.0)
    """
)


@pytest.fixture
def env_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private environment cache for this test's runners (and for its server, which starts after)."""
    root = tmp_path / "envs"
    monkeypatch.setenv("EMBER_ENV_CACHE", str(root))
    return root


def _finished(run: ember.Run) -> dict[str, object]:
    return run.wait_for_completion(timeout=RUN_DEADLINE_S, poll_interval=0.2)


def _log(backend: Backend, run_id: str, name: str) -> str:
    return backend.jobs.read_log(run_id, name, max_chars=10_000_000).data


@pytest.mark.slow
@pytest.mark.isolated_workspace
def test_a_run_uses_its_registered_environment_built_once(
    env_cache: Path, target: Target, tmp_path: Path
) -> None:
    backend = target.backend
    ws = ember.Workspace(backend, target=target.location)
    env = ember.Environment(unique("six"), pip=["six==1.16.0"], env_vars={"GREETING": "hello"}).register(ws)
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(TRAIN)
    experiment = ember.Experiment(ws, unique("envs"))

    first = experiment.submit(ember.ScriptRunConfig(source, "train.py", environment=env))
    details = _finished(first)

    assert details["info"]["status"] == RunStatus.COMPLETED, _log(backend, first.id, "runner_log.txt")
    output = _log(backend, first.id, "std_log.txt")
    assert "six 1.16.0" in output
    assert "greeting hello" in output
    assert backend.tracking.get_metric_history(first.id, "answer").values == [42.0]
    build = _log(backend, first.id, "build_log.txt")
    assert "$ uv venv" in build
    assert "$ uv pip install" in build
    assert "six==1.16.0" in build
    stored = backend.jobs.get_run_configuration(first.id).config.environment
    assert stored == EnvironmentRef(name=env.name, version=1)

    # A reference by name only: the backend picks the latest version, whose environment is built.
    latest = EnvironmentRef(name=env.name)
    second = experiment.submit(ember.ScriptRunConfig(source, "train.py", environment=latest))
    details = _finished(second)

    assert details["info"]["status"] == RunStatus.COMPLETED, _log(backend, second.id, "runner_log.txt")
    assert "six 1.16.0" in _log(backend, second.id, "std_log.txt")
    rebuilt = _log(backend, second.id, "build_log.txt")
    assert "is cached" in rebuilt
    assert "$ uv" not in rebuilt
    assert backend.jobs.get_run_configuration(second.id).config.environment == stored


@pytest.mark.slow
@pytest.mark.isolated_workspace
def test_an_environment_that_cannot_be_resolved_fails_the_run_with_the_reason(
    env_cache: Path, target: Target, tmp_path: Path
) -> None:
    backend = target.backend
    ws = ember.Workspace(backend, target=target.location)
    env = ember.Environment(unique("broken"), pip=["nonexistent-package-zzz-ember==1.0"]).register(ws)
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text("print('never runs')\n")

    run = ember.Experiment(ws, unique("envs")).submit(
        ember.ScriptRunConfig(source, "train.py", environment=env)
    )
    details = _finished(run)

    assert details["info"]["status"] == RunStatus.FAILED
    message = details["info"]["error"]["message"]
    assert "nonexistent-package-zzz-ember" in message
    assert "No solution found when resolving dependencies" in message
    assert "nonexistent-package-zzz-ember" in _log(backend, run.id, "build_log.txt")
    assert "never runs" not in _log(backend, run.id, "std_log.txt")


@pytest.fixture
def stalled_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Builds hang on an index that never answers; runners heartbeat often so a cancel reaches them fast."""
    with hanging_index() as url:
        monkeypatch.setenv("UV_DEFAULT_INDEX", url)
        monkeypatch.setenv("UV_INDEX_URL", url)
        monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "uv-cache"))
        monkeypatch.setenv("EMBER_HEARTBEAT_INTERVAL", "0.2")
        yield


@pytest.mark.isolated_workspace
def test_a_run_canceled_while_its_environment_builds_stops_at_once(
    stalled_builds: None, env_cache: Path, target: Target, tmp_path: Path
) -> None:
    backend = target.backend
    ws = ember.Workspace(backend, target=target.location)
    env = ember.Environment(unique("stalled"), pip=["six==1.16.0"]).register(ws)
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text("print('never runs')\n")
    config = ember.ScriptRunConfig(source, "train.py", environment=env)
    run = ember.Experiment(ws, unique("envs")).submit(config)
    deadline = time.monotonic() + RUN_DEADLINE_S
    while "$ uv pip install" not in _log_or_empty(backend, run.id, "build_log.txt"):
        assert time.monotonic() < deadline, "the build never reached the install step"
        time.sleep(0.05)

    asked = time.monotonic()
    run.cancel()
    details = run.wait_for_completion(timeout=30, poll_interval=0.1)
    took = time.monotonic() - asked

    assert details["info"]["status"] == RunStatus.CANCELED
    assert took < 15, f"the cancel took {took:.1f} s"
    assert "canceled while the environment was being prepared" in _log(backend, run.id, "runner_log.txt")
    assert "never runs" not in _log_or_empty(backend, run.id, "std_log.txt")
    assert [p.name for p in env_cache.iterdir() if not p.name.endswith(".lock")] == []


def _log_or_empty(backend: Backend, run_id: str, name: str) -> str:
    try:
        return _log(backend, run_id, name)
    except NotFound:
        return ""
