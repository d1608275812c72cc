"""A user retires dataset versions in the studio: deprecates one in favour of a newer version (the page
links the replacement), archives it (it leaves the list until "Show archived" is ticked), reactivates
it, sees a refusal of the server inside the dialog, and finally unregisters the name.

The workspace here is this module's own: one tabular dataset with two versions and a file dataset.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from studio_support import checked_page

import ember
from support.sdk_env import isolate_sdk_environment
from support.server_harness import ServerProcess, start_server, stop_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

Screenshot = Callable[[Any, str], Path]


@dataclass
class LifecycleWorkspace:
    path: Path
    tabular: str  # two versions
    files: str  # one version


def _seed(folder: Path, data: Path) -> LifecycleWorkspace:
    (data / "iris").mkdir(parents=True)
    (data / "iris" / "a.csv").write_text("x,species\n1,setosa\n2,versicolor\n")
    (data / "iris" / "b.csv").write_text("x,species\n3,virginica\n")
    ws = ember.Workspace.create(folder, name="lifecycle")
    store = ember.Datastore.register_local(ws, "raw", data)
    ember.Dataset.Tabular.from_delimited_files([(store, "iris/a.csv")]).register(ws, "iris")
    ember.Dataset.Tabular.from_delimited_files([(store, "iris/*.csv")]).register(
        ws, "iris", create_new_version=True
    )
    ember.Dataset.File.from_files(store.path("iris")).register(ws, "iris-files")
    ws.close()
    return LifecycleWorkspace(path=folder, tabular="iris", files="iris-files")


@pytest.fixture(scope="module")
def lifecycle_ws(tmp_path_factory: pytest.TempPathFactory) -> LifecycleWorkspace:
    root = tmp_path_factory.mktemp("dataset-lifecycle")
    with pytest.MonkeyPatch.context() as patch:
        isolate_sdk_environment(patch, root / "cache")
        return _seed(root / "ws", root / "data")


@pytest.fixture(scope="module")
def lifecycle_server(studio_built: Path, lifecycle_ws: LifecycleWorkspace) -> Iterator[ServerProcess]:
    server = start_server(lifecycle_ws.path, lifecycle_ws.path.parent / "server.log")
    try:
        yield server
    finally:
        stop_server(server.process)


@pytest.fixture
def refusing_page(browser: Browser) -> Iterator[Page]:
    """Like ``page``, but a refused request (409) is part of the story, not an error of the page."""
    with checked_page(browser, expected_statuses="404|409|503") as page:
        yield page


def test_a_version_is_deprecated_archived_reactivated_and_the_name_unregistered(
    refusing_page: Page,
    lifecycle_server: ServerProcess,
    lifecycle_ws: LifecycleWorkspace,
    screenshot: Screenshot,
) -> None:
    from playwright.sync_api import expect

    page = refusing_page
    name = lifecycle_ws.tabular
    page.goto(f"{lifecycle_server.url}/datasets/{name}?version=1")
    dataset = page.get_by_test_id("dataset-page")
    expect(dataset).to_have_attribute("data-version", "1")
    expect(page.get_by_test_id("dataset-state")).to_have_attribute("data-state", "active")

    # deprecate v1 by v2: the page says so and links the replacement
    page.get_by_test_id("dataset-deprecate").click()
    expect(page.get_by_test_id("dataset-replacement")).to_have_value(re.compile(r"^[0-9a-f]{32}$"))
    page.get_by_role("dialog").get_by_role("button", name="Deprecate").click()
    expect(page.get_by_test_id("dataset-state")).to_have_attribute("data-state", "deprecated")
    replacement = page.get_by_test_id("dataset-deprecated-by")
    expect(replacement).to_have_text(f"{name} v2")
    screenshot(page, "dataset-deprecated")

    # v2 cannot be archived while it replaces v1: the server's refusal shows in the dialog, which stays open
    replacement.click()
    expect(dataset).to_have_attribute("data-version", "2")
    page.get_by_test_id("dataset-archive").click()
    page.get_by_role("dialog").get_by_role("button", name="Archive").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("replaces deprecated versions")
    screenshot(page, "dataset-archive-refused")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_test_id("dataset-state")).to_have_attribute("data-state", "active")

    # archive v1 instead: it leaves the list's "latest" column and shows when asked for
    page.goto(f"{lifecycle_server.url}/datasets/{name}?version=1")
    page.get_by_test_id("dataset-archive").click()
    page.get_by_role("dialog").get_by_role("button", name="Archive").click()
    expect(page.get_by_test_id("dataset-state")).to_have_attribute("data-state", "archived")
    expect(page.get_by_test_id("dataset-state-note")).to_contain_text("archived")
    expect(page.get_by_test_id("dataset-version-select").locator("option")).to_have_text(
        [re.compile(r"^v2 \(latest\)"), re.compile(r"^v1 \(archived\)")]
    )
    screenshot(page, "dataset-archived")

    # in the list, archive v2 too and the name disappears until "Show archived" is ticked
    page.goto(f"{lifecycle_server.url}/datasets/{name}?version=2")
    page.get_by_test_id("dataset-archive").click()
    page.get_by_role("dialog").get_by_role("button", name="Archive").click()
    expect(page.get_by_test_id("dataset-state")).to_have_attribute("data-state", "archived")
    page.goto(f"{lifecycle_server.url}/datasets")
    expect(page.get_by_test_id("dataset-row")).to_have_count(1)
    expect(page.locator(f"[data-testid=dataset-row][data-name={name}]")).to_have_count(0)
    page.get_by_test_id("datasets-show-archived").check()
    row = page.locator(f"[data-testid=dataset-row][data-name={name}]")
    expect(row.get_by_test_id("dataset-state")).to_have_attribute("data-state", "archived")
    expect(page).to_have_url(re.compile(r"\?archived=1$"))
    screenshot(page, "datasets-show-archived")

    # reactivate v2 from its page: back in the list
    row.get_by_role("link", name=name, exact=True).click()
    expect(dataset).to_have_attribute("data-version", "2")
    page.get_by_test_id("dataset-reactivate").click()
    page.get_by_role("dialog").get_by_role("button", name="Reactivate").click()
    expect(page.get_by_test_id("dataset-state")).to_have_attribute("data-state", "active")
    page.goto(f"{lifecycle_server.url}/datasets")
    expect(
        page.locator(f"[data-testid=dataset-row][data-name={name}]").get_by_test_id("dataset-version")
    ).to_have_text("2")

    # unregister the name: back to the list, without it even among archived versions
    page.locator(f"[data-testid=dataset-row][data-name={name}]").get_by_role(
        "link", name=name, exact=True
    ).click()
    page.get_by_test_id("dataset-unregister").click()
    expect(page.get_by_test_id("dataset-lifecycle-text")).to_contain_text("2 versions")
    page.get_by_role("dialog").get_by_role("button", name="Unregister").click()
    expect(page).to_have_url(re.compile(r"/datasets$"))
    expect(page.get_by_test_id("dataset-row")).to_have_count(1)
    page.get_by_test_id("datasets-show-archived").check()
    expect(page.get_by_test_id("dataset-row")).to_have_count(1)
    expect(page.locator(f"[data-testid=dataset-row][data-name={lifecycle_ws.files}]")).to_be_visible()
