"""``ember server`` and ``ember studio``: serve a local workspace over HTTP (REST API and web studio)."""

from __future__ import annotations

import logging
import socket
import sys
import threading
import time
from enum import StrEnum
from typing import Annotated

import typer
from rich.markup import escape

from ember.cli._common import err_console, out_console, redact_uri, state_of

__all__ = ["server", "studio", "studio_url"]

BROWSER_WAIT_S = 30.0


class LogLevel(StrEnum):
    """How much the server logs."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"
    DEBUG = "debug"


HostOption = Annotated[
    str, typer.Option("--host", help="Interface to listen on; 0.0.0.0 exposes it to the network.")
]
PortOption = Annotated[int, typer.Option("--port", min=1, max=65535, help="TCP port to listen on.")]
WorkspaceOption = Annotated[
    str | None,
    typer.Option(
        "--workspace",
        "-w",
        metavar="TARGET",
        help="Workspace folder or database URI to serve. Default: as for every command.",
        show_default=False,
    ),
]
AllowedHostOption = Annotated[
    list[str] | None,
    typer.Option(
        "--allowed-host",
        help="Another host name clients may use to reach the server (Host header check); repeatable.",
    ),
]
LogLevelOption = Annotated[LogLevel, typer.Option("--log-level", help="How much to log.")]
AccessLogOption = Annotated[bool, typer.Option("--access-log", help="Log one line per request.")]


def server(
    ctx: typer.Context,
    host: HostOption = "127.0.0.1",
    port: PortOption = 5000,
    workspace_target: WorkspaceOption = None,
    allowed_host: AllowedHostOption = None,
    log_level: LogLevelOption = LogLevel.INFO,
    access_log: AccessLogOption = False,
) -> None:
    """Serve the workspace's REST API and web studio over HTTP until interrupted (Ctrl+C)."""
    _serve(
        ctx,
        host=host,
        port=port,
        workspace_target=workspace_target,
        allowed_host=allowed_host,
        log_level=log_level,
        access_log=access_log,
        open_browser=False,
    )


def studio(
    ctx: typer.Context,
    host: HostOption = "127.0.0.1",
    port: PortOption = 5000,
    workspace_target: WorkspaceOption = None,
    allowed_host: AllowedHostOption = None,
    log_level: LogLevelOption = LogLevel.INFO,
    access_log: AccessLogOption = False,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Do not open the studio in a web browser.")
    ] = False,
) -> None:
    """Serve the workspace like `ember server` and open the web studio in a browser (Ctrl+C stops)."""
    _serve(
        ctx,
        host=host,
        port=port,
        workspace_target=workspace_target,
        allowed_host=allowed_host,
        log_level=log_level,
        access_log=access_log,
        # Only an interactive session has a user looking at a screen; not CI, cron or a pipe.
        open_browser=not no_browser and sys.stdout.isatty(),
    )


def studio_url(host: str, port: int) -> str:
    """The URL a browser on this machine uses to reach a server bound to ``host``."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/"


def _serve(
    ctx: typer.Context,
    *,
    host: str,
    port: int,
    workspace_target: str | None,
    allowed_host: list[str] | None,
    log_level: LogLevel,
    access_log: bool,
    open_browser: bool,
) -> None:
    from ember.config import find_workspace_target
    from ember.server.main import serve
    from ember.server.studio import STUDIO_DIST

    target = find_workspace_target(workspace_target or state_of(ctx).workspace)
    logging.basicConfig(
        level=log_level.value.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    url = studio_url(host, port)
    err_console().print(
        f"Starting the server for workspace [bold]{escape(redact_uri(target))}[/] on http://{host}:{port}",
        soft_wrap=True,
    )
    out_console().print(f"Ember studio: {url}", soft_wrap=True, markup=False)
    if not (STUDIO_DIST / "index.html").is_file():
        err_console().print(
            "The studio is not built: its pages say how to build it (`make studio`); the API works.",
            soft_wrap=True,
        )
    if open_browser:
        threading.Thread(target=_open_when_listening, args=(url, host, port), daemon=True).start()
    serve(
        target,
        host=host,
        port=port,
        allowed_hosts=allowed_host or None,
        log_level=log_level.value,
        access_log=access_log,
    )


def _open_when_listening(url: str, host: str, port: int) -> None:
    """Open ``url`` in the user's browser once the server accepts connections (not before: a blank tab)."""
    import webbrowser

    connect_host = url.split("//", 1)[1].rsplit(":", 1)[0].strip("[]")
    deadline = time.monotonic() + BROWSER_WAIT_S
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((connect_host, port), timeout=0.5):
                break
        except OSError:
            time.sleep(0.1)
    else:
        return  # the server did not come up; its own error says why
    webbrowser.open(url)
