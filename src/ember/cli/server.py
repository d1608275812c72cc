"""``ember server``: serve a local workspace over HTTP (the REST API) with ``ember.server``."""

from __future__ import annotations

import logging
import sys
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape

from ember.cli._common import err_console, redact_uri, state_of

__all__ = ["server"]


class LogLevel(StrEnum):
    """How much the server logs."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"


def server(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Interface to listen on; 0.0.0.0 exposes it to the network.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port to listen on.")] = 5000,
    workspace_target: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            "-w",
            metavar="TARGET",
            help="Workspace folder or database URI to serve. Default: as for every command.",
            show_default=False,
        ),
    ] = None,
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="Another host name clients may use to reach the server (Host header check); repeatable.",
        ),
    ] = None,
    log_level: Annotated[LogLevel, typer.Option("--log-level", help="How much to log.")] = LogLevel.INFO,
    access_log: Annotated[bool, typer.Option("--access-log", help="Log one line per request.")] = False,
) -> None:
    """Serve the workspace's REST API over HTTP until interrupted (Ctrl+C)."""
    from ember.config import find_workspace_target
    from ember.server.main import serve

    target = find_workspace_target(workspace_target or state_of(ctx).workspace)
    logging.basicConfig(
        level=log_level.value.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    err_console().print(
        f"Starting the server for workspace [bold]{escape(redact_uri(target))}[/] on http://{host}:{port}",
        soft_wrap=True,
    )
    serve(
        target,
        host=host,
        port=port,
        allowed_hosts=allowed_host or None,
        log_level=log_level.value,
        access_log=access_log,
    )
