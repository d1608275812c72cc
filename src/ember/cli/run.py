"""``ember run submit|list|show|logs|metrics|download|snapshot|cancel|…``: runs and what they recorded.

Run ids are 32 hex characters; every command also takes a unique prefix of at least 4 (the 8 shown in
``ember run list``), the way git and docker take short ids. ``submit`` lives in ``ember.cli.submit``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ember.cli import submit as submitting
from ember.cli._common import (
    JsonOption,
    emit_json,
    err_console,
    format_bytes,
    format_duration,
    format_number,
    format_time,
    looks_like_id,
    open_workspace,
    out_console,
    resolve_experiment,
    run_duration,
    status_text,
    titled,
)
from ember.errors import InvalidInput, NotFound

if TYPE_CHECKING:
    from rich.console import Console, Group

    from ember.contracts.jobs import JobsBackend
    from ember.contracts.tracking import TrackingBackend
    from ember.entities import MetricHistory, RunDetails, RunPage, RunSearch, RunStatus

__all__ = ["app", "resolve_run_id"]

app = typer.Typer(
    help="Submit scripts as runs, follow their logs, list runs, show what they recorded, download files.",
    no_args_is_help=True,
)
app.command("submit")(submitting.submit)

RunIdArg = Annotated[
    str, typer.Argument(metavar="RUN_ID", help="The run's id, or a unique prefix of it (4+ characters).")
]

SHORT_ID = 8
MIN_PREFIX = 4
MAX_METRIC_COLUMNS = 4
ALL_PAGES_PAGE_SIZE = 1000
_HEX_RE = re.compile(r"^[0-9a-f]+$")
# metrics.key, metric.`quoted key`, metrics."quoted key" in a filter or an order-by item.
_METRIC_REF_RE = re.compile(r"\bmetrics?\.(?:`([^`]+)`|\"([^\"]+)\"|([A-Za-z0-9_\-.:/]+))")


def resolve_run_id(tracking: TrackingBackend, value: str) -> str:
    """The full id of the run that ``value`` names: a full id, or a unique prefix of one.

    Args:
        tracking: The workspace's tracking backend.
        value: A 32-character run id, or at least 4 leading hex characters of one.

    Returns:
        The full run id (not checked to exist when ``value`` already is one).

    Raises:
        InvalidInput: ``value`` is neither an id nor a hex prefix, or the prefix matches several runs.
        NotFound: No run starts with the prefix.
    """
    from ember.entities import RunSearch
    from ember.entities.validation import build

    text = value.strip().lower()
    if looks_like_id(text):
        return text
    if not (MIN_PREFIX <= len(text) < 32 and _HEX_RE.match(text)):
        raise InvalidInput(
            f"{value[:100]!r} is not a run id: give the 32-character id or its first {MIN_PREFIX} or more "
            "characters (see `ember run list`)"
        )
    page = tracking.search_runs(
        build(RunSearch, filter=f"attributes.run_id LIKE '{text}%'", lifecycle="all", max_results=2)
    )
    if not page.runs:
        raise NotFound(f"no run id starts with {text!r}: see `ember run list` (or `--deleted`)")
    if len(page.runs) > 1:
        raise InvalidInput(f"{text!r} is the start of several run ids: give more characters")
    return page.runs[0].info.id


# -- list --------------------------------------------------------------------------------------------


def _metric_refs(texts: list[str]) -> list[str]:
    keys: list[str] = []
    for text in texts:
        for match in _METRIC_REF_RE.finditer(text):
            key = next(g for g in match.groups() if g)
            if key not in keys:
                keys.append(key)
    return keys


def _metric_columns(runs: list[RunDetails], *, chosen: list[str], hints: list[str]) -> list[str]:
    """The metric columns of the run table.

    The chosen ones if any; else those the filter and order-by mention, topped up with the metrics
    most runs have, up to ``MAX_METRIC_COLUMNS``.
    """
    if chosen:
        return chosen
    columns = _metric_refs(hints)[:MAX_METRIC_COLUMNS]
    counts = Counter(key for run in runs for key in run.metrics)
    for key, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        if len(columns) >= MAX_METRIC_COLUMNS:
            break
        if key not in columns:
            columns.append(key)
    return columns


def _run_table(runs: list[RunDetails], metric_keys: list[str]) -> Table:
    now = datetime.now(UTC)
    status_width = max((len(run.info.status) for run in runs), default=6)
    table = Table(box=None, header_style="bold", pad_edge=False)
    # Minimum widths keep ids, statuses and times whole on a narrow terminal; names give way first.
    table.add_column("ID", no_wrap=True, style="cyan", min_width=SHORT_ID)
    table.add_column("EXPERIMENT", no_wrap=True, overflow="ellipsis", max_width=24)
    table.add_column("NAME", no_wrap=True, overflow="ellipsis", max_width=28)
    table.add_column("STATUS", no_wrap=True, min_width=status_width)
    table.add_column("STARTED", no_wrap=True, min_width=16)
    table.add_column("DURATION", no_wrap=True, justify="right", min_width=8)
    for key in metric_keys:
        table.add_column(
            Text(key),
            justify="right",
            no_wrap=True,
            overflow="ellipsis",
            min_width=min(len(key), 8),
            max_width=16,
        )
    for run in runs:
        info = run.info
        table.add_row(
            info.id[:SHORT_ID],
            Text(info.experiment_name or info.experiment_id[:SHORT_ID]),
            Text(info.display_name or ""),
            status_text(info.status),
            format_time(info.start_time, seconds=False),
            format_duration(run_duration(info.start_time, info.end_time, now=now)),
            *(format_number(run.metrics.get(key)) for key in metric_keys),
        )
    return table


def _search_all(tracking: TrackingBackend, search: RunSearch, *, all_pages: bool) -> RunPage:
    page = tracking.search_runs(search)
    if not all_pages:
        return page
    runs = list(page.runs)
    while page.next_page_token:
        page = tracking.search_runs(search.model_copy(update={"page_token": page.next_page_token}))
        runs.extend(page.runs)
    return type(page)(runs=runs, next_page_token=None)


@app.command("list")
def list_(
    ctx: typer.Context,
    experiment: Annotated[
        list[str] | None,
        typer.Option("--experiment", "-e", help="Only runs of this experiment (name or id); repeatable."),
    ] = None,
    filter_: Annotated[
        str | None,
        typer.Option(
            "--filter",
            "-f",
            help="e.g. \"metrics.accuracy > 0.9 AND params.lr = '0.01' AND attributes.status = 'Completed'\"",
        ),
    ] = None,
    order_by: Annotated[
        list[str] | None,
        typer.Option("--order-by", "-o", help="e.g. 'metrics.loss ASC'; repeatable. Default: newest first."),
    ] = None,
    max_results: Annotated[
        int, typer.Option("--max-results", "-n", min=1, help="How many runs to show (one page).")
    ] = 50,
    all_pages: Annotated[
        bool, typer.Option("--all-pages", help="Every matching run, however many (ignores --max-results).")
    ] = False,
    page_token: Annotated[
        str | None, typer.Option("--page-token", help="Continue a previous listing from this token.")
    ] = None,
    deleted: Annotated[bool, typer.Option("--deleted", help="Deleted runs instead of active ones.")] = False,
    metric: Annotated[
        list[str] | None,
        typer.Option("--metric", "-m", help="Metric columns to show (default: a few the runs have)."),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List runs, newest first, as a table with their status, duration and latest metrics."""
    from ember.entities import MAX_RESULTS_CAP, RunSearch
    from ember.entities.validation import build

    if max_results > MAX_RESULTS_CAP:
        raise typer.BadParameter(f"at most {MAX_RESULTS_CAP} per page; use --all-pages for more")
    with open_workspace(ctx) as backend:
        tracking = backend.tracking
        experiment_ids = [resolve_experiment(tracking, e).id for e in experiment] if experiment else None
        search = build(
            RunSearch,
            experiment_ids=experiment_ids,
            filter=filter_ or None,
            order_by=order_by or [],
            max_results=ALL_PAGES_PAGE_SIZE if all_pages else max_results,
            page_token=page_token,
            lifecycle="deleted" if deleted else "active",
        )
        page = _search_all(tracking, search, all_pages=all_pages)
    if json_output:
        emit_json(page)
        return
    out = out_console()
    if not page.runs:
        out.print("No deleted runs match." if deleted else "No runs match.")
        return
    columns = _metric_columns(page.runs, chosen=metric or [], hints=[*(order_by or []), filter_ or ""])
    out.print(_run_table(page.runs, columns))
    if page.next_page_token:
        err_console().print(
            f"[dim]Showing the first {len(page.runs)} runs. More: --all-pages, or "
            f"--page-token {escape(page.next_page_token)}[/]",
            soft_wrap=True,
        )


