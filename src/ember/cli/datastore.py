"""``ember datastore list|show|register|delete|upload|download|ls``: where a workspace's data lives.

Credentials come from the registration YAML, where ``${VAR}`` reads them from the environment so that
secrets stay out of files; they are sent once, stored encrypted by the workspace, and never shown again
(only their kind, ``credential_type``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from ember.cli._common import (
    JsonOption,
    emit_json,
    format_bytes,
    format_time,
    open_workspace,
    out_console,
)
from ember.errors import InvalidInput

if TYPE_CHECKING:
    from pydantic import ValidationError

    from ember.backend import Backend
    from ember.data.datastore import Datastore
    from ember.data.transfer import TransferReport
    from ember.entities.data import DatastoreInfo

__all__ = ["app", "describe_yaml_error", "progress_wanted", "read_yaml_mapping"]

app = typer.Typer(
    help="Register datastores (local folders, S3, Azure Blob), browse them, upload and download files.",
    no_args_is_help=True,
)

NameArg = Annotated[str, typer.Argument(metavar="NAME", help="The datastore's name (e.g. workspace).")]
OverwriteOption = Annotated[
    bool, typer.Option("--overwrite", help="Replace files that are already there (default: skip them).")
]

#: The keys of a datastore YAML; ``credentials`` values may use ``${VAR}``.
DATASTORE_KEYS = (
    "name",
    "kind",
    "root",
    "bucket",
    "container_name",
    "account_name",
    "prefix",
    "region",
    "endpoint",
    "credentials",
    "credential_passthrough",
    "description",
)
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


# -- YAML files (shared with ``ember dataset register``) ----------------------------------------------


def read_yaml_mapping(path: Path, *, what: str, allowed: tuple[str, ...]) -> dict[str, Any]:
    """The YAML mapping in ``path``, refusing unknown keys.

    Args:
        path: The YAML file.
        what: What the file describes, for messages (``datastore``, ``dataset``).
        allowed: The keys the mapping may have.

    Returns:
        The mapping, keys as written.

    Raises:
        InvalidInput: The file is missing or unreadable, is not a YAML mapping, or has an unknown key.
    """
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{what} file {str(path)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {what} file {str(path)!r}: {exc}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None)
        if mark is not None and problem:
            where = f"at line {mark.line + 1}, column {mark.column + 1}: {problem}"
        else:
            where = " ".join(str(exc).split())
        raise InvalidInput(f"{path.name} is not valid YAML {where}") from None
    if not isinstance(doc, dict):
        raise InvalidInput(f"{path.name} must be a YAML mapping of {what} fields, starting with 'name'")
    unknown = sorted(str(k) for k in doc if k not in allowed)
    if unknown:
        raise InvalidInput(
            f"{path.name} has unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"a {what} file takes {', '.join(allowed)}"
        )
    return {str(k): v for k, v in doc.items()}


def describe_yaml_error(exc: ValidationError, *, renames: Mapping[str, str | None] | None = None) -> str:
    """Pydantic's errors as one line naming the YAML fields: ``paths[0].path: …; type: …``.

    Args:
        exc: The validation error.
        renames: Model field → YAML key for the first part of a location (``None`` drops that part, for a
            nested model whose fields sit at the top of the file).

    Returns:
        ``field: message`` per problem (at most five), joined by ``; ``.
    """
    renames = renames or {}
    parts: list[str] = []
    for err in exc.errors()[:5]:
        loc = list(err.get("loc", ()))
        if loc and isinstance(loc[0], str) and loc[0] in renames:
            renamed = renames[loc[0]]
            loc = loc[1:] if renamed is None else [renamed, *loc[1:]]
        field = ""
        for part in loc:
            if isinstance(part, int):
                field += f"[{part}]"
            elif part not in ("function-after", "function-before"):
                field += f".{part}" if field else str(part)
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{field}: {message}" if field else message)
    more = exc.error_count() - len(parts)
    if more > 0:
        parts.append(f"and {more} more")
    return " ".join("; ".join(parts).split())


def progress_wanted(json_output: bool) -> bool:
    """Whether to draw transfer progress bars: on a terminal, never under ``--json``.

    The SDK draws them on stdout (transient, so they vanish once done), hence the check on stdout.
    """
    return not json_output and out_console().is_terminal


# -- registration ------------------------------------------------------------------------------------


def _expand(value: str, *, field: str) -> str:
    def lookup(match: re.Match[str]) -> str:
        variable = match.group(1)
        found = os.environ.get(variable)
        if found is None:
            raise InvalidInput(
                f"{field} reads ${{{variable}}}, which is not set: export {variable} (the secret stays out "
                "of the file) and register again"
            )
        return found

    return _ENV_REF.sub(lookup, value)


def _credentials(raw: Any) -> dict[str, Any]:
    from pydantic import SecretStr

    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise InvalidInput("credentials must be a mapping such as {account_key: ${AZURE_STORAGE_KEY}}")
    secrets: dict[str, Any] = {}
    for key, value in raw.items():
        field = f"credentials.{key}"
        if value is None:
            continue
        if not isinstance(value, str):
            # Never echo the value: it is a secret written in the file by mistake.
            raise InvalidInput(f"{field} must be text, such as ${{MY_SECRET}} read from the environment")
        secrets[str(key)] = SecretStr(_expand(value, field=field))
    return secrets


def _register_request(path: Path, *, overwrite: bool) -> Any:
    from pydantic import ValidationError

    from ember.entities.data import DatastoreRegister

    doc = read_yaml_mapping(path, what="datastore", allowed=DATASTORE_KEYS)
    doc["credentials"] = _credentials(doc.get("credentials"))
    root = doc.get("root")
    if isinstance(root, str) and root:
        folder = Path(root).expanduser()
        if not folder.is_absolute():  # relative to the YAML file, not to wherever ember runs
            folder = path.resolve().parent / folder
        doc["root"] = str(folder.resolve())
    try:
        return DatastoreRegister.model_validate({**doc, "overwrite": overwrite})
    except ValidationError as exc:
        raise InvalidInput(f"{path.name}: {describe_yaml_error(exc)}") from None


def _credentials_text(info: DatastoreInfo) -> str:
    shown = {"keys": "access keys", "ambient": "the server's own", "none": "none"}
    text = shown.get(info.credential_type, info.credential_type)
    return f"{text} (passed through)" if info.credential_passthrough else text


@app.command("list")
def list_(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List datastores, the default one (the workspace's own storage) first."""
    with open_workspace(ctx) as backend:
        found = backend.data.list_datastores()
    if json_output:
        emit_json({"datastores": found})
        return
    table = Table(box=None, header_style="bold")
    table.add_column("NAME", no_wrap=True, overflow="ellipsis", max_width=40)
    table.add_column("KIND", no_wrap=True)
    table.add_column("URL", overflow="fold", max_width=70)
    table.add_column("CREDENTIALS", no_wrap=True)
    table.add_column("CREATED", no_wrap=True, min_width=19)
    table.add_column("DESCRIPTION", overflow="ellipsis", no_wrap=True, max_width=40)
    for info in found:
        name = Text(info.name, style="bold")
        if info.is_default:
            name.append(" (default)", style="dim")
        table.add_row(
            name,
            info.kind,
            Text(info.url),
            _credentials_text(info),
            format_time(info.created_time),
            Text((info.description or "").splitlines()[0] if info.description else ""),
        )
    out_console().print(table)


