"""``Environment.current()`` in a deployment, through the contract: accepted where the replicas run on the
deploying machine, refused with that reason elsewhere — on SQLite, PostgreSQL and a real server (which,
on loopback, runs on this machine).
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest
from contract_support import unique

from ember.backend import Backend
from ember.entities.jobs import EnvironmentRef
from ember.entities.registry import ModelFile, ModelRegister
from ember.entities.serving import DeploymentCreate, EndpointCreate, Interpreter
from ember.errors import InvalidInput
from ember.jobs.snapshot import SnapshotFile, encode_manifest
from ember.serving.interpreter import machine_id

SCORE_PY = b"def init():\n    pass\n\n\ndef run(raw_data):\n    return raw_data\n"


def _blob(backend: Backend, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    backend.jobs.upload_blob(digest, [data])
    return digest


def _deployment(backend: Backend, interpreter: Interpreter, **fields: object) -> tuple[str, DeploymentCreate]:
    weights = b"weights " + unique("w").encode()
    model = backend.registry.register_model(
        ModelRegister(
            name=unique("clf"), files=[ModelFile(path="m.pkl", digest=_blob(backend, weights), size=8)]
        )
    )
    entry = SnapshotFile(path="score.py", digest=_blob(backend, SCORE_PY), size=len(SCORE_PY), mode=0o644)
    manifest = encode_manifest([entry])
    snapshot = hashlib.sha256(manifest).hexdigest()
    backend.jobs.upload_blob(snapshot, [manifest])
    backend.jobs.register_snapshot(snapshot)
    endpoint = backend.endpoints.create_endpoint(EndpointCreate(name=unique("ep").lower())).name
    request = DeploymentCreate(
        name="blue",
        model_ids=[model.id],
        entry_script="score.py",
        snapshot_digest=snapshot,
        interpreter=interpreter,
        **fields,  # type: ignore[arg-type]
    )
    return endpoint, request


def test_a_deployment_in_this_machines_interpreter_is_recorded_and_shown(backend: Backend) -> None:
    here = Interpreter(executable=sys.executable, machine=machine_id())
    endpoint, request = _deployment(backend, here)

    info = backend.endpoints.deploy(endpoint, request)

    assert info.interpreter == here
    assert info.environment is None
    assert backend.endpoints.get_deployment(endpoint, "blue").interpreter == here


def test_another_machines_interpreter_is_refused_naming_both_machines(backend: Backend) -> None:
    elsewhere = Interpreter(executable=sys.executable, machine="laptop-of-someone-else/0123456789ab")
    endpoint, request = _deployment(backend, elsewhere)

    with pytest.raises(InvalidInput, match="run on machine") as refused:
        backend.endpoints.deploy(endpoint, request)

    assert "laptop-of-someone-else" in refused.value.message
    assert machine_id() in refused.value.message
    assert "register an Environment" in refused.value.message
    assert backend.endpoints.get_endpoint(endpoint).deployments == []


@pytest.mark.parametrize(
    ("executable", "why"),
    [
        ("/bin/sh", "must name a Python interpreter"),
        ("python3", "must name a Python interpreter"),
        ("/nonexistent/venv/bin/python", "not an executable file"),
    ],
)
def test_an_interpreter_that_is_not_a_python_here_is_refused(
    backend: Backend, executable: str, why: str
) -> None:
    endpoint, request = _deployment(backend, Interpreter(executable=executable, machine=machine_id()))

    with pytest.raises(InvalidInput, match=why):
        backend.endpoints.deploy(endpoint, request)

    assert backend.endpoints.get_endpoint(endpoint).deployments == []


def test_an_interpreter_and_an_environment_together_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not both"):
        DeploymentCreate(
            name="blue",
            model_ids=["0" * 32],
            environment=EnvironmentRef(name="sk", version=1),
            interpreter=Interpreter(executable=sys.executable, machine=machine_id()),
        )