# -- show --------------------------------------------------------------------------------------------


def _count_children(tracking: TrackingBackend, run: RunDetails) -> int:
    from ember.entities import RunSearch

    lifecycle = "active" if run.info.lifecycle_stage == "active" else "all"
    search = RunSearch(parent_run_id=run.info.id, lifecycle=lifecycle, max_results=5000)
    return len(_search_all(tracking, search, all_pages=True).runs)


def _pairs_table(title: str, values: dict[str, str]) -> Group:
    table = Table(box=None, header_style="dim")
    table.add_column("KEY", no_wrap=True)
    table.add_column("VALUE", overflow="fold")
    for key, value in sorted(values.items()):
        table.add_row(Text(key), Text(value))
    return titled(title, table)


def _render_run(out: Console, run: RunDetails, *, children: int, files: int, size: int) -> None:
    info = run.info
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("id", info.id)
    grid.add_row("experiment", Text(f"{info.experiment_name or ''} ({info.experiment_id})"))
    if info.display_name:
        grid.add_row("name", Text(info.display_name))
    grid.add_row("status", status_text(info.status))
    if info.lifecycle_stage != "active":
        grid.add_row("stage", Text(info.lifecycle_stage, style="red"))
    grid.add_row("type", Text(info.run_type))
    if info.user:
        grid.add_row("user", Text(info.user))
    if info.parent_run_id:
        grid.add_row("parent", info.parent_run_id)
    grid.add_row("created", format_time(info.created_time))
    grid.add_row("started", format_time(info.start_time))
    grid.add_row("ended", format_time(info.end_time))
    grid.add_row("duration", format_duration(run_duration(info.start_time, info.end_time)))
    grid.add_row("children", str(children))
    grid.add_row("files", f"{files} ({format_bytes(size)})")
    if info.description:
        grid.add_row("description", Text(info.description))
    if info.error is not None:
        exit_code = "" if info.error.exit_code is None else f" (exit code {info.error.exit_code})"
        grid.add_row("error", Text(info.error.message + exit_code, style="red"))
    out.print(grid)
    if info.error is not None and info.error.traceback:
        out.print(Text(info.error.traceback.rstrip(), style="dim"), soft_wrap=True)
    if run.params:
        out.print(_pairs_table("params", run.params))
    if run.metrics:
        metrics = Table(box=None)
        metrics.add_column("KEY", no_wrap=True, header_style="dim")
        metrics.add_column("VALUE", justify="right", header_style="dim")
        for key, value in sorted(run.metrics.items()):
            metrics.add_row(Text(key), format_number(value))
        out.print(titled("metrics (latest)", metrics))
    if run.tags:
        out.print(_pairs_table("tags", run.tags))
    if run.properties:
        out.print(_pairs_table("properties", run.properties))


