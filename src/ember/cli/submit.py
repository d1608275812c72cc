"""``ember run submit``: send a script, or a YAML job file, to a compute target as a new run, and follow it.

Also the log follower that ``ember run logs --follow`` shares with ``submit --stream``: it polls the run's
log through the Backend contract, so it works the same on a workspace folder and through ``ember server``.
"""

from __future__ import annotations

import contextlib
import difflib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from ember.cli._common import (
    JsonOption,
    emit_json,
    err_console,
    format_duration,
    open_workspace,
    out_console,
    status_text,
)
from ember.errors import EmberError, InvalidInput, NotFound

if TYPE_CHECKING:
    from ember.backend import Backend
    from ember.contracts.jobs import JobsBackend
    from ember.entities import RunInfo, RunStatus
    from ember.entities.jobs import EnvironmentRef
    from ember.jobs.config import ScriptRunConfig

__all__ = ["STD_LOG", "follow_log", "stop_following_on_interrupt", "submit"]

STD_LOG = "std_log.txt"
POLL_SECONDS = 0.5
SWEEP_SECONDS = 10.0
LOG_CHUNK = 1_000_000
SHORT_ID = 8
EXIT_INTERRUPTED = 130

#: Keys of a job file that go to the run configuration (``ScriptRunConfig.from_dict``).
CONFIG_KEYS = (
    "source_directory",
    "script",
    "arguments",
    "environment",
    "compute_target",
    "max_run_duration_seconds",
    "env_vars",
)
#: Keys of a job file about the run itself.
RUN_KEYS = ("experiment", "display_name", "description", "tags")
#: Datasets by name (resolved to versions when submitting) and output folders registered as datasets.
DATA_KEYS = ("inputs", "outputs")
JOB_KEYS = (*RUN_KEYS, *CONFIG_KEYS, *DATA_KEYS)


# -- following a run ---------------------------------------------------------------------------------


class _Poller:
    """Sleeps between polls; every ``SWEEP_SECONDS`` asks the workspace to sweep.

    An embedded workspace has no server to notice a dead runner or to start queued runs, so whoever
    waits on a run does it (as ``Run.wait_for_completion`` does).
    """

    def __init__(self, jobs: JobsBackend) -> None:
        self._jobs = jobs
        self._last_sweep = time.monotonic()

    def pause(self) -> None:
        time.sleep(POLL_SECONDS)
        if time.monotonic() - self._last_sweep > SWEEP_SECONDS:
            self._last_sweep = time.monotonic()
            with contextlib.suppress(EmberError):  # a server may refuse it; it sweeps on its own then
                self._jobs.sweep()


def follow_log(jobs: JobsBackend, run_id: str, name: str, *, follow: bool) -> tuple[RunStatus, int]:
    """Print a run's log on stdout as it grows, verbatim.

    Args:
        jobs: The workspace's jobs backend.
        run_id: The full run id.
        name: The log's name (``std_log.txt``, ``runner_log.txt``).
        follow: Keep polling until the run has ended and its log was read whole; else print what is
            there now.

    Returns:
        The run's status at the last read, and how many characters were printed.
    """
    poller = _Poller(jobs)
    offset = printed = 0
    while True:
        chunk = jobs.read_log(run_id, name, offset=offset, max_chars=LOG_CHUNK)
        if chunk.data:
            typer.echo(chunk.data, nl=False)
            printed += len(chunk.data)
        offset = chunk.next_offset
        if chunk.complete:
            return chunk.status, printed
        if len(chunk.data) >= LOG_CHUNK:  # more is waiting: read on at once
            continue
        if not follow:
            return chunk.status, printed
        poller.pause()


def _wait_until_ended(backend: Backend, run_id: str) -> None:
    from ember.entities import TERMINAL_STATUSES

    poller = _Poller(backend.jobs)
    while backend.tracking.get_run(run_id).info.status not in TERMINAL_STATUSES:
        poller.pause()


