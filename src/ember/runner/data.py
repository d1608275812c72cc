"""The runner's data step: inputs made available before the script, outputs registered after it.

Arguments name inputs and outputs with placeholders (``${{inputs.train}}``, ``${{outputs.model_data}}``)
that become paths here. A ``download`` input is copied into the run's private folder; a ``direct`` input
is where the data lives (a local path, or an ``s3://``/``abfs://`` URL that the script reads through
``Run.get_context().input_datasets``). An output is a local folder the script fills; when the script
succeeds, the runner uploads it to its datastore and registers it as a new dataset version produced
by the run.
"""

from __future__ import annotations

import logging
import posixpath
import re
import warnings
from collections.abc import Callable
from pathlib import Path

from ember.data.dataset import Dataset
from ember.data.datastore import Datastore
from ember.data.lifecycle import DatasetDeprecatedWarning, check_consumable
from ember.entities.data import DatasetDefinition, DatasetRegister, RunDatasetOutput
from ember.entities.jobs import RunConfiguration
from ember.entities.validation import build
from ember.errors import InvalidInput
from ember.workspace import Workspace

__all__ = ["PLACEHOLDER", "finish_outputs", "prepare_data", "substitute"]

logger = logging.getLogger(__name__)

PLACEHOLDER = re.compile(r"\$\{\{(inputs|outputs)\.([A-Za-z0-9][A-Za-z0-9_\-.]*)\}\}")


def _fixed_part(path: str) -> str:
    fixed: list[str] = []
    for part in path.split("/"):
        if any(ch in part for ch in "*?["):
            break
        fixed.append(part)
    return "/".join(fixed)


def _direct_location(workspace: Workspace, definition: DatasetDefinition) -> str:
    """Where a dataset's (first) source lives, as a path or URL the script can open."""
    source = definition.sources[0]
    access = Datastore._shared(workspace, source.datastore)._get_access()
    location = posixpath.join(access.root, _fixed_part(source.path))
    return location if access.protocol == "file" else f"{access.protocol}://{location}"


def prepare_data(
    workspace: Workspace,
    run_id: str,
    config: RunConfiguration,
    *,
    workdir: Path,
    cwd: Path,
    say: Callable[[str], None],
) -> dict[str, str]:
    """Make inputs available and output folders ready; returns placeholder values by ``kind.name``."""
    values: dict[str, str] = {}
    for item in config.inputs:
        dataset = Dataset.get_by_id(workspace, item.dataset_id)
        label = f"input {item.name!r} (dataset {dataset.name} version {dataset.version})"
        assert dataset.info is not None
        # Archived since the run was queued: the run fails saying to reactivate it. Deprecated: it runs,
        # and the warning goes to the runner's log (the download below would warn again on stderr).
        warning = check_consumable(dataset.info, use=f"run input {item.name!r}")
        if warning is not None:
            say(f"warning: {label}: {warning}")
        if item.mode == "download":
            target = (cwd / item.path_on_compute) if item.path_on_compute else workdir / "inputs" / item.name
            say(f"downloading {label} to {target}")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DatasetDeprecatedWarning)
                dataset.download(target, overwrite=True, show_progress=False)
            values[f"inputs.{item.name}"] = str(target)
        else:
            values[f"inputs.{item.name}"] = _direct_location(workspace, dataset.definition)
            say(f"{label} is read in place")
    for output in config.outputs:
        folder = workdir / "outputs-data" / output.name
        folder.mkdir(parents=True, exist_ok=True)
        values[f"outputs.{output.name}"] = str(folder)
    return values


def substitute(arguments: list[str], values: dict[str, str]) -> list[str]:
    """The arguments with every placeholder replaced; an unknown one is an error naming it."""

    def replace(match: re.Match[str]) -> str:
        key = f"{match.group(1)}.{match.group(2)}"
        if key not in values:
            raise InvalidInput(
                f"argument placeholder {match.group(0)} names no {match.group(1)[:-1]} of this run"
            )
        return values[key]

    return [PLACEHOLDER.sub(replace, arg) for arg in arguments]


def _output_path(output: RunDatasetOutput, run_id: str) -> str:
    return output.path.replace("{run_id}", run_id).replace("{name}", output.name)


def finish_outputs(
    workspace: Workspace, run_id: str, config: RunConfiguration, *, workdir: Path, say: Callable[[str], None]
) -> None:
    """Upload every output folder to its datastore and register it as a dataset version of the run."""
    for output in config.outputs:
        folder = workdir / "outputs-data" / output.name
        files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
        if not files:
            say(f"output {output.name!r} is empty: nothing registered")
            continue
        datastore = Datastore(workspace, output.datastore)
        target = _output_path(output, run_id)
        report = datastore.upload(folder, target, overwrite=True, show_progress=False)
        source = datastore.path(f"{target}/**")
        if output.format is None:
            dataset = Dataset.File.from_files(source)
        elif output.format == "parquet":
            dataset = Dataset.Tabular.from_parquet_files(source)  # type: ignore[assignment]
        elif output.format == "json_lines":
            dataset = Dataset.Tabular.from_json_lines_files(source)  # type: ignore[assignment]
        else:
            dataset = Dataset.Tabular.from_delimited_files(source)  # type: ignore[assignment]
        request = build(
            DatasetRegister,
            name=output.register_as or output.name,
            definition=dataset.definition,
            create_new_version=True,
            source_run_id=run_id,
            output_name=output.name,
        )
        registered = workspace.backend.data.register_dataset(request)
        say(
            f"output {output.name!r}: {len(report.transferred)} files to {datastore.name}:{target}, "
            f"registered as dataset {registered.name} version {registered.version}"
        )
