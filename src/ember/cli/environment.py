"""``ember environment list|show|register|dockerfile|delete``: versioned specs of Python and packages."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ember.cli._common import (
    JsonOption,
    emit_json,
    err_console,
    format_time,
    open_workspace,
    out_console,
    titled,
)
from ember.errors import InvalidInput

if TYPE_CHECKING:
    from ember.entities.environments import EnvironmentInfo

__all__ = ["app"]

app = typer.Typer(
    help="Register environments (Python version, pip packages, variables), show and delete their versions.",
    no_args_is_help=True,
)

Name = Annotated[str, typer.Argument(metavar="NAME", help="The environment's name.")]
Version = Annotated[
    int | None,
    typer.Option("--version", min=1, help="The version to use (default: the latest).", show_default=False),
]

VersionArg = Annotated[
    str,
    typer.Argument(metavar="NAME:VERSION", help="One environment version: its name and number, e.g. sk:2."),
]

_MAX_SHOWN_PACKAGES = 3


def _version_ref(text: str) -> tuple[str, int]:
    """``NAME:VERSION`` as (name, version number)."""
    name, _, version = text.rpartition(":")
    if not name or not version.isdigit() or int(version) < 1:
        raise typer.BadParameter(
            f"{text!r} is not NAME:VERSION with a version number, e.g. sk:2 "
            "(`ember environment list --name NAME` lists the versions)",
            param_hint="NAME:VERSION",
        )
    return name, int(version)


def _can_ask() -> bool:
    """Whether a person can answer a question: stdin is a terminal."""
    return sys.stdin.isatty()


def _packages(info: EnvironmentInfo) -> str:
    pip = list(info.spec.pip)
    if len(pip) <= _MAX_SHOWN_PACKAGES:
        return ", ".join(pip)
    return ", ".join(pip[:_MAX_SHOWN_PACKAGES]) + f", … (+{len(pip) - _MAX_SHOWN_PACKAGES})"


@app.command("list")
def list_(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Option("--name", "-n", help="List every version of this environment.", show_default=False),
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """List the latest version of every environment (or, with --name, all versions of one)."""
    with open_workspace(ctx) as backend:
        found = backend.environments.list(name)
    if json_output:
        emit_json({"environments": found})
        return
    out = out_console()
    if not found:
        out.print(
            f"No versions of environment {escape(name)!r}." if name else "No environments registered yet."
        )
        return
    table = Table(box=None, header_style="bold")
    table.add_column("NAME", no_wrap=True, overflow="ellipsis", max_width=40)
    table.add_column("VERSION", justify="right", no_wrap=True)
    table.add_column("PYTHON", no_wrap=True)
    table.add_column("PACKAGES", overflow="ellipsis", no_wrap=True, max_width=60)
    table.add_column("CREATED", no_wrap=True, min_width=19)
    table.add_column("DESCRIPTION", overflow="ellipsis", no_wrap=True, max_width=40)
    for info in found:
        table.add_row(
            Text(info.name, style="bold"),
            str(info.version),
            info.spec.python or "",
            Text(_packages(info)),
            format_time(info.created_time),
            Text((info.description or "").splitlines()[0] if info.description else ""),
        )
    out.print(table)


@app.command("show")
def show(ctx: typer.Context, name: Name, version: Version = None, json_output: JsonOption = False) -> None:
    """Show one environment version: Python, packages, variables (the latest unless --version)."""
    with open_workspace(ctx) as backend:
        info = backend.environments.get(name, version)
    if json_output:
        emit_json(info)
        return
    _render(info)


def _render(info: EnvironmentInfo) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    grid.add_row("name", Text(info.name))
    grid.add_row("version", str(info.version))
    grid.add_row("python", info.spec.python or "")
    grid.add_row("created", format_time(info.created_time))
    grid.add_row("spec hash", info.spec_hash)
    if info.description:
        grid.add_row("description", Text(info.description))
    out = out_console()
    out.print(grid)
    if info.spec.pip:
        pip = Table(box=None, header_style="dim")
        pip.add_column("REQUIREMENT", overflow="fold")
        for requirement in info.spec.pip:
            pip.add_row(Text(requirement))
        out.print(titled("pip", pip))
    if info.spec.env_vars:
        env = Table(box=None, header_style="dim")
        env.add_column("NAME")
        env.add_column("VALUE", overflow="fold")
        for key, value in sorted(info.spec.env_vars.items()):
            env.add_row(Text(key), Text(value))
        out.print(titled("environment variables", env))


@app.command("register")
def register(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            "-f",
            help="An env.yml: Ember's layout (name, python, pip, env_vars) or a conda environment.yml.",
            show_default=False,
        ),
    ],
    name: Annotated[
        str | None,
        typer.Option("--name", "-n", help="Use this name instead of the file's.", show_default=False),
    ] = None,
    description: Annotated[
        str | None, typer.Option("--description", "-d", help="Free text shown in lists.", show_default=False)
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Register the environment in a YAML file: a new spec becomes the next version, a known one is reused."""
    from ember.entities.environment_spec import pin_python
    from ember.entities.environments import EnvironmentRegister
    from ember.environments.sdk import Environment

    env = Environment.from_yaml(file, name=name, description=description)
    # Pinned here, not by the server: the stored Python is the one of the machine that registers.
    request = EnvironmentRegister(name=env.name, spec=pin_python(env.spec), description=description)
    with open_workspace(ctx) as backend:
        info = backend.environments.register(request)
    if json_output:
        emit_json(info)
        return
    out_console().print(
        f"Environment [bold]{escape(info.name)}[/] version {info.version} holds this spec "
        f"(python {escape(info.spec.python or '')}, {len(info.spec.pip)} package(s))."
    )


@app.command("dockerfile")
def dockerfile_(
    ctx: typer.Context,
    name: Name,
    version: Version = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Write the Dockerfile here instead of stdout.", show_default=False
        ),
    ] = None,
) -> None:
    """Print the Dockerfile of an environment version (the latest unless --version)."""
    from ember.environments.dockerfile import dockerfile

    with open_workspace(ctx) as backend:
        info = backend.environments.get(name, version)
    text = dockerfile(info.name, info.version, info.spec)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text, encoding="utf-8")
    out_console().print(
        f"Wrote the Dockerfile of {escape(info.name)}:{info.version} to {escape(str(output))}."
    )


@app.command("delete")
def delete(
    ctx: typer.Context,
    environment: VersionArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Delete one environment version (refused while a deployment uses it)."""
    name, version = _version_ref(environment)
    with open_workspace(ctx) as backend:
        info = backend.environments.get(name, version)
        subject = f"environment {info.name} version {info.version}"
        if not yes:
            if not _can_ask():
                raise InvalidInput(
                    f"deleting {subject} cannot be undone: pass --yes to confirm when not at a terminal"
                )
            err_console().print(Text(f"This deletes {subject}. It cannot be undone."))
            typer.confirm("Continue?", abort=True, err=True)
        backend.environments.delete(info.name, info.version)
    if json_output:
        emit_json({"name": info.name, "version": info.version, "deleted": True})
        return
    out_console().print(Text(f"Deleted {subject}."))
