"""``ember dataset list|show|register|profile|preview|runs|download``: versioned, lazy views of data, and
their lifecycle: ``deprecate|archive|reactivate|unregister``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ember.cli._common import (
    JsonOption,
    emit_json,
    err_console,
    format_bytes,
    format_duration,
    format_number,
    format_time,
    open_workspace,
    out_console,
    titled,
)
from ember.cli.datastore import describe_yaml_error, progress_wanted, read_yaml_mapping
from ember.errors import InvalidInput

if TYPE_CHECKING:
    from ember.backend import Backend
    from ember.entities.data import ColumnProfile, DatasetDefinition, DatasetRegister, DatasetVersionInfo

__all__ = ["app"]

app = typer.Typer(
    help="Register datasets over datastore files, show their versions, preview, profile and lineage.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The dataset's name.")]
Version = Annotated[
    int | None,
    typer.Option("--version", min=1, help="The version to use (default: the latest).", show_default=False),
]

#: Parse options of tabular files, at the top of a dataset YAML.
PARSE_KEYS = (
    "separator",
    "header",
    "encoding",
    "quote_char",
    "skip_rows",
    "null_values",
    "set_column_types",
    "include_path",
)
#: The keys of a dataset YAML.
DATASET_KEYS = (
    "name",
    "type",
    "format",
    "paths",
    *PARSE_KEYS,
    "timestamp_column",
    "transforms",
    "description",
    "tags",
    "create_new_version",
)
VersionArg = Annotated[
    str,
    typer.Argument(metavar="NAME:VERSION", help="One dataset version: its name and number, e.g. iris:2."),
]
_STATE_STYLES = {"active": "green", "deprecated": "yellow", "archived": "dim"}
_MAX_TOP_VALUES = 3
_MAX_CELL = 40


# -- registration ------------------------------------------------------------------------------------


def _register_request(path: Path) -> DatasetRegister:
    from pydantic import ValidationError

    from ember.entities.data import DatasetDefinition, DatasetRegister

    doc = read_yaml_mapping(path, what="dataset", allowed=DATASET_KEYS)
    if doc.get("type") == "file":
        given = [k for k in (*PARSE_KEYS, "format", "timestamp_column", "transforms") if k in doc]
        if given:
            verb = "applies" if len(given) == 1 else "apply"
            raise InvalidInput(
                f"{path.name}: {', '.join(given)} {verb} only to tabular datasets (type: tabular), "
                "not to type: file"
            )
    paths = doc.get("paths")
    if isinstance(paths, dict):  # one source written without the list
        paths = [paths]
    fields: dict[str, Any] = {"kind": doc.get("type"), "sources": paths}
    for key in ("format", "timestamp_column", "transforms"):
        if key in doc:
            fields[key] = doc[key]
    fields["parse"] = {k: doc[k] for k in PARSE_KEYS if k in doc}
    try:
        definition = DatasetDefinition.model_validate(fields)
    except ValidationError as exc:
        renames = {"kind": "type", "sources": "paths", "parse": None}
        raise InvalidInput(f"{path.name}: {describe_yaml_error(exc, renames=renames)}") from None
    register = {k: doc[k] for k in ("name", "description", "tags", "create_new_version") if k in doc}
    try:
        return DatasetRegister.model_validate({**register, "definition": definition})
    except ValidationError as exc:
        raise InvalidInput(f"{path.name}: {describe_yaml_error(exc)}") from None


def _sources(definition: DatasetDefinition) -> str:
    return ", ".join(f"{s.datastore}:{s.path}" for s in definition.sources)


@app.command("register")
def register(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            "-f",
            help="A dataset YAML: name, type (tabular | file), format, paths (datastore + path or glob), "
            "parse options, description, tags, create_new_version.",
            show_default=False,
        ),
    ],
    json_output: JsonOption = False,
) -> None:
    """Register the dataset described in a YAML file; the files it matches now are its fingerprint."""
    request = _register_request(file)
    with open_workspace(ctx) as backend:
        info = backend.data.register_dataset(request)
    if json_output:
        emit_json(info)
        return
    files = "file" if info.file_count == 1 else "files"
    out_console().print(
        Text.assemble(
            "Dataset ",
            (info.name, "bold"),
            f" version {info.version}: {info.file_count} {files} ({format_bytes(info.total_size)}) "
            f"from {_sources(info.definition)}.",
        )
    )


# -- what is registered ------------------------------------------------------------------------------


def _first_line(text: str | None) -> str:
    return text.splitlines()[0] if text else ""


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Option("--name", "-n", help="List every version of this dataset.", show_default=False),
    ] = None,
    include_archived: Annotated[
        bool, typer.Option("--include-archived", help="Show archived versions too.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """List the latest version of every dataset (or, with --name, all versions of one, newest first);
    archived versions are left out unless --include-archived."""
    with open_workspace(ctx) as backend:
        found = backend.data.list_datasets(name, include_archived=include_archived)
    if json_output:
        emit_json({"datasets": found})
        return
    out = out_console()
    if not found:
        out.print(f"No versions of dataset {escape(name)!r}." if name else "No datasets registered yet.")
        return
    table = Table(box=None, header_style="bold")
    table.add_column("NAME", no_wrap=True, overflow="ellipsis", max_width=40)
    table.add_column("VERSION", justify="right", no_wrap=True)
    table.add_column("STATE", no_wrap=True)
    table.add_column("TYPE", no_wrap=True)
    table.add_column("FORMAT", no_wrap=True)
    table.add_column("FILES", justify="right", no_wrap=True)
    table.add_column("SIZE", justify="right", no_wrap=True)
    table.add_column("CREATED", no_wrap=True, min_width=19)
    table.add_column("DESCRIPTION", overflow="ellipsis", no_wrap=True, max_width=40)
    for info in found:
        table.add_row(
            Text(info.name, style="bold"),
            str(info.version),
            _state_text(info),
            info.kind,
            info.definition.format or "",
            str(info.file_count),
            format_bytes(info.total_size),
            format_time(info.created_time),
            Text(_first_line(info.description)),
        )
    out.print(table)


def _state_text(info: DatasetVersionInfo) -> Text:
    return Text(info.state, style=_STATE_STYLES.get(info.state, ""))


def _replacement_text(info: DatasetVersionInfo) -> str:
    if info.deprecated_by_name is not None:
        return f"{info.deprecated_by_name}:{info.deprecated_by_version} ({info.deprecated_by})"
    return str(info.deprecated_by)


def _parse_text(definition: DatasetDefinition) -> str:
    """The parse options that differ from the defaults, e.g. ``separator ';', no header``."""
    from ember.entities.data import ParseOptions

    default = ParseOptions()
    parse = definition.parse
    shown: list[str] = []
    if parse.separator != default.separator:
        shown.append(f"separator {parse.separator!r}")
    if not parse.header:
        shown.append("no header")
    if parse.encoding != default.encoding:
        shown.append(f"encoding {parse.encoding}")
    if parse.quote_char != default.quote_char:
        shown.append(f"quote {parse.quote_char!r}" if parse.quote_char else "no quoting")
    if parse.skip_rows:
        shown.append(f"skip {parse.skip_rows} rows")
    if parse.null_values is not None:
        shown.append(f"nulls {parse.null_values}")
    if parse.set_column_types:
        shown.append("types " + ", ".join(f"{c}={t}" for c, t in parse.set_column_types.items()))
    if parse.include_path:
        shown.append("with a path column")
    return "; ".join(shown) or "defaults"


def _render(info: DatasetVersionInfo) -> None:
    definition = info.definition
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("name", Text(info.name))
    grid.add_row("version", str(info.version))
    grid.add_row("id", info.id)
    grid.add_row("state", _state_text(info))
    if info.state == "deprecated":
        grid.add_row("deprecated by", Text(_replacement_text(info)))
    if info.unregistered_time is not None:
        grid.add_row("unregistered", format_time(info.unregistered_time))
    grid.add_row("type", info.kind + (f" ({definition.format})" if definition.format else ""))
    grid.add_row("sources", Text("\n".join(f"{s.datastore}:{s.path}" for s in definition.sources)))
    grid.add_row("files", f"{info.file_count} ({format_bytes(info.total_size)})")
    if info.kind == "tabular":
        grid.add_row("parse", Text(_parse_text(definition)))
    if definition.timestamp_column:
        grid.add_row("timestamp column", Text(definition.timestamp_column))
    if definition.transforms:
        ops = ", ".join(t.op for t in definition.transforms)
        grid.add_row("transforms", Text(ops))
    grid.add_row("fingerprint", info.fingerprint)
    if info.source_run_id:
        grid.add_row("produced by run", info.source_run_id)
    if info.kind == "tabular":
        grid.add_row("profile", "computed" if info.has_profile else "not yet (ember dataset profile)")
    grid.add_row("created", format_time(info.created_time))
    if info.description:
        grid.add_row("description", Text(info.description))
    out = out_console()
    out.print(grid)
    if info.tags:
        tags = Table(box=None, header_style="dim")
        tags.add_column("KEY", no_wrap=True)
        tags.add_column("VALUE", overflow="fold")
        for key, value in sorted(info.tags.items()):
            tags.add_row(Text(key), Text(value))
        out.print(titled("tags", tags))


@app.command("show")
def show(ctx: typer.Context, name: NameArg, version: Version = None, json_output: JsonOption = False) -> None:
    """Show one dataset version: its sources, parse options, files and fingerprint (the latest unless
    --version)."""
    with open_workspace(ctx) as backend:
        info = backend.data.get_dataset(name, version)
    if json_output:
        emit_json(info)
        return
    _render(info)


# -- lifecycle ---------------------------------------------------------------------------------------


def _can_ask() -> bool:
    """Whether a person can answer a question: stdin is a terminal."""
    return sys.stdin.isatty()


def _version_ref(text: str, *, param: str = "NAME:VERSION") -> tuple[str, int]:
    """``NAME:VERSION`` as (name, version number)."""
    name, _, version = text.rpartition(":")
    if not name or not version.isdigit() or int(version) < 1:
        raise typer.BadParameter(
            f"{text!r} is not NAME:VERSION with a version number, e.g. iris:2 "
            "(`ember dataset list --name NAME --include-archived` lists the versions)",
            param_hint=param,
        )
    return name, int(version)


def _lookup(backend: Backend, text: str, *, param: str = "NAME:VERSION") -> DatasetVersionInfo:
    name, version = _version_ref(text, param=param)
    return backend.data.get_dataset(name, version)


def _said(verb: str, info: DatasetVersionInfo, json_output: bool) -> None:
    if json_output:
        emit_json(info)
        return
    line = Text.assemble(f"{verb} dataset ", (info.name, "bold"), f" version {info.version}")
    if info.state == "deprecated":
        line.append(f": deprecated by {_replacement_text(info)}")
    line.append(".")
    out_console().print(line)


@app.command("deprecate")
def deprecate(
    ctx: typer.Context,
    dataset: VersionArg,
    by: Annotated[
        str,
        typer.Option(
            "--by",
            metavar="NAME:VERSION",
            help="The version that replaces it, e.g. iris:3.",
            show_default=False,
        ),
    ],
    json_output: JsonOption = False,
) -> None:
    """Deprecate a dataset version in favour of another: it still reads, with a warning naming the
    replacement."""
    with open_workspace(ctx) as backend:
        info = _lookup(backend, dataset)
        replacement = _lookup(backend, by, param="--by")
        changed = backend.data.deprecate_dataset(info.id, deprecated_by=replacement.id)
    _said("Deprecated", changed, json_output)


@app.command("archive")
def archive(ctx: typer.Context, dataset: VersionArg, json_output: JsonOption = False) -> None:
    """Archive a dataset version: hidden from lists and "latest"; reading it or running on it is refused
    until it is reactivated."""
    with open_workspace(ctx) as backend:
        changed = backend.data.archive_dataset(_lookup(backend, dataset).id)
    _said("Archived", changed, json_output)


@app.command("reactivate")
def reactivate(ctx: typer.Context, dataset: VersionArg, json_output: JsonOption = False) -> None:
    """Make an archived or deprecated dataset version active again."""
    with open_workspace(ctx) as backend:
        changed = backend.data.reactivate_dataset(_lookup(backend, dataset).id)
    _said("Reactivated", changed, json_output)


@app.command("unregister")
def unregister(
    ctx: typer.Context,
    name: NameArg,
    all_versions: Annotated[
        bool, typer.Option("--all-versions", help="Unregister every version of the name (required).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Unregister every version of a dataset. Its files stay where they are, and runs that used its
    versions still show them; registering the name again continues its version numbers."""
    if not all_versions:
        raise InvalidInput(
            f"unregistering removes every version of {name!r}: pass --all-versions to confirm that is "
            "meant (to retire one version, archive it: `ember dataset archive NAME:VERSION`)"
        )
    with open_workspace(ctx) as backend:
        versions = backend.data.list_datasets(name, include_archived=True)
        if not versions:
            backend.data.get_dataset(name)  # says it is not found
        if not yes:
            if not _can_ask():
                raise InvalidInput(
                    f"unregistering dataset {name!r} cannot be undone: pass --yes to confirm when not at "
                    "a terminal"
                )
            count = f"{len(versions)} version" + ("" if len(versions) == 1 else "s")
            err_console().print(
                Text.assemble(
                    "This unregisters ",
                    (name, "bold"),
                    f" ({count}). Its files stay, runs keep their lineage; it cannot be undone.",
                )
            )
            typer.confirm("Continue?", abort=True, err=True)
        gone = backend.data.unregister_dataset(name)
    if json_output:
        emit_json({"name": name, "unregistered_versions": [v.version for v in gone]})
        return
    shown = ", ".join(str(v.version) for v in sorted(gone, key=lambda v: v.version))
    out_console().print(
        Text.assemble(
            "Unregistered dataset ", (name, "bold"), f" (version{'s' if len(gone) > 1 else ''} {shown})."
        )
    )


