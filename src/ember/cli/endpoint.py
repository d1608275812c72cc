"""``ember endpoint create|deploy|list|show|invoke|logs|keys|traffic|delete``: online endpoints.

An endpoint is a stable scoring URL with keys (or tokens); its deployments serve model versions on
replicas, and the endpoint splits live traffic between them (``traffic NAME blue=90 green=10``).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
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
    from ember.backend import Backend
    from ember.entities.jobs import EnvironmentRef
    from ember.entities.serving import Autoscale, DeploymentInfo, EndpointInfo, ServingHostInfo
    from ember.serving.config import InferenceConfig
    from ember.serving.endpoint import Deployment, Endpoint

__all__ = ["app"]

app = typer.Typer(
    help="Online endpoints: create one, deploy model versions to it, split traffic, score, read logs.",
    no_args_is_help=True,
)

EndpointArg = Annotated[str, typer.Argument(metavar="NAME", help="The endpoint's name.")]
DeploymentArg = Annotated[str, typer.Argument(metavar="DEPLOYMENT", help="The deployment's name.")]

_STATUS_STYLES = {
    "Creating": "cyan",
    "Updating": "cyan",
    "Healthy": "green",
    "Degraded": "yellow",
    "Failed": "bold red",
}


# -- parsing -----------------------------------------------------------------------------------------


def _model_ref(text: str) -> tuple[str, int | str | None]:
    """``NAME``, ``NAME:VERSION`` or ``NAME:ALIAS`` as (name, the version number or alias or None)."""
    name, sep, version = text.partition(":")
    if not name or (sep and not version):
        raise typer.BadParameter(
            f"{text!r} is not NAME[:VERSION|:ALIAS], e.g. iris-clf:3", param_hint="--model"
        )
    if not sep:
        return name, None
    return name, int(version) if version.isdigit() else version


def _environment_ref(text: str) -> EnvironmentRef:
    from ember.entities.jobs import EnvironmentRef
    from ember.entities.validation import build

    name, sep, version = text.partition(":")
    if not name or (sep and not version.isdigit()):
        raise typer.BadParameter(
            f"{text!r} is not NAME[:VERSION], e.g. sklearn:2", param_hint="--environment"
        )
    return build(EnvironmentRef, name=name, version=int(version) if sep else None)


def _tags(values: list[str] | None) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in values or []:
        key, sep, value = item.partition("=")
        if not key.strip() or not sep:
            raise typer.BadParameter(f"{item!r} is not KEY=VALUE", param_hint="--tag")
        tags[key.strip()] = value
    return tags


def _shares(values: list[str] | None, *, param: str) -> dict[str, int]:
    """``DEPLOYMENT=PERCENT`` items as a mapping of whole percents."""
    shares: dict[str, int] = {}
    for item in values or []:
        name, sep, value = item.partition("=")
        value = value.strip().removesuffix("%")
        if not name.strip() or not sep or not value.isdigit():
            raise typer.BadParameter(f"{item!r} is not DEPLOYMENT=PERCENT, e.g. blue=90", param_hint=param)
        if name.strip() in shares:
            raise typer.BadParameter(f"deployment {name.strip()!r} is given twice", param_hint=param)
        shares[name.strip()] = int(value)
    return shares


def _autoscale(minimum: int | None, maximum: int | None, target: float | None) -> Autoscale | None:
    from ember.entities.serving import Autoscale
    from ember.entities.validation import build

    if minimum is not None and maximum is not None and maximum < minimum:
        raise typer.BadParameter(
            f"--max-replicas ({maximum}) must be at least --min-replicas ({minimum})",
            param_hint="--max-replicas",
        )
    given = {"min_replicas": minimum, "max_replicas": maximum, "target_concurrency": target}
    chosen = {key: value for key, value in given.items() if value is not None}
    return build(Autoscale, **chosen) if chosen else None


def _inference_config(
    path: Path | None, entry_script: str | None, source_dir: Path | None, environment: str | None
) -> InferenceConfig | None:
    """The file's inference config with the options given on the command line winning over it."""
    from ember.serving.config import InferenceConfig

    if source_dir is not None and entry_script is None and path is None:
        raise typer.BadParameter(
            "--source-dir goes with --entry-script (the script in it)", param_hint="--source-dir"
        )
    base = InferenceConfig.from_yaml(path) if path is not None else None
    if entry_script is None and source_dir is None and environment is None:
        return base
    return InferenceConfig(
        entry_script=entry_script if entry_script is not None else (base.entry_script if base else None),
        source_directory=source_dir if source_dir is not None else (base.source_directory if base else "."),
        environment=_environment_ref(environment)
        if environment is not None
        else (base.environment if base else None),
    )


