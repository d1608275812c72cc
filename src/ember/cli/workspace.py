"""``ember workspace create|show``: make a workspace, point this folder at it, and describe it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from ember.cli._common import (
    JsonOption,
    emit_json,
    err_console,
    format_time,
    open_workspace,
    out_console,
    redact_uri,
    state_of,
)
from ember.errors import InvalidInput

if TYPE_CHECKING:
    from ember.contracts.tracking import TrackingBackend
    from ember.entities import WorkspaceInfo

__all__ = ["app"]

app = typer.Typer(help="Create a workspace or show the one in use.", no_args_is_help=True)

DEFAULT_FOLDER = "ember-workspace"


def _config_target(folder: Path, cwd: Path) -> str:
    """How the config file names a folder: relative to the project when inside it, so both can move."""
    try:
        return folder.relative_to(cwd).as_posix() or "."
    except ValueError:
        return str(folder)


def _previous_config(cwd: Path) -> str | None:
    from ember.config import CONFIG_DIR, CONFIG_FILE

    path = cwd / CONFIG_DIR / CONFIG_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    target = data.get("workspace") if isinstance(data, dict) else None
    return target if isinstance(target, str) else None


def _storage_rows(
    info: WorkspaceInfo, *, folder: Path | None, metadata_uri: str | None
) -> list[tuple[str, str]]:
    if folder is not None:
        metadata = f"{folder / 'ember.db'} ({info.metadata_backend})"
    else:
        metadata = f"{redact_uri(metadata_uri or '')} ({info.metadata_backend})"
    return [("metadata", metadata), ("artifacts", info.artifact_uri or "")]


def _key_value_table(rows: list[tuple[str, str]]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold")
    table.add_column(overflow="fold")
    for key, value in rows:
        table.add_row(key, Text(value))
    return table


@app.command("create")
def create(
    ctx: typer.Context,
    path: Annotated[
        str | None,
        typer.Argument(
            help=f"Folder of a local workspace (SQLite + files). Default: ./{DEFAULT_FOLDER}",
            show_default=False,
        ),
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="Workspace name. Default: the folder's name.")
    ] = None,
    metadata_uri: Annotated[
        str | None,
        typer.Option(
            "--metadata-uri",
            help="Database of a shared workspace (postgresql+psycopg://user@host/db); needs --artifact-uri.",
        ),
    ] = None,
    artifact_uri: Annotated[
        str | None,
        typer.Option(
            "--artifact-uri", help="Where a database-backed workspace keeps files (file:///…, s3://…)."
        ),
    ] = None,
    no_config: Annotated[
        bool,
        typer.Option("--no-config", help="Do not write .ember/config.json in the current directory."),
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Create a workspace (or open it if it exists) and make it this directory's default.

    A local workspace is a folder holding ember.db and artifacts/. A shared one is a database plus an
    artifact store. Unless --no-config, .ember/config.json here points later commands at it.
    """
    from ember.wiring import create_workspace

    cwd = Path.cwd()
    folder: Path | None = None
    if metadata_uri is not None:
        if path is not None:
            raise InvalidInput("give either a folder PATH or --metadata-uri, not both")
        if not artifact_uri:
            raise InvalidInput("a database-backed workspace needs --artifact-uri (file:///…, s3://…)")
        target = metadata_uri
    else:
        if artifact_uri is not None:
            raise InvalidInput(
                "--artifact-uri goes with --metadata-uri: a folder workspace keeps files in PATH/artifacts"
            )
        raw = path or DEFAULT_FOLDER
        if "://" in raw and not raw.startswith("file://"):
            raise InvalidInput(
                f"{raw[:100]!r} is a URI, not a folder: for a database-backed workspace pass "
                "--metadata-uri URI --artifact-uri URI"
            )
        folder = Path(raw.removeprefix("file://")).expanduser().resolve()
        target = _config_target(folder, cwd)
    existed = folder is not None and (folder / "ember.db").is_file()

    backend = create_workspace(
        folder, name=name, metadata_uri=metadata_uri, artifact_uri=artifact_uri, exist_ok=True
    )
    try:
        info = backend.tracking.get_workspace_info()
    finally:
        backend.close()

    config_path: Path | None = None
    previous = None if no_config else _previous_config(cwd)
    if not no_config:
        from ember.config import write_config

        config_path = write_config(target, cwd)

    if json_output:
        emit_json(
            {
                "workspace": info,
                "created": not existed,
                "target": str(folder) if folder is not None else redact_uri(target),
                "config": str(config_path) if config_path else None,
            }
        )
        return

    out = out_console()
    verb = "Opened existing" if existed else "Created"
    out.print(f"[bold green]{verb} workspace[/] [bold]{_escape(info.name)}[/] ({info.id})")
    rows = _storage_rows(info, folder=folder, metadata_uri=metadata_uri)
    if config_path is not None:
        rows.append(("config", f"{config_path} (commands run below {cwd} use this workspace)"))
    out.print(_key_value_table(rows))
    if previous is not None and previous != target:
        before = _escape(redact_uri(previous))
        err_console().print(f"[yellow]Note:[/] {config_path} pointed to {before} before.", soft_wrap=True)
    if config_path is None:
        hint = f"ember --workspace {target if folder is None else folder} run list"
        out.print(f"Use it with: {_escape(redact_uri(hint))}")


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _count(tracking: TrackingBackend) -> dict[str, Any]:
    by_stage = {"active": 0, "archived": 0, "deleted": 0}
    runs = 0
    token: str | None = None
    while True:
        page = tracking.list_experiments(lifecycle="all", max_results=1000, page_token=token)
        for exp in page.experiments:
            by_stage[exp.lifecycle_stage] = by_stage.get(exp.lifecycle_stage, 0) + 1
            if exp.lifecycle_stage != "deleted":
                runs += exp.run_count
        token = page.next_page_token
        if not token:
            break
    return {
        "experiments": by_stage["active"],
        "archived_experiments": by_stage["archived"],
        "deleted_experiments": by_stage["deleted"],
        "runs": runs,
    }


@app.command("show")
def show(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show the workspace in use: its name, id, storage and how many experiments and runs it holds."""
    from ember.config import find_workspace_target

    target = find_workspace_target(state_of(ctx).workspace)
    with open_workspace(ctx, target) as backend:
        info = backend.tracking.get_workspace_info()
        counts = _count(backend.tracking)
    if json_output:
        emit_json({"workspace": info, "target": redact_uri(target), "counts": counts})
        return
    rows = [
        ("name", info.name),
        ("id", info.id),
        ("target", redact_uri(target) if "://" in target else os.path.abspath(target)),
        ("created", format_time(info.created_time)),
        ("metadata", f"{info.metadata_backend} (schema {info.schema_version})"),
        ("artifacts", info.artifact_uri or ""),
        (
            "experiments",
            f"{counts['experiments']} active, {counts['archived_experiments']} archived, "
            f"{counts['deleted_experiments']} deleted",
        ),
        ("runs", str(counts["runs"])),
    ]
    out_console().print(_key_value_table(rows))
