"""A user finds their models in the studio: the registry's list with aliases and a tag search, a model's
versions, tags and aliases to change, its files to download, where it came from, an MLflow model's
signature, the models on a run's page, and deleting a version (refused while a deployment serves it).

The workspace here is this module's own (``models_ws``): ``iris-clf`` with two versions (``production`` on
v1, ``staging`` on v2), ``churn-xgb`` whose tags the tests change, ``from-run`` registered from a run's
stored file with the dataset it was trained on, and ``wine-mlflow``, an MLflow model (an ``MLmodel`` file
with flavors and a signature beside ``model.pkl``).
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
from ember.backend import Backend
from ember.server import create_app
from support.sdk_env import isolate_sdk_environment
from support.server_harness import ServerProcess, serve_in_thread, start_server, stop_server

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

Screenshot = Callable[[Any, str], Path]

# As MLflow writes it: each part of the signature is a JSON string inside the YAML.
MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.9
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.5.0
mlflow_version: 2.14.1
model_size_bytes: 812
model_uuid: 5d1c2f7e8a9b4c3d
signature:
  inputs: '[{"type": "double", "name": "x"}]'
  outputs: '[{"type": "tensor", "tensor-spec": {"dtype": "int64", "shape": [-1]}}]'
  params: null
utc_time_created: '2024-06-01 10:00:00.000000'
"""

MODEL_PKL = b"\x80\x04\x95 a pickled LogisticRegression " + bytes(range(64))


@dataclass
class ModelsWorkspace:
    path: Path
    run_id: str  # the run `from-run` was registered from
    run_name: str
    experiment: str
    idle_run_id: str  # a run that registered no model
    mlflow_pkl: bytes  # the bytes of wine-mlflow's model.pkl
    model_count: int


def _seed(folder: Path, files: Path) -> ModelsWorkspace:
    files.mkdir(parents=True)
    ws = ember.Workspace.create(folder, name="models-team")

    v1 = files / "iris-v1.pkl"
    v1.write_bytes(b"iris logistic regression, C=1.0")
    first = ember.Model.register(
        ws,
        v1,
        "iris-clf",
        tags={"team": "vision", "stage": "production"},
        properties={"accuracy": "0.953", "trained_on": "iris v1"},
        description="Logistic regression on the four iris measurements",
        framework="sklearn",
        framework_version="1.5.0",
    )
    v2 = files / "iris-v2.pkl"
    v2.write_bytes(b"iris logistic regression, C=0.1, more features")
    second = ember.Model.register(
        ws,
        v2,
        "iris-clf",
        tags={"team": "vision", "stage": "candidate"},
        properties={"accuracy": "0.967"},
        description="Stronger regularisation",
        framework="sklearn",
        framework_version="1.5.0",
    )
    first.set_alias("production")
    second.set_alias("staging")

    churn = files / "churn.json"
    churn.write_text('{"booster": "gbtree"}\n')
    ember.Model.register(
        ws,
        churn,
        "churn-xgb",
        tags={"owner": "growth", "stage": "candidate"},
        framework="xgboost",
        framework_version="2.0.3",
    )

    mlflow_dir = files / "wine-mlflow"
    mlflow_dir.mkdir()
    (mlflow_dir / "MLmodel").write_text(MLMODEL)
    (mlflow_dir / "model.pkl").write_bytes(MODEL_PKL)
    ember.Model.register(ws, mlflow_dir, "wine-mlflow", tags={"source": "mlflow"})

    data = files / "data"
    data.mkdir()
    (data / "iris.csv").write_text("sepal_length,species\n5.1,setosa\n6.2,virginica\n")
    store = ember.Datastore.register_local(ws, "raw-data", data)
    iris = ember.Dataset.Tabular.from_delimited_files([(store, "iris.csv")]).register(ws, "iris")

    exp = ember.Experiment(ws, "iris-training")
    with exp.start_logging(display_name="train-logreg") as run:
        run.log("accuracy", 0.95)
        run.upload_file("outputs/model.pkl", v1)
        run.register_model("from-run", "outputs/model.pkl", datasets=[("training", iris)])
    with exp.start_logging(display_name="eval-only") as idle:
        idle.log("accuracy", 0.9)
    ws.close()
    return ModelsWorkspace(
        path=folder,
        run_id=run.id,
        run_name="train-logreg",
        experiment="iris-training",
        idle_run_id=idle.id,
        mlflow_pkl=MODEL_PKL,
        model_count=4,
    )