def _can_ask() -> bool:
    """Whether a person can answer a question: stdin is a terminal."""
    return sys.stdin.isatty()


def _endpoint(backend: Backend, name: str) -> Endpoint:
    from ember.serving.endpoint import Endpoint
    from ember.workspace import Workspace

    return Endpoint(Workspace(backend), name)


# -- rendering ---------------------------------------------------------------------------------------


def _status(status: str) -> Text:
    return Text(status, style=_STATUS_STYLES.get(status, ""))


def _time(seconds: float) -> str:
    return format_time(datetime.fromtimestamp(seconds, UTC))


def _traffic(traffic: dict[str, int]) -> str:
    return ", ".join(f"{name} {share}%" for name, share in sorted(traffic.items()))


def _ready(info: DeploymentInfo) -> str:
    return f"{info.ready_replicas}/{info.desired_replicas or info.replicas}"


def _models(info: DeploymentInfo) -> str:
    return ", ".join(f"{m.name}:{m.version}" for m in info.models) or "-"


def _deployments_table(info: EndpointInfo) -> Table:
    table = Table(box=None, header_style="bold")
    table.add_column("DEPLOYMENT", no_wrap=True)
    table.add_column("STATUS", no_wrap=True)
    table.add_column("READY", justify="right", no_wrap=True)
    table.add_column("DESIRED", justify="right", no_wrap=True)
    table.add_column("RESTARTS", justify="right", no_wrap=True)
    table.add_column("GENERATION", justify="right", no_wrap=True)
    table.add_column("TRAFFIC", justify="right", no_wrap=True)
    table.add_column("MIRROR", justify="right", no_wrap=True)
    table.add_column("MODELS", overflow="fold")
    table.add_column("ENTRY SCRIPT", overflow="fold")
    table.add_column("ENVIRONMENT", overflow="fold")
    for d in info.deployments:
        mirror = info.mirror_traffic.get(d.name)
        table.add_row(
            Text(d.name, style="bold"),
            _status(d.status),
            str(d.ready_replicas),
            str(d.desired_replicas or d.replicas),
            str(d.restarts),
            str(d.generation),
            f"{info.traffic.get(d.name, 0)}%",
            "" if mirror is None else f"{mirror}%",
            Text(_models(d)),
            Text(d.entry_script or "(MLflow model)"),
            Text(_environment_text(d)),
        )
    return table


def _environment_text(deployment: DeploymentInfo) -> str:
    env = deployment.environment
    if env is not None:
        return env.name if env.version is None else f"{env.name}:{env.version}"
    if deployment.interpreter is not None:
        return f"Environment.current() ({deployment.interpreter.executable})"
    return "(the host's Python)"


def _render(info: EndpointInfo, host: ServingHostInfo) -> None:
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row("name", Text(info.name))
    grid.add_row("id", info.id)
    grid.add_row("auth", "keys" if info.auth_mode == "key" else "tokens")
    grid.add_row("scoring URI", Text(info.scoring_uri))
    grid.add_row("swagger URI", Text(info.swagger_uri))
    grid.add_row("traffic", Text(_traffic(info.traffic) or "none (no deployment takes requests)"))
    if info.mirror_traffic:
        grid.add_row("mirror", Text(_traffic(info.mirror_traffic)))
    if info.description:
        grid.add_row("description", Text(info.description))
    if info.tags:
        grid.add_row("tags", Text(", ".join(f"{k}={v}" for k, v in sorted(info.tags.items()))))
    grid.add_row("created", _time(info.created_time))
    shown = f"running at {host.url}" if host.alive else "not running (it starts with the first deployment)"
    grid.add_row("serving host", Text(shown))
    out = out_console()
    out.print(grid)
    if not info.deployments:
        out.print(Text(f"No deployments yet: `ember endpoint deploy {info.name} NAME --model MODEL`."))
        return
    out.print(titled("deployments", _deployments_table(info)))
    for d in info.deployments:
        if d.status_message and d.status != "Healthy":
            out.print(Text.assemble((d.name, "bold"), ": ", d.status_message), soft_wrap=True)


