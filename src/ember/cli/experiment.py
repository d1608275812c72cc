"""``ember experiment list|show|archive|restore|delete``: the named groups of runs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ember.cli._common import (
    JsonOption,
    emit_json,
    format_time,
    open_workspace,
    out_console,
    resolve_experiment,
    titled,
)

if TYPE_CHECKING:
    from ember.entities import ExperimentInfo, Lifecycle, LifecycleFilter

__all__ = ["app"]

app = typer.Typer(help="List, show, archive, restore or delete experiments.", no_args_is_help=True)

NameOrId = Annotated[str, typer.Argument(metavar="NAME_OR_ID", help="The experiment's name or id.")]

_STAGE_STYLES = {"active": "green", "archived": "yellow", "deleted": "red"}


def _lifecycle(all_: bool, archived: bool, deleted: bool) -> LifecycleFilter:
    chosen = [flag for flag, on in (("--all", all_), ("--archived", archived), ("--deleted", deleted)) if on]
    if len(chosen) > 1:
        raise typer.BadParameter(f"{' and '.join(chosen)} exclude each other; give one of them")
    if all_:
        return "all"
    if archived:
        return "archived"
    if deleted:
        return "deleted"
    return "active"


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Active, archived and deleted experiments.")] = False,
    archived: Annotated[bool, typer.Option("--archived", help="Archived experiments only.")] = False,
    deleted: Annotated[bool, typer.Option("--deleted", help="Deleted experiments only.")] = False,
    json_output: JsonOption = False,
) -> None:
    """List experiments, most recently active first (active ones unless told otherwise)."""
    lifecycle = _lifecycle(all_, archived, deleted)
    found: list[ExperimentInfo] = []
    with open_workspace(ctx) as backend:
        token: str | None = None
        while True:
            page = backend.tracking.list_experiments(lifecycle=lifecycle, max_results=1000, page_token=token)
            found.extend(page.experiments)
            token = page.next_page_token
            if not token:
                break
    if json_output:
        emit_json({"experiments": found, "next_page_token": None})
        return
    out = out_console()
    if not found:
        what = "" if lifecycle in ("active", "all") else f"{lifecycle} "
        out.print(f"No {what}experiments.")
        return
    table = Table(box=None, header_style="bold")
    name_width = min(max(len(exp.name) for exp in found), 30)
    table.add_column("NAME", no_wrap=True, overflow="ellipsis", min_width=name_width)
    table.add_column("ID", no_wrap=True, min_width=32)
    if lifecycle == "all":
        table.add_column("STAGE", no_wrap=True, min_width=8)
    table.add_column("RUNS", justify="right", no_wrap=True)
    table.add_column("LAST ACTIVITY", no_wrap=True, min_width=19)
    table.add_column("DESCRIPTION", overflow="ellipsis", no_wrap=True, max_width=40)
    for exp in found:
        row: list[Text | str] = [Text(exp.name, style="bold"), Text(exp.id)]
        if lifecycle == "all":
            row.append(Text(exp.lifecycle_stage, style=_STAGE_STYLES.get(exp.lifecycle_stage, "")))
        row += [
            str(exp.run_count),
            format_time(exp.last_activity_time),
            Text((exp.description or "").splitlines()[0] if exp.description else ""),
        ]
        table.add_row(*row)
    out.print(table)


@app.command("show")
def show(ctx: typer.Context, name_or_id: NameOrId, json_output: JsonOption = False) -> None:
    """Show one experiment: id, stage, times, run count, description and tags."""
    with open_workspace(ctx) as backend:
        exp = resolve_experiment(backend.tracking, name_or_id)
    if json_output:
        emit_json(exp)
        return
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    grid.add_row("name", Text(exp.name))
    grid.add_row("id", exp.id)
    grid.add_row("stage", Text(exp.lifecycle_stage, style=_STAGE_STYLES.get(exp.lifecycle_stage, "")))
    grid.add_row("runs", str(exp.run_count))
    grid.add_row("created", format_time(exp.created_time))
    grid.add_row("last activity", format_time(exp.last_activity_time))
    if exp.description:
        grid.add_row("description", Text(exp.description))
    out = out_console()
    out.print(grid)
    if exp.tags:
        tags = Table(box=None, header_style="dim")
        tags.add_column("KEY")
        tags.add_column("VALUE", overflow="fold")
        for key, value in sorted(exp.tags.items()):
            tags.add_row(Text(key), Text(value))
        out.print(titled("tags", tags))


def _set_stage(ctx: typer.Context, name_or_id: str, *, stage: Lifecycle, verb: str, hint: str = "") -> None:
    with open_workspace(ctx) as backend:
        exp = resolve_experiment(backend.tracking, name_or_id)
        updated = backend.tracking.set_experiment_lifecycle(exp.id, stage)
    out_console().print(f"{verb} experiment [bold]{escape(updated.name)}[/] ({updated.id}).{hint}")


@app.command("archive")
def archive(ctx: typer.Context, name_or_id: NameOrId) -> None:
    """Archive an experiment: hidden from lists, kept whole; `ember experiment restore` undoes it."""
    _set_stage(ctx, name_or_id, stage="archived", verb="Archived")


@app.command("restore")
def restore(ctx: typer.Context, name_or_id: NameOrId) -> None:
    """Bring an archived or deleted (not yet purged) experiment back to active."""
    _set_stage(ctx, name_or_id, stage="active", verb="Restored")


@app.command("delete")
def delete(ctx: typer.Context, name_or_id: NameOrId) -> None:
    """Delete an experiment (softly): `ember experiment restore` undoes it until `ember gc` purges it."""
    hint = " Restore it with `ember experiment restore`; `ember gc` purges it."
    _set_stage(ctx, name_or_id, stage="deleted", verb="Deleted", hint=hint)
