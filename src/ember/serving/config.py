"""``InferenceConfig``: how a model is scored: an entry script in a source folder, and an environment."""

from __future__ import annotations

import os
import re
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from ember.entities.jobs import EnvironmentRef
from ember.environments.sdk import Environment
from ember.errors import InvalidInput

__all__ = ["InferenceConfig"]

_YAML_KEYS = frozenset({"entry_script", "source_directory", "environment"})
_ENVIRONMENT_RE = re.compile(r"^(?P<name>[^:]+)(?::(?P<version>\d+))?$")
# The script's path travels into a container's command line and a Dockerfile: nothing but a plain path.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_entry_script(entry_script: object, source_directory: Path) -> str:
    if not isinstance(entry_script, str) or not entry_script.strip():
        raise InvalidInput(
            "entry_script must be the path of a Python file inside source_directory, e.g. score.py"
        )
    if _CONTROL.search(entry_script) or "\\" in entry_script:
        raise InvalidInput(f"entry_script {entry_script!r} contains a control character or a backslash")
    path = PurePosixPath(entry_script)
    if path.is_absolute() or ".." in path.parts:
        raise InvalidInput(
            f"entry_script {entry_script!r} must be relative to source_directory and stay inside it (no '..')"
        )
    if path.suffix != ".py":
        raise InvalidInput(f"entry_script {entry_script!r} must be a Python file (.py)")
    if not source_directory.is_dir():
        raise InvalidInput(f"source_directory {str(source_directory)!r} is not a folder")
    full = (source_directory / path).resolve()
    if not full.is_relative_to(source_directory.resolve()) or not full.is_file():
        raise InvalidInput(f"entry_script {entry_script!r} is not a file in {str(source_directory)!r}")
    return path.as_posix()


def _environment(value: object) -> Environment | EnvironmentRef | None:
    if value is None or isinstance(value, EnvironmentRef):
        return value
    if isinstance(value, Environment):
        return value  # Environment.current() too: deployable where the replicas run on this machine
    raise InvalidInput(
        f"environment must be an ember.Environment, an EnvironmentRef or None, not {type(value).__name__}"
    )


def _parse_environment(text: object) -> EnvironmentRef:
    match = _ENVIRONMENT_RE.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise InvalidInput(f"inference config 'environment' must be 'NAME' or 'NAME:VERSION', not {text!r}")
    version = match.group("version")
    try:
        return EnvironmentRef(name=match.group("name"), version=int(version) if version else None)
    except ValueError as exc:
        raise InvalidInput(f"inference config 'environment' {text!r} is invalid: {exc}") from None


class InferenceConfig:
    """How a model is scored: an entry script with ``init()`` and ``run(raw_data)``, and its environment.

    Args:
        entry_script: The script's path relative to ``source_directory``; ``None`` serves an MLflow
            model as it is (pyfunc).
        source_directory: The folder holding the script and what it imports.
        environment: A registered ``Environment`` (its version, else the latest), an ``EnvironmentRef``,
            ``Environment.current()`` (this process's interpreter and packages: nothing to build, for
            replicas on this machine only; a workspace whose replicas run elsewhere refuses it, as does
            ``ember model package``), or ``None`` (no packages beyond the scoring server's).

    Raises:
        InvalidInput: The script is not a ``.py`` file inside ``source_directory``.

    Example:
        >>> config = InferenceConfig("score.py", source_directory="serve", environment=env)
    """

    def __init__(
        self,
        entry_script: str | None = None,
        source_directory: str | os.PathLike[str] = ".",
        environment: Environment | EnvironmentRef | None = None,
    ) -> None:
        self.source_directory = Path(source_directory)
        self.entry_script = (
            None if entry_script is None else _check_entry_script(entry_script, self.source_directory)
        )
        self.environment = _environment(environment)

    @property
    def uses_current_interpreter(self) -> bool:
        """Whether the environment is ``Environment.current()``: this process's own interpreter."""
        return isinstance(self.environment, Environment) and self.environment.inherit_current

    @property
    def environment_ref(self) -> EnvironmentRef | None:
        """The registered environment by name and version (a ``None`` version: the latest); ``None`` for
        no environment and for ``Environment.current()``, which is not registered."""
        env = self.environment
        if env is None or isinstance(env, EnvironmentRef):
            return env
        if env.inherit_current:
            return None
        return EnvironmentRef(name=env.name, version=env.version)

    def to_dict(self) -> dict[str, Any]:
        """The config as the YAML file writes it (``environment`` as ``NAME[:VERSION]``)."""
        ref = self.environment_ref
        environment = None
        if ref is not None:
            environment = ref.name if ref.version is None else f"{ref.name}:{ref.version}"
        elif self.uses_current_interpreter:
            environment = "Environment.current()"
        return {
            "entry_script": self.entry_script,
            "source_directory": str(self.source_directory),
            "environment": environment,
        }

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> InferenceConfig:
        """Read ``inference.yml``: ``entry_script``, ``source_directory`` (relative to the file's folder,
        default that folder) and ``environment`` (``NAME[:VERSION]``), every key optional."""
        file = Path(path)
        try:
            doc = yaml.safe_load(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InvalidInput(f"inference config {str(file)!r} does not exist") from None
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise InvalidInput(f"cannot read inference config {str(file)!r}: {exc}") from None
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            raise InvalidInput(f"inference config {str(file)!r} must be a mapping of {sorted(_YAML_KEYS)}")
        unknown = sorted(str(k) for k in doc if k not in _YAML_KEYS)
        if unknown:
            raise InvalidInput(f"inference config has unknown keys {unknown}; allowed: {sorted(_YAML_KEYS)}")
        source = doc.get("source_directory", ".")
        if not isinstance(source, str):
            raise InvalidInput("inference config 'source_directory' must be a path (a string)")
        environment = doc.get("environment")
        return cls(
            entry_script=doc.get("entry_script"),
            source_directory=file.parent / source,
            environment=None if environment is None else _parse_environment(environment),
        )

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.to_dict().items())
        return f"InferenceConfig({shown})"