@contextlib.contextmanager
def stop_following_on_interrupt(run_id: str) -> Iterator[None]:
    """Turn Ctrl-C while following a run into a hint and exit code 130, without a traceback.

    Args:
        run_id: The run being followed; it goes on running.

    Yields:
        Nothing; the body is the following.

    Raises:
        typer.Exit: With code 130, after Ctrl-C.
    """
    try:
        yield
    except KeyboardInterrupt:
        short = run_id[:SHORT_ID]
        err_console().print(
            f"\nStopped following run {short}; it goes on. Resume with `ember run logs {short} --follow`, "
            f"or stop it with `ember run cancel {short}`.",
            style="yellow",
            soft_wrap=True,
        )
        raise typer.Exit(EXIT_INTERRUPTED) from None


# -- what to submit ----------------------------------------------------------------------------------


@dataclass
class _Job:
    """A submission: the run configuration plus what belongs to the run (experiment, name, tags)."""

    config: ScriptRunConfig
    experiment: str | None
    display_name: str | None = None
    description: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    inputs: dict[str, Any] = field(default_factory=dict)  # name -> "dataset[:version]" or a mapping
    outputs: dict[str, Any] = field(default_factory=dict)  # name -> mapping of OutputDatasetConfig fields


def _pairs(values: list[str] | None, *, option: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint=option)
        pairs[key.strip()] = value
    return pairs


def parse_environment(text: str) -> EnvironmentRef:
    """A registered environment named ``NAME``, ``NAME:VERSION`` or ``NAME:latest``.

    Args:
        text: What the user wrote.

    Returns:
        The reference (version None: the latest).

    Raises:
        InvalidInput: The text is not of that form, or the name is not a valid name.
    """
    from ember.entities.jobs import EnvironmentRef
    from ember.entities.validation import build

    name, sep, version = text.strip().partition(":")
    if not sep or version in ("", "latest"):
        return build(EnvironmentRef, name=name, version=None)
    if not version.isdigit():
        raise InvalidInput(
            f"environment {text[:100]!r} is not NAME or NAME:VERSION (a version is a number, e.g. sklearn:2)"
        )
    return build(EnvironmentRef, name=name, version=int(version))


def _locate_script(script: str, source_dir: Path | None) -> tuple[Path, str]:
    """The source directory and the script's path in it, from what the user typed.

    Without ``--source-dir`` the script's folder is the source directory. With it, SCRIPT is a path
    in that folder; a path from the current folder to a file inside it is accepted too.
    """
    given = Path(script).expanduser()
    if source_dir is None:
        if not given.is_file():
            raise NotFound(
                f"script {script!r} not found (a path from the current folder, or use --source-dir)"
            )
        resolved = given.resolve()
        return resolved.parent, resolved.name
    root = source_dir.expanduser().resolve()
    if not root.is_dir():
        raise NotFound(f"source directory {str(source_dir)!r} is not a folder")
    inside = root / given
    if not given.is_absolute() and inside.is_file():
        return root, Path(os.path.relpath(inside.resolve(), root)).as_posix()
    if given.is_file():
        relative = os.path.relpath(given.resolve(), root)
        if not relative.startswith(os.pardir):
            return root, Path(relative).as_posix()
        raise InvalidInput(f"script {script!r} is outside the source directory {str(root)!r}")
    raise NotFound(f"script {script!r} not found in the source directory {str(root)!r}")