# -- reading -----------------------------------------------------------------------------------------


def _cell(value: Any, *, exact: bool = True) -> Text:
    """A value of a row (``exact``: floats as Python writes them) or a statistic (six significant
    digits), short enough for a table cell, ``null`` dimmed."""
    if value is None:
        return Text("null", style="dim")
    if isinstance(value, float):
        return Text(repr(value) if exact else format_number(value))
    text = str(value)
    if len(text) > _MAX_CELL:
        text = text[: _MAX_CELL - 1] + "…"
    return Text(text)


@app.command("preview")
def preview(
    ctx: typer.Context,
    name: NameArg,
    version: Version = None,
    rows: Annotated[int, typer.Option("--rows", "-n", min=1, help="How many rows to show.")] = 20,
    json_output: JsonOption = False,
) -> None:
    """Show the first rows of a tabular dataset version, parsed as its definition says."""
    with open_workspace(ctx) as backend:
        info = backend.data.get_dataset(name, version)
        shown = backend.data.preview_dataset(info.id, rows=rows)
    if json_output:
        emit_json(shown)
        return
    out = out_console()
    table = Table(header_style="bold", show_lines=False)
    for column, kind in shown.columns:
        table.add_column(
            Text.assemble((column, "bold"), "\n", (kind, "dim")), no_wrap=True, overflow="ellipsis"
        )
    for row in shown.rows:
        table.add_row(*(_cell(v) for v in row))
    out.print(titled(f"{info.name} version {info.version}: the first {len(shown.rows)} rows", table))


