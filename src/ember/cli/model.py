"""``ember model register|list|show|download|package|delete|alias|tag``: registered, versioned models.

A model version is named ``NAME:VERSION`` (``iris-clf:3``) or ``NAME:ALIAS`` (``iris-clf:production``);
``NAME`` alone is the latest version where a command reads a model. Commands that change or delete one
version want it spelt out, since "the latest" moves as versions are registered.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from ember.cli._common import (
    JsonOption,
    emit_json,
    err_console,
    format_bytes,
    format_time,
    open_workspace,
    out_console,
    titled,
)
from ember.cli.run import SHORT_ID, resolve_run_id
from ember.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from rich.console import Group

    from ember.backend import Backend
    from ember.entities.registry import ModelFile, ModelInfo

__all__ = ["app"]

app = typer.Typer(
    help="Register models (local files or a run's outputs), find, tag, alias, download, package and delete "
    "them.",
    no_args_is_help=True,
)
alias_app = typer.Typer(
    help="Set or remove aliases (production, staging…): names that point at one version of a model.",
    no_args_is_help=True,
)
app.add_typer(alias_app, name="alias")

ModelArg = Annotated[
    str,
    typer.Argument(
        metavar="NAME[:VERSION|:ALIAS]",
        help="The model's name, optionally with a version number or an alias (default: the latest).",
    ),
]
VersionArg = Annotated[
    str,
    typer.Argument(
        metavar="NAME:VERSION",
        help="One model version: its name and version number or alias, e.g. iris-clf:3.",
    ),
]
NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The model's name.")]
AliasArg = Annotated[str, typer.Argument(metavar="ALIAS", help="The alias, e.g. production.")]

_MAX_CELL = 40


# -- parsing -----------------------------------------------------------------------------------------


def _model_ref(text: str, *, param: str, need_version: bool = False) -> tuple[str, int | str | None]:
    """``NAME``, ``NAME:VERSION`` or ``NAME:ALIAS`` as (name, the version number or alias or None)."""
    name, sep, version = text.partition(":")
    if not name or (sep and not version):
        raise typer.BadParameter(f"{text!r} is not NAME[:VERSION|:ALIAS], e.g. iris-clf:3", param_hint=param)
    if not sep:
        if need_version:
            raise typer.BadParameter(
                f"{text!r} names no version: give NAME:VERSION (e.g. {name}:1) or NAME:ALIAS",
                param_hint=param,
            )
        return name, None
    return name, int(version) if version.isdigit() else version


def _pairs(values: list[str] | None, *, option: str, key_only: bool = False) -> list[tuple[str, str | None]]:
    """``KEY=VALUE`` items (``KEY`` alone too where ``key_only``: any value) as (key, value) pairs."""
    pairs: list[tuple[str, str | None]] = []
    for item in values or []:
        key, sep, value = item.partition("=")
        if not key.strip() or (not sep and not key_only):
            form = "KEY or KEY=VALUE" if key_only else "KEY=VALUE"
            raise typer.BadParameter(f"{item!r} is not {form}", param_hint=option)
        pairs.append((key.strip(), value if sep else None))
    return pairs


def _mapping(values: list[str] | None, *, option: str) -> dict[str, str]:
    return {key: value or "" for key, value in _pairs(values, option=option)}


def _dataset_refs(backend: Backend, values: list[str] | None) -> list[tuple[str, Any]]:
    """``ROLE=DATASET[:VERSION]`` items as (role, registered dataset version) pairs."""
    refs: list[tuple[str, Any]] = []
    for role, value in _pairs(values, option="--dataset"):
        name, sep, version = (value or "").partition(":")
        if not name or (sep and not version.isdigit()):
            raise typer.BadParameter(
                f"'{role}={value}' is not ROLE=DATASET[:VERSION], e.g. training=iris:2",
                param_hint="--dataset",
            )
        refs.append((role, backend.data.get_dataset(name, int(version) if sep else None)))
    return refs


def _can_ask() -> bool:
    """Whether a person can answer a question: stdin is a terminal."""
    return sys.stdin.isatty()


# -- rendering ---------------------------------------------------------------------------------------


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _label(info: ModelInfo) -> Text:
    return Text.assemble("model ", (info.name, "bold"), f" version {info.version}")


def _short(text: str) -> str:
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


def _tags_text(tags: dict[str, str]) -> Text:
    return Text(", ".join(f"{k}={_short(v)}" for k, v in sorted(tags.items())))


def _pairs_table(title: str, values: dict[str, str]) -> Group:
    table = Table(box=None, header_style="dim")
    table.add_column("KEY", no_wrap=True)
    table.add_column("VALUE", overflow="fold")
    for key, value in sorted(values.items()):
        table.add_row(Text(key), Text(value))
    return titled(title, table)


def _schema_text(schema: Any) -> str:
    """An MLflow signature schema: ``sepal (double), petal (double)``, else compact JSON."""
    if isinstance(schema, list) and all(isinstance(c, dict) for c in schema):
        columns = []
        for column in schema:
            kind = column.get("type", "?")
            if kind == "tensor" and isinstance(column.get("tensor-spec"), dict):
                spec = column["tensor-spec"]
                kind = f"tensor {spec.get('dtype', '?')} {spec.get('shape', '')}".rstrip()
            columns.append(f"{column['name']} ({kind})" if "name" in column else str(kind))
        return ", ".join(columns)
    return json.dumps(schema, separators=(",", ":"), default=str)


def _render(info: ModelInfo, files: list[ModelFile], *, experiment_name: str | None) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("name", Text(info.name))
    grid.add_row("version", str(info.version))
    grid.add_row("id", info.id)
    if info.aliases:
        grid.add_row("aliases", Text(", ".join(info.aliases)))
    grid.add_row("format", "MLflow model" if info.format == "mlflow" else "files")
    if info.framework:
        version = f" {info.framework_version}" if info.framework_version else ""
        grid.add_row("framework", Text(info.framework + version))
    grid.add_row("files", f"{info.file_count} ({format_bytes(info.total_size)})")
    grid.add_row("created", format_time(info.created_time))
    if info.description:
        grid.add_row("description", Text(info.description))
    if info.run_id:
        grid.add_row("run", info.run_id)
    if info.experiment_id:
        shown = f"{experiment_name} ({info.experiment_id})" if experiment_name else info.experiment_id
        grid.add_row("experiment", Text(shown))
    for ref in info.datasets:
        dataset = ref.dataset_name or ref.dataset_id
        version_text = f" version {ref.dataset_version}" if ref.dataset_version is not None else ""
        grid.add_row(f"dataset ({ref.role})", Text(dataset + version_text))
    if info.flavors:
        grid.add_row("flavors", Text(", ".join(sorted(info.flavors))))
    if info.signature:
        for key in ("inputs", "outputs", "params"):
            if key in info.signature:
                grid.add_row(f"signature {key}", Text(_schema_text(info.signature[key])))
    out = out_console()
    out.print(grid)
    if info.tags:
        out.print(_pairs_table("tags", info.tags))
    if info.properties:
        out.print(_pairs_table("properties", info.properties))
    table = Table(box=None, header_style="dim")
    table.add_column("PATH", overflow="fold")
    table.add_column("SIZE", justify="right", no_wrap=True)
    table.add_column("DIGEST", no_wrap=True)
    for entry in files:
        table.add_row(Text(entry.path), format_bytes(entry.size), entry.digest[:12])
    out.print(titled("files", table))


# -- registering -------------------------------------------------------------------------------------


@app.command("register")
def register(
    ctx: typer.Context,
    path: Annotated[
        str,
        typer.Argument(
            metavar="PATH",
            help="A local file or folder; with --run, a file or folder of the run's stored files "
            "(e.g. outputs/model.pkl).",
        ),
    ],
    name: Annotated[str, typer.Option("--name", "-n", help="The model's name.", show_default=False)],
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", metavar="KEY=VALUE", help="A tag; repeatable.")
    ] = None,
    property_: Annotated[
        list[str] | None,
        typer.Option("--property", "-p", metavar="KEY=VALUE", help="A property (write-once); repeatable."),
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="What the model is.", show_default=False)
    ] = None,
    framework: Annotated[
        str | None, typer.Option("--framework", help="e.g. scikit-learn, pytorch.", show_default=False)
    ] = None,
    framework_version: Annotated[
        str | None, typer.Option("--framework-version", help="e.g. 1.5.2.", show_default=False)
    ] = None,
    dataset: Annotated[
        list[str] | None,
        typer.Option(
            "--dataset",
            metavar="ROLE=DATASET",
            help="A registered dataset the model was made with, e.g. training=iris:2 (without :VERSION, "
            "its latest); repeatable.",
        ),
    ] = None,
    run: Annotated[
        str | None,
        typer.Option(
            "--run",
            metavar="RUN_ID",
            help="Register files the run stored (its id or a unique prefix of 4+ characters).",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Register a local file or folder, or a run's stored outputs (--run), as a model's next version."""
    from ember.registry.model import Model
    from ember.workspace import Workspace

    fields: dict[str, Any] = {
        "tags": _mapping(tag, option="--tag"),
        "properties": _mapping(property_, option="--property"),
        "description": description,
        "framework": framework,
        "framework_version": framework_version,
    }
    with open_workspace(ctx) as backend:
        workspace = Workspace(backend)
        fields["datasets"] = _dataset_refs(backend, dataset)
        if run is not None:
            run_id = resolve_run_id(backend.tracking, run)
            model = Model.register_from_run(workspace, run_id, name, path, **fields)
        else:
            model = Model.register(workspace, path, name, **fields)
    info = model.info
    if json_output:
        emit_json(info)
        return
    line = Text.assemble(
        "Registered ",
        _label(info),
        f": {_plural(info.file_count, 'file')} ({format_bytes(info.total_size)})",
    )
    if info.run_id:
        line.append(f" from run {info.run_id[:SHORT_ID]}")
    if info.format == "mlflow":
        line.append(", an MLflow model")
    line.append(".")
    out_console().print(line)