def _render(info: DatastoreInfo) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("name", Text(info.name + (" (default)" if info.is_default else "")))
    grid.add_row("kind", info.kind)
    grid.add_row("url", Text(info.url))
    for label, value in (
        ("root", info.root),
        ("bucket", info.bucket),
        ("account", info.account_name),
        ("container", info.container_name),
        ("prefix", info.prefix),
        ("region", info.region),
        ("endpoint", info.endpoint),
    ):
        if value:
            grid.add_row(label, Text(value))
    grid.add_row("credentials", _credentials_text(info))
    grid.add_row("created", format_time(info.created_time))
    if info.description:
        grid.add_row("description", Text(info.description))
    out_console().print(grid)


@app.command("show")
def show(ctx: typer.Context, name: NameArg, json_output: JsonOption = False) -> None:
    """Show one datastore: where it points and what kind of credentials it holds (never their values)."""
    with open_workspace(ctx) as backend:
        info = backend.data.get_datastore(name)
    if json_output:
        emit_json(info)
        return
    _render(info)


@app.command("register")
def register(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Option(
            "--file",
            "-f",
            help="A datastore YAML: name, kind (local | s3 | azure_blob), its location and credentials; "
            "${VAR} in a credential reads it from the environment.",
            show_default=False,
        ),
    ],
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace a datastore of the same name (its data stays).")
    ] = False,
    json_output: JsonOption = False,
) -> None:
    """Register the datastore described in a YAML file; its credentials are stored encrypted."""
    request = _register_request(file, overwrite=overwrite)
    with open_workspace(ctx) as backend:
        info = backend.data.register_datastore(request)
    if json_output:
        emit_json(info)
        return
    out_console().print(
        Text.assemble(
            "Registered datastore ",
            (info.name, "bold"),
            f" ({info.kind}, {info.url}; credentials: {_credentials_text(info)}).",
        )
    )


