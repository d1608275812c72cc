"""``write_package``: a self-contained Docker build context that serves registered models outside Ember.

The context holds the models, the entry script's folder, a copy of the scoring server (``ember_scoring``)
and a tiny ``ember`` shim offering ``Model.get_model_path``, so the image needs no Ember install. Every
user value that reaches the Dockerfile is quoted (labels, variables) or sits in JSON exec form (``RUN``,
``CMD``); requirements are checked one per line, so none can add an instruction or an installer option.
"""

from __future__ import annotations

import importlib.metadata
import json
import logging
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ember.entities.environment_spec import EnvironmentSpec, parse_requirements_file, validate_requirement
from ember.environments.dockerfile import _quote
from ember.errors import InvalidInput
from ember.jobs.snapshot import scan_directory
from ember.registry import model_path
from ember.serving import scoring

if TYPE_CHECKING:
    from ember.backend import HasBackend
    from ember.registry.model import Model
    from ember.serving.config import InferenceConfig

__all__ = ["PORT", "SERVER_PACKAGES", "write_package"]

logger = logging.getLogger(__name__)

PORT = 5001
SERVER_PACKAGES = ("starlette", "uvicorn", "anyio")  # what ember_scoring imports, pinned to this install
_APP = "/app"
_PYTHON_RE = re.compile(r"^(3)\.(\d{1,2})(?:\.\d{1,3})?$")

_MAIN = '''\
"""``python -m ember_scoring``: the scoring server of an Ember model package (no Ember install needed)."""

import argparse
import importlib.util
import logging
import os
import sys
from pathlib import Path

from ember_scoring.scoring import DEFAULT_MAX_BODY_BYTES, EntryScript, MlflowModel, create_scoring_app


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ember_scoring", description=__doc__)
    parser.add_argument("--host", default="0.0.0.0")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--model-dir", type=Path, required=True, help="models as <name>/<version>/files")
    parser.add_argument("--source-dir", type=Path, help="the entry script's folder")
    parser.add_argument("--entry-script", help="the script with init() and run(raw_data)")
    parser.add_argument("--mlflow-model", help="serve this model (NAME/VERSION under --model-dir)")
    parser.add_argument("--max-body-bytes", type=int, default=DEFAULT_MAX_BODY_BYTES)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    os.environ["EMBER_MODEL_DIR"] = str(args.model_dir.resolve())
    if args.entry_script:
        if args.source_dir is None:
            parser.error("--entry-script needs --source-dir")
        scorer = EntryScript(args.source_dir, args.entry_script)
    elif args.mlflow_model:
        scorer = MlflowModel(args.model_dir / args.mlflow_model)
    else:
        parser.error("give --entry-script (with --source-dir) or --mlflow-model")
    import uvicorn

    has = importlib.util.find_spec
    uvicorn.run(
        create_scoring_app(scorer, max_body_bytes=args.max_body_bytes),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        http="httptools" if has("httptools") else "h11",
        loop="uvloop" if has("uvloop") else "asyncio",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
'''

# ember/_model_path.py in the package is a copy of ember.registry.model_path: one lookup in both places.
_SHIM = '''\
"""A stand-in for Ember inside a model package: only ``Model.get_model_path``, as in a deployment."""

from ._model_path import find_model_path

__all__ = ["InvalidInput", "Model"]


class InvalidInput(ValueError):
    """A request Ember cannot satisfy as given."""


class Model:
    """The part of ``ember.Model`` an entry script uses inside a scoring server."""

    @staticmethod
    def get_model_path(model_name, version=None):
        """The file of a one-file model, else its folder, under ``$EMBER_MODEL_DIR/<name>/<version>/``."""
        return find_model_path(model_name, version, error=InvalidInput)
'''


@dataclass
class _Plan:
    """What the Dockerfile and requirements.txt say, gathered before anything is written."""

    python: str
    requirements: list[str] = field(default_factory=list)
    env_vars: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    command: list[str] = field(default_factory=list)


def _python_tag(version: str, *, where: str) -> str:
    match = _PYTHON_RE.fullmatch(version.strip())
    if match is None:
        raise InvalidInput(f"{where} names Python {version!r}, which is not a CPython 3 version like 3.11")
    return version.strip()


def _requirement(text: str, *, where: str) -> str:
    try:
        return validate_requirement(text)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}") from None


def _environment_spec(
    workspace: HasBackend, inference: InferenceConfig | None
) -> tuple[str, EnvironmentSpec] | None:
    if inference is not None and inference.uses_current_interpreter:
        raise InvalidInput(
            "Environment.current() is this machine's interpreter, and a package runs on another machine "
            "(a container): register an Environment that lists its packages and package with that"
        )
    ref = inference.environment_ref if inference is not None else None
    if ref is None:
        return None
    info = workspace.backend.environments.get(ref.name, ref.version)
    if info.spec.inherit_current:
        raise InvalidInput(
            f"environment {info.name}:{info.version} runs with the submitting interpreter and its packages, "
            "which a container cannot reproduce; list its packages in 'pip' instead"
        )
    return f"{info.name}:{info.version}", info.spec


