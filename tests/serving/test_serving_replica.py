"""A scoring replica as a deployment runs it: a real process around a user's entry script and a pickled
scikit-learn model, spoken to over HTTP on loopback."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from support.ports import free_port

sklearn = pytest.importorskip("sklearn")

READY_DEADLINE_S = 60.0

SCORE = textwrap.dedent(
    """
    import json, pickle, time
    import numpy as np
    import ember

    input_schema = {"type": "object", "properties": {"data": {"type": "array"}}, "required": ["data"]}
    model = None

    def init():
        global model
        with open(ember.Model.get_model_path("iris-clf"), "rb") as f:
            model = pickle.load(f)

    def run(raw_data):
        data = json.loads(raw_data)
        if data.get("sleep"):
            time.sleep(data["sleep"])
            return "slept"
        if data.get("explode"):
            raise RuntimeError("the secret detail of a failure")
        return model.predict(np.asarray(data["data"]))
    """
)


@dataclass
class Replica:
    url: str
    process: subprocess.Popen[bytes]
    log: Path


@pytest.fixture(scope="module")
def replica(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Replica]:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    root = tmp_path_factory.mktemp("replica")
    x, y = load_iris(return_X_y=True)
    model_dir = root / "models" / "iris-clf" / "1"
    model_dir.mkdir(parents=True)
    (model_dir / "model.pkl").write_bytes(pickle.dumps(LogisticRegression(max_iter=500).fit(x, y)))
    (root / "serve").mkdir()
    (root / "serve" / "score.py").write_text(SCORE)
    port = free_port()
    log = root / "replica.log"
    command = [
        sys.executable, "-m", "ember.serving.replica", "--port", str(port),
        "--model-dir", str(root / "models"), "--source-dir", str(root / "serve"),
        "--entry-script", "score.py", "--max-body-bytes", "100000",
    ]  # fmt: skip
    with log.open("wb") as sink:
        process = subprocess.Popen(command, stdout=sink, stderr=sink)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_DEADLINE_S
    try:
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.05)
        yield Replica(url, process, log)
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_request_is_scored_by_the_entry_script(replica: Replica) -> None:
    answer = httpx.post(f"{replica.url}/score", json={"data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]})

    assert answer.status_code == 200
    assert answer.json() == [0, 2]
    assert answer.headers["x-request-id"]
    assert httpx.get(f"{replica.url}/healthz").json() == {"status": "alive"}


@pytest.mark.parametrize(
    ("content_type", "body", "status", "message"),
    [
        ("application/python-pickle", b"\x80\x04K\x01.", 415, "send JSON"),
        ("application/octet-stream", b"{}", 415, "send JSON"),
        ("application/json", b'{"data": [[1, 2', 400, "not valid JSON"),
        ("application/json", b'{"data": "' + b"x" * 200_000 + b'"}', 413, "larger than"),
    ],
)
def test_bad_requests_get_a_clear_4xx(
    replica: Replica, content_type: str, body: bytes, status: int, message: str
) -> None:
    answer = httpx.post(f"{replica.url}/score", content=body, headers={"Content-Type": content_type})

    assert answer.status_code == status
    assert message in answer.json()["error"]["message"]


def test_a_failing_script_hides_its_message_unless_asked_and_logs_it(replica: Replica) -> None:
    plain = httpx.post(f"{replica.url}/score", json={"explode": True})
    debug = httpx.post(f"{replica.url}/score", json={"explode": True}, headers={"X-Ember-Debug": "true"})
    wrong_shape = httpx.post(f"{replica.url}/score", json={"data": [[1.0, 2.0]]})

    assert plain.status_code == 500
    assert "secret detail" not in plain.text
    request_id = plain.json()["error"]["request_id"]
    assert "secret detail" in debug.json()["error"]["message"]
    assert wrong_shape.status_code == 400  # a wrong shape is the caller's mistake, said plainly
    assert "features" in wrong_shape.json()["error"]["message"]
    deadline = time.monotonic() + 5
    while request_id not in replica.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert request_id in replica.log.read_text()
    assert "the secret detail of a failure" in replica.log.read_text()


def test_the_openapi_document_carries_the_scripts_schema(replica: Replica) -> None:
    document = httpx.get(f"{replica.url}/swagger.json").json()

    schema = document["paths"]["/score"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["data"]


def test_a_script_without_run_never_becomes_ready(tmp_path: Path) -> None:
    (tmp_path / "serve").mkdir()
    (tmp_path / "serve" / "score.py").write_text("def init():\n    pass\n")
    (tmp_path / "models").mkdir()
    port = free_port()
    command = [
        sys.executable, "-m", "ember.serving.replica", "--port", str(port),
        "--model-dir", str(tmp_path / "models"), "--source-dir", str(tmp_path / "serve"),
        "--entry-script", "score.py",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + READY_DEADLINE_S
        while True:
            try:
                answer = httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1)
                if answer.json()["status"] == "failed":
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert "run(raw_data)" in answer.json()["error"]
        assert httpx.post(f"http://127.0.0.1:{port}/score", json={}).status_code == 503
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_after_a_slow_call_probes_are_answered_while_requests_are_scored(replica: Replica) -> None:
    import threading

    assert httpx.post(f"{replica.url}/score", json={"sleep": 0.1}).json() == "slept"  # moves to a thread
    slow = threading.Thread(
        target=lambda: httpx.post(f"{replica.url}/score", json={"sleep": 1.5}, timeout=10)
    )
    slow.start()
    time.sleep(0.2)  # the slow request is being scored now
    alive = httpx.get(f"{replica.url}/healthz", timeout=5)
    still_scoring = slow.is_alive()  # the probe was answered before the slow request ended
    slow.join()

    assert alive.status_code == 200
    assert still_scoring
    assert httpx.post(f"{replica.url}/score", json={"data": [[5.1, 3.5, 1.4, 0.2]]}).json() == [0]
