"""A user finds their data in the studio: datastores to browse, datasets with versions, a preview, a
profile, the files and the runs that used them, and the datasets on a run's page.

The workspace here is this module's own (``data_ws``): a local datastore over a folder of CSV files in
subfolders and a few images, a tabular dataset with two versions (the second filtered and profiled), a
file dataset, and a run that read the tabular one and registered its predictions as a new dataset.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from studio_support import UI_TIMEOUT_MS

import ember
from ember.backend import Backend
from ember.server import create_app
from support.sdk_env import isolate_sdk_environment
from support.server_harness import ServerProcess, serve_in_thread, start_server, stop_server

if TYPE_CHECKING:
    from playwright.sync_api import Page, Route

Screenshot = Callable[[Any, str], Path]

SPECIES = ("setosa", "versicolor", "virginica")
ROWS_PER_FILE = 60  # three files: 180 rows, more than the preview's 100


@dataclass
class DataWorkspace:
    path: Path
    datastore: str  # the local datastore's name
    tabular: str  # name of the two-version tabular dataset
    files: str  # name of the file dataset
    output: str  # name of the dataset the run produced
    run_id: str  # the run that read `tabular` v2 and produced `output`
    run_name: str
    rows_v1: int
    rows_v2: int


def _iris_csv(seed: int) -> tuple[str, int]:
    """A deterministic iris-like CSV: lengths spread over a range (a histogram with some shape)."""
    lines = ["sepal_length,sepal_width,species"]
    for i in range(ROWS_PER_FILE):
        length = 4.3 + ((i * 7 + seed * 13) % 37) / 10 + (i % 5) / 20
        width = 2.0 + ((i * 3 + seed) % 24) / 10
        lines.append(f"{length:.2f},{width:.1f},{SPECIES[(i + seed) % 3]}")
    return "\n".join(lines) + "\n", ROWS_PER_FILE


def _seed(folder: Path, data: Path) -> DataWorkspace:
    (data / "iris" / "2023").mkdir(parents=True)
    (data / "iris" / "2024").mkdir(parents=True)
    (data / "images").mkdir()
    (data / "predictions").mkdir()
    rows = 0
    for seed, path in enumerate(("iris/2023/part-0.csv", "iris/2023/part-1.csv", "iris/2024/part-0.csv")):
        text, count = _iris_csv(seed)
        (data / path).write_text(text)
        rows += count
    (data / "iris" / "README.txt").write_text("Fisher's iris, split by year.\n")
    for name in ("cat.png", "dog.png"):
        (data / "images" / name).write_bytes(b"\x89PNG fake " + name.encode() * 40)

    ws = ember.Workspace.create(folder, name="data-team")
    store = ember.Datastore.register_local(ws, "raw-data", data, description="Raw files from the lab")
    source = [(store, "iris/**/*.csv")]
    ember.Dataset.Tabular.from_delimited_files(source).register(
        ws, "iris", description="Iris measurements", tags={"team": "vision", "pii": "no"}
    )
    filtered = (
        ember.Dataset.Tabular.from_delimited_files(source)
        .filter("sepal_length >= 5")
        .register(
            ws,
            "iris",
            description="Iris, short sepals dropped",
            tags={"team": "vision", "stage": "clean"},
            create_new_version=True,
        )
    )
    rows_v2 = len(filtered.to_pandas_dataframe())
    filtered.get_profile()  # v2's profile is cached; v1's is computed when first shown
    ember.Dataset.File.from_files(store.path("images")).register(ws, "iris-images")

    exp = ember.Experiment(ws, "iris-training")
    run = exp.start_logging(display_name="train-logreg")
    ws.backend.data.link_run_dataset(run.id, filtered.id, direction="input", name="train", mode="download")
    (data / "predictions" / "preds.csv").write_text("id,label\n1,setosa\n2,virginica\n")
    ember.Dataset.Tabular.from_delimited_files([(store, "predictions/*.csv")]).register(
        ws, "iris-predictions", source_run=run
    )
    run.log("accuracy", 0.93)
    run.complete()
    ws.close()
    return DataWorkspace(
        path=folder,
        datastore="raw-data",
        tabular="iris",
        files="iris-images",
        output="iris-predictions",
        run_id=run.id,
        run_name="train-logreg",
        rows_v1=rows,
        rows_v2=rows_v2,
    )


@pytest.fixture(scope="module")
def data_ws(tmp_path_factory: pytest.TempPathFactory) -> DataWorkspace:
    root = tmp_path_factory.mktemp("data-pages")
    with pytest.MonkeyPatch.context() as patch:
        isolate_sdk_environment(patch, root / "cache")
        return _seed(root / "ws", root / "data")


@pytest.fixture(scope="module")
def data_server(studio_built: Path, data_ws: DataWorkspace) -> Iterator[ServerProcess]:
    server = start_server(data_ws.path, data_ws.path.parent / "server.log")
    try:
        yield server
    finally:
        stop_server(server.process)


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_datastores_are_listed_and_browsed_folder_by_folder(
    page: Page, data_server: ServerProcess, data_ws: DataWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{data_server.url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Datastores").click()

    expect(page).to_have_url(re.compile(r"/datastores$"))
    rows = page.get_by_test_id("datastore-row")
    expect(rows).to_have_count(2)
    workspace = page.locator("[data-testid=datastore-row][data-name=workspace]")
    expect(workspace.locator("[data-kind=workspace]")).to_have_text("Workspace")
    expect(workspace.get_by_text("default")).to_be_visible()
    local = page.locator(f"[data-testid=datastore-row][data-name={data_ws.datastore}]")
    expect(local.locator("[data-kind=local]")).to_have_text("Local folder")
    expect(local.get_by_text("Raw files from the lab")).to_be_visible()
    screenshot(page, "datastores")

    local.get_by_role("link", name=data_ws.datastore).click()
    expect(page).to_have_url(re.compile(rf"/datastores/{data_ws.datastore}$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(data_ws.datastore)
    entries = page.get_by_test_id("datastore-entry")
    expect(entries).to_have_count(3)  # images/, iris/, predictions/
    expect(page.locator("[data-testid=datastore-entry][data-kind=folder]")).to_have_count(3)

    page.get_by_role("link", name="iris/").click()
    expect(page).to_have_url(re.compile(r"\?path=iris$"))
    expect(page.locator("[data-testid=datastore-entry][data-kind=folder]")).to_have_count(2)  # 2023, 2024
    readme = page.locator("[data-testid=datastore-entry][data-path='iris/README.txt']")
    expect(readme).to_contain_text("README.txt")
    expect(readme).to_contain_text("30 B")

    page.get_by_role("link", name="2023/").click()
    expect(page).to_have_url(re.compile(r"\?path=iris%2F2023$"))
    expect(page.get_by_test_id("datastore-path")).to_have_text(
        re.compile(rf"{data_ws.datastore}\s*/\s*iris\s*/\s*2023")
    )
    files = page.locator("[data-testid=datastore-entry][data-kind=file]")
    expect(files).to_have_count(2)
    expect(files.first).to_contain_text("part-0.csv")
    expect(files.first.locator("time")).to_have_count(1)  # a modified time
    expect(page.get_by_test_id("datastore-summary")).to_have_text("0 folders, 2 files")
    expect(page.get_by_test_id("datastore-truncated")).to_have_count(0)
    expect(page.get_by_text('ds.path("iris/2023")')).to_be_visible()
    screenshot(page, "datastore-browse")

    page.get_by_test_id("datastore-path").get_by_role(
        "link", name="iris"
    ).click()  # up through the breadcrumbs
    expect(page).to_have_url(re.compile(r"\?path=iris$"))
    page.reload()  # a folder is a deep link
    expect(page.locator("[data-testid=datastore-entry][data-path='iris/2024']")).to_be_visible()


def test_the_datasets_list_shows_each_datasets_latest_version(
    page: Page, data_server: ServerProcess, data_ws: DataWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{data_server.url}/datasets")

    expect(page.get_by_test_id("dataset-row")).to_have_count(3)
    iris = page.locator(f"[data-testid=dataset-row][data-name={data_ws.tabular}]")
    expect(iris.get_by_test_id("dataset-version")).to_have_text("2")
    expect(iris.locator("[data-kind=tabular]")).to_be_visible()
    expect(iris).to_contain_text("Iris, short sepals dropped")
    images = page.locator(f"[data-testid=dataset-row][data-name={data_ws.files}]")
    expect(images.locator("[data-kind=file]")).to_have_text("File")
    expect(page.locator(f"[data-testid=dataset-row][data-name={data_ws.output}]")).to_be_visible()
    screenshot(page, "datasets")

    page.get_by_label("Filter datasets").fill("images")
    expect(page.get_by_test_id("dataset-row")).to_have_count(1)


def test_a_dataset_shows_its_versions_definition_preview_and_lineage(
    page: Page, data_server: ServerProcess, data_ws: DataWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{data_server.url}/datasets")
    page.get_by_role("link", name=data_ws.tabular, exact=True).click()

    expect(page).to_have_url(re.compile(rf"/datasets/{data_ws.tabular}$"))
    expect(page.get_by_test_id("dataset-page")).to_have_attribute("data-version", "2")
    details = page.get_by_test_id("dataset-details")
    expect(details.get_by_text("latest", exact=True)).to_be_visible()
    expect(details.get_by_test_id("dataset-file-count")).to_contain_text("3 files")
    expect(details.get_by_test_id("dataset-source-run")).to_have_count(0)
    definition = page.get_by_test_id("dataset-definition")
    expect(definition.get_by_test_id("dataset-sources")).to_contain_text(
        f"{data_ws.datastore}: iris/**/*.csv"
    )
    expect(definition.get_by_test_id("dataset-transforms")).to_have_text("filter: sepal_length >= 5")
    expect(definition.get_by_text("delimited text (CSV/TSV)")).to_be_visible()
    screenshot(page, "dataset-overview")

    page.get_by_test_id("dataset-version-select").select_option("1")
    expect(page).to_have_url(re.compile(r"\?version=1$"))
    expect(page.get_by_test_id("dataset-page")).to_have_attribute("data-version", "1")
    expect(page.get_by_test_id("dataset-details").get_by_role("link", name="newer: v2")).to_be_visible()
    expect(page.get_by_test_id("dataset-definition")).to_contain_text("none: every row of every file")

    page.get_by_test_id("tab-preview").click()  # the tab keeps the version
    expect(page).to_have_url(re.compile(rf"/datasets/{data_ws.tabular}/preview\?version=1$"))
    preview = page.get_by_test_id("dataset-preview")
    expect(preview.get_by_test_id("preview-row")).to_have_count(100)  # capped: v1 has 180 rows
    expect(preview.locator("thead th[data-column=sepal_length]")).to_contain_text("float")
    expect(preview.locator("thead th[data-column=species]")).to_be_visible()
    expect(page.get_by_text("Only the first 100 rows are shown.")).to_be_visible()
    screenshot(page, "dataset-preview")

    page.get_by_test_id("dataset-version-select").select_option("2")
    expect(page).to_have_url(re.compile(r"/preview\?version=2$"))
    expect(preview.get_by_test_id("preview-row")).to_have_count(min(100, data_ws.rows_v2))

    page.get_by_test_id("tab-files").click()
    files = page.get_by_test_id("dataset-file")
    expect(files).to_have_count(3)
    expect(files.first).to_contain_text("iris/2023/part-0.csv")
    screenshot(page, "dataset-files")

    page.get_by_test_id("tab-lineage").click()
    consumed = page.get_by_test_id("lineage-inputs")
    row = consumed.locator(f"[data-testid=lineage-row][data-run-id='{data_ws.run_id}']")
    expect(row.get_by_role("link", name=data_ws.run_name)).to_be_visible()
    expect(row).to_contain_text("train")
    expect(row).to_contain_text("downloaded")
    expect(row.locator("[data-status=Completed]")).to_be_visible()
    expect(page.get_by_test_id("lineage-produced")).to_contain_text("Registered outside a run")
    screenshot(page, "dataset-lineage")
    row.get_by_role("link", name=data_ws.run_name).click()
    expect(page).to_have_url(re.compile(rf"/runs/{data_ws.run_id}$"))


def test_the_profile_draws_a_histogram_per_numeric_column_and_recomputes(
    page: Page, data_server: ServerProcess, data_ws: DataWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{data_server.url}/datasets/{data_ws.tabular}/profile")

    expect(page.get_by_test_id("profile-summary")).to_have_text(f"{data_ws.rows_v2} rows · 3 columns")
    length = page.locator("[data-testid=profile-column][data-column=sepal_length]")
    histogram = length.get_by_test_id("profile-histogram")
    expect(histogram).to_be_visible()
    assert int(histogram.get_attribute("data-bins") or "0") >= 5
    assert histogram.locator("rect.profile-bar").count() >= 5
    expect(length).to_contain_text("Mean")
    expect(length).to_contain_text("50%")
    species = page.locator("[data-testid=profile-column][data-column=species]")
    expect(species.get_by_test_id("profile-histogram")).to_have_count(0)
    expect(species.get_by_test_id("profile-top-values").locator("tr")).to_have_count(3)
    screenshot(page, "dataset-profile")

    computed = page.get_by_test_id("profile-computed").locator("time")
    before = computed.get_attribute("datetime")
    page.get_by_test_id("profile-recompute").click()
    expect(computed).not_to_have_attribute("datetime", before or "")  # a profile computed just now
    expect(page.get_by_test_id("profile-recompute")).to_be_enabled()
    expect(page.get_by_test_id("profile-loading")).to_have_count(0)
    expect(length.get_by_test_id("profile-histogram")).to_be_visible()

    page.get_by_test_id("theme-toggle").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    screenshot(page, "dataset-profile-dark")


def test_a_profile_not_computed_yet_says_it_is_being_computed(
    page: Page, data_server: ServerProcess, data_ws: DataWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    held: list[Route] = []  # the profile request, held back to see the page while the server computes
    page.route("**/api/v1/dataset-versions/*/profile", lambda route: held.append(route))
    page.goto(f"{data_server.url}/datasets/{data_ws.tabular}/profile?version=1")

    expect(page.get_by_test_id("profile-loading")).to_contain_text(
        "Computing the profile: reading every row (3 files"
    )
    expect(page.get_by_test_id("profile-recompute")).to_be_disabled()
    deadline = time.monotonic() + UI_TIMEOUT_MS / 1000
    while not held and time.monotonic() < deadline:
        page.wait_for_timeout(20)  # lets Playwright dispatch the route to the handler
    assert held, "the page asked for the profile"
    screenshot(page, "dataset-profile-computing")
    for route in held:
        route.continue_()
    page.unroute("**/api/v1/dataset-versions/*/profile")

    expect(page.get_by_test_id("profile-summary")).to_have_text(f"{data_ws.rows_v1} rows · 3 columns")
    expect(page.get_by_test_id("profile-loading")).to_have_count(0)
    expect(page.locator("[data-testid=profile-column]")).to_have_count(3)


def test_a_file_dataset_has_files_but_no_rows(
    page: Page, data_server: ServerProcess, data_ws: DataWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{data_server.url}/datasets/{data_ws.files}/preview")

    expect(page.get_by_role("heading", name="A file dataset has no rows to preview")).to_be_visible()
    expect(page.get_by_test_id("tab-preview")).to_have_count(0)  # only tabular datasets have rows
    expect(page.get_by_test_id("tab-profile")).to_have_count(0)
    page.get_by_test_id("tab-files").click()
    expect(page.get_by_test_id("dataset-file")).to_have_count(2)
    page.get_by_test_id("tab-overview").click()
    expect(page.get_by_test_id("dataset-sources")).to_contain_text(f"{data_ws.datastore}: images")
    screenshot(page, "dataset-file-overview")


def test_a_run_lists_the_datasets_it_read_and_wrote(
    page: Page, data_server: ServerProcess, data_ws: DataWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{data_server.url}/runs/{data_ws.run_id}")

    card = page.get_by_test_id("run-datasets")
    inputs = card.locator("[data-testid=run-dataset][data-direction=input]")
    expect(inputs).to_have_count(1)
    expect(inputs).to_contain_text("train")
    expect(inputs).to_contain_text("download")
    outputs = card.locator("[data-testid=run-dataset][data-direction=output]")
    expect(outputs).to_contain_text(data_ws.output)
    screenshot(page, "run-overview-datasets")

    inputs.get_by_role("link", name=re.compile(rf"^{data_ws.tabular}\s+v2$")).click()
    expect(page).to_have_url(re.compile(rf"/datasets/{data_ws.tabular}\?version=2$"))
    expect(page.get_by_test_id("dataset-page")).to_have_attribute("data-version", "2")

    page.goto(f"{data_server.url}/datasets/{data_ws.output}")
    source = page.get_by_test_id("dataset-source-run")
    expect(source.get_by_role("link", name=data_ws.run_name)).to_be_visible()
    page.get_by_test_id("tab-lineage").click()
    produced = page.get_by_test_id("lineage-outputs")
    expect(produced.get_by_role("link", name=data_ws.run_name)).to_be_visible()
    expect(produced).to_contain_text("written")


def test_home_counts_datasets_and_datastores(page: Page, data_server: ServerProcess) -> None:
    expect = _expect()
    page.goto(f"{data_server.url}/")

    expect(page.get_by_test_id("stat-datasets")).to_have_text("3")
    expect(page.get_by_test_id("stat-datastores")).to_have_text("2")
    page.get_by_test_id("stat-datasets").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/datasets$"))


def test_an_unknown_dataset_or_version_says_so(
    page: Page, data_server: ServerProcess, data_ws: DataWorkspace
) -> None:
    expect = _expect()
    page.goto(f"{data_server.url}/datasets/{data_ws.tabular}?version=9")
    expect(page.get_by_role("heading", name="Version 9 does not exist")).to_be_visible()
    page.get_by_role("link", name="Open the latest (v2)").click()
    expect(page.get_by_test_id("dataset-page")).to_have_attribute("data-version", "2")

    page.goto(f"{data_server.url}/datasets/no-such-data")
    expect(page.get_by_role("alert").or_(page.get_by_role("heading", name="No such dataset"))).to_be_visible()


def test_a_new_workspace_says_how_to_add_data(
    page: Page, studio_built: Path, local_backend: Backend, screenshot: Screenshot
) -> None:
    expect = _expect()
    with serve_in_thread(create_app(local_backend)) as url:
        page.goto(f"{url}/datasets")
        expect(page.get_by_role("heading", name="No datasets registered")).to_be_visible()
        expect(
            page.get_by_text('from_delimited_files([(ds, "iris/*.csv")]).register(ws, "iris")')
        ).to_be_visible()
        screenshot(page, "datasets-empty")

        page.goto(f"{url}/datastores")
        expect(page.get_by_test_id("datastore-row")).to_have_count(1)
        expect(page.get_by_role("heading", name="Only the workspace's own storage so far")).to_be_visible()
        page.get_by_role("link", name="workspace", exact=True).click()
        expect(page.get_by_role("heading", name="This datastore is empty")).to_be_visible()
        expect(page.get_by_text('ds.upload("./data")')).to_be_visible()
        screenshot(page, "datastore-empty")
