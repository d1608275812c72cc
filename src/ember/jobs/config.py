"""``ScriptRunConfig``: what to run (a script in a source directory), how, and where — and submitting it."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ember.data import lifecycle
from ember.entities.jobs import EnvironmentRef, RunConfiguration, RunSubmit
from ember.entities.validation import build
from ember.errors import InvalidInput
from ember.jobs.gitinfo import git_info
from ember.jobs.upload import upload_snapshot

if TYPE_CHECKING:
    from ember.tracking.run import Experiment, Run

__all__ = ["OutputDatasetConfig", "ScriptRunConfig"]


class OutputDatasetConfig:
    """A folder the script writes, registered as a dataset version of the run when the script succeeds.

    In ``arguments`` it becomes the folder's local path. ``destination`` is ``(datastore, path)``: the
    path may use ``{run_id}`` and ``{name}`` (default ``outputs/{run_id}/{name}`` in the workspace's
    datastore). ``format`` makes it a tabular dataset (``delimited``, ``parquet``, ``json_lines``).
    """

    def __init__(
        self,
        name: str,
        destination: tuple[Any, str | None] | None = None,
        *,
        register_as: str | None = None,
        format: str | None = None,
    ) -> None:
        self.name = name
        datastore, path = destination if destination is not None else (None, None)
        self.datastore = getattr(datastore, "name", datastore)
        self.path = path
        self.register_as = register_as
        self.format = format

    def register_on_complete(self, name: str) -> OutputDatasetConfig:
        """Register the output under ``name`` (instead of the output's own name)."""
        self.register_as = name
        return self

    def to_output(self) -> dict[str, Any]:
        """The run configuration's form of this output."""
        fields = {"name": self.name, "datastore": self.datastore, "path": self.path}
        fields.update(register_as=self.register_as, format=self.format)
        return {k: v for k, v in fields.items() if v is not None}

    def __str__(self) -> str:
        return f"${{{{outputs.{self.name}}}}}"

    def __repr__(self) -> str:
        return f"OutputDatasetConfig(name={self.name!r}, datastore={self.datastore!r}, path={self.path!r})"


class ScriptRunConfig:
    """A script in a source directory, its arguments, environment, compute target and limits.

    ``environment=None`` (or ``Environment.current()``) runs with the interpreter that launches the
    runner: no build, the fast path.
    """

    def __init__(
        self,
        source_directory: str | os.PathLike[str] = ".",
        script: str | None = None,
        arguments: Sequence[Any] | None = None,
        *,
        environment: Any = None,
        compute_target: str = "local",
        max_run_duration_seconds: int | None = None,
        env_vars: Mapping[str, str] | None = None,
        inputs: Sequence[Any] | None = None,
        outputs: Sequence[OutputDatasetConfig] | None = None,
    ) -> None:
        if not script:
            raise InvalidInput("ScriptRunConfig needs the script to run, relative to source_directory")
        self.source_directory = Path(source_directory)
        self.script = script
        self.arguments = [str(a) for a in (arguments or [])]
        # Datasets and outputs named in the arguments (or given explicitly) are the run's data.
        self.inputs: list[dict[str, Any]] = []
        self.outputs: list[dict[str, Any]] = []
        for item in [*(arguments or []), *(inputs or []), *(outputs or [])]:
            if isinstance(item, dict):
                self._add(self.inputs, item)
            elif hasattr(item, "to_input"):
                self._add(self.inputs, item.to_input())
            elif isinstance(item, OutputDatasetConfig):
                self._add(self.outputs, item.to_output())
        self.environment = environment
        self.compute_target = compute_target
        self.max_run_duration_seconds = max_run_duration_seconds
        self.env_vars = dict(env_vars or {})

    @staticmethod
    def _add(items: list[dict[str, Any]], item: dict[str, Any]) -> None:
        same = [i for i in items if i["name"] == item["name"]]
        if same and same[0] != item:
            raise InvalidInput(f"two different inputs or outputs are named {item['name']!r}")
        if not same:
            items.append(item)

    def __repr__(self) -> str:
        return (
            f"ScriptRunConfig(source_directory={str(self.source_directory)!r}, script={self.script!r}, "
            f"arguments={self.arguments!r}, compute_target={self.compute_target!r})"
        )

    def _environment_ref(self) -> EnvironmentRef | None:
        env = self.environment
        if env is None or getattr(env, "inherit_current", False):
            return None
        if isinstance(env, EnvironmentRef):
            return env
        name = getattr(env, "name", None)
        if not isinstance(name, str):
            raise InvalidInput("environment must be an ember.Environment (registered) or None")
        return EnvironmentRef(name=name, version=getattr(env, "version", None))

    def to_run_configuration(self) -> RunConfiguration:
        """The persisted form (validated)."""
        return build(
            RunConfiguration,
            script=self.script,
            arguments=self.arguments,
            environment=self._environment_ref(),
            compute_target=self.compute_target,
            max_run_duration_seconds=self.max_run_duration_seconds,
            env_vars=self.env_vars,
            inputs=self.inputs,
            outputs=self.outputs,
        )

    # -- persistence -------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the configuration as YAML (source_directory relative to the file when inside it)."""
        dest = Path(path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        config = self.to_run_configuration().model_dump(mode="json", exclude_none=True)
        source = self.source_directory.resolve()
        try:
            shown = os.path.relpath(source, dest.parent.resolve())
        except ValueError:
            shown = str(source)
        data = {"source_directory": shown, **config}
        dest.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return dest

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ScriptRunConfig:
        """Read a configuration written by ``save`` (or by hand: the same keys as a job file)."""
        file = Path(path)
        try:
            data = yaml.safe_load(file.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise InvalidInput(f"cannot read run configuration {file}: {exc}") from None
        return cls.from_dict(data, base=file.parent)

    @classmethod
    def from_dict(cls, data: Any, *, base: Path) -> ScriptRunConfig:
        """Build from a mapping of the YAML keys; relative source_directory is relative to ``base``."""
        if not isinstance(data, dict):
            raise InvalidInput("a run configuration must be a mapping")
        data = dict(data)
        source = Path(str(data.pop("source_directory", ".")))
        source = source if source.is_absolute() else base / source
        env = data.pop("environment", None)
        config = build(RunConfiguration, **data, environment=env)
        obj = cls(
            source,
            config.script,
            config.arguments,
            environment=config.environment,
            compute_target=config.compute_target,
            max_run_duration_seconds=config.max_run_duration_seconds,
            env_vars=config.env_vars,
            inputs=[i.model_dump() for i in config.inputs],
        )
        obj.outputs = [o.model_dump(exclude_none=True) for o in config.outputs]
        return obj

    # -- submission --------------------------------------------------------------------------------
    def submit_to(
        self, experiment: Experiment, *, tags: Mapping[str, str] | None = None, **kwargs: Any
    ) -> Run:
        """Snapshot the source directory, create the run (Queued) and hand it to its compute target."""
        from ember.tracking.run import Run

        env = self.environment
        unregistered = env is not None and getattr(env, "version", 0) is None and hasattr(env, "register")
        if unregistered and not getattr(env, "inherit_current", False):
            self.environment = env.register(experiment.workspace)  # as Azure ML does on submit
        config = self.to_run_configuration()
        for item in config.inputs:
            # The workspace refuses archived inputs; a deprecated one runs, and its warning is said here,
            # where the submitter sees it (a server's log is not).
            found = experiment.workspace.backend.data.get_dataset_by_id(item.dataset_id)
            lifecycle.warn(found, use=f"run input {item.name!r}", new_run_input=True)
        if not self.source_directory.is_dir():
            raise InvalidInput(f"source_directory {str(self.source_directory)!r} is not a folder")
        if not (self.source_directory / self.script).is_file():
            raise InvalidInput(f"script {self.script!r} not found in {str(self.source_directory)!r}")
        jobs = experiment.workspace.backend.jobs
        digest = upload_snapshot(jobs, self.source_directory)
        request = build(
            RunSubmit,
            experiment_id=experiment.id,
            config=config,
            snapshot_digest=digest,
            git=git_info(self.source_directory),
            display_name=kwargs.get("display_name"),
            description=kwargs.get("description"),
            tags=dict(tags or {}),
            user=_user(),
            python_executable=sys.executable,
        )
        details = jobs.submit_run(request)
        return Run(experiment, details.info.id, _details=details)


def _user() -> str | None:
    try:
        return getpass.getuser()
    except Exception:
        return None
