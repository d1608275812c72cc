"""Stories about online endpoints on the command line: create one, deploy a model with a scoring script,
follow it until the serving host reports it ready, split traffic, print keys and tokens, read logs, score
JSON, and delete with confirmation.

No serving host runs here (``EMBER_SERVING_AUTOSTART=0``): the tests report deployments' status the way
the host does, and a small HTTP server on a loopback port stands in for its router when scoring.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cli_support import Cli

from ember.backend import Backend
from ember.cli import endpoint as endpoint_cli
from ember.errors import NotFound
from ember.wiring import open_backend

SCORE = "def init():\n    pass\n\n\ndef run(raw_data):\n    return raw_data\n"


@pytest.fixture(autouse=True)
def _no_serving_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EMBER_SERVING_AUTOSTART", "0")


@pytest.fixture
def backend(workspace: Path) -> Iterator[Backend]:
    """The workspace, opened the way the serving host opens it, to report deployments' status."""
    opened = open_backend(str(workspace))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def project_files(workspace: Path, project: Path, cli: Cli) -> Path:
    """A registered model ``iris-clf``, a scoring folder ``serve/`` and ``inference.yml`` pointing at it."""
    (project / "model.pkl").write_bytes(b"pickled weights")
    cli.ok("model", "register", "model.pkl", "--name", "iris-clf")
    (project / "serve").mkdir()
    (project / "serve" / "score.py").write_text(SCORE)
    (project / "inference.yml").write_text("entry_script: score.py\nsource_directory: serve\n")
    return project


@pytest.fixture
def iris(project_files: Path, cli: Cli) -> dict[str, Any]:
    """Endpoint ``iris`` with deployment ``blue`` (all the traffic) and ``green`` (none), not yet ready."""
    created = cli.json("endpoint", "create", "iris", "--tag", "team=ml", "--description", "Iris species")
    cli.ok("endpoint", "deploy", "iris", "blue", "--model", "iris-clf", "-i", "inference.yml", "--no-wait")
    cli.ok("endpoint", "deploy", "iris", "green", "--model", "iris-clf:1", "-i", "inference.yml", "--no-wait")
    return created


def report_later(
    backend: Backend, endpoint: str, deployment: str, *, status: str, generation: int = 1, **fields: Any
) -> threading.Thread:
    """Report once the deployment's ``generation`` is recorded, in the background, like the host would."""
    values: dict[str, Any] = {"message": "", "desired": 1, "ready": 1, "restarts": 0, "replicas": []}
    values.update(fields)

    def wait_then_report() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if backend.endpoints.get_deployment(endpoint, deployment).generation >= generation:
                    break
            except NotFound:
                pass
            time.sleep(0.02)
        time.sleep(0.2)
        backend.endpoints.report_deployment(  # type: ignore[attr-defined]
            endpoint, deployment, generation=generation, status=status, **values
        )

    thread = threading.Thread(target=wait_then_report, daemon=True)
    thread.start()
    return thread