@app.command("show")
def show(ctx: typer.Context, run_id: RunIdArg, json_output: JsonOption = False) -> None:
    """Show one run: status, times, params, latest metrics, tags, properties, children and files."""
    with open_workspace(ctx) as backend:
        tracking = backend.tracking
        run = tracking.get_run(resolve_run_id(tracking, run_id))
        children = _count_children(tracking, run)
        artifacts = tracking.list_artifacts(run.info.id)
    files, size = len(artifacts), sum(a.size for a in artifacts)
    if json_output:
        emit_json({"run": run, "child_run_count": children, "artifact_count": files, "artifact_bytes": size})
        return
    _render_run(out_console(), run, children=children, files=files, size=size)


# -- metrics -----------------------------------------------------------------------------------------


def _latest_index(history: MetricHistory) -> int:
    """Index of the latest point: the highest step, then the latest timestamp (as the backend decides)."""
    return max(range(len(history.values)), key=lambda i: (history.steps[i], history.timestamps[i]))


def _summary(history: MetricHistory) -> dict[str, Any]:
    finite = [v for v in history.values if not math.isnan(v)]
    last = history.values[_latest_index(history)] if history.values else None
    return {
        "last": last,
        "count": history.total_points,
        "min": min(finite) if finite else None,
        "max": max(finite) if finite else None,
        "last_step": history.steps[_latest_index(history)] if history.values else None,
    }


