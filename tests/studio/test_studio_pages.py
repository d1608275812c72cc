"""A user opens the studio in a browser and finds their workspace: counts, runs, experiments, themes."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from studio_support import SeededWorkspace

from ember.backend import Backend
from ember.server import create_app
from support.server_harness import ServerProcess, serve_in_thread

if TYPE_CHECKING:
    from playwright.sync_api import Page

Screenshot = Callable[[Any, str], Path]


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_home_shows_the_workspace_at_a_glance(
    page: Page, studio_server: ServerProcess, seeded: SeededWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{studio_server.url}/")

    expect(page.get_by_test_id("workspace-name")).to_have_text(seeded.name)
    expect(page.get_by_test_id("stat-experiments")).to_have_text(str(len(seeded.experiments)))
    expect(page.get_by_test_id("stat-runs")).to_have_text(str(seeded.run_count))
    expect(page.get_by_test_id("stat-running-now")).to_have_text("1")
    running = page.locator("section", has=page.get_by_role("heading", name="Running now"))
    expect(running.get_by_role("link", name=seeded.running)).to_be_visible()
    recent = page.locator("section", has=page.get_by_role("heading", name="Recent runs"))
    for name in ("logreg-lr0.1", "svm-rbf", seeded.running):
        expect(recent.get_by_role("link", name=name)).to_be_visible()
    expect(recent.locator("[data-status=Failed]")).to_have_count(1)
    expect(page).to_have_title(re.compile("Home"))
    screenshot(page, "home")


def test_a_new_workspace_tells_the_user_how_to_start(
    page: Page, studio_built: Path, local_backend: Backend, screenshot: Screenshot
) -> None:
    expect = _expect()
    with serve_in_thread(create_app(local_backend)) as url:
        page.goto(f"{url}/")

        expect(page.get_by_role("heading", name="No runs yet")).to_be_visible()
        expect(page.get_by_text("ember run submit train.py")).to_be_visible()
        expect(page.get_by_text('run.log("loss"')).to_be_visible()
        expect(page.get_by_test_id("stat-experiments")).to_have_text("0")
        screenshot(page, "home-empty")


def test_the_experiments_list_leads_to_an_experiment(
    page: Page, studio_server: ServerProcess, seeded: SeededWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{studio_server.url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Experiments").click()

    expect(page).to_have_url(f"{studio_server.url}/experiments")
    rows = page.get_by_test_id("experiment-row")
    expect(rows).to_have_count(len(seeded.experiments))
    iris = rows.filter(has_text="iris-classifier")
    expect(iris).to_contain_text("Logistic regression and SVM baselines on iris")
    expect(iris.locator("td").nth(1)).to_have_text("4")
    expect(page.get_by_text(seeded.archived)).to_have_count(0)
    screenshot(page, "experiments")

    page.get_by_label("Show archived").check()
    expect(rows).to_have_count(len(seeded.experiments) + 1)
    expect(rows.filter(has_text=seeded.archived)).to_contain_text("Archived")
    screenshot(page, "experiments-archived")

    page.get_by_role("link", name="iris-classifier").click()
    expect(page).to_have_url(f"{studio_server.url}/experiments/{seeded.experiments['iris-classifier']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("iris-classifier")
    screenshot(page, "experiment")


def test_the_theme_toggle_switches_and_is_remembered(
    page: Page, studio_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{studio_server.url}/experiments")
    html = page.locator("html")
    expect(html).to_have_attribute("data-theme", "light")  # the context prefers light
    light_background = page.evaluate("getComputedStyle(document.body).backgroundColor")

    page.get_by_role("button", name="Switch to dark theme").click()

    expect(html).to_have_attribute("data-theme", "dark")
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") != light_background
    screenshot(page, "experiments-dark")
    page.reload()
    expect(html).to_have_attribute("data-theme", "dark")
    page.get_by_role("button", name="Switch to light theme").click()
    expect(html).to_have_attribute("data-theme", "light")


def test_the_system_dark_preference_is_followed(
    browser: Any, studio_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    context = browser.new_context(color_scheme="dark", viewport={"width": 1360, "height": 860})
    try:
        page = context.new_page()
        page.goto(f"{studio_server.url}/")
        expect(page.locator("html")).to_have_attribute("data-theme", "dark")
        expect(page.get_by_test_id("stat-runs")).not_to_have_text("…")
        screenshot(page, "home-dark")
    finally:
        context.close()


@pytest.mark.parametrize("where", ["experiment", "run", "unknown"])
def test_a_deep_link_loads_the_page(
    page: Page, studio_server: ServerProcess, seeded: SeededWorkspace, screenshot: Screenshot, where: str
) -> None:
    expect = _expect()
    heading = page.get_by_role("heading", level=1)
    if where == "experiment":
        page.goto(f"{studio_server.url}/experiments/{seeded.experiments['resnet-finetune']}")
        expect(heading).to_have_text("resnet-finetune")
    elif where == "run":
        page.goto(f"{studio_server.url}/runs/{seeded.runs['svm-rbf']}/metrics")
        expect(heading).to_have_text("svm-rbf")
        expect(page.locator("[data-status=Failed]")).to_be_visible()
    else:
        page.goto(f"{studio_server.url}/no/such/page")
        expect(heading).to_have_text("This page does not exist")
        page.get_by_role("link", name="Go to the workspace home").click()
        expect(page.get_by_test_id("workspace-name")).to_have_text(seeded.name)
    screenshot(page, f"deep-link-{where}")


def test_the_keyboard_reaches_the_content_first(page: Page, studio_server: ServerProcess) -> None:
    expect = _expect()
    page.goto(f"{studio_server.url}/compute")
    expect(page.get_by_role("heading", level=1)).to_have_text("Compute")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()


def test_compute_and_environments_pages_answer(
    page: Page, studio_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{studio_server.url}/compute")
    expect(page.get_by_role("heading", level=1)).to_have_text("Compute")
    expect(page.locator("main .card")).to_be_visible()
    screenshot(page, "compute")
    page.get_by_role("link", name="Environments").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Environments")
    expect(page.get_by_text("No environments registered")).to_be_visible()
    screenshot(page, "environments")


def test_without_a_build_the_page_says_how_to_build_it(
    page: Page, local_backend: Backend, tmp_path: Path, screenshot: Screenshot
) -> None:
    expect = _expect()
    with serve_in_thread(create_app(local_backend, studio_dir=tmp_path / "not-built")) as url:
        response = page.goto(f"{url}/experiments/abc")
        assert response is not None
        assert response.status == 503
        expect(page.get_by_role("heading", level=1)).to_have_text("The Ember studio is not built")
        expect(page.get_by_text("make studio")).to_be_visible()
        screenshot(page, "missing-build")
