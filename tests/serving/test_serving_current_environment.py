"""A local deployment in ``Environment.current()``: the replicas run in the deploying process's own
interpreter (nothing built), which a user sees in what the scoring script reports; a package (another
machine) refuses it with that reason.
"""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from serving_support import served_workspace

import ember
from ember.errors import InvalidInput
from ember.serving.package import write_package

WHERE = """
import sys


def init():
    pass


def run(raw_data):
    return {"python": sys.executable}
"""


def _second_interpreter(folder: Path) -> Path:
    """A virtualenv of its own (another ``sys.executable``) that sees this one's packages through a .pth."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    paths = [p for p in sys.path if p and Path(p).is_dir()]
    Path(purelib, "ember-test-parent.pth").write_text("\n".join([*site.getsitepackages(), *paths]) + "\n")
    return python


def test_replicas_run_in_the_deploying_interpreter_and_the_deployment_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served_workspace(tmp_path, monkeypatch) as ws:
        serve = tmp_path / "serve"
        serve.mkdir()
        (serve / "score.py").write_text(WHERE)
        endpoint = ember.Endpoint.create(ws, "where")  # this process's interpreter starts the host
        endpoint.deploy("host", inference_config=ember.InferenceConfig("score.py", source_directory=serve))
        other = _second_interpreter(tmp_path / "other-venv")
        deploy = textwrap.dedent(
            f"""
            import ember
            ws = ember.Workspace.get({str(tmp_path / "ws")!r})
            inference = ember.InferenceConfig(
                "score.py", source_directory={str(serve)!r}, environment=ember.Environment.current()
            )
            ember.Endpoint(ws, "where").deploy("current", inference_config=inference, timeout=120)
            """
        )

        subprocess.run([str(other), "-c", deploy], check=True, env=dict(os.environ), timeout=180)

        endpoint.refresh()
        current = endpoint.deployments["current"]
        assert current.info.interpreter is not None
        assert current.info.interpreter.executable == str(other)
        assert current.info.environment is None
        assert endpoint.run({}, deployment="current") == {"python": str(other)}
        assert endpoint.run({}, deployment="host") == {"python": sys.executable}


def test_packaging_refuses_the_current_interpreter_because_a_container_is_another_machine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EMBER_SERVING_AUTOSTART", "0")
    ws = ember.Workspace.create(tmp_path / "ws")
    try:
        serve = tmp_path / "serve"
        serve.mkdir()
        (serve / "score.py").write_text(WHERE)
        path = tmp_path / "model.pkl"
        path.write_bytes(b"weights")
        model = ember.Model.register(ws, path, "m")
        inference = ember.InferenceConfig(
            "score.py", source_directory=serve, environment=ember.Environment.current()
        )

        with pytest.raises(InvalidInput, match="another machine"):
            write_package(workspace=ws, models=[model], inference=inference, target_dir=tmp_path / "pkg")

        assert not (tmp_path / "pkg").exists()
        assert json.loads(json.dumps(inference.to_dict()))["environment"] == "Environment.current()"
    finally:
        ws.close()