@app.command("delete")
def delete(ctx: typer.Context, name: NameArg) -> None:
    """Forget a datastore: its files stay where they are (refused while datasets read from it)."""
    with open_workspace(ctx) as backend:
        backend.data.delete_datastore(name)
    out_console().print(
        Text.assemble("Forgot datastore ", (name, "bold"), "; its files are where they were.")
    )


def _datastore(backend: Backend, name: str) -> Datastore:
    from ember.data.datastore import Datastore
    from ember.workspace import Workspace

    return Datastore(Workspace(backend), name)


def _report(report: TransferReport, *, verb: str, where: str, overwrite: bool) -> None:
    count = len(report.transferred)
    out = out_console()
    out.print(
        f"{verb} {count} file{'s' if count != 1 else ''} ({format_bytes(report.bytes)}) {escape(where)}."
    )
    if report.skipped and not overwrite:
        skipped = len(report.skipped)
        out.print(
            f"Skipped {skipped} file{'s' if skipped != 1 else ''} already there; --overwrite replaces them."
        )


@app.command("upload")
def upload(
    ctx: typer.Context,
    name: NameArg,
    source: Annotated[
        Path, typer.Argument(metavar="SRC", help="A local folder (its contents go up) or one file.")
    ],
    target_path: Annotated[
        str,
        typer.Option("--target-path", "-t", metavar="PATH", help="Folder inside the datastore to upload to."),
    ] = "",
    overwrite: OverwriteOption = False,
    json_output: JsonOption = False,
) -> None:
    """Upload a local folder (or file) into a datastore, keeping relative paths."""
    with open_workspace(ctx) as backend:
        report = _datastore(backend, name).upload(
            source, target_path, overwrite=overwrite, show_progress=progress_wanted(json_output)
        )
    if json_output:
        emit_json(_report_json(report, datastore=name, path=target_path))
        return
    _report(report, verb="Uploaded", where=f"to {name}:{target_path.strip('/')}", overwrite=overwrite)


@app.command("download")
def download(
    ctx: typer.Context,
    name: NameArg,
    source_path: Annotated[
        str,
        typer.Argument(metavar="SOURCE_PATH", help="A file or folder in the datastore ('' for everything)."),
    ],
    target: Annotated[Path, typer.Argument(metavar="TARGET_DIR", help="Local folder to write into.")],
    overwrite: OverwriteOption = False,
    json_output: JsonOption = False,
) -> None:
    """Download a file or every file under a folder of a datastore, keeping their relative paths."""
    with open_workspace(ctx) as backend:
        report = _datastore(backend, name).download(
            source_path, target, overwrite=overwrite, show_progress=progress_wanted(json_output)
        )
    if json_output:
        emit_json(_report_json(report, datastore=name, path=source_path, target=str(target.resolve())))
        return
    _report(report, verb="Downloaded", where=f"to {target.resolve()}", overwrite=overwrite)


def _report_json(report: TransferReport, *, datastore: str, path: str, target: str | None = None) -> Any:
    found: dict[str, Any] = {"datastore": datastore, "path": path.strip("/")}
    if target is not None:
        found["target"] = target
    return {**found, "transferred": report.transferred, "skipped": report.skipped, "bytes": report.bytes}


@app.command("ls")
def ls(
    ctx: typer.Context,
    name: NameArg,
    path: Annotated[
        str, typer.Argument(metavar="PATH", help="Folder inside the datastore (default: its root).")
    ] = "",
    limit: Annotated[
        int, typer.Option("--limit", min=1, max=10_000, help="Show at most this many entries.")
    ] = 1000,
    json_output: JsonOption = False,
) -> None:
    """List the folders and files directly under a folder of a datastore."""
    with open_workspace(ctx) as backend:
        listing = backend.data.list_datastore_files(name, path, limit=limit)
    if json_output:
        emit_json(listing)
        return
    out = out_console()
    where = f"{listing.datastore}:{listing.path}" if listing.path else f"{listing.datastore}:"
    if not listing.entries:
        out.print(f"Nothing in {escape(where)}")
        return
    table = Table(box=None, header_style="bold")
    table.add_column("NAME", overflow="fold")
    table.add_column("SIZE", justify="right", no_wrap=True)
    table.add_column("MODIFIED", no_wrap=True, min_width=19)
    for entry in listing.entries:
        shown = entry.path.rsplit("/", 1)[-1]
        modified = (
            format_time(datetime.fromtimestamp(entry.modified_time, UTC))
            if entry.modified_time is not None
            else ""
        )
        if entry.kind == "folder":
            table.add_row(Text(shown + "/", style="bold blue"), "", modified)
        else:
            table.add_row(Text(shown), format_bytes(entry.size or 0), modified)
    out.print(table)
    if listing.truncated:
        out.print(f"[dim]Only the first {len(listing.entries)} entries; --limit shows more.[/]")
