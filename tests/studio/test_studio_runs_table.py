"""A user opens an experiment in the studio and works with its runs table: filter, sort, columns, paging."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

import pytest
from studio_support import UI_TIMEOUT_MS, checked_page

import ember
from ember.entities import MetricSeries, RunCreate, RunStatus, RunUpdate
from ember.wiring import open_backend
from support.server_harness import ServerProcess, start_server, stop_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

Screenshot = Callable[[Any, str], Path]
BIG_RUNS = 500


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


@dataclass
class RunsWorkspace:
    """The workspace these tests look at: a small experiment, a big one, an empty one, one to archive."""

    path: Path
    experiments: dict[str, str]  # name -> id
    runs: dict[str, str]  # display name -> id (the small experiment's)
    loss: dict[str, float]  # display name -> latest loss
    big_oldest: str  # id of the big experiment's first-created run (last in the default order)
    running: str  # display name of the run left Running


def _seed(folder: Path) -> RunsWorkspace:
    ws = ember.Workspace.create(folder, name="runs-table")
    experiments: dict[str, str] = {}
    runs: dict[str, str] = {}
    loss: dict[str, float] = {}

    sweep = ember.Experiment(ws, "lr-sweep")
    plan = [
        ("svm-a", "svm", 0.1, 0.40, 0.91, "vision"),
        ("svm-b", "svm", 0.01, 0.20, 0.95, "vision"),
        ("logreg-a", "logreg", 0.1, 0.55, 0.88, "nlp"),
        ("logreg-b", "logreg", 0.001, 0.30, 0.93, "nlp"),
        ("tree-a", "tree", 0.05, 0.80, 0.80, "vision"),
    ]
    for name, model, lr, final_loss, acc, team in plan:
        with sweep.start_logging(display_name=name, tags={"team": team}) as run:
            run.log_params({"model": model, "lr": lr})
            run.log("loss", final_loss + 1.0, step=0)
            run.log("loss", final_loss, step=1)
            run.log("accuracy", acc)
        runs[name], loss[name] = run.id, final_loss
    live = sweep.start_logging(display_name="still-running", tags={"team": "vision"})
    live.log_params({"model": "svm", "lr": 0.2})
    live.log("loss", 0.99)
    live.flush()
    runs["still-running"], loss["still-running"] = live.id, 0.99
    experiments["lr-sweep"] = sweep.id
    experiments["empty"] = ember.Experiment(ws, "empty").id
    experiments["to-archive"] = ember.Experiment(ws, "to-archive").id
    ws.close()

    # The big experiment straight through the tracking contract: fast, and as many pages as we like.
    backend = open_backend(str(folder))
    try:
        big = backend.tracking.get_or_create_experiment("big-sweep")
        first = ""
        for index in range(BIG_RUNS):
            created = backend.tracking.create_run(
                RunCreate(experiment_id=big.id, display_name=f"trial-{index:04d}", user="bench")
            )
            first = first or created.info.id
            backend.tracking.log_params(created.info.id, {"trial": str(index)})
            backend.tracking.log_metrics(
                created.info.id, [MetricSeries(key="score", values=[index / BIG_RUNS])]
            )
            backend.tracking.update_run(created.info.id, RunUpdate(status=RunStatus.COMPLETED))
        experiments["big-sweep"] = big.id
    finally:
        backend.close()
    return RunsWorkspace(
        path=folder, experiments=experiments, runs=runs, loss=loss, big_oldest=first, running="still-running"
    )


@pytest.fixture(scope="module")
def runs_ws(tmp_path_factory: pytest.TempPathFactory) -> RunsWorkspace:
    return _seed(tmp_path_factory.mktemp("runs-table") / "ws")


@pytest.fixture(scope="module")
def server(studio_built: Path, runs_ws: RunsWorkspace) -> Iterator[ServerProcess]:
    process = start_server(runs_ws.path, runs_ws.path.parent / "server.log")
    try:
        yield process
    finally:
        stop_server(process.process)


@pytest.fixture
def lenient_page(browser: Browser) -> Iterator[Page]:
    """Like ``page``, but a 400 answer (a filter the server refuses, on purpose) is no page error."""
    with checked_page(browser, expected_statuses="400|404") as page:
        yield page


def _open(page: Page, server: ServerProcess, experiment_id: str, query: str = "") -> Any:
    expect = _expect()
    page.goto(f"{server.url}/experiments/{experiment_id}{query}")
    table = page.get_by_test_id("runs-table")
    expect(table).to_have_attribute("data-ready", "true")
    return table


def _row_names(page: Page) -> list[str]:
    return [
        name.strip() for name in page.get_by_test_id("runs-row").locator("td:nth-child(2)").all_inner_texts()
    ]


def _wait_for_names(page: Page, wanted: list[str]) -> None:
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while _row_names(page) != wanted:
        assert time.monotonic() < deadline, f"rows are {_row_names(page)}, expected {wanted}"
        page.wait_for_timeout(50)


def _query(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_the_table_shows_the_experiments_runs(
    page: Page, server: ServerProcess, runs_ws: RunsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    _open(page, server, runs_ws.experiments["lr-sweep"])

    expect(page.get_by_role("heading", level=1)).to_have_text("lr-sweep")
    expect(page.get_by_test_id("experiment-run-count")).to_have_text("6 runs")
    rows = page.get_by_test_id("runs-row")
    expect(rows).to_have_count(len(runs_ws.runs))
    # Newest first, the server's default order; each name links to its run.
    assert _row_names(page)[0] == runs_ws.running
    link = page.get_by_role("link", name="svm-b")
    expect(link).to_have_attribute("href", f"/runs/{runs_ws.runs['svm-b']}")
    running_row = rows.filter(has_text=runs_ws.running)
    expect(running_row.locator("[data-status=Running]")).to_be_visible()
    expect(rows.locator("[data-status=Completed]")).to_have_count(5)
    # Default columns: the attributes and the first metrics (accuracy, loss).
    headers = page.get_by_test_id("runs-table").locator("thead th[data-column]")
    expect(headers).to_have_text(
        [re.compile(rf"^{label}\W*$") for label in ("Run", "Status", "Created", "Duration", "User")]
        + [re.compile(rf"^metric\s*{label}$") for label in ("accuracy", "loss")]
    )
    expect(rows.filter(has_text="svm-b")).to_contain_text("0.95")
    screenshot(page, "runs-table")

    page.get_by_role("button", name="Switch to dark theme").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    screenshot(page, "runs-table-dark")


def test_a_filter_narrows_the_runs_and_a_bad_one_shows_the_servers_message(
    lenient_page: Page, server: ServerProcess, runs_ws: RunsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page = lenient_page
    _open(page, server, runs_ws.experiments["lr-sweep"])
    box = page.get_by_test_id("runs-filter")

    box.fill("metrics.accuracy > 0.9 AND params.model = 'svm'")
    box.press("Enter")
    _wait_for_names(page, ["svm-b", "svm-a"])
    assert _query(page)["filter"] == ["metrics.accuracy > 0.9 AND params.model = 'svm'"]
    expect(page.get_by_test_id("runs-count")).to_have_text("2 runs match")

    box.fill("metrics.accuracy >> 0.9")
    box.press("Enter")
    error = page.get_by_test_id("runs-filter-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("invalid filter at position")
    # The last good results stay while the message shows.
    assert _row_names(page) == ["svm-b", "svm-a"]
    expect(box).to_have_attribute("aria-invalid", "true")
    screenshot(page, "runs-table-filter-error")

    box.fill("params.model = 'nothing-like-this'")
    box.press("Enter")
    expect(page.get_by_test_id("runs-no-match")).to_contain_text("No run matches this filter")
    expect(error).to_have_count(0)
    screenshot(page, "runs-table-no-match")

    page.get_by_role("button", name="Clear", exact=True).click()
    expect(page.get_by_test_id("runs-row")).to_have_count(len(runs_ws.runs))
    expect(box).to_have_value("")
    assert "filter" not in _query(page)


def test_the_filter_box_completes_keys_and_shows_help(
    page: Page, server: ServerProcess, runs_ws: RunsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    _open(page, server, runs_ws.experiments["lr-sweep"])
    box = page.get_by_test_id("runs-filter")

    box.press_sequentially("params.mo")
    expect(page.get_by_role("option", name="params.model")).to_be_visible()
    box.press("ArrowDown")
    box.press("Tab")
    expect(box).to_have_value("params.model")
    box.press_sequentially(" = 'tree'")
    expect(box).to_have_value("params.model = 'tree'")
    box.press("Enter")
    _wait_for_names(page, ["tree-a"])

    page.get_by_role("button", name="?").click()
    help_panel = page.get_by_role("dialog", name="Filter help")
    expect(help_panel).to_contain_text("metrics.accuracy > 0.9")
    screenshot(page, "runs-table-filter-help")
    page.keyboard.press("Escape")
    expect(help_panel).to_have_count(0)


def test_clicking_a_metric_header_sorts_by_it(
    page: Page, server: ServerProcess, runs_ws: RunsWorkspace
) -> None:
    expect = _expect()
    _open(page, server, runs_ws.experiments["lr-sweep"])
    by_loss = sorted(runs_ws.loss, key=lambda name: runs_ws.loss[name])
    header = page.locator("th[data-column='metrics.loss']")

    header.get_by_role("button").click()
    _wait_for_names(page, by_loss)
    expect(header).to_have_attribute("aria-sort", "ascending")
    assert _query(page)["order"] == ["metrics.loss ASC"]

    header.get_by_role("button").click()
    _wait_for_names(page, by_loss[::-1])
    expect(header).to_have_attribute("aria-sort", "descending")

    header.get_by_role("button").click()  # back to the default order: newest first
    expect(header).to_have_attribute("aria-sort", "none")
    assert "order" not in _query(page)
    expect(page.locator("th[data-column='attributes.created_time']")).to_have_attribute(
        "aria-sort", "descending"
    )


def test_a_chosen_param_column_shows_its_values(
    page: Page, server: ServerProcess, runs_ws: RunsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    _open(page, server, runs_ws.experiments["lr-sweep"])
    button = page.get_by_test_id("runs-columns-button")

    button.click()
    chooser = page.get_by_role("dialog", name="Choose columns")
    search = chooser.get_by_role("searchbox", name="Find a column")
    expect(search).to_be_focused()
    search.fill("mod")
    expect(chooser.get_by_role("checkbox")).to_have_count(1)
    # Keyboard only: down to the checkbox, space to tick it.
    page.keyboard.press("ArrowDown")
    expect(chooser.get_by_role("checkbox", name="model")).to_be_focused()
    page.keyboard.press("Space")
    expect(chooser.get_by_role("checkbox", name="model")).to_be_checked()
    screenshot(page, "runs-table-columns")
    page.keyboard.press("Escape")
    expect(chooser).to_have_count(0)
    expect(button).to_be_focused()

    expect(page.locator("th[data-column='params.model']")).to_be_visible()
    row = page.get_by_test_id("runs-row").filter(has_text="logreg-b")
    expect(row.locator("td").last).to_have_text("logreg")
    assert "params.model" in _query(page)["cols"][0].split(",")

    # Hiding a column works the same way, and the choice survives a reload.
    button.click()
    chooser.get_by_role("checkbox", name="User").uncheck()
    page.keyboard.press("Escape")
    expect(page.locator("th[data-column='attributes.user']")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("runs-table")).to_have_attribute("data-ready", "true")
    expect(page.locator("th[data-column='params.model']")).to_be_visible()
    expect(page.locator("th[data-column='attributes.user']")).to_have_count(0)


def test_a_deep_link_restores_filter_order_and_columns(
    page: Page, server: ServerProcess, runs_ws: RunsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    query = (
        "?filter=tags.team+%3D+%27vision%27"
        "&order=metrics.loss+DESC"
        "&cols=attributes.status,metrics.loss,params.lr,tags.team"
    )
    _open(page, server, runs_ws.experiments["lr-sweep"], query)

    expect(page.get_by_test_id("runs-filter")).to_have_value("tags.team = 'vision'")
    vision = ["svm-a", "svm-b", "tree-a", "still-running"]
    _wait_for_names(page, sorted(vision, key=lambda n: -runs_ws.loss[n]))
    columns = page.get_by_test_id("runs-table").locator("thead th[data-column]")
    expect(columns).to_have_count(5)  # Run + the four named
    expect(page.locator("th[data-column='metrics.loss']")).to_have_attribute("aria-sort", "descending")
    expect(page.get_by_test_id("runs-row").filter(has_text="svm-b").locator("td").nth(4)).to_have_text("0.01")
    screenshot(page, "runs-table-deep-link")


def test_scrolling_a_large_experiment_loads_more_pages(
    page: Page, server: ServerProcess, runs_ws: RunsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    table = _open(page, server, runs_ws.experiments["big-sweep"])
    expect(table).to_have_attribute("data-loaded", "100")
    rendered = page.get_by_test_id("runs-row").count()
    assert 0 < rendered < 60, f"{rendered} rows rendered: the table should render only what is in view"

    # The first page says how many runs there are in all, before the rest is loaded.
    first_page_count = f"{BIG_RUNS} runs (100 loaded; scroll for more)"
    expect(page.get_by_test_id("runs-count")).to_contain_text(first_page_count)
    scroller = page.locator(".runs-scroll")
    deadline = time.monotonic() + 30
    while table.get_attribute("data-loaded") != str(BIG_RUNS):
        assert time.monotonic() < deadline, f"only {table.get_attribute('data-loaded')} runs loaded"
        scroller.evaluate("element => { element.scrollTop = element.scrollHeight; }")
        page.wait_for_timeout(100)
    scroller.evaluate("element => { element.scrollTop = element.scrollHeight; }")
    last = page.locator(f"[data-testid=runs-row][data-run-id='{runs_ws.big_oldest}']")
    expect(last).to_be_visible()
    expect(last).to_contain_text("trial-0000")
    assert page.get_by_test_id("runs-row").count() < 60
    expect(page.get_by_test_id("runs-count")).to_have_text(f"{BIG_RUNS} runs")
    expect(page.get_by_text("Loading more runs")).to_have_count(0)
    screenshot(page, "runs-table-scrolled")


def test_selected_runs_link_to_the_comparison(
    page: Page, server: ServerProcess, runs_ws: RunsWorkspace
) -> None:
    expect = _expect()
    _open(page, server, runs_ws.experiments["lr-sweep"])
    compare = page.get_by_test_id("runs-compare")
    expect(compare).to_be_disabled()

    page.get_by_role("checkbox", name="Select svm-a").check()
    page.get_by_role("checkbox", name="Select tree-a").check()

    expect(compare).to_have_text("Compare (2)")
    href = compare.get_attribute("href") or ""
    assert href.startswith("/compare?runs=")
    assert set(href.split("=", 1)[1].split(",")) == {runs_ws.runs["svm-a"], runs_ws.runs["tree-a"]}


def test_a_live_run_refreshes_until_it_ends(
    page: Page, server: ServerProcess, runs_ws: RunsWorkspace
) -> None:
    expect = _expect()
    backend = open_backend(str(runs_ws.path))
    try:
        experiment = backend.tracking.get_or_create_experiment("live-one")
        run_id = backend.tracking.create_run(
            RunCreate(experiment_id=experiment.id, display_name="epoch-loop")
        ).info.id
        backend.tracking.log_metrics(run_id, [MetricSeries(key="loss", values=[0.5])])
        _open(page, server, experiment.id)
        row = page.get_by_test_id("runs-row").filter(has_text="epoch-loop")
        expect(row.locator("[data-status=Running]")).to_be_visible()
        expect(row).to_contain_text("0.5")

        backend.tracking.log_metrics(run_id, [MetricSeries(key="loss", values=[0.05])])
        backend.tracking.update_run(run_id, RunUpdate(status=RunStatus.COMPLETED))
    finally:
        backend.close()
    # Polled every ~3 s while a run is live, without a reload.
    expect(row.locator("[data-status=Completed]")).to_be_visible(timeout=10_000)
    expect(row).to_contain_text("0.05")


def test_an_empty_experiment_says_how_to_add_runs(
    page: Page, server: ServerProcess, runs_ws: RunsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{server.url}/experiments/{runs_ws.experiments['empty']}")
    expect(page.get_by_role("heading", name="No runs yet")).to_be_visible()
    expect(page.get_by_text("ember run submit train.py --experiment empty")).to_be_visible()
    expect(page.get_by_text('exp.start_logging(display_name="baseline")')).to_be_visible()
    screenshot(page, "runs-table-empty")


def test_the_description_is_edited_in_place(
    page: Page, server: ServerProcess, runs_ws: RunsWorkspace
) -> None:
    expect = _expect()
    page.goto(f"{server.url}/experiments/{runs_ws.experiments['to-archive']}")
    page.get_by_role("button", name="Add a description").click()
    page.get_by_label("Description").fill("Runs we no longer need")
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("experiment-description")).to_have_text("Runs we no longer need")
    page.reload()
    expect(page.get_by_test_id("experiment-description")).to_have_text("Runs we no longer need")


def test_archive_and_restore_ask_first(
    page: Page, server: ServerProcess, runs_ws: RunsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    experiment_id = runs_ws.experiments["to-archive"]
    page.goto(f"{server.url}/experiments/{experiment_id}")

    page.get_by_test_id("experiment-archive").click()
    dialog = page.get_by_role("dialog", name="Archive to-archive?")
    expect(dialog).to_be_visible()
    screenshot(page, "runs-table-archive-dialog")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_test_id("experiment-archived")).to_have_count(0)

    page.get_by_test_id("experiment-archive").click()
    dialog.get_by_role("button", name="Archive").click()
    expect(page.get_by_test_id("experiment-archived")).to_have_text("Archived")
    backend = open_backend(str(runs_ws.path))
    try:
        assert backend.tracking.get_experiment(experiment_id).lifecycle_stage == "archived"
    finally:
        backend.close()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Experiments").click()
    expect(page.get_by_test_id("experiment-row").filter(has_text="lr-sweep")).to_have_count(1)
    expect(page.get_by_test_id("experiment-row").filter(has_text="to-archive")).to_have_count(0)

    page.go_back()
    page.get_by_test_id("experiment-restore").click()
    page.get_by_role("dialog", name="Restore to-archive?").get_by_role("button", name="Restore").click()
    expect(page.get_by_test_id("experiment-archived")).to_have_count(0)
    expect(page.get_by_test_id("experiment-archive")).to_be_visible()