def _mlflow_parts(folder: Path, *, shown: str) -> tuple[str | None, list[str]]:
    """The Python version and requirements of an MLflow model folder (``MLmodel``, ``requirements.txt``)."""
    try:
        doc = yaml.safe_load((folder / "MLmodel").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(f"model {shown}: cannot read its MLmodel file ({exc})") from None
    if not isinstance(doc, dict):
        raise InvalidInput(f"model {shown}: its MLmodel file is not a mapping")
    pyfunc = (doc.get("flavors") or {}).get("python_function")
    if not isinstance(pyfunc, dict):
        raise InvalidInput(
            f"model {shown} has no python_function flavor, so it cannot be served without an entry script: "
            "give an inference config with one"
        )
    python = pyfunc.get("python_version")
    python = _python_minor(str(python), shown) if python is not None else None
    requirements: list[str] = []
    file = folder / "requirements.txt"
    if file.is_file():
        try:
            requirements.extend(parse_requirements_file(file.read_text(encoding="utf-8")))
        except InvalidInput as exc:
            raise InvalidInput(f"model {shown}: its requirements.txt: {exc.message}") from None
    names = {canonicalize_name(Requirement(r).name) for r in requirements}
    mlflow_version = doc.get("mlflow_version")
    if "mlflow" not in names:
        if mlflow_version is None:
            requirements.append("mlflow")
        else:
            try:
                requirements.append(f"mlflow=={Version(str(mlflow_version))}")
            except InvalidVersion:
                raise InvalidInput(
                    f"model {shown}: MLmodel's mlflow_version {mlflow_version!r} is not a version"
                ) from None
    return python, requirements


def _python_minor(version: str, shown: str) -> str:
    match = _PYTHON_RE.fullmatch(version.strip())
    if match is None:
        raise InvalidInput(f"model {shown}: MLmodel's python_version {version!r} is not a CPython 3 version")
    return f"{match.group(1)}.{match.group(2)}"


def _merge(*groups: Sequence[str]) -> list[str]:
    """Requirements in order, the first naming a package winning (the user's pins before the server's)."""
    seen: set[str] = set()
    merged: list[str] = []
    for group in groups:
        for text in group:
            name = canonicalize_name(Requirement(text).name)
            if name in seen:
                continue
            seen.add(name)
            merged.append(text)
    return merged


def _server_requirements() -> list[str]:
    return [f"{name}=={importlib.metadata.version(name)}" for name in SERVER_PACKAGES]


def _render_dockerfile(plan: _Plan) -> str:
    lines = [
        "# Generated by Ember (ember model package); regenerate it rather than editing it.",
        f"FROM python:{plan.python}-slim",
        "LABEL "
        + " ".join(f"{key}={_quote(value, what=f'label {key}')}" for key, value in plan.labels.items()),
        f"WORKDIR {_APP}",
        "COPY requirements.txt .",
        "RUN " + json.dumps(["pip", "install", "--no-cache-dir", "-r", "requirements.txt"]),
        "COPY . .",
    ]
    for key, value in sorted(plan.env_vars.items()):
        lines.append(f"ENV {key}={_quote(value, what=f'environment variable {key}')}")
    lines += [
        f"ENV EMBER_MODEL_DIR={_APP}/models",
        f"EXPOSE {PORT}",
        "CMD " + json.dumps(plan.command, ensure_ascii=True),
    ]
    return "\n".join(lines) + "\n"


def _render_readme(models: Sequence[Model], tag: str, entry_script: str | None) -> str:
    shown = ", ".join(f"{m.name} version {m.version}" for m in models)
    how = f"the entry script `src/{entry_script}`" if entry_script else "MLflow's pyfunc flavor"
    return f"""\
# Scoring server for {shown}

Generated by `ember model package`. It serves the model with {how}, on port {PORT}, and needs no
Ember install: `ember_scoring/` is the scoring server and `ember/` a stand-in offering
`ember.Model.get_model_path`.

```sh
docker build -t {tag} .
docker run --rm -p {PORT}:{PORT} {tag}
curl -s http://localhost:{PORT}/readyz
curl -s -X POST http://localhost:{PORT}/score -H 'Content-Type: application/json' \\
  -d '{{"data": [[1, 2, 3, 4]]}}'
```

`GET /swagger.json` describes the scoring call. Layout: `models/<name>/<version>/` (the model files),
`src/` (the entry script's folder), `requirements.txt`, `Dockerfile`.
"""


def _image_tag(model: Model) -> str:
    name = re.sub(r"[^a-z0-9_.-]", "-", model.name.lower()).strip("._-") or "model"
    return f"{name}:{model.version}"


def _check_target(target: Path) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise InvalidInput(f"{str(target)!r} is not a folder: give an empty or new folder for the package")
    if target.is_dir() and any(target.iterdir()):
        raise InvalidInput(f"{str(target)!r} is not empty: give an empty or new folder for the package")


def _plan(
    workspace: HasBackend, models: Sequence[Model], inference: InferenceConfig | None, staging: Path
) -> _Plan:
    entry_script = inference.entry_script if inference is not None else None
    environment = _environment_spec(workspace, inference)
    python: str | None = None
    requirements: list[str] = []
    env_vars: dict[str, str] = {}
    labels = {"ember.models": ",".join(f"{m.name}:{m.version}" for m in models)}
    if environment is not None:
        label, spec = environment
        labels["ember.environment"] = label
        python = _python_tag(spec.python, where=f"environment {label}") if spec.python else None
        requirements = [_requirement(r, where=f"environment {label}") for r in spec.pip]
        env_vars = dict(spec.env_vars)
    command = ["python", "-m", "ember_scoring", "--host", "0.0.0.0", "--port", str(PORT)]
    command += ["--model-dir", f"{_APP}/models"]
    if entry_script is not None:
        command += ["--source-dir", f"{_APP}/src", "--entry-script", entry_script]
    else:
        model = models[0]
        shown = f"{model.name}:{model.version}"
        model_python, model_requirements = _mlflow_parts(
            staging / "models" / model.name / str(model.version), shown=shown
        )
        python = python or model_python
        requirements = _merge(
            requirements, [_requirement(r, where=f"model {shown}") for r in model_requirements]
        )
        command += ["--mlflow-model", f"{model.name}/{model.version}"]
    return _Plan(
        python=python or f"{sys.version_info.major}.{sys.version_info.minor}",
        requirements=_merge(requirements, _server_requirements()),
        env_vars=env_vars,
        labels=labels,
        command=command,
    )


def _copy_source(source: Path, target: Path) -> int:
    """Copy the entry script's folder as a run's snapshot would take it (ignore files honoured, no links)."""
    count = 0
    for relative, local, _size, mode in scan_directory(source):
        dest = target.joinpath(*relative.split("/"))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, dest)
        dest.chmod(mode)
        count += 1
    return count