def _text_items(value: Any, *, key: str, where: str) -> Any:
    """Numbers in a list or mapping of a job file as text (YAML reads ``0.5`` as a float)."""

    def text(item: Any, at: str) -> Any:
        if isinstance(item, bool) or item is None or isinstance(item, list | dict):
            raise InvalidInput(f"{where}: {at} must be text or a number; quote it ({item!r})")
        return str(item) if isinstance(item, int | float) else item

    if isinstance(value, list):
        return [text(item, f"{key}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, dict):
        return {str(k): text(v, f"{key}.{k}") for k, v in value.items()}
    return value


def _read_job_file(path: Path) -> dict[str, Any]:
    import yaml

    shown = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFound(f"job file {shown!r} not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read job file {shown!r}: {exc}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidInput(f"job file {shown!r} is not valid YAML{where}: {problem}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"job file {shown!r} must be a mapping of keys, e.g. `script: train.py`")
    for key in data:
        if key not in JOB_KEYS:
            close = difflib.get_close_matches(str(key), JOB_KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InvalidInput(
                f"job file {shown!r} has an unknown key {str(key)[:100]!r}{hint}; "
                f"the keys are: {', '.join(JOB_KEYS)}"
            )
    if not data.get("script"):
        raise InvalidInput(
            f"job file {shown!r} needs `script:`, the file to run (relative to source_directory)"
        )
    return data


def _job_from_file(
    path: Path, *, overrides: dict[str, Any], tags: dict[str, str], env_vars: dict[str, str]
) -> _Job:
    from ember.jobs.config import ScriptRunConfig

    data = _read_job_file(path)
    where = f"job file {str(path)!r}"
    for key in ("arguments", "env_vars", "tags"):
        if key in data and data[key] is not None:
            data[key] = _text_items(data[key], key=key, where=where)
    if isinstance(data.get("environment"), str):
        data["environment"] = parse_environment(data["environment"])
    for key in ("experiment", "display_name", "description"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise InvalidInput(f"{where}: {key} must be text")
    if data.get("tags") is not None and not isinstance(data["tags"], dict):
        raise InvalidInput(f"{where}: tags must be a mapping of names to values")
    if env_vars:
        if data.get("env_vars") is not None and not isinstance(data["env_vars"], dict):
            raise InvalidInput(f"{where}: env_vars must be a mapping of names to values")
        data["env_vars"] = {**(data.get("env_vars") or {}), **env_vars}
    data.update({k: v for k, v in overrides.items() if v is not None})
    run_data = {key: data.pop(key, None) for key in RUN_KEYS}
    data_keys = {key: data.pop(key, None) or {} for key in DATA_KEYS}
    for key, value in data_keys.items():
        if not isinstance(value, dict):
            raise InvalidInput(f"{where}: {key} must be a mapping of names to datasets, e.g. `train: iris:2`")
    try:
        config = ScriptRunConfig.from_dict(data, base=path.resolve().parent)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}") from None
    return _Job(
        config=config,
        experiment=run_data["experiment"],
        display_name=run_data["display_name"],
        description=run_data["description"],
        tags={**(run_data["tags"] or {}), **tags},
        inputs=data_keys["inputs"],
        outputs=data_keys["outputs"],
    )


def _add_job_data(backend: Backend, job: _Job) -> None:
    """Resolve the job file's inputs (dataset names) to versions and add them and its outputs to the run.

    An input is ``NAME``, ``NAME:VERSION`` or a mapping ``{dataset, version, mode, path_on_compute}``;
    the arguments refer to them as ``${{inputs.NAME}}`` and ``${{outputs.NAME}}``.
    """
    from ember.jobs.config import OutputDatasetConfig

    for name, spec in job.inputs.items():
        fields = {"dataset": spec} if isinstance(spec, str) else spec
        if not isinstance(fields, dict) or not isinstance(fields.get("dataset"), str):
            raise InvalidInput(f"input {name!r}: give the dataset as NAME, NAME:VERSION or {{dataset: NAME}}")
        dataset, _, version = str(fields["dataset"]).partition(":")
        number = fields.get("version", version or None)
        if number in (None, "latest"):
            number = None
        elif not str(number).isdigit():
            raise InvalidInput(f"input {name!r}: a dataset version is a number or latest, not {number!r}")
        info = backend.data.get_dataset(dataset, None if number is None else int(number))
        mode = fields.get("mode", "direct")
        if mode not in ("direct", "download"):
            raise InvalidInput(f"input {name!r}: mode is direct or download, not {mode!r}")
        unknown = set(fields) - {"dataset", "version", "mode", "path_on_compute"}
        if unknown:
            raise InvalidInput(f"input {name!r} has unknown keys {sorted(unknown)}")
        job.config.inputs.append(
            {
                "name": name,
                "dataset_id": info.id,
                "mode": mode,
                "path_on_compute": fields.get("path_on_compute"),
            }
        )
    for name, spec in job.outputs.items():
        fields = spec if isinstance(spec, dict) else {}
        unknown = set(fields) - {"datastore", "path", "register_as", "format"}
        if unknown:
            raise InvalidInput(f"output {name!r} has unknown keys {sorted(unknown)}")
        destination = (fields["datastore"], fields.get("path")) if fields.get("datastore") else None
        output = OutputDatasetConfig(
            name, destination, register_as=fields.get("register_as"), format=fields.get("format")
        )
        job.config.outputs.append(output.to_output())


def _check_ready(job: _Job) -> None:
    """Refuse early what submission would refuse, before the experiment gets created."""
    if not job.experiment:
        raise InvalidInput(
            "give the experiment to submit to: --experiment NAME (or `experiment:` in the job file)"
        )
    config = job.config
    config.to_run_configuration()
    if not config.source_directory.is_dir():
        raise NotFound(f"source directory {str(config.source_directory)!r} is not a folder")
    if not (config.source_directory / config.script).is_file():
        raise NotFound(f"script {config.script!r} not found in {str(config.source_directory)!r}")


def _keep_workspace_out_of_snapshot(backend: Backend, source: Path) -> None:
    """Refuse a source directory inside this workspace's folder (a workspace folder inside the source
    directory is fine: snapshots always leave folders holding an ``ember.db`` out)."""
    folder = getattr(backend, "folder", None)
    if not isinstance(folder, Path):
        return  # a database URI or a server: nothing of the workspace is in a project folder
    root, ws = source.resolve(), folder.resolve()
    if root == ws or root.is_relative_to(ws):
        raise InvalidInput(
            f"the source directory {str(root)!r} is inside this workspace's folder; keep code elsewhere"
        )


# -- reporting ---------------------------------------------------------------------------------------


def _report_submitted(console: Console, info: RunInfo) -> None:
    short = info.id[:SHORT_ID]
    console.print(
        Text.assemble(
            "Submitted run ",
            (info.id, "cyan"),
            f" to experiment {info.experiment_name or info.experiment_id}: ",
            status_text(info.status),
        ),
        soft_wrap=True,
    )
    console.print(
        f"[dim]Follow its output with `ember run logs {short} --follow`; "
        f"see it with `ember run show {short}`.[/]",
        soft_wrap=True,
    )


def _report_end(console: Console, info: RunInfo) -> None:
    from ember.entities import RunStatus

    short = info.id[:SHORT_ID]
    took = format_duration(info.duration)
    line = Text.assemble("Run ", (short, "cyan"), " ", status_text(info.status))
    if took:
        line.append(f" in {took}")
    if info.status != RunStatus.COMPLETED and info.error is not None:
        message = " ".join(info.error.message.split())[:500]
        code = "" if info.error.exit_code is None else f" (exit code {info.error.exit_code})"
        line.append(f": {message}{code}", style="red")
    else:
        line.append(".")
    console.print(line, soft_wrap=True)
    if info.status != RunStatus.COMPLETED:
        console.print(f"[dim]Details: `ember run show {short}`, `ember run logs {short} --runner`.[/]")


# -- the command -------------------------------------------------------------------------------------


def submit(
    ctx: typer.Context,
    script: Annotated[
        str | None,
        typer.Argument(
            metavar="SCRIPT",
            help="The Python script to run. Without --source-dir, its folder is the source directory.",
            show_default=False,
        ),
    ] = None,
    arguments: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="-- ARGS",
            help="Arguments for the script, after `--`: passed as they are, never through a shell.",
            show_default=False,
        ),
    ] = None,
    file: Annotated[
        Path | None,
        typer.Option(
            "--file",
            "-f",
            help="A YAML job file (script, source_directory, arguments, experiment, …) instead of SCRIPT.",
            show_default=False,
        ),
    ] = None,
    experiment: Annotated[
        str | None,
        typer.Option("--experiment", "-e", help="The experiment (name) the run belongs to; created if new."),
    ] = None,
    source_dir: Annotated[
        Path | None,
        typer.Option(
            "--source-dir",
            "-s",
            help="The folder to snapshot; SCRIPT is a path in it. Default: the script's folder.",
            show_default=False,
        ),
    ] = None,
    environment: Annotated[
        str | None,
        typer.Option(
            "--environment",
            metavar="NAME[:VERSION]",
            help="A registered environment. Default: the Python that submits.",
            show_default=False,
        ),
    ] = None,
    compute: Annotated[
        str | None,
        typer.Option(
            "--compute", "-c", help="The compute target (see `ember compute list`). Default: local."
        ),
    ] = None,
    max_duration: Annotated[
        int | None,
        typer.Option("--max-duration", metavar="SECONDS", help="Stop the run after this long."),
    ] = None,
    name: Annotated[str | None, typer.Option("--name", "-n", help="The run's display name.")] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", "-t", metavar="KEY=VALUE", help="A tag of the run; repeatable."),
    ] = None,
    env: Annotated[
        list[str] | None,
        typer.Option("--env", metavar="KEY=VALUE", help="An environment variable of the script; repeatable."),
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait until the run ends; exit 1 unless it completed.")
    ] = False,
    stream: Annotated[
        bool, typer.Option("--stream", help="Wait, printing the script's output as it runs (implies --wait).")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Submit a script as a new run: snapshot its folder, queue it on a compute target, and maybe follow it.

    Everything after `--` goes to the script, e.g. `ember run submit train.py -e iris -- --C 0.5`.
    """
    from ember.jobs.config import ScriptRunConfig

    if stream and json_output:
        raise typer.BadParameter(
            "--stream prints the script's output; with --json use --wait", param_hint="--json"
        )
    tags, env_vars = _pairs(tag, option="--tag"), _pairs(env, option="--env")
    env_ref = parse_environment(environment) if environment is not None else None
    if file is not None:
        if script is not None or arguments:
            raise InvalidInput("give either SCRIPT (with its arguments) or --file, not both")
        if source_dir is not None:
            raise InvalidInput("with --file the source directory is `source_directory:` in the job file")
        overrides = {
            "experiment": experiment,
            "display_name": name,
            "compute_target": compute,
            "max_run_duration_seconds": max_duration,
            "environment": env_ref,
        }
        job = _job_from_file(file, overrides=overrides, tags=tags, env_vars=env_vars)
    elif script is None:
        raise InvalidInput(
            "give the script to run (ember run submit train.py -e NAME) or a job file with --file"
        )
    else:
        source, relative = _locate_script(script, source_dir)
        config = ScriptRunConfig(
            source,
            relative,
            arguments or [],
            environment=env_ref,
            compute_target=compute or "local",
            max_run_duration_seconds=max_duration,
            env_vars=env_vars,
        )
        job = _Job(config=config, experiment=experiment, display_name=name, tags=tags)
    _check_ready(job)
    _submit(ctx, job, wait=wait or stream, stream=stream, json_output=json_output)


def _submit(ctx: typer.Context, job: _Job, *, wait: bool, stream: bool, json_output: bool) -> None:
    from ember.entities import RunStatus
    from ember.tracking.run import Experiment
    from ember.workspace import Workspace

    # While streaming, stdout is the script's output alone; what Ember says goes to stderr.
    chatter = err_console() if stream else out_console()
    with open_workspace(ctx) as backend:
        _add_job_data(backend, job)
        _keep_workspace_out_of_snapshot(backend, job.config.source_directory)
        exp = Experiment(Workspace(backend), str(job.experiment))
        run = exp.submit(
            job.config, tags=job.tags, display_name=job.display_name, description=job.description
        )
        details = backend.tracking.get_run(run.id)
        if not json_output:
            _report_submitted(chatter, details.info)
        if not wait:
            if json_output:
                emit_json(details)
            return
        with stop_following_on_interrupt(run.id):
            if stream:
                follow_log(backend.jobs, run.id, STD_LOG, follow=True)
            else:
                _wait_until_ended(backend, run.id)
        details = backend.tracking.get_run(run.id)
    if json_output:
        emit_json(details)
    else:
        _report_end(chatter, details.info)
    if details.info.status != RunStatus.COMPLETED:
        raise typer.Exit(1)