def _format_timestamp(value: float) -> str:
    stamp = datetime.fromtimestamp(value, tz=UTC).astimezone()
    return stamp.strftime("%Y-%m-%d %H:%M:%S.") + f"{stamp.microsecond // 1000:03d}"


def _cell(value: Any) -> Text:
    if value is None:
        return Text("")
    if isinstance(value, float):
        return Text(format_number(value))
    return Text(str(value))


def _columns_table(title: str, columns: dict[str, list[Any]]) -> Group:
    table = Table(box=None, header_style="bold")
    for name in columns:
        table.add_column(name, overflow="fold")
    rows = max((len(cells) for cells in columns.values()), default=0)
    for i in range(rows):
        table.add_row(*(_cell(cells[i] if i < len(cells) else None) for cells in columns.values()))
    return titled(title, table)


def _show_one_metric(
    tracking: TrackingBackend, *, run_id: str, key: str, max_points: int | None, json_output: bool
) -> None:
    try:
        history = tracking.get_metric_history(run_id, key, max_points=max_points)
    except NotFound:
        metrics = tracking.get_metrics(run_id)
        if key not in metrics.tables:
            known = sorted([*metrics.series, *metrics.tables])
            has = f"; it has: {', '.join(known[:50])}" if known else "; it has no metrics"
            raise NotFound(f"run {run_id} has no metric or table {key[:250]!r}{has}") from None
        if json_output:
            emit_json({"key": key, "columns": metrics.tables[key]})
        else:
            out_console().print(_columns_table(key, metrics.tables[key]))
        return
    if json_output:
        emit_json(history)
        return
    table = Table(box=None, header_style="bold")
    table.add_column("STEP", justify="right")
    table.add_column("VALUE", justify="right")
    table.add_column("TIME")
    for step, value, stamp in zip(history.steps, history.values, history.timestamps, strict=True):
        table.add_row(str(step), format_number(value), _format_timestamp(stamp))
    out_console().print(titled(key, table))
    if history.total_points > len(history.values):
        err_console().print(f"[dim]{len(history.values)} of {history.total_points} points shown.[/]")


