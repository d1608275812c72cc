"""``ember compute list|show|set``: where runs execute, how many at once, and how busy each place is."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from ember.cli._common import JsonOption, emit_json, format_time, open_workspace, out_console
from ember.errors import InvalidInput

if TYPE_CHECKING:
    from ember.entities.jobs import ComputeTargetInfo

__all__ = ["app"]

app = typer.Typer(
    help="List compute targets, show their load, change how many runs they take at once.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The compute target's name (e.g. local).")]


def _load(target: ComputeTargetInfo) -> Text:
    busy = target.active_runs >= target.max_concurrent_runs
    return Text(str(target.active_runs), style="bold" if busy else "")


@app.command("list")
def list_(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List compute targets with their capacity and load (runs active and queued)."""
    with open_workspace(ctx) as backend:
        targets = backend.jobs.list_compute_targets()
    if json_output:
        emit_json({"compute_targets": targets})
        return
    table = Table(box=None, header_style="bold", pad_edge=False)
    table.add_column("NAME", no_wrap=True, style="bold")
    table.add_column("KIND", no_wrap=True)
    table.add_column("MAX CONCURRENT", justify="right", no_wrap=True)
    table.add_column("ACTIVE", justify="right", no_wrap=True)
    table.add_column("QUEUED", justify="right", no_wrap=True)
    for target in targets:
        table.add_row(
            Text(target.name),
            target.kind,
            str(target.max_concurrent_runs),
            _load(target),
            str(target.queued_runs),
        )
    out_console().print(table)


def _render(target: ComputeTargetInfo) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("name", Text(target.name))
    grid.add_row("kind", target.kind)
    grid.add_row("max concurrent runs", str(target.max_concurrent_runs))
    grid.add_row("active runs", _load(target))
    grid.add_row("queued runs", str(target.queued_runs))
    grid.add_row("created", format_time(target.created_time))
    out_console().print(grid)


@app.command("show")
def show(ctx: typer.Context, name: NameArg, json_output: JsonOption = False) -> None:
    """Show one compute target: its kind, capacity, and the runs active and queued on it."""
    with open_workspace(ctx) as backend:
        target = backend.jobs.get_compute_target(name)
    if json_output:
        emit_json(target)
        return
    _render(target)


@app.command("set")
def set_(
    ctx: typer.Context,
    name: NameArg,
    max_concurrent_runs: Annotated[
        int,
        typer.Option(
            "--max-concurrent-runs",
            metavar="N",
            help="How many runs may execute at once; more wait Queued (1 to 10,000).",
            show_default=False,
        ),
    ],
    json_output: JsonOption = False,
) -> None:
    """Change how many runs a compute target executes at once; queued runs start if it grew."""
    from ember.entities.jobs import ComputeTargetUpdate
    from ember.entities.validation import build

    try:
        request = build(ComputeTargetUpdate, max_concurrent_runs=max_concurrent_runs)
    except InvalidInput as exc:
        raise InvalidInput(exc.message.replace("max_concurrent_runs", "--max-concurrent-runs")) from None
    with open_workspace(ctx) as backend:
        target = backend.jobs.update_compute_target(name, request)
    if json_output:
        emit_json(target)
        return
    runs = "run" if target.max_concurrent_runs == 1 else "runs"
    out_console().print(
        Text.assemble(
            "Compute target ",
            (target.name, "bold"),
            f" now executes at most {target.max_concurrent_runs} {runs} at once "
            f"({target.active_runs} active, {target.queued_runs} queued).",
        )
    )
