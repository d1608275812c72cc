"""Shared pieces of the CLI: finding and opening the workspace, error handling, JSON and rendering.

Heavy modules (the backends, SQLAlchemy, pydantic entities) are imported inside functions, so that
``ember --help`` does not pay for them.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console, Group, RenderableType
from rich.text import Text
from typer.core import TyperGroup

from ember.errors import EmberError, InvalidInput, NotFound

if TYPE_CHECKING:
    from ember.backend import Backend
    from ember.contracts.tracking import TrackingBackend
    from ember.entities import ExperimentInfo

__all__ = [
    "CliState",
    "EmberGroup",
    "JsonOption",
    "emit_json",
    "err_console",
    "format_bytes",
    "format_duration",
    "format_number",
    "format_time",
    "jsonable",
    "looks_like_id",
    "open_workspace",
    "out_console",
    "redact_uri",
    "report_error",
    "resolve_experiment",
    "run_duration",
    "state_of",
    "status_text",
    "titled",
]

JsonOption = Annotated[
    bool, typer.Option("--json", help="Print machine-readable JSON on stdout (and nothing else there).")
]

PIPE_WIDTH = 200
_ID_RE = re.compile(r"^[0-9a-f]{32}$")

_STATUS_STYLES: dict[str, str] = {
    "NotStarted": "dim",
    "Queued": "dim",
    "Preparing": "cyan",
    "Starting": "cyan",
    "Running": "bold blue",
    "Finalizing": "cyan",
    "CancelRequested": "yellow",
    "NotResponding": "magenta",
    "Completed": "green",
    "Failed": "bold red",
    "Canceled": "yellow",
}


def _open_target(target: str) -> Backend:
    from ember.wiring import open_backend

    return open_backend(target)


@dataclass
class CliState:
    """What the top-level options decided, passed to every command through ``ctx.obj``.

    Attributes:
        workspace: The ``--workspace`` value, if one was given.
        opener: Turns a workspace target into a Backend; tests replace it to plug in a fake backend.
    """

    workspace: str | None = None
    opener: Callable[[str], Backend] = field(default=_open_target)


def state_of(ctx: typer.Context) -> CliState:
    """The CLI state of this invocation (a default one when a command runs without the main callback)."""
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


@contextlib.contextmanager
def open_workspace(ctx: typer.Context, explicit: str | None = None) -> Iterator[Backend]:
    """Open the workspace this command works on, and close it afterwards.

    Args:
        ctx: The command's context; its root holds the global ``--workspace`` option.
        explicit: A workspace given to the command itself; it wins over the global option.

    Yields:
        The workspace's Backend.

    Raises:
        NotFound: No workspace is given, set in ``$EMBER_WORKSPACE`` or configured in ``.ember/``.
    """
    from ember.config import find_workspace_target

    state = state_of(ctx)
    target = find_workspace_target(explicit or state.workspace)
    backend = state.opener(target)
    try:
        yield backend
    finally:
        backend.close()


def out_console() -> Console:
    """A Console on stdout, for tables and results (built per call so it follows the current stdout).

    When stdout is not a terminal (a pipe, a file) and ``$COLUMNS`` is unset, tables get a wide page
    instead of Rich's 80 columns, so that ``ember run list | grep …`` sees whole values.
    """
    console = Console(highlight=False)
    if not console.is_terminal and not os.environ.get("COLUMNS"):
        console = Console(highlight=False, width=PIPE_WIDTH)
    return console


def err_console() -> Console:
    """A Console on stderr, for messages, hints, prompts and progress bars."""
    return Console(stderr=True, highlight=False)


def report_error(exc: EmberError) -> None:
    """Show an Ember error to the user: its message in red on stderr, without a traceback."""
    message = Text.assemble(("Error: ", "bold red"), (exc.message or str(exc), "red"))
    # soft_wrap keeps multi-line messages (a filter with a caret under the bad position) unbroken.
    err_console().print(message, soft_wrap=True)


class EmberGroup(TyperGroup):
    """The root command group: turns every ``EmberError`` into a red message and exit code 1."""

    #: Order of the commands in ``ember --help``: the nouns as a user meets them, then maintenance.
    help_order: tuple[str, ...] = (
        "workspace",
        "experiment",
        "run",
        "environment",
        "compute",
        "datastore",
        "dataset",
        "model",
        "endpoint",
        "gc",
        "server",
        "studio",
    )

    def list_commands(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        """The command names, in ``help_order`` (others after them, as registered)."""
        names = super().list_commands(ctx)
        rank = {name: i for i, name in enumerate(self.help_order)}
        return sorted(names, key=lambda name: rank.get(name, len(rank)))

    def invoke(self, ctx: typer.Context) -> Any:  # type: ignore[override]
        """Run the command, reporting Ember errors instead of showing a traceback.

        Args:
            ctx: The root context.

        Returns:
            What the command returned.

        Raises:
            typer.Exit: With code 1, after an ``EmberError`` was reported.
        """
        try:
            return super().invoke(ctx)
        except EmberError as exc:
            report_error(exc)
            raise typer.Exit(1) from None


# -- JSON --------------------------------------------------------------------------------------------


def _float_json(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def jsonable(value: Any) -> Any:
    """``value`` with every NaN/inf float replaced by the string pydantic uses (``"NaN"``, ``"Infinity"``).

    Args:
        value: Plain data: dicts, lists, strings, numbers, booleans and None (``model_dump(mode="json")``).

    Returns:
        The same data, safe for strict JSON.
    """
    if isinstance(value, float):
        return _float_json(value)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    return value


def emit_json(value: Any) -> None:
    """Print ``value`` as strict JSON on stdout; pydantic models are dumped in JSON mode first.

    Args:
        value: A pydantic model, or plain data possibly holding models.
    """
    typer.echo(json.dumps(_dump(value), indent=2, ensure_ascii=False, allow_nan=False))


def _dump(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return jsonable(dump(mode="json"))
    if isinstance(value, Mapping):
        return {str(k): _dump(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_dump(v) for v in value]
    return jsonable(value)


# -- rendering ---------------------------------------------------------------------------------------


def format_time(value: datetime | None, *, seconds: bool = True) -> str:
    """A time in the user's local time zone, to the second or the minute (empty when missing)."""
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone().strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def format_duration(seconds: float | None) -> str:
    """A duration for humans: ``0.42s``, ``12s``, ``1m 23s``, ``2h 05m``, ``3d 4h`` (empty when missing)."""
    if seconds is None or not math.isfinite(seconds):
        return ""
    seconds = max(0.0, seconds)
    if seconds < 10:
        return f"{seconds:.2g}s" if seconds < 1 else f"{seconds:.1f}s"
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def run_duration(
    start: datetime | None, end: datetime | None, *, now: datetime | None = None
) -> float | None:
    """Seconds a run took, or has been running so far when it has no end time yet."""
    if start is None:
        return None
    stop = end or now or datetime.now(UTC)
    return (stop - start).total_seconds()