@app.command("metrics")
def metrics(
    ctx: typer.Context,
    run_id: RunIdArg,
    key: Annotated[
        str | None, typer.Option("--key", "-k", help="One metric's full history (or one table's rows).")
    ] = None,
    max_points: Annotated[
        int | None,
        typer.Option(
            "--max-points",
            min=10,
            help="With --key: thin a long series to about this many points.",
        ),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Summarise every metric of a run (last value, count, min, max), or show one metric's history."""
    with open_workspace(ctx) as backend:
        tracking = backend.tracking
        full_id = resolve_run_id(tracking, run_id)
        if key is not None:
            _show_one_metric(
                tracking, run_id=full_id, key=key, max_points=max_points, json_output=json_output
            )
            return
        found = tracking.get_metrics(full_id)
    if json_output:
        emit_json(found)
        return
    out = out_console()
    if not found.series and not found.tables:
        out.print(f"Run {full_id} has no metrics.")
        return
    if found.series:
        table = Table(box=None, header_style="bold")
        table.add_column("KEY", no_wrap=True)
        for name in ("LAST", "STEP", "COUNT", "MIN", "MAX"):
            table.add_column(name, justify="right", no_wrap=True)
        for name, history in sorted(found.series.items()):
            s = _summary(history)
            table.add_row(
                Text(name),
                format_number(s["last"]),
                "" if s["last_step"] is None else str(s["last_step"]),
                str(s["count"]),
                format_number(s["min"]),
                format_number(s["max"]),
            )
        out.print(table)
    if found.tables:
        tables = Table(box=None, header_style="bold")
        tables.add_column("KEY", no_wrap=True)
        tables.add_column("ROWS", justify="right")
        tables.add_column("COLUMNS", overflow="fold")
        for name, columns in sorted(found.tables.items()):
            rows = max((len(c) for c in columns.values()), default=0)
            tables.add_row(Text(name), str(rows), Text(", ".join(columns)))
        out.print(titled("tables", tables))


# -- download ----------------------------------------------------------------------------------------


@app.command("download")
def download(
    ctx: typer.Context,
    run_id: RunIdArg,
    path: Annotated[
        Path | None,
        typer.Argument(help="Folder to write into. Default: ./<run id>", show_default=False),
    ] = None,
    prefix: Annotated[
        str, typer.Option("--prefix", "-p", help="Only files under this folder of the run (e.g. outputs).")
    ] = "",
) -> None:
    """Download a run's files (all, or those under --prefix) into a folder, keeping their paths."""
    from ember.cli.transfer import download_artifacts

    with open_workspace(ctx) as backend:
        tracking = backend.tracking
        full_id = resolve_run_id(tracking, run_id)
        files = tracking.list_artifacts(full_id, prefix)
        if not files:
            if prefix:
                raise NotFound(f"run {full_id} has no files under {prefix!r}")
            out_console().print(f"Run {full_id} has no files.")
            return
        root = (path if path is not None else Path(full_id)).expanduser().resolve()
        written = download_artifacts(tracking, run_id=full_id, files=files, root=root, console=err_console())
    size = sum(f.size for f in files)
    out_console().print(
        f"Downloaded {len(written)} file{'s' if len(written) != 1 else ''} ({format_bytes(size)}) "
        f"to {escape(str(root))}"
    )


@app.command("snapshot")
def snapshot(
    ctx: typer.Context,
    run_id: RunIdArg,
    download_to: Annotated[
        Path | None,
        typer.Option(
            "--download", "-d", metavar="FOLDER", help="Write the source files into this empty or new folder."
        ),
    ] = None,
    cat: Annotated[
        str | None, typer.Option("--cat", metavar="PATH", help="Print one source file (e.g. train.py).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List the source files a submitted run started from, print one, or download them all."""
    import sys

    from ember.artifacts.tree import write_tree

    if download_to is not None and cat is not None:
        raise typer.BadParameter("give either --download or --cat", param_hint="--cat")
    with open_workspace(ctx) as backend:
        jobs = backend.jobs
        full_id = resolve_run_id(backend.tracking, run_id)
        if cat is not None:
            _, chunks = jobs.open_snapshot_file(full_id, cat)
            out = sys.stdout.buffer
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            return
        listing = jobs.get_run_snapshot(full_id)
        if download_to is not None:
            root = write_tree(
                listing.files,
                download_to.expanduser(),
                open_file=lambda f: jobs.open_snapshot_file(full_id, f.path)[1],
            )
            out_console().print(
                f"Wrote {listing.file_count} file{'s' if listing.file_count != 1 else ''} "
                f"({format_bytes(listing.total_size)}) of run {full_id}'s snapshot to {escape(root)}"
            )
            return
    if json_output:
        emit_json(listing)
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("Path")
    table.add_column("Size", justify="right")
    table.add_column("Mode")
    for file in listing.files:
        table.add_row(escape(file.path), format_bytes(file.size), "755" if file.executable else "644")
    out = out_console()
    out.print(table)
    out.print(
        f"{listing.file_count} file{'s' if listing.file_count != 1 else ''}, "
        f"{format_bytes(listing.total_size)}; "
        f"snapshot {listing.snapshot_digest[:12]}. Download them with "
        f"`ember run snapshot {full_id[:SHORT_ID]} --download FOLDER`."
    )


# -- logs and cancel ---------------------------------------------------------------------------------


def _explain_missing_log(jobs: JobsBackend, run_id: str, name: str, status: RunStatus) -> None:
    """Nothing was printed: say why on stderr, or fail when the log does not exist and never will."""
    from ember.entities import TERMINAL_STATUSES

    short = run_id[:SHORT_ID]
    if status not in TERMINAL_STATUSES:
        err_console().print(
            f"[dim]Run {short} is {status}; nothing in {name} yet. "
            f"`ember run logs {short} --follow` waits for its output.[/]"
        )
        return
    logs = jobs.list_logs(run_id)
    if name in logs:
        return  # an empty log
    if name == submitting.STD_LOG and logs:
        err_console().print(f"[dim]Run {short} ({status}) printed nothing.[/]")
        return
    if logs:
        raise NotFound(f"run {run_id} has no log {name!r}; its logs: {', '.join(logs)}")
    raise NotFound(f"run {run_id} has no logs: runs get them when submitted with `ember run submit`")


@app.command("logs")
def logs(
    ctx: typer.Context,
    run_id: RunIdArg,
    follow: Annotated[
        bool,
        typer.Option("--follow", "-f", help="Keep printing new output until the run ends (Ctrl-C stops)."),
    ] = False,
    name: Annotated[
        str, typer.Option("--name", help="Which log: std_log.txt (the script's output), runner_log.txt, …")
    ] = submitting.STD_LOG,
    runner: Annotated[
        bool, typer.Option("--runner", help="The runner's own log (runner_log.txt): preparing, exit code.")
    ] = False,
) -> None:
    """Print a submitted run's output (its std_log.txt), or follow it while the run goes on."""
    if runner:
        if name != submitting.STD_LOG:
            raise typer.BadParameter("give either --runner or --name", param_hint="--runner")
        name = "runner_log.txt"
    with open_workspace(ctx) as backend:
        full_id = resolve_run_id(backend.tracking, run_id)
        with submitting.stop_following_on_interrupt(full_id):
            status, printed = submitting.follow_log(backend.jobs, full_id, name, follow=follow)
        if not printed:
            _explain_missing_log(backend.jobs, full_id, name, status)


@app.command("cancel")
def cancel(ctx: typer.Context, run_id: RunIdArg, json_output: JsonOption = False) -> None:
    """Cancel a run: a queued one at once, a running one through its runner (which stops the script)."""
    from ember.entities import RunStatus

    with open_workspace(ctx) as backend:
        info = backend.jobs.cancel_run(resolve_run_id(backend.tracking, run_id))
    if json_output:
        emit_json(info)
        return
    line = Text.assemble("Run ", (info.id, "cyan"), ": ", status_text(info.status))
    if info.status == RunStatus.CANCEL_REQUESTED:
        line.append(
            f". Its runner stops the script shortly; `ember run show {info.id[:SHORT_ID]}` tells when."
        )
    else:
        line.append(".")
    out_console().print(line, soft_wrap=True)


# -- lifecycle ---------------------------------------------------------------------------------------


@app.command("delete")
def delete(ctx: typer.Context, run_id: RunIdArg) -> None:
    """Delete a run and its child runs (softly): `ember run restore` undoes it until `ember gc`."""
    with open_workspace(ctx) as backend:
        tracking = backend.tracking
        info = tracking.set_run_lifecycle(resolve_run_id(tracking, run_id), "deleted")
    out_console().print(
        f"Deleted run {info.id}. Restore it with `ember run restore {info.id[:SHORT_ID]}`; "
        "`ember gc` purges it."
    )


@app.command("restore")
def restore(ctx: typer.Context, run_id: RunIdArg) -> None:
    """Restore a deleted (not yet purged) run and its child runs."""
    with open_workspace(ctx) as backend:
        tracking = backend.tracking
        info = tracking.set_run_lifecycle(resolve_run_id(tracking, run_id), "active")
    out_console().print(f"Restored run {info.id}.")