# -- commands ----------------------------------------------------------------------------------------


@app.command("create")
def create(
    ctx: typer.Context,
    name: EndpointArg,
    auth_mode: Annotated[
        str,
        typer.Option(
            "--auth-mode",
            metavar="key|token",
            help="Callers send a key (key) or a short-lived token (token).",
        ),
    ] = "key",
    description: Annotated[
        str, typer.Option("--description", "-d", help="What the endpoint is for.", show_default=False)
    ] = "",
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", metavar="KEY=VALUE", help="A tag; repeatable.")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Create an endpoint with no deployments (and, with key auth, two keys)."""
    from ember.serving.endpoint import Endpoint
    from ember.workspace import Workspace

    if auth_mode not in ("key", "token"):
        raise typer.BadParameter(f"{auth_mode!r} is neither 'key' nor 'token'", param_hint="--auth-mode")
    tags = _tags(tag)
    with open_workspace(ctx) as backend:
        endpoint = Endpoint.create(
            Workspace(backend),
            name,
            auth_mode="key" if auth_mode == "key" else "token",
            description=description,
            tags=tags,
        )
    info = endpoint.info
    if json_output:
        emit_json(info)
        return
    out = out_console()
    out.print(Text.assemble("Created endpoint ", (info.name, "bold"), f" ({info.auth_mode} auth)."))
    out.print(Text(f"Scoring URI: {info.scoring_uri}"), soft_wrap=True)
    credential = "keys" if info.auth_mode == "key" else "keys --token"
    out.print(
        Text(
            f"Deploy a model with `ember endpoint deploy {info.name} blue --model NAME`; "
            f"get credentials with `ember endpoint {credential} {info.name}`."
        )
    )


@app.command("deploy")
def deploy(
    ctx: typer.Context,
    endpoint_name: EndpointArg,
    deployment_name: DeploymentArg,
    model: Annotated[
        list[str] | None,
        typer.Option(
            "--model",
            "-m",
            metavar="NAME[:VERSION|:ALIAS]",
            help="A registered model version to serve (without :VERSION, the latest); repeatable.",
        ),
    ] = None,
    inference_config: Annotated[
        Path | None,
        typer.Option(
            "--inference-config",
            "-i",
            metavar="FILE",
            help="inference.yml: entry_script, source_directory (relative to the file) and environment. "
            "Without it (or an entry script) the one MLflow model is served as it is.",
            show_default=False,
        ),
    ] = None,
    entry_script: Annotated[
        str | None,
        typer.Option(
            "--entry-script",
            metavar="FILE.py",
            help="The scoring script (init() and run(raw_data)), relative to --source-dir.",
            show_default=False,
        ),
    ] = None,
    source_dir: Annotated[
        Path | None,
        typer.Option(
            "--source-dir",
            metavar="DIR",
            help="The folder holding the script and what it imports (default: the current folder).",
            show_default=False,
        ),
    ] = None,
    environment: Annotated[
        str | None,
        typer.Option(
            "--environment",
            "-e",
            metavar="NAME[:VERSION]",
            help="A registered environment the replicas run in.",
            show_default=False,
        ),
    ] = None,
    replicas: Annotated[
        int | None,
        typer.Option("--replicas", min=1, help="How many replicas (default 1).", show_default=False),
    ] = None,
    min_replicas: Annotated[
        int | None,
        typer.Option("--min-replicas", min=1, help="Autoscale: the fewest replicas.", show_default=False),
    ] = None,
    max_replicas: Annotated[
        int | None,
        typer.Option("--max-replicas", min=1, help="Autoscale: the most replicas.", show_default=False),
    ] = None,
    target_concurrency: Annotated[
        float | None,
        typer.Option(
            "--target-concurrency",
            help="Autoscale: in-flight requests per replica to aim for.",
            show_default=False,
        ),
    ] = None,
    collect_data: Annotated[
        bool,
        typer.Option("--collect-data", help="Store inputs and predictions in the default datastore."),
    ] = False,
    description: Annotated[
        str, typer.Option("--description", "-d", help="What this deployment is.", show_default=False)
    ] = "",
    wait: Annotated[
        bool, typer.Option("--wait/--no-wait", help="Wait until the deployment is ready (or failed).")
    ] = True,
    timeout: Annotated[float, typer.Option("--timeout", min=0, help="Seconds to wait.")] = 300.0,
    json_output: JsonOption = False,
) -> None:
    """Create a deployment of an endpoint, or update it in place (a new generation, zero downtime)."""
    refs = [_model_ref(m) for m in model or []]
    inference = _inference_config(inference_config, entry_script, source_dir, environment)
    autoscale = _autoscale(min_replicas, max_replicas, target_concurrency)
    with open_workspace(ctx) as backend:
        endpoint = _endpoint(backend, endpoint_name)
        model_ids = [backend.registry.get_model(name, version).id for name, version in refs]
        with err_console().status(Text(f"Uploading and deploying {deployment_name} to {endpoint_name}…")):
            deployment = endpoint.deploy(
                deployment_name,
                models=model_ids,
                inference_config=inference,
                replicas=replicas,
                autoscale=autoscale,
                collect_data=collect_data,
                description=description,
                wait=False,
            )
        if wait:
            _wait(deployment, timeout)
        info = deployment.info
    if json_output:
        emit_json(info)
        return
    out = out_console()
    line = Text.assemble(
        "Deployment ",
        (info.name, "bold"),
        " of endpoint ",
        (info.endpoint, "bold"),
        " is ",
        _status(info.status),
        f": {_ready(info)} replicas ready (generation {info.generation}).",
    )
    out.print(line)
    if not wait:
        out.print(Text(f"Follow it with `ember endpoint show {info.endpoint}`."))
    out.print(Text(f"Scoring URI: {endpoint.scoring_uri}"), soft_wrap=True)


def _wait(deployment: Deployment, timeout: float) -> None:
    """Wait for the deployment, with a spinner that follows its status at a terminal."""
    console = err_console()
    if not console.is_terminal:
        deployment.wait_for_deployment(timeout)
        return
    with console.status(Text("")) as spinner:

        def update(current: Deployment) -> None:
            info = current.info
            shown = (
                f"{info.name}: {info.status}, {_ready(info)} replicas ready (generation {info.generation})…"
            )
            spinner.update(Text(shown))

        deployment.wait_for_deployment(timeout, on_update=update)


@app.command("list")
def list_(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List the workspace's endpoints with their deployments and traffic."""
    with open_workspace(ctx) as backend:
        found = backend.endpoints.list_endpoints()
    if json_output:
        emit_json({"endpoints": found})
        return
    out = out_console()
    if not found:
        out.print("No endpoints yet: create one with `ember endpoint create NAME`.")
        return
    table = Table(box=None, header_style="bold")
    table.add_column("NAME", no_wrap=True)
    table.add_column("AUTH", no_wrap=True)
    table.add_column("DEPLOYMENTS", overflow="fold")
    table.add_column("TRAFFIC", overflow="fold")
    table.add_column("SCORING URI", overflow="fold")
    table.add_column("CREATED", no_wrap=True, min_width=19)
    for info in found:
        deployments = Text()
        for i, d in enumerate(info.deployments):
            if i:
                deployments.append(", ")
            deployments.append(d.name)
            deployments.append(" ")
            deployments.append(_status(d.status))
        table.add_row(
            Text(info.name, style="bold"),
            info.auth_mode,
            deployments,
            Text(_traffic(info.traffic)),
            Text(info.scoring_uri),
            _time(info.created_time),
        )
    out.print(table)


@app.command("show")
def show(ctx: typer.Context, name: EndpointArg, json_output: JsonOption = False) -> None:
    """Show an endpoint: URIs, auth, traffic, mirroring and its deployments' status."""
    with open_workspace(ctx) as backend:
        info = backend.endpoints.get_endpoint(name)
        host = backend.endpoints.get_serving_host()
    if json_output:
        emit_json({"endpoint": info, "serving_host": host})
        return
    _render(info, host)


@app.command("invoke")
def invoke(
    ctx: typer.Context,
    name: EndpointArg,
    data: Annotated[
        str | None,
        typer.Option("--data", metavar="JSON", help="The JSON to score.", show_default=False),
    ] = None,
    file: Annotated[
        str | None,
        typer.Option(
            "--file",
            "-f",
            metavar="PATH",
            help="A file holding the JSON to score ('-': stdin).",
            show_default=False,
        ),
    ] = None,
    deployment: Annotated[
        str | None,
        typer.Option(
            "--deployment",
            "-d",
            help="Send the request to this deployment, whatever the traffic split.",
            show_default=False,
        ),
    ] = None,
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the exception's message when the scoring script fails.")
    ] = False,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0, help="Seconds to wait for the answer.")
    ] = 60.0,
    json_output: JsonOption = False,
) -> None:
    """Score JSON with an endpoint (its key or a token is fetched for you) and print the JSON answer."""
    if (data is None) == (file is None):
        raise typer.BadParameter("give the JSON with --data or --file (- reads stdin)", param_hint="--data")
    if data is not None:
        text, source = data, "--data"
    elif file == "-":
        text, source = sys.stdin.read(), "stdin"
    else:
        try:
            text, source = Path(str(file)).read_text(encoding="utf-8"), str(file)
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidInput(f"cannot read {file!r}: {exc}") from None
    try:
        json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{source} is not valid JSON: {exc}") from None
    with open_workspace(ctx) as backend:
        endpoint = _endpoint(backend, name)
        try:
            answer: Any = endpoint.run(text, deployment=deployment, debug=debug, timeout=timeout)
        finally:
            endpoint.close()
    out = out_console()
    if json_output or not out.is_terminal:
        emit_json(answer)
        return
    out.print_json(data=answer)


