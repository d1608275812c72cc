"""``ember gc``: permanently remove deleted runs and experiments, and free the bytes nothing uses."""

from __future__ import annotations

import math
import re
from typing import Annotated

import typer

from ember.cli._common import (
    JsonOption,
    emit_json,
    err_console,
    format_bytes,
    format_duration,
    open_workspace,
    out_console,
)
from ember.errors import InvalidInput

__all__ = ["gc", "parse_age"]

_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*([smhdw]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_age(text: str) -> float:
    """Seconds from ``"3600"``, ``"90s"``, ``"15m"``, ``"12h"``, ``"7d"`` or ``"2w"``.

    Args:
        text: A non-negative number, optionally followed by a unit.

    Returns:
        The age in seconds.

    Raises:
        InvalidInput: The text is not such an age.
    """
    match = _AGE_RE.match(text.lower())
    if match is None:
        raise InvalidInput(f"--older-than {text[:50]!r} is not an age: give seconds, or 90s, 15m, 12h, 7d")
    seconds = float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
    if not math.isfinite(seconds):
        raise InvalidInput(f"--older-than {text[:50]!r} is too large")
    return seconds


def gc(
    ctx: typer.Context,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            metavar="SECONDS",
            help="Only what was deleted at least this long ago: seconds, or 90s, 15m, 12h, 7d, 2w.",
        ),
    ] = "0",
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Permanently remove deleted runs and experiments and free the files nothing else uses.

    This cannot be undone: `ember run restore` and `ember experiment restore` no longer work afterwards
    for what it removes.
    """
    seconds = parse_age(older_than)
    with open_workspace(ctx) as backend:
        if not yes:
            when = f" deleted more than {format_duration(seconds)} ago" if seconds > 0 else ""
            err_console().print(
                f"This permanently removes every deleted run and experiment{when}, "
                "and frees the files nothing else uses. It cannot be undone."
            )
            typer.confirm("Continue?", abort=True, err=True)
        report = backend.tracking.purge(older_than_seconds=seconds)
    if json_output:
        emit_json(report)
        return
    out_console().print(
        f"Removed {report.runs} run{'s' if report.runs != 1 else ''} and "
        f"{report.experiments} experiment{'s' if report.experiments != 1 else ''}; "
        f"freed {report.blobs} file{'s' if report.blobs != 1 else ''} ({format_bytes(report.bytes_freed)})."
    )
