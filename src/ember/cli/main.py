"""The ``ember`` command: a group per noun (workspace, experiment, run, compute), and gc, server, studio.

Every command finds its workspace from ``--workspace/-w``, else ``$EMBER_WORKSPACE``, else the nearest
``.ember/config.json`` (which ``ember workspace create`` writes), and talks to it through the Backend
contract only.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ember.cli import (
    compute,
    dataset,
    datastore,
    endpoint,
    environment,
    experiment,
    gc,
    model,
    run,
    server,
    workspace,
)
from ember.cli._common import EmberGroup, state_of
from ember.version import __version__

__all__ = ["app", "main"]

app = typer.Typer(
    name="ember",
    cls=EmberGroup,
    help="Ember: track experiments and runs in an open, local-first machine-learning workspace.",
    no_args_is_help=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    # Locals can hold database URIs with passwords: never print them in a traceback.
    pretty_exceptions_show_locals=False,
)


def _show_version(value: bool) -> None:
    if value:
        typer.echo(f"ember {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    workspace_target: Annotated[
        str | None,
        typer.Option(
            "--workspace",
            "-w",
            metavar="TARGET",
            help="Workspace folder, database URI or server URL. Default: $EMBER_WORKSPACE, "
            "else the nearest .ember/config.json.",
            show_default=False,
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Show Ember's version and exit."
        ),
    ] = False,
) -> None:
    """Ember: track experiments and runs in an open, local-first machine-learning workspace."""
    if workspace_target is not None:
        state_of(ctx).workspace = workspace_target


app.add_typer(workspace.app, name="workspace")
app.add_typer(experiment.app, name="experiment")
app.add_typer(run.app, name="run")
app.add_typer(compute.app, name="compute")
app.add_typer(environment.app, name="environment")
app.add_typer(datastore.app, name="datastore")
app.add_typer(dataset.app, name="dataset")
app.add_typer(model.app, name="model")
app.add_typer(endpoint.app, name="endpoint")
app.command("gc")(gc.gc)
app.command("server")(server.server)
app.command("studio")(server.studio)


def main() -> None:
    """Entry point of the ``ember`` console script and of ``python -m ember``."""
    app(prog_name="ember")