@app.command("logs")
def logs(
    ctx: typer.Context,
    endpoint_name: EndpointArg,
    deployment_name: DeploymentArg,
    tail: Annotated[int, typer.Option("--tail", "-n", min=1, help="Lines per replica.")] = 200,
    json_output: JsonOption = False,
) -> None:
    """Print the last lines of a deployment's replica logs (each line prefixed with its replica)."""
    with open_workspace(ctx) as backend:
        found = backend.endpoints.get_logs(endpoint_name, deployment_name, tail=tail)
    if json_output:
        emit_json(found)
        return
    if not found.lines:
        err_console().print(f"No log lines yet for deployment {deployment_name} of endpoint {endpoint_name}.")
        return
    for line in found.lines:
        typer.echo(line)


@app.command("keys")
def keys(
    ctx: typer.Context,
    name: EndpointArg,
    regenerate: Annotated[
        str | None,
        typer.Option(
            "--regenerate",
            metavar="primary|secondary",
            help="Replace this key with a new one first (the old one is refused from then on).",
            show_default=False,
        ),
    ] = None,
    token: Annotated[bool, typer.Option("--token", help="Get a short-lived token (token auth).")] = False,
    json_output: JsonOption = False,
) -> None:
    """Print an endpoint's keys (or, with --token, a fresh scoring token)."""
    if regenerate is not None and regenerate not in ("primary", "secondary"):
        raise typer.BadParameter(
            f"{regenerate!r} is neither 'primary' nor 'secondary'", param_hint="--regenerate"
        )
    if regenerate is not None and token:
        raise typer.BadParameter("tokens are not regenerated: drop --token", param_hint="--regenerate")
    with open_workspace(ctx) as backend:
        info = backend.endpoints.get_endpoint(name)
        if token:
            if info.auth_mode == "key":
                raise InvalidInput(
                    f"endpoint {name!r} uses key auth, so it hands out no tokens: print its keys with "
                    f"`ember endpoint keys {name}`"
                )
            issued = backend.endpoints.get_token(name)
        else:
            if info.auth_mode == "token":
                raise InvalidInput(
                    f"endpoint {name!r} uses token auth, so it has no keys: get a token with "
                    f"`ember endpoint keys {name} --token`"
                )
            if regenerate is not None:
                found = backend.endpoints.regenerate_key(name, regenerate)
            else:
                found = backend.endpoints.get_keys(name)
    if token:
        if json_output:
            emit_json(issued)
            return
        typer.echo(f"token    {issued.access_token}")
        typer.echo(f"expires  {_time(issued.expiry_time)}")
        return
    if regenerate is not None:
        err_console().print(
            f"Regenerated the {regenerate} key of endpoint {name}: the old one is refused from now on."
        )
    if json_output:
        emit_json(found)
        return
    typer.echo(f"primary    {found.primary_key}")
    typer.echo(f"secondary  {found.secondary_key}")


