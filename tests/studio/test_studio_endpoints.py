"""A user looks after online endpoints in the studio: the list with deployments and traffic, an endpoint's
overview, the traffic editor, a test request, telemetry, replica logs, keys and tokens, and deleting one.

The workspace here is this module's own (``serving_ws``): ``iris`` (key auth) with two deployments, ``blue``
taking all the traffic and ``green`` none, ``churn`` (token auth, no deployment yet) and ``scratch``, which a
test deletes. No serving host runs (``EMBER_SERVING_AUTOSTART=0`` for the seeding and for the server), so the
deployments stay ``Creating`` and a test request is refused with 503: what the pages must say then. The last
test, marked slow, starts a real serving host and scores through the Test tab.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from studio_support import checked_page

import ember
from support.sdk_env import isolate_sdk_environment
from support.server_harness import ServerProcess, start_server, stop_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

Screenshot = Callable[[Any, str], Path]

SCORE = """
def init():
    pass


def run(raw_data):
    return {"predictions": [0]}
"""

SAMPLE_REQUEST = '{"data": [[5.1, 3.5, 1.4, 0.2]]}'


@dataclass
class ServingWorkspace:
    path: Path
    model_version: int
    source: Path  # the folder holding score.py


def _seed(folder: Path, files: Path) -> ServingWorkspace:
    files.mkdir(parents=True)
    ws = ember.Workspace.create(folder, name="serving-team")
    weights = files / "iris.pkl"
    weights.write_bytes(b"iris logistic regression weights")
    model = ember.Model.register(ws, weights, "iris-clf", framework="sklearn")
    source = files / "serving"
    source.mkdir()
    (source / "score.py").write_text(SCORE)
    config = ember.InferenceConfig(entry_script="score.py", source_directory=source)

    iris = ember.Endpoint.create(ws, "iris", description="Iris species from four measurements")
    iris.deploy("blue", models=[model], inference_config=config, wait=False)  # takes all the traffic
    iris.deploy("green", models=[model], inference_config=config, replicas=2, collect_data=True, wait=False)
    ember.Endpoint.create(ws, "churn", auth_mode="token", tags={"team": "growth"})
    ember.Endpoint.create(ws, "scratch")
    ws.close()
    return ServingWorkspace(path=folder, model_version=model.version, source=source)


@pytest.fixture(scope="module")
def serving_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServingWorkspace]:
    root = tmp_path_factory.mktemp("endpoint-pages")
    with pytest.MonkeyPatch.context() as patch:
        isolate_sdk_environment(patch, root / "cache")
        # No serving host: neither the SDK here nor the server starts one (the server inherits the variable).
        patch.setenv("EMBER_SERVING_AUTOSTART", "0")
        for name in ("EMBER_SERVING_PORT", "EMBER_SERVING_URL"):
            patch.delenv(name, raising=False)
        yield _seed(root / "ws", root / "files")


@pytest.fixture(scope="module")
def serving_server(studio_built: Path, serving_ws: ServingWorkspace) -> Iterator[ServerProcess]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("EMBER_SERVING_AUTOSTART", "0")
        server = start_server(serving_ws.path, serving_ws.path.parent / "server.log")
    try:
        yield server
    finally:
        stop_server(server.process)


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """Like conftest's ``page``, but the refusals these stories provoke (400, 503) are not page errors."""
    with checked_page(browser, expected_statuses="400|404|409|503") as page:
        yield page


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _api(server: ServerProcess) -> httpx.Client:
    # The server refuses state-changing requests from other origins; the page's own origin passes.
    return httpx.Client(base_url=f"{server.url}/api/v1", headers={"Origin": server.url}, timeout=10)


