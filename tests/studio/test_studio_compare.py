"""A user compares runs side by side: what differs, their curves, how params relate to a metric."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlparse

import pytest
from studio_support import SeededWorkspace

import ember
from support.server_harness import ServerProcess, start_server, stop_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

Screenshot = Callable[[Any, str], Path]
LOGREG = ("logreg-lr0.1", "logreg-lr0.01", "logreg-lr0.001")
UNKNOWN_RUN = "0" * 32


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _compare_url(server: ServerProcess, ids: list[str], **options: str) -> str:
    query = "&".join([f"runs={','.join(ids)}", *(f"{k}={v}" for k, v in options.items())])
    return f"{server.url}/compare?{query}"


def _chart(page: Page, metric: str) -> Any:
    """The chart of one metric on the Compare page."""
    return page.locator(f'[data-testid=compare-chart][data-key="{metric}"]').get_by_test_id("metric-chart")


def _run_ids_in(url: str) -> list[str]:
    return parse_qs(urlparse(url).query).get("runs", [""])[0].split(",")


@pytest.fixture(scope="module")
def sweep(
    tmp_path_factory: pytest.TempPathFactory, studio_built: Path
) -> Iterator[tuple[ServerProcess, list[str]]]:
    """A small learning-rate sweep of six runs with numeric and categorical params, served on its own."""
    folder = tmp_path_factory.mktemp("compare") / "ws"
    ws = ember.Workspace.create(folder, name="sweeps")
    experiment = ember.Experiment(ws, "cifar-sweep")
    ids: list[str] = []
    for index, (lr, optimizer, batch) in enumerate(
        [
            (0.1, "sgd", 32),
            (0.03, "adam", 64),
            (0.01, "adam", 128),
            (0.003, "sgd", 64),
            (0.001, "adamw", 32),
            (0.0003, "adamw", 128),
        ]
    ):
        with experiment.start_logging(display_name=f"trial-{index}", tags={"sweep": "lr"}) as run:
            run.log_params({"lr": lr, "optimizer": optimizer, "batch_size": batch, "epochs": 30})
            floor = 0.2 + abs(math.log10(lr) + 2.2) * 0.15
            for step in range(120):
                noise = 0.03 * math.sin(step * (index + 1) * 0.7)
                run.log("train_loss", floor + 2.0 * math.exp(-step / (10 + 6 * index)) + noise, step=step)
                if step % 10 == 9:
                    run.log("val_accuracy", 0.95 - floor * 0.4 - 0.4 * math.exp(-step / 25), step=step)
        ids.append(run.id)
    ws.close()
    server = start_server(folder, folder.parent / "server.log")
    try:
        yield server, ids
    finally:
        stop_server(server.process)


def test_the_diff_table_shows_what_differs(
    page: Page, studio_server: ServerProcess, seeded: SeededWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    ids = [seeded.runs[name] for name in LOGREG]
    page.goto(_compare_url(studio_server, ids))

    table = page.get_by_test_id("diff-table")
    expect(table).to_be_visible()
    for name in LOGREG:
        expect(table.get_by_role("columnheader", name=name)).to_be_visible()
    lr = table.locator('[data-testid=diff-row][data-key="params.lr"]')
    expect(lr).to_have_attribute("data-differs", "true")
    expect(lr).to_have_class(re.compile(r"\bdiffers\b"))
    expect(lr.locator("td")).to_have_text(["0.1", "0.01", "0.001"])
    # epochs is 20 everywhere: "only differences" (on by default) hides it.
    only = page.get_by_label("Only differences")
    expect(only).to_be_checked()
    epochs = table.locator('[data-testid=diff-row][data-key="params.epochs"]')
    expect(epochs).to_have_count(0)
    # loss falls faster with the index: the third run has the lowest, and the highest accuracy.
    loss = table.locator('[data-testid=diff-row][data-key="metrics.loss"]')
    expect(loss.locator("td.best")).to_have_count(1)
    expect(loss.locator("td").nth(2)).to_have_class(re.compile(r"\bbest\b"))
    expect(table.locator('[data-key="metrics.accuracy"] td').nth(2)).to_have_class(re.compile(r"\bbest\b"))
    screenshot(page, "compare")

    only.uncheck()
    expect(epochs).to_have_attribute("data-differs", "false")
    expect(epochs.locator("td")).to_have_text(["20", "20", "20"])
    expect(table.locator('[data-key="tags.model"]')).to_have_attribute("data-differs", "false")
    expect(page).to_have_url(re.compile(r"diff=all"))
    screenshot(page, "compare-all-rows")


def test_metrics_are_overlaid_one_line_per_run(
    page: Page, studio_server: ServerProcess, seeded: SeededWorkspace
) -> None:
    expect = _expect()
    ids = [seeded.runs[name] for name in LOGREG]
    page.goto(_compare_url(studio_server, ids))

    chart = _chart(page, "loss")
    expect(chart).to_have_attribute("data-ready", "true")
    expect(chart).to_have_attribute("data-points", str(3 * 20))
    expect(chart.locator(".metric-chart-legend li")).to_have_text(list(LOGREG))
    # accuracy was logged once per run: nothing to draw, the table compares it.
    accuracy = page.locator('[data-testid=compare-chart][data-key="accuracy"]')
    expect(accuracy).to_contain_text("logged one value")

    page.get_by_label("X axis").select_option("time")
    page.get_by_label("Log scale").check()
    expect(page).to_have_url(re.compile(r"x=time"))
    expect(page).to_have_url(re.compile(r"log=1"))
    expect(chart).to_have_attribute("data-ready", "true")


def test_parallel_coordinates_draw_one_line_per_run(
    page: Page, sweep: tuple[ServerProcess, list[str]], screenshot: Screenshot
) -> None:
    expect = _expect()
    server, ids = sweep
    page.goto(_compare_url(server, ids))

    plot = page.get_by_test_id("parallel-coordinates")
    expect(plot.get_by_test_id("pc-line")).to_have_count(len(ids))
    # Axes: the params that differ (epochs does not), then the metric.
    axes = plot.locator("[data-axis]")
    expect(axes).to_have_count(4)
    expect(plot.locator('[data-axis="params.epochs"]')).to_have_count(0)
    expect(plot.locator('[data-axis="params.optimizer"]')).to_contain_text("adamw")

    page.get_by_test_id("parallel-metric").select_option("val_accuracy")
    expect(page).to_have_url(re.compile(r"pc=val_accuracy"))
    expect(plot.locator('[data-axis="metrics.val_accuracy"]')).to_have_count(1)

    plot.locator(".pc-runs li", has_text="trial-2").hover()
    expect(plot.locator(f'[data-testid=pc-line][data-run-id="{ids[2]}"]')).to_have_class(
        re.compile(r"\bactive\b")
    )
    expect(plot.locator(".pc-readout")).to_contain_text("trial-2")
    for name in ("train_loss", "val_accuracy"):
        expect(_chart(page, name)).to_have_attribute("data-ready", "true")
    screenshot(page, "compare-sweep")


def test_the_dark_theme_keeps_the_comparison_readable(
    browser: Any, sweep: tuple[ServerProcess, list[str]], screenshot: Screenshot
) -> None:
    expect = _expect()
    server, ids = sweep
    context = browser.new_context(color_scheme="dark", viewport={"width": 1360, "height": 860})
    try:
        page = context.new_page()
        page.goto(_compare_url(server, ids[:4], smooth="0.6"))
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        expect(page.get_by_test_id("parallel-coordinates").get_by_test_id("pc-line")).to_have_count(4)
        for name in ("train_loss", "val_accuracy"):
            expect(_chart(page, name)).to_have_attribute("data-ready", "true")
        screenshot(page, "compare-dark")
    finally:
        context.close()


def test_removing_a_run_updates_the_address(
    page: Page, studio_server: ServerProcess, seeded: SeededWorkspace
) -> None:
    expect = _expect()
    ids = [seeded.runs[name] for name in LOGREG]
    page.goto(_compare_url(studio_server, ids))
    expect(page.get_by_test_id("diff-table").locator("thead th")).to_have_count(4)

    page.get_by_role("button", name="Remove logreg-lr0.01 from the comparison").click()

    expect(page.get_by_test_id("compare-chip")).to_have_count(2)
    expect(page.get_by_test_id("diff-table").locator("thead th")).to_have_count(3)
    assert _run_ids_in(page.url) == [ids[0], ids[2]]
    page.go_back()
    expect(page.get_by_test_id("compare-chip")).to_have_count(3)

    # Down to one run: the page explains how to pick runs.
    page.get_by_role("button", name="Remove logreg-lr0.1 from the comparison").click()
    page.get_by_role("button", name="Remove logreg-lr0.01 from the comparison").click()
    expect(page.get_by_role("heading", name="Pick at least one more run")).to_be_visible()
    assert _run_ids_in(page.url) == [ids[2]]
    expect(page.get_by_test_id("diff-table")).to_have_count(0)


def test_an_unknown_run_is_reported_without_breaking_the_rest(
    page: Page, studio_server: ServerProcess, seeded: SeededWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    ids = [seeded.runs["logreg-lr0.1"], UNKNOWN_RUN, seeded.runs["logreg-lr0.01"]]
    page.goto(_compare_url(studio_server, ids))

    errors = page.get_by_test_id("compare-errors")
    expect(errors).to_contain_text(f"No run has the id {UNKNOWN_RUN}")
    expect(page.get_by_test_id("diff-table").locator("thead th")).to_have_count(3)
    expect(page.locator(f'[data-testid=compare-chip][data-run-id="{UNKNOWN_RUN}"]')).to_have_class(
        re.compile("state-missing")
    )
    screenshot(page, "compare-unknown-run")

    errors.get_by_role("button", name="Remove it").click()
    expect(errors).to_have_count(0)
    assert _run_ids_in(page.url) == [ids[0], ids[2]]


def test_without_runs_the_page_says_how_to_pick_them(
    page: Page, studio_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{studio_server.url}/compare")
    expect(page.get_by_role("heading", level=1)).to_have_text("Compare runs")
    empty = page.get_by_test_id("compare-empty")
    expect(empty.get_by_role("heading", name="No runs to compare")).to_be_visible()
    expect(empty).to_contain_text("Tick the checkboxes of two or more runs")
    screenshot(page, "compare-empty")