def _top_values(column: ColumnProfile) -> Text:
    if not column.top_values:
        return Text("")
    items = [f"{_cell(value).plain} ({count})" for value, count in column.top_values[:_MAX_TOP_VALUES]]
    if len(column.top_values) > _MAX_TOP_VALUES:
        items.append("…")
    return Text(", ".join(items))


def _stat(value: Any) -> Text:
    return Text("") if value is None else _cell(value, exact=False)


@app.command("profile")
def profile(
    ctx: typer.Context,
    name: NameArg,
    version: Version = None,
    refresh: Annotated[
        bool, typer.Option("--refresh", help="Compute the statistics again instead of using the cached ones.")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Show per-column statistics of a tabular dataset version (computed once, then cached)."""
    with open_workspace(ctx) as backend:
        info = backend.data.get_dataset(name, version)
        found = backend.data.get_dataset_profile(info.id, refresh=refresh)
    if json_output:
        emit_json(found)
        return
    table = Table(box=None, header_style="bold")
    table.add_column("COLUMN", no_wrap=True, overflow="ellipsis", max_width=30)
    table.add_column("TYPE", no_wrap=True)
    for label in ("COUNT", "MISSING", "UNIQUE"):
        table.add_column(label, justify="right", no_wrap=True)
    for label in ("MIN", "MAX", "MEAN", "STD"):
        table.add_column(label, justify="right", no_wrap=True, overflow="ellipsis", max_width=_MAX_CELL)
    table.add_column("TOP VALUES", overflow="ellipsis", no_wrap=True, max_width=60)
    for column in found.columns:
        table.add_row(
            Text(column.name, style="bold"),
            column.type,
            str(column.count),
            str(column.missing),
            "" if column.unique is None else str(column.unique),
            _stat(column.min),
            _stat(column.max),
            _stat(column.mean),
            _stat(column.std),
            _top_values(column),
        )
    rows = "row" if found.row_count == 1 else "rows"
    heading = (
        f"{info.name} version {info.version}: {found.row_count} {rows}, {len(found.columns)} columns "
        f"(profiled {format_time(found.computed_time)} in {format_duration(found.duration_seconds)})"
    )
    out_console().print(titled(heading, table))


@app.command("runs")
def runs(ctx: typer.Context, name: NameArg, version: Version = None, json_output: JsonOption = False) -> None:
    """List the runs that consumed or produced a dataset version (its lineage), newest first."""
    with open_workspace(ctx) as backend:
        info = backend.data.get_dataset(name, version)
        links = backend.data.get_dataset_runs(info.id)
    if json_output:
        emit_json({"runs": links})
        return
    out = out_console()
    if not links:
        out.print(f"No run has used {escape(info.name)} version {info.version} yet.")
        return
    table = Table(box=None, header_style="bold")
    table.add_column("RUN", no_wrap=True, min_width=32)
    table.add_column("DIRECTION", no_wrap=True)
    table.add_column("AS", no_wrap=True, overflow="ellipsis", max_width=30)
    table.add_column("MODE", no_wrap=True)
    table.add_column("TIME", no_wrap=True, min_width=19)
    for link in links:
        table.add_row(
            link.run_id,
            Text(link.direction, style="green" if link.direction == "output" else ""),
            Text(link.name),
            link.mode,
            format_time(link.created_time),
        )
    out.print(table)


@app.command("download")
def download(
    ctx: typer.Context,
    name: NameArg,
    target: Annotated[Path, typer.Argument(metavar="TARGET", help="Local folder to write into.")],
    version: Version = None,
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace files that are already there (default: keep them).")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Download a dataset version's files into a folder, keeping their paths below each source's folder."""
    from ember.data.dataset import Dataset
    from ember.workspace import Workspace

    with open_workspace(ctx) as backend:
        dataset = Dataset.get_by_name(Workspace(backend), name, "latest" if version is None else version)
        paths = dataset.download(target, overwrite=overwrite, show_progress=progress_wanted(json_output))
    root = target.resolve()
    if json_output:
        emit_json({"name": dataset.name, "version": dataset.version, "target": str(root), "files": paths})
        return
    files = "file" if len(paths) == 1 else "files"
    out_console().print(
        Text.assemble(
            "Dataset ", (name, "bold"), f" version {dataset.version}: {len(paths)} {files} in {root}."
        )
    )