@pytest.fixture(scope="module")
def models_ws(tmp_path_factory: pytest.TempPathFactory) -> ModelsWorkspace:
    root = tmp_path_factory.mktemp("model-pages")
    with pytest.MonkeyPatch.context() as patch:
        isolate_sdk_environment(patch, root / "cache")
        return _seed(root / "ws", root / "files")


@pytest.fixture(scope="module")
def models_server(studio_built: Path, models_ws: ModelsWorkspace) -> Iterator[ServerProcess]:
    server = start_server(models_ws.path, models_ws.path.parent / "server.log")
    try:
        yield server
    finally:
        stop_server(server.process)


@pytest.fixture
def page_allowing_conflicts(browser: Browser) -> Iterator[Page]:
    """Like ``page``, but a refused request (409) is part of the story, not an error of the page."""
    with checked_page(browser, expected_statuses="404|409|503") as page:
        yield page


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def test_the_list_shows_each_models_latest_version_with_its_aliases(
    page: Page, models_server: ServerProcess, models_ws: ModelsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{models_server.url}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Models").click()

    expect(page).to_have_url(re.compile(r"/models$"))
    expect(page.get_by_test_id("model-row")).to_have_count(models_ws.model_count)
    iris = page.locator("[data-testid=model-row][data-name=iris-clf]")
    expect(iris.get_by_test_id("model-version")).to_have_text("2")
    expect(iris.get_by_test_id("model-alias")).to_have_text(["@staging"])  # production is on v1
    expect(iris).to_contain_text("sklearn 1.5.0")
    expect(iris).to_contain_text("Stronger regularisation")
    wine = page.locator("[data-testid=model-row][data-name=wine-mlflow]")
    expect(wine.locator("[data-format=mlflow]")).to_have_text("MLflow")
    expect(wine).to_contain_text("sklearn 1.5.0")  # the version from its sklearn flavor
    expect(wine).to_contain_text("2")  # files
    expect(page.get_by_test_id("models-summary")).to_contain_text(f"{models_ws.model_count} models")
    screenshot(page, "models")

    page.get_by_test_id("models-all-versions").check()
    expect(page).to_have_url(re.compile(r"[?&]all=1"))
    versions = page.locator("[data-testid=model-row][data-name=iris-clf]")
    expect(versions).to_have_count(2)
    older = page.locator("[data-testid=model-row][data-name=iris-clf][data-version='1']")
    expect(older.get_by_test_id("model-alias")).to_have_text(["@production"])
    screenshot(page, "models-all-versions")
    older.get_by_role("link", name="1", exact=True).click()
    expect(page).to_have_url(re.compile(r"/models/iris-clf\?version=1$"))
    expect(page.get_by_test_id("model-page")).to_have_attribute("data-version", "1")


def test_the_search_filters_by_tags_on_the_server_and_by_name(
    page: Page, models_server: ServerProcess, models_ws: ModelsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{models_server.url}/models")
    expect(page.get_by_test_id("model-row")).to_have_count(models_ws.model_count)

    with page.expect_request(lambda r: "/api/v1/models?" in r.url and "tag=team%3Dvision" in r.url):
        page.get_by_label("Search models by name or tag").fill("team=vision")
    rows = page.get_by_test_id("model-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-name", "iris-clf")
    expect(page).to_have_url(re.compile(r"\?q=team%3Dvision$"))

    page.get_by_label("Search models by name or tag").fill("stage=candidate")
    expect(rows).to_have_count(2)  # iris-clf v2 and churn-xgb; iris-clf v1 (production) is not the latest
    expect(page.locator("[data-testid=model-row][data-name=churn-xgb]")).to_be_visible()
    page.get_by_label("Search models by name or tag").press_sequentially(" churn")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-name", "churn-xgb")
    screenshot(page, "models-search")

    page.get_by_label("Search models by name or tag").fill("wine")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-name", "wine-mlflow")

    page.get_by_label("Search models by name or tag").fill("")
    expect(rows).to_have_count(models_ws.model_count)
    page.locator("[data-testid=model-row][data-name=wine-mlflow]").get_by_role(
        "button", name=re.compile("source")
    ).click()  # a tag chip adds itself to the search
    expect(page.get_by_label("Search models by name or tag")).to_have_value("source=mlflow")
    expect(rows).to_have_count(1)

    page.get_by_label("Search models by name or tag").fill("stage=retired")
    expect(rows).to_have_count(0)
    expect(page.get_by_text("No model matches “stage=retired”.")).to_be_visible()
    page.get_by_role("button", name="Clear the search").click()
    expect(rows).to_have_count(models_ws.model_count)

    page.get_by_label("Search models by name or tag").fill("wine")
    expect(rows).to_have_count(1)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Models").click()
    expect(page).to_have_url(re.compile(r"/models$"))  # a fresh list, not the last search
    expect(page.get_by_label("Search models by name or tag")).to_have_value("")
    expect(rows).to_have_count(models_ws.model_count)


def test_a_model_page_picks_versions_and_sets_aliases(
    page: Page, models_server: ServerProcess, models_ws: ModelsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{models_server.url}/models")
    page.get_by_role("link", name="iris-clf", exact=True).click()

    expect(page).to_have_url(re.compile(r"/models/iris-clf$"))
    model = page.get_by_test_id("model-page")
    expect(model).to_have_attribute("data-version", "2")
    expect(page.get_by_role("heading", level=1)).to_have_text("iris-clf")
    picker = page.get_by_test_id("model-version-select")
    expect(picker.locator("option[value='2']")).to_have_text(re.compile(r"^v2 \(latest\) · staging · "))
    expect(picker.locator("option[value='1']")).to_have_text(re.compile(r"^v1 · production · "))
    details = page.get_by_test_id("model-details")
    expect(details.get_by_text("latest", exact=True)).to_be_visible()
    chips = page.get_by_test_id("model-version-aliases").locator("[data-testid=version-alias] .run-tag-key")
    expect(chips).to_have_text(["@staging"])
    usage = 'model = ember.Model(ws, "iris-clf", version=2)'
    expect(page.get_by_test_id("model-usage")).to_contain_text(usage)
    screenshot(page, "model-overview")

    picker.select_option("1")
    expect(page).to_have_url(re.compile(r"\?version=1$"))
    expect(model).to_have_attribute("data-version", "1")
    expect(details.get_by_role("link", name="newer: v2")).to_be_visible()
    expect(page.get_by_test_id("model-properties-table").locator("tr[data-key=accuracy]")).to_contain_text(
        "0.953"
    )
    expect(page.get_by_test_id("model-framework")).to_have_text("sklearn 1.5.0")
    expect(page.get_by_test_id("other-aliases")).to_contain_text("@staging → v2")

    aliases = page.get_by_test_id("model-aliases-card")
    aliases.get_by_label("Alias", exact=True).fill("staging")
    expect(page.get_by_test_id("alias-move-note")).to_have_text(
        "“staging” is on v2; setting it here moves it to v1."
    )
    aliases.get_by_label("Alias", exact=True).fill("champion")
    expect(page.get_by_test_id("alias-move-note")).to_have_count(0)
    aliases.get_by_role("button", name="Set on v1").click()
    expect(chips).to_have_text(["@champion", "@production"])
    expect(picker.locator("option[value='1']")).to_have_text(re.compile(r"^v1 · champion, production · "))
    screenshot(page, "model-aliases")

    page.goto(f"{models_server.url}/models/iris-clf?version=champion")  # an alias is an address too
    expect(model).to_have_attribute("data-version", "1")
    page.get_by_role("button", name="Remove alias champion").click()
    expect(chips).to_have_text(["@production"])
    expect(page).to_have_url(re.compile(r"\?version=1$"))  # the same version, now by number
    page.goto(f"{models_server.url}/models/iris-clf?version=champion")
    expect(page.get_by_role("heading", name="No version has the alias “champion”")).to_be_visible()
    page.goto(f"{models_server.url}/models/iris-clf?version=7")
    expect(page.get_by_role("heading", name="Version 7 does not exist")).to_be_visible()
    page.get_by_role("link", name="Open the latest (v2)").click()
    expect(model).to_have_attribute("data-version", "2")


def test_tags_and_the_description_are_edited_on_the_page(
    page: Page, models_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{models_server.url}/models/churn-xgb")

    tags = page.get_by_test_id("model-tags-card")
    expect(tags.get_by_test_id("model-tag")).to_have_count(2)
    tags.get_by_label("Tag key").fill("reviewed")
    tags.get_by_label("Tag value").fill("yes")
    tags.get_by_role("button", name="Add tag").click()
    expect(tags.locator("[data-testid=model-tag][data-key=reviewed]")).to_contain_text("yes")
    tags.get_by_role("button", name="Remove tag owner").click()
    expect(tags.locator("[data-testid=model-tag][data-key=owner]")).to_have_count(0)

    page.get_by_test_id("edit-description").click()
    page.get_by_test_id("description-input").fill("Gradient boosting on the churn features")
    page.get_by_test_id("save-description").click()
    expect(page.get_by_test_id("model-description")).to_have_text("Gradient boosting on the churn features")
    screenshot(page, "model-edited")

    page.reload()  # saved on the server
    expect(tags.get_by_test_id("model-tag")).to_have_count(2)  # reviewed and stage
    expect(tags.locator("[data-testid=model-tag][data-key=reviewed]")).to_be_visible()
    expect(page.get_by_test_id("model-description")).to_have_text("Gradient boosting on the churn features")
    page.goto(f"{models_server.url}/models?q=reviewed%3Dyes")
    expect(page.get_by_test_id("model-row")).to_have_count(1)


def test_the_files_tab_downloads_each_file(
    page: Page, models_server: ServerProcess, models_ws: ModelsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{models_server.url}/models/wine-mlflow")
    page.get_by_test_id("tab-files").click()

    expect(page).to_have_url(re.compile(r"/models/wine-mlflow/files$"))
    files = page.get_by_test_id("model-file")
    expect(files).to_have_count(2)
    expect(files.first).to_have_attribute("data-path", "MLmodel")
    pkl = page.locator("[data-testid=model-file][data-path='model.pkl']")
    expect(pkl).to_contain_text(f"{len(models_ws.mlflow_pkl)} B")
    screenshot(page, "model-files")

    with page.expect_download() as download:
        pkl.get_by_test_id("model-file-download").click()
    assert download.value.suggested_filename == "model.pkl"
    assert Path(download.value.path()).read_bytes() == models_ws.mlflow_pkl


def test_the_lineage_leads_to_the_run_its_experiment_and_the_dataset(
    page: Page, models_server: ServerProcess, models_ws: ModelsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{models_server.url}/models/from-run")
    source = page.get_by_test_id("model-source-run")
    expect(source.get_by_role("link", name=models_ws.run_name)).to_be_visible()
    page.get_by_test_id("tab-lineage").click()

    expect(page).to_have_url(re.compile(r"/models/from-run/lineage$"))
    run = page.get_by_test_id("model-lineage-run")
    expect(run.get_by_test_id("model-lineage-run-link").locator("[data-status=Completed]")).to_be_visible()
    expect(run.get_by_test_id("model-lineage-experiment")).to_have_text(models_ws.experiment)
    dataset = page.locator("[data-testid=model-dataset][data-role=training]")
    expect(dataset.get_by_role("link", name=re.compile(r"^iris\s+v1$"))).to_be_visible()
    screenshot(page, "model-lineage")

    dataset.get_by_role("link", name=re.compile(r"^iris\s+v1$")).click()
    expect(page).to_have_url(re.compile(r"/datasets/iris\?version=1$"))
    page.go_back()
    run.get_by_role("link", name=models_ws.run_name).click()
    expect(page).to_have_url(re.compile(rf"/runs/{models_ws.run_id}$"))

    page.goto(f"{models_server.url}/models/iris-clf/lineage")
    expect(page.get_by_role("heading", name="Registered outside a run")).to_be_visible()
    expect(page.get_by_role("heading", name="No datasets recorded")).to_be_visible()


def test_an_mlflow_model_shows_its_flavors_and_signature(
    page: Page, models_server: ServerProcess, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{models_server.url}/models/wine-mlflow")

    expect(page.get_by_test_id("model-details").locator("[data-format=mlflow]")).to_have_text("MLflow")
    flavors = page.get_by_test_id("model-flavors")
    expect(flavors.get_by_test_id("model-flavor")).to_have_count(2)
    expect(flavors.get_by_test_id("model-flavor").first).to_have_attribute("data-flavor", "python_function")
    expect(flavors.locator("[data-flavor=python_function]")).to_contain_text("mlflow.sklearn")
    expect(flavors.locator("[data-flavor=sklearn]")).to_contain_text("cloudpickle")
    inputs = page.get_by_test_id("signature-inputs")
    expect(inputs.get_by_test_id("signature-column")).to_have_count(1)
    expect(inputs.locator("[data-testid=signature-column][data-name=x]")).to_contain_text("double")
    outputs = page.get_by_test_id("signature-outputs")
    expect(outputs.get_by_test_id("signature-column")).to_contain_text(["int64"])
    expect(outputs.get_by_test_id("signature-column")).to_contain_text(["any"])  # shape [-1]
    expect(page.get_by_test_id("signature-params")).to_have_count(0)  # `params: null`
    expect(page.get_by_test_id("model-usage")).to_contain_text("mlflow.pyfunc.load_model(path)")
    screenshot(page, "model-mlflow")

    page.get_by_test_id("theme-toggle").click()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    screenshot(page, "model-mlflow-dark")


def test_a_runs_overview_lists_the_models_registered_from_it(
    page: Page, models_server: ServerProcess, models_ws: ModelsWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{models_server.url}/runs/{models_ws.run_id}")

    card = page.get_by_test_id("run-models")
    expect(card.get_by_test_id("run-model")).to_have_count(1)
    row = card.locator("[data-testid=run-model][data-name=from-run]")
    expect(row.get_by_role("link", name=re.compile(r"^from-run\s+v1$"))).to_be_visible()
    screenshot(page, "run-overview-models")
    row.get_by_role("link", name=re.compile(r"^from-run\s+v1$")).click()
    expect(page).to_have_url(re.compile(r"/models/from-run\?version=1$"))

    page.goto(f"{models_server.url}/runs/{models_ws.idle_run_id}")
    expect(page.get_by_test_id("run-duration")).to_be_visible()
    expect(page.get_by_test_id("run-models")).to_have_count(0)


def test_home_counts_models(page: Page, models_server: ServerProcess, models_ws: ModelsWorkspace) -> None:
    expect = _expect()
    page.goto(f"{models_server.url}/")

    expect(page.get_by_test_id("stat-models")).to_have_text(str(models_ws.model_count))
    page.get_by_test_id("stat-models").get_by_role("link").click()
    expect(page).to_have_url(re.compile(r"/models$"))


def test_deleting_a_version_asks_first_and_shows_the_servers_refusal(
    page_allowing_conflicts: Page,
    studio_built: Path,
    local_backend: Backend,
    tmp_path: Path,
    screenshot: Screenshot,
) -> None:
    expect = _expect()
    page = page_allowing_conflicts
    ws = ember.Workspace(local_backend)
    weights = tmp_path / "model.pt"
    weights.write_bytes(b"weights v1")
    ember.Model.register(ws, weights, "old-baseline")
    weights.write_bytes(b"weights v2")
    second = ember.Model.register(ws, weights, "old-baseline")
    second.set_alias("production")
    served = {second.id}  # what a deployment serving v2 tells the registry
    local_backend.registry.add_deployment_guard(
        lambda model_id: ["endpoint churn-api"] if model_id in served else []
    )

    with serve_in_thread(create_app(local_backend)) as url:
        page.goto(f"{url}/models/old-baseline?version=2")
        expect(page.get_by_test_id("model-page")).to_have_attribute("data-version", "2")
        page.get_by_test_id("model-delete").click()
        dialog = page.get_by_role("dialog", name="Delete old-baseline v2?")
        expect(dialog).to_be_visible()
        expect(dialog.get_by_test_id("model-delete-text")).to_contain_text("with its alias production")

        dialog.get_by_role("button", name="Delete version").click()
        expect(dialog.get_by_role("alert")).to_contain_text("is served by endpoint churn-api")
        expect(dialog).to_be_visible()  # refused: the dialog stays, with the server's reason
        screenshot(page, "model-delete-refused")

        dialog.get_by_role("button", name="Cancel").click()
        expect(dialog).to_be_hidden()
        served.clear()  # the endpoint moved to another version
        page.get_by_test_id("model-delete").click()
        expect(dialog.get_by_role("alert")).to_have_count(0)  # the old refusal is gone
        dialog.get_by_role("button", name="Delete version").click()

        expect(page).to_have_url(re.compile(r"/models/old-baseline$"))
        expect(page.get_by_test_id("model-page")).to_have_attribute("data-version", "1")
        expect(page.get_by_test_id("model-version-select").locator("option")).to_have_count(1)
        assert [m.version for m in ember.Model.list(ws, "old-baseline")] == [1]

        page.get_by_test_id("model-delete").click()  # the last version: the model goes
        page.get_by_role("dialog").get_by_role("button", name="Delete version").click()
        expect(page).to_have_url(re.compile(r"/models$"))
        expect(page.get_by_role("heading", name="No models registered")).to_be_visible()


def test_a_new_workspace_says_how_to_register_a_model(
    page: Page, studio_built: Path, local_backend: Backend, screenshot: Screenshot
) -> None:
    expect = _expect()
    with serve_in_thread(create_app(local_backend)) as url:
        page.goto(f"{url}/models")
        expect(page.get_by_role("heading", name="No models registered")).to_be_visible()
        expect(page.get_by_text('ember.Model.register(ws, "outputs/model.pkl", "iris-clf"')).to_be_visible()
        expect(page.get_by_text('run.register_model("iris-clf", "outputs/model.pkl")')).to_be_visible()
        expect(page.get_by_text("ember model register")).to_be_visible()
        screenshot(page, "models-empty")

        page.goto(f"{url}/models/nothing-here")
        expect(page.get_by_role("heading", name="No such model")).to_be_visible()