def write_package(
    *,
    workspace: HasBackend,
    models: Sequence[Model],
    inference: InferenceConfig | None,
    target_dir: str | os.PathLike[str],
) -> Path:
    """Write a Docker build context that serves ``models`` the way an Ember deployment would.

    Args:
        workspace: Where the models (and the inference config's environment) are registered.
        models: The model versions to include, under ``models/<name>/<version>/``.
        inference: The entry script, its folder and environment; ``None`` (or no entry script) serves
            the one MLflow model with pyfunc, installing its ``requirements.txt`` and its MLflow version.
        target_dir: An empty or missing folder to write into.

    Returns:
        The folder written (``Dockerfile``, ``README.md``, ``requirements.txt``, ``models/``, ``src/``,
        ``ember_scoring/``, ``ember/``).

    Raises:
        InvalidInput: The folder is not empty; no models, or the same one twice; no entry script for a
            model that is not one MLflow model; a requirement or a variable that cannot be written
            safely (an option, a newline).
    """
    target = Path(target_dir)
    _check_target(target)
    models = list(models)
    if not models:
        raise InvalidInput("give at least one model to package")
    keys = [(m.name, m.version) for m in models]
    if len(set(keys)) != len(keys):
        raise InvalidInput("a model version is listed twice: give each once")
    entry_script = inference.entry_script if inference is not None else None
    if entry_script is None and (len(models) != 1 or models[0].info.format != "mlflow"):
        raise InvalidInput(
            "only one MLflow model can be served without an entry script: give an inference config "
            "(entry_script with init() and run(raw_data), e.g. --inference-config inference.yml)"
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".ember-package-", dir=target.parent))
    try:
        staging.chmod(0o755)  # mkdtemp's 0o700 would otherwise become the package's mode
        for model in models:
            model.download(staging / "models" / model.name / str(model.version))
        plan = _plan(workspace, models, inference, staging)
        dockerfile = _render_dockerfile(plan)
        if inference is not None and entry_script is not None:
            _copy_source(inference.source_directory, staging / "src")
        server = staging / "ember_scoring"
        server.mkdir()
        (server / "__init__.py").write_text('"""The scoring server of an Ember model package."""\n')
        shutil.copyfile(scoring.__file__, server / "scoring.py")
        (server / "__main__.py").write_text(_MAIN)
        (staging / "ember").mkdir()
        (staging / "ember" / "__init__.py").write_text(_SHIM)
        shutil.copyfile(model_path.__file__, staging / "ember" / "_model_path.py")
        (staging / "requirements.txt").write_text(
            "# Generated by Ember (ember model package): the model's environment, then the scoring server.\n"
            + "".join(f"{line}\n" for line in plan.requirements)
        )
        (staging / "Dockerfile").write_text(dockerfile)
        (staging / ".dockerignore").write_text("**/__pycache__\n**/*.pyc\n")
        (staging / "README.md").write_text(_render_readme(models, _image_tag(models[0]), entry_script))
        if target.is_dir():
            target.rmdir()  # empty, checked above
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    logger.info("wrote a model package for %s to %s", plan.labels["ember.models"], target)
    return target