def format_number(value: float | None) -> str:
    """A metric value, compact: six significant digits, ``NaN``/``inf`` spelt out (empty when missing)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    return f"{value:.6g}"


def format_bytes(size: int) -> str:
    """A size in bytes for humans (``1.5 MB``)."""
    from rich.filesize import decimal

    return decimal(size)


def status_text(status: str) -> Text:
    """A run status, coloured by what it means (green done, red failed, blue running…)."""
    return Text(str(status), style=_STATUS_STYLES.get(str(status), ""))


def titled(title: str, renderable: RenderableType) -> Group:
    """A renderable under a bold heading line (a Table title would wrap to the table's width)."""
    return Group(Text(title, style="bold"), renderable)


def redact_uri(uri: str) -> str:
    """A URI without its password, safe to show (``postgresql://***@host/db``)."""
    if "://" in uri and "@" in uri:
        scheme, rest = uri.split("://", 1)
        return f"{scheme}://***@{rest.rsplit('@', 1)[1]}"
    return uri


def looks_like_id(value: str) -> bool:
    """Tell whether ``value`` has the shape of an Ember id (32 lowercase hex characters)."""
    return _ID_RE.match(value) is not None


def resolve_experiment(tracking: TrackingBackend, name_or_id: str) -> ExperimentInfo:
    """The experiment with this id or, failing that, this name.

    Args:
        tracking: The workspace's tracking backend.
        name_or_id: An experiment id (32 hex characters) or name.

    Returns:
        The experiment, whatever its lifecycle stage.

    Raises:
        NotFound: No experiment has this id or name.
    """
    if looks_like_id(name_or_id):
        with contextlib.suppress(NotFound):
            return tracking.get_experiment(name_or_id)
    try:
        return tracking.get_experiment_by_name(name_or_id)
    except InvalidInput:
        raise NotFound(
            f"experiment {name_or_id[:100]!r} not found: give its name or id (see `ember experiment list`)"
        ) from None
    except NotFound:
        raise NotFound(
            f"experiment {name_or_id[:100]!r} not found: see `ember experiment list --all` for names and ids"
        ) from None