# -- finding -----------------------------------------------------------------------------------------


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Option("--name", "-n", help="Only versions of this model.", show_default=False)
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option(
            "--tag", "-t", metavar="KEY[=VALUE]", help="Has this tag (with this value); repeatable."
        ),
    ] = None,
    property_: Annotated[
        list[str] | None,
        typer.Option(
            "--property", "-p", metavar="KEY[=VALUE]", help="Has this property (with this value); repeatable."
        ),
    ] = None,
    latest: Annotated[bool, typer.Option("--latest", help="Only the latest version of each model.")] = False,
    run: Annotated[
        str | None,
        typer.Option(
            "--run",
            metavar="RUN_ID",
            help="Only models made from this run (its id or a unique prefix).",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List model versions matching every filter, by name then newest version first."""
    from ember.registry.model import Model
    from ember.workspace import Workspace

    tags = [[k] if v is None else [k, v] for k, v in _pairs(tag, option="--tag", key_only=True)]
    properties = [
        [k] if v is None else [k, v] for k, v in _pairs(property_, option="--property", key_only=True)
    ]
    with open_workspace(ctx) as backend:
        run_id = resolve_run_id(backend.tracking, run) if run is not None else None
        found = [
            m.info
            for m in Model.list(
                Workspace(backend), name, tags=tags, properties=properties, latest=latest, run_id=run_id
            )
        ]
    if json_output:
        emit_json({"models": found})
        return
    out = out_console()
    if not found:
        unfiltered = name is None and not (tag or property_ or run)
        out.print("No models registered yet." if unfiltered else "No model version matches.")
        return
    table = Table(box=None, header_style="bold")
    table.add_column("NAME", no_wrap=True, overflow="ellipsis", max_width=40)
    table.add_column("VERSION", justify="right", no_wrap=True)
    table.add_column("ALIASES", no_wrap=True, overflow="ellipsis", max_width=30)
    table.add_column("FRAMEWORK", no_wrap=True, overflow="ellipsis", max_width=20)
    table.add_column("FILES", justify="right", no_wrap=True)
    table.add_column("SIZE", justify="right", no_wrap=True)
    table.add_column("RUN", no_wrap=True)
    table.add_column("CREATED", no_wrap=True, min_width=19)
    table.add_column("TAGS", no_wrap=True, overflow="ellipsis", max_width=50)
    for info in found:
        table.add_row(
            Text(info.name, style="bold"),
            str(info.version),
            Text(", ".join(info.aliases), style="green"),
            Text(info.framework or ""),
            str(info.file_count),
            format_bytes(info.total_size),
            (info.run_id or "")[:SHORT_ID],
            format_time(info.created_time),
            _tags_text(info.tags),
        )
    out.print(table)


@app.command("show")
def show(ctx: typer.Context, model: ModelArg, json_output: JsonOption = False) -> None:
    """Show one model version: tags, properties, files and lineage (run, experiment, datasets, MLflow)."""
    name, version = _model_ref(model, param="NAME")
    experiment_name: str | None = None
    with open_workspace(ctx) as backend:
        info = backend.registry.get_model(name, version)
        files = backend.registry.get_model_files(info.id)
        if info.experiment_id:
            with contextlib.suppress(NotFound):  # purged since: the id is all there is
                experiment_name = backend.tracking.get_experiment(info.experiment_id).name
    if json_output:
        emit_json({"model": info, "files": files, "experiment_name": experiment_name})
        return
    _render(info, files, experiment_name=experiment_name)


@app.command("download")
def download(
    ctx: typer.Context,
    model: ModelArg,
    target: Annotated[
        Path, typer.Argument(metavar="DIR", help="Local folder to write into (default: the current one).")
    ] = Path("."),
    exist_ok: Annotated[
        bool, typer.Option("--exist-ok", help="Replace files that are already there (default: refuse).")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Download a model version's files into a folder, each checked against its digest."""
    from ember.registry.model import Model
    from ember.workspace import Workspace

    name, version = _model_ref(model, param="NAME")
    with open_workspace(ctx) as backend:
        found = Model(Workspace(backend), name, version=version)
        files = found.get_files()
        clashes = [f.path for f in files if target.joinpath(*f.path.split("/")).exists()]
        if clashes and not exist_ok:
            more = f" and {_plural(len(clashes) - 1, 'other')}" if len(clashes) > 1 else ""
            raise InvalidInput(f"{clashes[0]!r}{more} already in {str(target)!r}: --exist-ok replaces them")
        written = Path(found.download(target, exist_ok=exist_ok)).resolve()
    info = found.info
    if json_output:
        emit_json(
            {
                "name": info.name,
                "version": info.version,
                "id": info.id,
                "path": str(written),
                "files": [f.path for f in files],
            }
        )
        return
    out_console().print(
        Text.assemble(
            "Downloaded ",
            _label(info),
            f" ({_plural(len(files), 'file')}, {format_bytes(info.total_size)}) to {written}.",
        )
    )


@app.command("package")
def package(
    ctx: typer.Context,
    model: ModelArg,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            help="An empty or new folder to write the build context into.",
            show_default=False,
        ),
    ],
    inference_config: Annotated[
        Path | None,
        typer.Option(
            "--inference-config",
            "-i",
            metavar="FILE",
            help="inference.yml: entry_script, source_directory (relative to the file) and environment "
            "(NAME[:VERSION]); optional for an MLflow model, served with pyfunc.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Write a Docker build context that serves a model version outside Ember (docker build, docker run)."""
    from ember.registry.model import Model
    from ember.serving.config import InferenceConfig
    from ember.serving.package import PORT, write_package
    from ember.workspace import Workspace

    name, version = _model_ref(model, param="NAME")
    inference = InferenceConfig.from_yaml(inference_config) if inference_config is not None else None
    with open_workspace(ctx) as backend:
        workspace = Workspace(backend)
        found = Model(workspace, name, version=version)
        if (inference is None or inference.entry_script is None) and found.info.format != "mlflow":
            raise InvalidInput(
                f"model {found.name!r} version {found.version} is not an MLflow model, so it needs an entry "
                "script: pass --inference-config inference.yml (entry_script: score.py, with init() and "
                "run(raw_data))"
            )
        written = write_package(workspace=workspace, models=[found], inference=inference, target_dir=output)
    info = found.info
    files = sorted(p.relative_to(written).as_posix() for p in written.rglob("*") if p.is_file())
    if json_output:
        emit_json(
            {
                "name": info.name,
                "version": info.version,
                "id": info.id,
                "path": str(written.resolve()),
                "files": files,
            }
        )
        return
    out = out_console()
    out.print(
        Text.assemble(
            "Packaged ", _label(info), f" ({_plural(len(files), 'file')}) into {written.resolve()}."
        )
    )
    out.print(Text(f"Build and run it: docker build -t {info.name.lower()} {written}"), soft_wrap=True)
    out.print(Text(f"                  docker run -p {PORT}:{PORT} {info.name.lower()}"), soft_wrap=True)


# -- changing ----------------------------------------------------------------------------------------


@app.command("tag")
def tag(
    ctx: typer.Context,
    model: VersionArg,
    pairs: Annotated[
        list[str] | None,
        typer.Argument(metavar="KEY=VALUE", help="Tags to add or change.", show_default=False),
    ] = None,
    remove: Annotated[
        list[str] | None,
        typer.Option(
            "--remove", "-r", metavar="KEY", help="A tag to remove; repeatable.", show_default=False
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Add, change or remove tags of one model version."""
    from ember.entities.registry import ModelUpdate
    from ember.entities.validation import build

    name, version = _model_ref(model, param="NAME:VERSION", need_version=True)
    added = _mapping(pairs, option="KEY=VALUE")
    removed = list(dict.fromkeys(remove or []))
    if not added and not removed:
        raise typer.BadParameter(
            "give tags to set (KEY=VALUE) or to remove (--remove KEY)", param_hint="KEY=VALUE"
        )
    both = sorted(set(added) & set(removed))
    if both:
        raise InvalidInput(f"tag {both[0]!r} is both set and removed: give it once")
    with open_workspace(ctx) as backend:
        found = backend.registry.get_model(name, version)
        info = backend.registry.update_model(
            found.id, build(ModelUpdate, add_tags=added, remove_tags=removed)
        )
    if json_output:
        emit_json(info)
        return
    line = Text.assemble("Tagged ", _label(info), ":")
    if added:
        line.append(f" set {', '.join(sorted(added))}")
    if removed:
        line.append(f"{';' if added else ''} removed {', '.join(removed)}")
    line.append(".")
    out_console().print(line)


@app.command("delete")
def delete(
    ctx: typer.Context,
    model: VersionArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Delete one model version; its aliases go with it (refused while a deployment serves it)."""
    name, version = _model_ref(model, param="NAME:VERSION", need_version=True)
    with open_workspace(ctx) as backend:
        info = backend.registry.get_model(name, version)
        if not yes:
            if not _can_ask():
                raise InvalidInput(
                    f"deleting model {info.name!r} version {info.version} cannot be undone: "
                    "pass --yes to confirm when not at a terminal"
                )
            aliases = f" and its aliases ({', '.join(info.aliases)})" if info.aliases else ""
            err_console().print(
                Text.assemble("This deletes ", _label(info), f"{aliases}. It cannot be undone.")
            )
            typer.confirm("Continue?", abort=True, err=True)
        backend.registry.delete_model(info.id)
    if json_output:
        emit_json({"name": info.name, "version": info.version, "id": info.id, "deleted": True})
        return
    line = Text.assemble("Deleted ", _label(info))
    if info.aliases:
        line.append(f" (and its aliases {', '.join(info.aliases)})")
    line.append(".")
    out_console().print(line)


@alias_app.command("set")
def alias_set(
    ctx: typer.Context,
    name: NameArg,
    alias: AliasArg,
    version: Annotated[
        int, typer.Argument(metavar="VERSION", min=1, help="The version the alias points at.")
    ],
    json_output: JsonOption = False,
) -> None:
    """Point an alias at a version of a model, moving it from the version it named before."""
    with open_workspace(ctx) as backend:
        before: int | None = None
        with contextlib.suppress(NotFound, InvalidInput):  # a new alias; a bad one is refused just below
            before = backend.registry.get_model(name, alias).version
        info = backend.registry.set_alias(name, alias, version)
    if json_output:
        emit_json(info)
        return
    moved = f" (moved from version {before})" if before is not None and before != info.version else ""
    out_console().print(Text.assemble("Alias ", (alias, "bold"), " now names ", _label(info), moved, "."))


@alias_app.command("remove")
def alias_remove(ctx: typer.Context, name: NameArg, alias: AliasArg, json_output: JsonOption = False) -> None:
    """Remove an alias of a model (the version it named stays)."""
    with open_workspace(ctx) as backend:
        info = backend.registry.get_model(name, alias)
        backend.registry.delete_alias(name, alias)
    if json_output:
        emit_json({"name": info.name, "alias": alias, "version": info.version, "removed": True})
        return
    out_console().print(
        Text.assemble(
            "Removed alias ",
            (alias, "bold"),
            " of model ",
            (info.name, "bold"),
            f" (it named version {info.version}).",
        )
    )