class FakeRouter:
    """Answers scoring requests on a loopback port like the serving host's router, and records them."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.answer: Any = {"predictions": [0]}
        router = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                router.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                data = json.dumps(router.answer).encode()
                self.send_response(router.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-Request-Id", "req-42")
                self.send_header("X-Ember-Deployment", self.headers.get("X-Ember-Deployment") or "blue")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def router(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeRouter]:
    fake = FakeRouter()
    monkeypatch.setenv("EMBER_SERVING_URL", fake.url)  # where the workspace says endpoints are served
    try:
        yield fake
    finally:
        fake.close()


def _flat(text: str) -> str:
    return " ".join(text.replace("│", " ").split())


def _row(table: str, *start: str) -> list[str]:
    return next(line.split() for line in table.splitlines() if line.split()[: len(start)] == list(start))


# -- creating and showing --------------------------------------------------------------------------


def test_create_then_list_and_show_the_endpoint(project_files: Path, cli: Cli) -> None:
    said = cli.ok("endpoint", "create", "iris", "--description", "Iris species", "-t", "team=ml").stdout
    token = cli.json("endpoint", "create", "churn", "--auth-mode", "token")
    listed = cli.json("endpoint", "list")
    table = cli.ok("endpoint", "list").stdout
    shown = cli.ok("endpoint", "show", "iris").stdout
    details = cli.json("endpoint", "show", "iris")

    assert "Created endpoint iris (key auth)." in said
    assert "/endpoints/iris/score" in said
    assert token["auth_mode"] == "token"
    assert [e["name"] for e in listed["endpoints"]] == ["churn", "iris"]
    assert _row(table, "iris")[1] == "key"
    assert _row(table, "churn")[1] == "token"
    assert details["endpoint"]["tags"] == {"team": "ml"}
    assert details["endpoint"]["scoring_uri"].endswith("/endpoints/iris/score")
    assert details["serving_host"]["alive"] is False
    assert "Iris species" in shown
    assert "team=ml" in shown
    assert "No deployments yet" in shown
    assert "emk_" not in shown + json.dumps(details)  # keys are never shown by show


def test_deploy_records_the_deployment_and_its_snapshot(project_files: Path, cli: Cli) -> None:
    cli.ok("endpoint", "create", "iris")

    said = cli.ok(
        "endpoint", "deploy", "iris", "blue", "--model", "iris-clf", "-i", "inference.yml", "--no-wait"
    ).stdout
    green = cli.json(
        "endpoint", "deploy", "iris", "green", "-m", "iris-clf:1", "--entry-script", "score.py",
        "--source-dir", "serve", "--min-replicas", "1", "--max-replicas", "3", "--collect-data", "--no-wait",
    )  # fmt: skip
    shown = cli.ok("endpoint", "show", "iris").stdout

    assert "Deployment blue of endpoint iris is Creating: 0/1 replicas ready (generation 1)." in said
    assert "ember endpoint show iris" in said
    assert green["name"] == "green"
    assert green["entry_script"] == "score.py"
    assert len(green["snapshot_digest"]) == 64
    assert [(m["name"], m["version"]) for m in green["models"]] == [("iris-clf", 1)]
    assert green["autoscale"]["max_replicas"] == 3
    assert green["collect_data"] is True
    assert _row(shown, "blue")[1:7] == ["Creating", "0", "1", "0", "1", "100%"]
    assert _row(shown, "green")[6] == "0%"
    assert "iris-clf:1" in _row(shown, "green")
    assert "score.py" in _row(shown, "green")


def test_deploy_waits_until_the_host_reports_the_deployment_healthy(
    project_files: Path, backend: Backend, cli: Cli
) -> None:
    cli.ok("endpoint", "create", "iris")
    report_later(backend, "iris", "blue", status="Healthy", desired=2, ready=2)

    said = cli.ok(
        "endpoint", "deploy", "iris", "blue", "-m", "iris-clf", "-i", "inference.yml", "--replicas", "2"
    ).stdout

    assert "Deployment blue of endpoint iris is Healthy: 2/2 replicas ready (generation 1)." in said
    assert "Scoring URI:" in said


def test_a_failed_deployment_exits_with_its_reason_and_log_lines(
    project_files: Path, backend: Backend, cli: Cli
) -> None:
    cli.ok("endpoint", "create", "iris")
    logs = backend.endpoints.state_dir / "logs" / "iris" / "blue"  # type: ignore[attr-defined]
    logs.mkdir(parents=True)
    (logs / "events.log").write_text("starting replica r1\nr1 exited with code 1\n")
    report_later(backend, "iris", "blue", status="Failed", message="init() raised KeyError: 'model'", ready=0)

    result = cli("endpoint", "deploy", "iris", "blue", "-m", "iris-clf", "-i", "inference.yml")

    assert result.exit_code == 1
    assert "init() raised KeyError: 'model'" in result.stderr
    assert "r1 exited with code 1" in result.stderr
    assert "Traceback" not in result.output


def test_deploy_gives_up_after_the_timeout(project_files: Path, cli: Cli) -> None:
    cli.ok("endpoint", "create", "iris")

    result = cli(
        "endpoint", "deploy", "iris", "blue", "-m", "iris-clf", "-i", "inference.yml", "--timeout", "0.3"
    )

    assert result.exit_code == 1
    assert "is not ready after 0.3 s (status Creating" in _flat(result.stderr)
    assert "ember endpoint logs iris blue" in result.stderr


# -- traffic ---------------------------------------------------------------------------------------


def test_traffic_is_shown_split_and_mirrored(iris: dict[str, Any], cli: Cli) -> None:
    before = cli.json("endpoint", "traffic", "iris")
    said = cli.ok("endpoint", "traffic", "iris", "blue=90", "green=10").stdout
    cli.ok("endpoint", "traffic", "iris", "blue=100", "green=0")
    mirrored = cli.json("endpoint", "traffic", "iris", "--mirror", "green=10")
    table = cli.ok("endpoint", "traffic", "iris").stdout
    cleared = cli.json("endpoint", "traffic", "iris", "--clear-mirror")
    refused = cli("endpoint", "traffic", "iris", "blue=50", "green=20")

    assert before == {"endpoint": "iris", "traffic": {"blue": 100, "green": 0}, "mirror_traffic": {}}
    assert "Endpoint iris now sends blue 90%, green 10%." in said
    assert mirrored["mirror_traffic"] == {"green": 10}
    assert _row(table, "green")[6:8] == ["0%", "10%"]
    assert cleared["mirror_traffic"] == {}
    assert refused.exit_code == 1
    assert "Traceback" not in refused.output
    assert cli.json("endpoint", "traffic", "iris")["traffic"] == {"blue": 100, "green": 0}


# -- keys, logs ------------------------------------------------------------------------------------


def test_keys_are_printed_and_regenerated_one_at_a_time(iris: dict[str, Any], cli: Cli) -> None:
    plain = cli.ok("endpoint", "keys", "iris").stdout
    before = cli.json("endpoint", "keys", "iris")
    regenerated = cli.ok("endpoint", "keys", "iris", "--regenerate", "secondary", "--json")
    after = json.loads(regenerated.stdout)
    no_token = cli("endpoint", "keys", "iris", "--token")

    assert plain.splitlines() == [
        f"primary    {before['primary_key']}",
        f"secondary  {before['secondary_key']}",
    ]
    assert after["primary_key"] == before["primary_key"]
    assert after["secondary_key"] != before["secondary_key"]
    assert "Regenerated the secondary key" in regenerated.stderr
    assert no_token.exit_code == 1
    assert "uses key auth" in no_token.stderr


def test_a_token_endpoint_prints_tokens_and_has_no_keys(project_files: Path, cli: Cli) -> None:
    cli.ok("endpoint", "create", "churn", "--auth-mode", "token")

    token = cli.json("endpoint", "keys", "churn", "--token")
    plain = cli.ok("endpoint", "keys", "churn", "--token").stdout
    keys = cli("endpoint", "keys", "churn")

    assert token["access_token"]
    assert token["expiry_time"] > time.time()
    assert plain.startswith("token    ")
    assert "expires  " in plain
    assert keys.exit_code == 1
    assert "--token" in keys.stderr


def test_logs_prints_the_last_lines_of_a_deployment(iris: dict[str, Any], backend: Backend, cli: Cli) -> None:
    logs = backend.endpoints.state_dir / "logs" / "iris" / "blue"  # type: ignore[attr-defined]
    logs.mkdir(parents=True)
    (logs / "events.log").write_text("one\ntwo\nthree\n")

    printed = cli.ok("endpoint", "logs", "iris", "blue", "--tail", "2").stdout
    as_json = cli.json("endpoint", "logs", "iris", "blue")
    empty = cli.ok("endpoint", "logs", "iris", "green")

    assert printed.splitlines() == ["[host] two", "[host] three"]
    assert as_json["lines"] == ["[host] one", "[host] two", "[host] three"]
    assert empty.stdout == ""
    assert "No log lines yet" in empty.stderr


# -- scoring ---------------------------------------------------------------------------------------


def test_invoke_sends_json_with_the_key_and_prints_the_answer(
    router: FakeRouter, iris: dict[str, Any], project: Path, cli: Cli
) -> None:
    key = cli.json("endpoint", "keys", "iris")["primary_key"]
    (project / "rows.json").write_text('{"data": [[1, 2]]}')

    answer = cli.json("endpoint", "invoke", "iris", "--data", '{"data": [[5.1, 3.5]]}')
    from_file = cli.ok("endpoint", "invoke", "iris", "--file", "rows.json", "--deployment", "green").stdout
    from_stdin = cli.ok("endpoint", "invoke", "iris", "--file", "-", "--debug", input='{"data": []}').stdout

    assert answer == {"predictions": [0]}
    assert json.loads(from_file) == {"predictions": [0]}
    assert json.loads(from_stdin) == {"predictions": [0]}
    first, second, third = router.requests
    assert first["path"] == "/endpoints/iris/score"
    assert first["headers"]["Authorization"] == f"Bearer {key}"
    assert json.loads(first["body"]) == {"data": [[5.1, 3.5]]}
    assert second["headers"]["X-Ember-Deployment"] == "green"
    assert second["body"] == b'{"data": [[1, 2]]}'
    assert third["headers"]["X-Ember-Debug"] == "true"


def test_invoke_reports_an_error_answer_with_its_request_id(
    router: FakeRouter, iris: dict[str, Any], cli: Cli
) -> None:
    router.status = 500
    router.answer = {"error": {"code": "scoring_error", "message": "the scoring script failed"}}

    result = cli("endpoint", "invoke", "iris", "--data", "[1]")

    assert result.exit_code == 1
    message = _flat(result.stderr)
    assert "endpoint 'iris' answered 500 (deployment blue): the scoring script failed" in message
    assert "req-42" in message
    assert "Traceback" not in result.output


def test_invoke_without_a_serving_host_says_so(iris: dict[str, Any], cli: Cli) -> None:
    result = cli("endpoint", "invoke", "iris", "--data", "{}", "--timeout", "5")

    assert result.exit_code == 1
    assert "serving host" in result.stderr


# -- deleting --------------------------------------------------------------------------------------


def test_delete_needs_yes_when_nobody_can_answer(iris: dict[str, Any], cli: Cli) -> None:
    refused = cli("endpoint", "delete", "iris")
    in_use = cli("endpoint", "delete", "iris", "--deployment", "blue", "--yes")
    one = cli.json("endpoint", "delete", "iris", "--deployment", "green", "--yes")
    whole = cli.ok("endpoint", "delete", "iris", "--yes").stdout

    assert refused.exit_code == 1
    assert "--yes" in refused.stderr
    assert in_use.exit_code == 1
    assert "traffic" in in_use.stderr
    assert one == {"endpoint": "iris", "deployment": "green", "deleted": True}
    assert "Deleted endpoint iris." in whole
    assert cli.json("endpoint", "list") == {"endpoints": []}


def test_delete_asks_at_a_terminal(iris: dict[str, Any], cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(endpoint_cli, "_can_ask", lambda: True)

    declined = cli("endpoint", "delete", "iris", input="n\n")
    kept = cli.json("endpoint", "list")
    accepted = cli.ok("endpoint", "delete", "iris", input="y\n")

    assert declined.exit_code == 1
    assert "This deletes endpoint iris, its keys and its 2 deployments (blue, green)" in _flat(
        declined.stderr
    )
    assert [e["name"] for e in kept["endpoints"]] == ["iris"]
    assert "Deleted endpoint iris." in accepted.stdout


# -- bad input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("show", "nope"), 1, "endpoint 'nope' not found"),
        (("create", "Iris_Classifier"), 1, "endpoint name 'Iris_Classifier' is invalid"),
        (("create", "iris"), 1, "an endpoint named 'iris' exists"),
        (("create", "x", "--auth-mode", "password"), 2, "neither 'key' nor 'token'"),
        (("create", "x", "--tag", "team"), 2, "'team' is not KEY=VALUE"),
        (("deploy", "iris", "Red", "-m", "iris-clf", "-i", "inference.yml"), 1,
         "deployment name 'Red' is invalid"),
        (("deploy", "iris", "red", "--model", "iris-clf:"), 2, "is not NAME[:VERSION|:ALIAS]"),
        (("deploy", "iris", "red", "--model", "nope", "-i", "inference.yml"), 1, "model 'nope' not found"),
        (("deploy", "iris", "red", "-m", "iris-clf", "-i", "missing.yml"), 1, "does not exist"),
        (("deploy", "iris", "red", "-m", "iris-clf", "--source-dir", "serve"), 2, "goes with --entry-script"),
        (("deploy", "iris", "red", "-m", "iris-clf", "--entry-script", "nope.py", "--source-dir", "serve"), 1,
         "not a file"),
        (("deploy", "iris", "red", "-m", "iris-clf", "-i", "inference.yml", "-e", "sk:x"), 2,
         "NAME[:VERSION]"),
        (("deploy", "iris", "red", "-m", "iris-clf", "-i", "inference.yml", "-e", "sk"), 1,
         "environment 'sk' not found"),
        (("deploy", "iris", "red", "-m", "iris-clf", "-i", "inference.yml", "--min-replicas", "4",
          "--max-replicas", "2"), 2, "must be at least --min-replicas (4)"),
        (("traffic", "iris", "blue"), 2, "is not DEPLOYMENT=PERCENT"),
        (("traffic", "iris", "--mirror", "green=5", "--clear-mirror"), 2, "contradict"),
        (("invoke", "iris"), 2, "--data or --file"),
        (("invoke", "iris", "--data", "{nope"), 1, "--data is not valid JSON"),
        (("keys", "iris", "--regenerate", "tertiary"), 2, "neither 'primary' nor 'secondary'"),
        (("logs", "iris", "purple"), 1, "has no deployment 'purple'"),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_error_without_a_traceback(
    iris: dict[str, Any], cli: Cli, args: tuple[str, ...], code: int, message: str
) -> None:
    result = cli("endpoint", *args)

    assert result.exit_code == code, result.output
    assert message in _flat(result.stderr)
    assert "Traceback" not in result.output
    assert cli.json("endpoint", "traffic", "iris")["traffic"] == {"blue": 100, "green": 0}
