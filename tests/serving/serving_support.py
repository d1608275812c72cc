"""Helpers of the endpoint tests: a workspace whose serving host is stopped afterwards, scripts, polling."""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

import ember
from support.sdk_env import isolate_sdk_environment

T = TypeVar("T")

TRAIN = """
import os
import pickle

from sklearn.datasets import load_iris
from sklearn.linear_model import LogisticRegression

import ember

x, y = load_iris(return_X_y=True)
model = LogisticRegression(max_iter=500).fit(x, y)
ember.Run.get_context().log("accuracy", float(model.score(x, y)))
with open(os.path.join("outputs", "model.pkl"), "wb") as out:
    pickle.dump(model, out)
"""

SCORE = """
import json
import pickle

import numpy as np

import ember

model = None
VERSION = {version}

input_schema = {{"type": "object", "required": ["data"]}}


def init():
    global model
    with open(ember.Model.get_model_path("iris-clf"), "rb") as f:
        model = pickle.load(f)


def run(raw_data):
    data = np.asarray(json.loads(raw_data)["data"], dtype=float)
    return {{"version": VERSION, "predictions": model.predict(data).tolist()}}
"""

SLOW_SCORE = """
import time


def init():
    pass


def run(raw_data):
    time.sleep({seconds})
    return {{"ok": True}}
"""

IRIS_ROW = {"data": [[5.1, 3.5, 1.4, 0.2]]}


def write_scoring_code(folder: Path, *, version: int = 1, script: str | None = None) -> Path:
    """A source folder with ``score.py``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "score.py").write_text(script if script is not None else SCORE.format(version=version))
    return folder


def poll(check: Callable[[], T | None], *, timeout: float = 30.0, interval: float = 0.1, what: str = "") -> T:
    """Call ``check`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: T | None = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what or check}: last {last!r}")


def stop_serving_host(ws: ember.Workspace) -> None:
    """Stop the workspace's serving host (and so its replicas), waiting until it is gone."""
    with contextlib.suppress(Exception):
        host = ws.backend.endpoints.get_serving_host()
        if host.pid and host.alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(host.pid, signal.SIGTERM)
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and _alive(host.pid):
                time.sleep(0.05)
            if _alive(host.pid):
                os.kill(host.pid, signal.SIGKILL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie child of this process counts as gone
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


def process_alive(pid: int) -> bool:
    """Whether a process runs (zombies count as gone)."""
    return _alive(pid)


@contextlib.contextmanager
def served_workspace(folder: Path, patch: pytest.MonkeyPatch) -> Iterator[ember.Workspace]:
    """A folder workspace whose serving host starts on demand and is stopped at the end."""
    isolate_sdk_environment(patch, folder / "cache")
    patch.setenv("EMBER_SERVING_AUTOSTART", "1")
    patch.setenv("EMBER_SERVING_IDLE_EXIT", "5")
    patch.setenv("EMBER_SERVING_COLLECT_SECONDS", "0.5")
    patch.delenv("EMBER_SERVING_PORT", raising=False)
    patch.delenv("EMBER_SERVING_URL", raising=False)
    ws = ember.Workspace.create(folder / "ws")
    try:
        yield ws
    finally:
        stop_serving_host(ws)
        ws.backend.close()


def score(
    endpoint: ember.Endpoint,
    body: Any = None,
    *,
    key: str | None = None,
    deployment: str | None = None,
    client: httpx.Client | None = None,
    content_type: str = "application/json",
    raw: bytes | None = None,
) -> httpx.Response:
    """POST to the endpoint's scoring URI with an optional Bearer key, as any HTTP client would."""
    headers = {"Content-Type": content_type}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    if deployment is not None:
        headers["X-Ember-Deployment"] = deployment
    import json

    content = raw if raw is not None else json.dumps(IRIS_ROW if body is None else body).encode()
    sender = client or httpx
    return sender.post(endpoint.scoring_uri, content=content, headers=headers, timeout=30)