@app.command("traffic")
def traffic(
    ctx: typer.Context,
    name: EndpointArg,
    pairs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="DEPLOYMENT=PERCENT...",
            help="The new split of live requests, summing to 100 (none: show the current one).",
            show_default=False,
        ),
    ] = None,
    mirror: Annotated[
        list[str] | None,
        typer.Option(
            "--mirror",
            metavar="DEPLOYMENT=PERCENT",
            help="Copy this percent of live requests to a deployment with no live traffic (answers are "
            "recorded, then dropped).",
            show_default=False,
        ),
    ] = None,
    clear_mirror: Annotated[bool, typer.Option("--clear-mirror", help="Stop mirroring.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Show or set how an endpoint splits live requests between its deployments (and mirrors them)."""
    from ember.entities.serving import EndpointUpdate
    from ember.entities.validation import build

    split = _shares(pairs, param="DEPLOYMENT=PERCENT")
    mirrored = _shares(mirror, param="--mirror")
    if mirrored and clear_mirror:
        raise typer.BadParameter("--mirror and --clear-mirror contradict each other", param_hint="--mirror")
    changing = bool(split or mirrored or clear_mirror)
    with open_workspace(ctx) as backend:
        if changing:
            update = build(
                EndpointUpdate,
                traffic=split or None,
                mirror_traffic={} if clear_mirror else (mirrored or None),
            )
            info = backend.endpoints.update_endpoint(name, update)
        else:
            info = backend.endpoints.get_endpoint(name)
    if json_output:
        emit_json({"endpoint": info.name, "traffic": info.traffic, "mirror_traffic": info.mirror_traffic})
        return
    out = out_console()
    if changing:
        out.print(
            Text.assemble(
                "Endpoint ", (info.name, "bold"), f" now sends {_traffic(info.traffic) or 'nothing'}."
            )
        )
    if not info.deployments:
        out.print(Text(f"Endpoint {info.name} has no deployments yet."))
        return
    out.print(_deployments_table(info))


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: EndpointArg,
    deployment: Annotated[
        str | None,
        typer.Option(
            "--deployment",
            "-d",
            help="Delete only this deployment (refused while it takes live or mirrored traffic).",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    json_output: JsonOption = False,
) -> None:
    """Delete an endpoint with all its deployments, or one deployment (--deployment); replicas stop."""
    with open_workspace(ctx) as backend:
        endpoints = backend.endpoints
        if deployment is not None:
            endpoints.get_deployment(name, deployment)
            subject = f"deployment {deployment} of endpoint {name}"
            what = f"{subject}; its replicas stop"
        else:
            info = endpoints.get_endpoint(name)
            names = [d.name for d in info.deployments]
            count = f"{len(names)} deployment{'' if len(names) == 1 else 's'}"
            listed = f" ({', '.join(names)})" if names else ""
            subject = f"endpoint {name}"
            what = f"{subject}, its keys and its {count}{listed}; callers of its URI get 404"
        if not yes:
            if not _can_ask():
                raise InvalidInput(
                    f"deleting {subject} cannot be undone: pass --yes to confirm when not at a terminal"
                )
            err_console().print(Text(f"This deletes {what}. It cannot be undone."))
            typer.confirm("Continue?", abort=True, err=True)
        if deployment is not None:
            endpoints.delete_deployment(name, deployment)
        else:
            endpoints.delete_endpoint(name)
    if json_output:
        emit_json({"endpoint": name, "deployment": deployment, "deleted": True})
        return
    out_console().print(Text(f"Deleted {subject}."))