def test_the_list_shows_each_endpoint_with_its_deployments_and_traffic(
    page: Page, serving_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{serving_server.url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Endpoints").click()

    expect(page).to_have_url(re.compile(r"/endpoints$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Endpoints")
    rows = page.get_by_test_id("endpoint-row")
    expect(rows).to_have_count(3)
    expect(rows.first).to_have_attribute("data-name", "churn")  # by name
    iris = page.locator("[data-testid=endpoint-row][data-name=iris]")
    expect(iris.get_by_test_id("endpoint-auth")).to_have_text("Key")
    expect(iris.get_by_test_id("scoring-uri")).to_have_text(re.compile(r"/endpoints/iris/score$"))
    expect(iris).to_contain_text("Iris species from four measurements")
    blue = iris.locator("[data-testid=endpoint-deployment][data-name=blue]")
    expect(blue.get_by_test_id("deployment-status")).to_have_text("Creating")
    expect(blue.get_by_test_id("deployment-traffic")).to_have_text("100%")
    green = iris.locator("[data-testid=endpoint-deployment][data-name=green]")
    expect(green.get_by_test_id("deployment-traffic")).to_have_text("0%")
    churn = page.locator("[data-testid=endpoint-row][data-name=churn]")
    expect(churn.get_by_test_id("endpoint-auth")).to_have_text("Token")
    expect(churn).to_contain_text("none yet")
    expect(page.get_by_test_id("serving-host")).to_have_text("Serving host down")
    expect(page.get_by_test_id("endpoints-summary")).to_have_text("3 endpoints, 2 deployments.")
    screenshot(page, "endpoints")

    iris.get_by_role("link", name="iris").click()
    expect(page).to_have_url(re.compile(r"/endpoints/iris$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("iris")


def test_a_workspace_without_endpoints_shows_how_to_create_one(
    page: Page, studio_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{studio_server.url}/endpoints")

    expect(page.get_by_role("heading", name="No endpoints yet")).to_be_visible()
    expect(page.get_by_text("ember endpoint create iris")).to_be_visible()
    expect(page.get_by_text('endpoint = ember.Endpoint.create(ws, "iris")')).to_be_visible()
    expect(page.get_by_test_id("serving-host")).to_have_count(0)  # nothing to serve: no alarm
    screenshot(page, "endpoints-empty")


def test_the_overview_shows_the_deployments_and_that_no_host_serves_them(
    page: Page, serving_server: ServerProcess, serving_ws: ServingWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{serving_server.url}/endpoints/iris")

    details = page.get_by_test_id("endpoint-details")
    expect(details.get_by_test_id("endpoint-scoring-uri")).to_have_text(re.compile(r"/endpoints/iris/score$"))
    expect(details.get_by_test_id("endpoint-swagger-uri")).to_have_text(
        re.compile(r"/endpoints/iris/swagger\.json$")
    )
    expect(details.get_by_test_id("serving-host")).to_have_text("Serving host down")
    expect(details.get_by_test_id("serving-host-hint")).to_contain_text("ember server")
    expect(details.get_by_test_id("endpoint-traffic-summary")).to_have_text("blue 100%")

    blue = page.locator("[data-testid=deployment-row][data-name=blue]")
    expect(blue.get_by_test_id("deployment-status")).to_have_text("Creating")
    expect(blue.get_by_test_id("deployment-replicas")).to_have_text("0 / 1")
    expect(blue.get_by_test_id("deployment-traffic")).to_have_text("100%")
    green = page.locator("[data-testid=deployment-row][data-name=green]")
    expect(green.get_by_test_id("deployment-replicas")).to_have_text("0 / 2")
    expect(green).to_contain_text("yes")  # collects data
    expect(green).to_contain_text("the host's Python")
    usage = page.get_by_test_id("endpoint-usage")
    expect(usage).to_contain_text("Authorization: Bearer $EMBER_KEY")
    expect(usage).to_contain_text('endpoint.run({"data": [[5.1, 3.5, 1.4, 0.2]]})')
    screenshot(page, "endpoint-overview")

    # The copy button puts the URI on the clipboard.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    details.get_by_role("button", name="Copy the scoring URI").click()
    expect(details.get_by_role("button", name="Copy the scoring URI")).to_have_text(re.compile("^Copied"))
    assert page.evaluate("navigator.clipboard.readText()").endswith("/endpoints/iris/score")

    link = blue.get_by_test_id("deployment-model")
    expect(link).to_have_text(f"iris-clf:{serving_ws.model_version}")
    link.click()
    expect(page).to_have_url(re.compile(rf"/models/iris-clf\?version={serving_ws.model_version}$"))


def test_the_traffic_editor_checks_the_split_and_shows_the_servers_refusal(
    page: Page, serving_server: ServerProcess, serving_ws: ServingWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{serving_server.url}/endpoints/iris")
    editor = page.get_by_test_id("endpoint-traffic")
    blue = editor.get_by_label("Live traffic to blue (%)")
    green = editor.get_by_label("Live traffic to green (%)")
    save = editor.get_by_test_id("traffic-save")
    expect(blue).to_have_value("100")
    expect(save).to_be_disabled()  # nothing changed

    blue.fill("90")
    expect(editor.get_by_test_id("traffic-total")).to_have_text("90%")
    expect(editor.get_by_test_id("traffic-error")).to_have_text(
        "Live traffic adds up to 90%; it must be 100%."
    )
    expect(save).to_be_disabled()
    green.fill("10")
    expect(editor.get_by_test_id("traffic-error")).to_have_count(0)
    screenshot(page, "endpoint-traffic-edit")
    with page.expect_response(lambda r: r.request.method == "PATCH" and r.url.endswith("/endpoints/iris")):
        save.click()
    expect(page.get_by_test_id("endpoint-traffic-summary")).to_have_text("blue 90% · green 10%")
    expect(editor.get_by_test_id("traffic-saved")).to_be_visible()
    with _api(serving_server) as api:
        assert api.get("/endpoints/iris").json()["traffic"] == {"blue": 90, "green": 10}

    # Mirroring goes to a deployment without live traffic, at most 50%.
    mirror = editor.get_by_label("Traffic mirrored to green (%)")
    mirror.fill("60")
    expect(mirror).to_have_attribute("aria-invalid", "true")
    mirror.fill("20")
    expect(editor.get_by_test_id("traffic-error")).to_have_text(
        "green takes live traffic: mirror only to a deployment at 0% live traffic."
    )
    blue.fill("100")
    green.fill("0")
    with page.expect_response(lambda r: r.request.method == "PATCH"):
        save.click()
    expect(page.get_by_test_id("endpoint-traffic-summary")).to_have_text("blue 100% · mirror → green 20%")

    # Someone deletes green meanwhile (it takes no live traffic once its mirror stops): the server refuses.
    with _api(serving_server) as api:
        assert api.patch("/endpoints/iris", json={"mirror_traffic": {}}).status_code == 200
        assert api.delete("/endpoints/iris/deployments/green").status_code == 204
    blue.fill("50")
    green.fill("50")
    editor.get_by_label("Traffic mirrored to green (%)").fill("0")
    with page.expect_response(lambda r: r.request.method == "PATCH") as answer:
        save.click()
    assert answer.value.status == 400
    refusal = editor.get_by_role("alert")
    expect(refusal).to_contain_text("The server refused the traffic")
    expect(refusal).to_contain_text("green")
    screenshot(page, "endpoint-traffic-refused")

    # Put green back for the other tests (serving_ws keeps EMBER_SERVING_AUTOSTART=0 for the module).
    ws = ember.Workspace.get(serving_ws.path)
    try:
        model = ember.Model(ws, "iris-clf", version=serving_ws.model_version)
        config = ember.InferenceConfig(entry_script="score.py", source_directory=serving_ws.source)
        endpoint = ember.Endpoint(ws, "iris")
        endpoint.deploy(
            "green", models=[model], inference_config=config, replicas=2, collect_data=True, wait=False
        )
        endpoint.set_traffic({"blue": 100})
    finally:
        ws.close()


def test_the_test_tab_sends_a_request_and_says_clearly_that_no_host_answers(
    page: Page, serving_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{serving_server.url}/endpoints/iris")
    page.get_by_test_id("tab-test").click()
    expect(page).to_have_url(re.compile(r"/endpoints/iris/test$"))

    editor = page.get_by_label("JSON body")
    expect(editor).to_have_value(SAMPLE_REQUEST)
    send = page.get_by_test_id("invoke-send")
    editor.fill('{"data": [[5.1, 3.5}')
    expect(page.get_by_test_id("invoke-json-error")).to_contain_text("Not valid JSON")
    expect(send).to_be_disabled()
    page.get_by_role("button", name="Sample").click()
    expect(send).to_be_enabled()

    picker = page.get_by_test_id("invoke-deployment-select")
    expect(picker.locator("option").first).to_have_text(re.compile(r"^By traffic \(blue 100%"))
    picker.select_option("blue")
    page.get_by_test_id("invoke-debug").check()
    with page.expect_request(lambda r: r.url.endswith("/endpoints/iris/invoke")) as sent:
        send.click()
    assert sent.value.post_data_json == {"body": SAMPLE_REQUEST, "deployment": "blue", "debug": True}
    response = page.get_by_test_id("invoke-response")
    banner = response.get_by_role("alert")
    expect(banner).to_contain_text("The endpoint could not take the request (HTTP 503)")
    expect(banner).to_contain_text("the serving host is not running")
    screenshot(page, "endpoint-test-503")


def test_telemetry_says_when_no_host_runs(
    page: Page, serving_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    with page.expect_request(lambda r: r.url.endswith("/endpoints/iris/telemetry")):
        page.goto(f"{serving_server.url}/endpoints/iris/telemetry")

    expect(page.get_by_test_id("telemetry-host-down")).to_contain_text("The serving host is not running.")
    rows = page.get_by_test_id("telemetry-row")
    expect(rows).to_have_count(2)
    expect(rows.first.get_by_test_id("telemetry-requests")).to_have_text("0")
    # Polled every 2 s; samples from no host are not charted.
    with page.expect_request(lambda r: r.url.endswith("/endpoints/iris/telemetry")):
        pass
    expect(page.get_by_test_id("metric-chart")).to_have_count(0)
    screenshot(page, "endpoint-telemetry-down")


def test_logs_pick_a_deployment_and_a_tail_and_refresh(
    page: Page, serving_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{serving_server.url}/endpoints/iris/logs")

    view = page.get_by_test_id("logs-view")
    expect(view).to_have_attribute("data-deployment", "blue")  # the one taking the traffic
    expect(page.get_by_test_id("logs-deployment-select")).to_have_value("blue")
    with page.expect_request(lambda r: "/deployments/green/logs" in r.url and "tail=200" in r.url):
        page.get_by_test_id("logs-deployment-select").select_option("green")
    expect(view).to_have_attribute("data-deployment", "green")
    expect(page).to_have_url(re.compile(r"[?&]deployment=green"))
    with page.expect_request(lambda r: "/deployments/green/logs" in r.url and "tail=1000" in r.url):
        page.get_by_test_id("logs-tail-select").select_option("1000")
    with page.expect_request(lambda r: "/deployments/green/logs" in r.url):
        page.get_by_test_id("logs-refresh").click()
    page.get_by_test_id("logs-auto").check()
    with page.expect_request(lambda r: "/deployments/green/logs" in r.url, timeout=5000):
        pass  # asked again on its own within 2 s
    screenshot(page, "endpoint-logs")


def test_keys_are_revealed_on_demand_and_regenerated_after_a_confirmation(
    page: Page, serving_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    requested: list[str] = []
    page.on(
        "request",
        lambda r: requested.append(r.url) if r.url.endswith("/api/v1/endpoints/iris/keys") else None,
    )
    page.goto(f"{serving_server.url}/endpoints/iris/keys")

    values = page.get_by_test_id("key-value")
    expect(values).to_have_count(2)
    expect(values.first).to_have_text("•" * 24)
    assert requested == []  # nothing secret is fetched until asked
    screenshot(page, "endpoint-keys-masked")
    page.get_by_test_id("keys-reveal").click()
    with _api(serving_server) as api:
        keys = api.get("/endpoints/iris/keys").json()
    expect(values).to_have_text([keys["primary_key"], keys["secondary_key"]])
    screenshot(page, "endpoint-keys")

    secondary = page.locator("[data-testid=key-row][data-key-type=secondary]")
    secondary.get_by_test_id("key-regenerate").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Regenerate the secondary key?")
    dialog.get_by_role("button", name="Regenerate").click()
    expect(dialog).to_be_hidden()
    expect(secondary.get_by_test_id("key-regenerated")).to_be_visible()
    expect(secondary.get_by_test_id("key-value")).not_to_have_text(keys["secondary_key"])
    with _api(serving_server) as api:
        fresh = api.get("/endpoints/iris/keys").json()
    assert fresh["primary_key"] == keys["primary_key"]
    expect(secondary.get_by_test_id("key-value")).to_have_text(fresh["secondary_key"])

    page.get_by_test_id("keys-hide").click()
    expect(values.first).to_have_text("•" * 24)


def test_a_token_endpoint_hands_out_tokens(
    page: Page, serving_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{serving_server.url}/endpoints/churn/keys")

    expect(page.get_by_test_id("endpoint-keys")).to_have_count(0)
    page.get_by_test_id("token-get").click()
    expect(page.get_by_test_id("token-value")).to_have_text(re.compile(r"^emt_"))
    expect(page.get_by_test_id("token-expiry")).to_have_text(re.compile(r"^in (1 h|60 min) "))
    screenshot(page, "endpoint-token")

    page.get_by_test_id("tab-overview").click()
    expect(page.get_by_test_id("endpoint-deployments")).to_contain_text(
        "No deployment serves this endpoint yet"
    )


def test_deleting_an_endpoint_asks_first(
    page: Page, serving_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{serving_server.url}/endpoints/scratch")
    page.get_by_test_id("endpoint-delete").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Delete the endpoint scratch?")
    screenshot(page, "endpoint-delete")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    page.get_by_test_id("endpoint-delete").click()
    dialog.get_by_role("button", name="Delete endpoint").click()
    expect(page).to_have_url(re.compile(r"/endpoints$"))
    expect(page.locator("[data-testid=endpoint-row][data-name=scratch]")).to_have_count(0)
    with _api(serving_server) as api:
        assert api.get("/endpoints/scratch").status_code == 404

    page.goto(f"{serving_server.url}/endpoints/scratch")
    expect(page.get_by_role("heading", name="No such endpoint")).to_be_visible()


# -- with a serving host ---------------------------------------------------------------------------------


def _stop_host(workspace: Path) -> None:
    ws = ember.Workspace.get(workspace)
    try:
        host = ws.backend.endpoints.get_serving_host()
    finally:
        ws.close()
    if host.pid and host.alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(host.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                os.kill(host.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        with contextlib.suppress(ProcessLookupError):
            os.kill(host.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def live_server(studio_built: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A workspace whose endpoint ``live`` is served by a real serving host, and a server on it."""
    root = tmp_path_factory.mktemp("endpoint-live")
    with pytest.MonkeyPatch.context() as patch:
        isolate_sdk_environment(patch, root / "cache")
        patch.setenv("EMBER_SERVING_AUTOSTART", "1")
        patch.setenv("EMBER_SERVING_IDLE_EXIT", "30")
        for name in ("EMBER_SERVING_PORT", "EMBER_SERVING_URL"):
            patch.delenv(name, raising=False)
        source = root / "serving"
        source.mkdir()
        (source / "score.py").write_text(SCORE)
        ws = ember.Workspace.create(root / "ws", name="live-serving")
        try:
            endpoint = ember.Endpoint.create(ws, "live")
            endpoint.deploy(
                "blue",
                inference_config=ember.InferenceConfig(entry_script="score.py", source_directory=source),
                timeout=120,
            )
        finally:
            ws.close()
        server = start_server(root / "ws", root / "server.log")
    try:
        yield server
    finally:
        stop_server(server.process)
        _stop_host(root / "ws")


@pytest.mark.slow
def test_with_a_serving_host_the_test_tab_scores_and_telemetry_charts_it(
    page: Page, live_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{live_server.url}/endpoints/live")
    expect(page.get_by_test_id("serving-host")).to_have_text("Serving host running")
    blue = page.locator("[data-testid=deployment-row][data-name=blue]")
    expect(blue.get_by_test_id("deployment-status")).to_have_text("Healthy")
    expect(blue.get_by_test_id("deployment-replicas")).to_have_text("1 / 1")
    screenshot(page, "endpoint-overview-live")

    page.get_by_test_id("tab-test").click()
    page.get_by_test_id("invoke-send").click()
    result = page.get_by_test_id("invoke-result")
    expect(result).to_have_attribute("data-status", "200")
    expect(result.get_by_test_id("invoke-status")).to_have_text("200 OK")
    expect(result.get_by_test_id("invoke-deployment")).to_have_text("blue")
    expect(result.get_by_test_id("invoke-body")).to_have_text('{\n  "predictions": [\n    0\n  ]\n}')
    expect(result.get_by_test_id("invoke-request-id")).not_to_be_empty()
    screenshot(page, "endpoint-test")

    page.get_by_test_id("tab-telemetry").click()
    telemetry = page.get_by_test_id("endpoint-telemetry")
    expect(telemetry.get_by_test_id("telemetry-host-down")).to_have_count(0)
    # Traffic while the tab samples: the requests-per-second chart draws it.
    with _api(live_server) as api:
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            assert (
                api.post("/endpoints/live/invoke", json={"body": SAMPLE_REQUEST}).json()["status_code"] == 200
            )
            time.sleep(0.1)
    expect(telemetry).to_have_attribute("data-samples", re.compile(r"^([3-9]|\d\d+)$"))
    charts = page.get_by_test_id("metric-chart")
    expect(charts).to_have_count(3)
    expect(charts.first).to_have_attribute("data-ready", "true")
    requests = page.locator("[data-testid=telemetry-row][data-name=blue] [data-testid=telemetry-requests]")
    expect(requests).not_to_have_text("0")
    screenshot(page, "endpoint-telemetry")

    page.get_by_test_id("tab-logs").click()
    expect(page.get_by_test_id("logs-view")).not_to_contain_text("No log lines yet")
    screenshot(page, "endpoint-logs-live")
