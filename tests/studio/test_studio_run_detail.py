"""A user opens one run in the studio: its overview, charts, files, live logs, snapshot, and cancels one.

The workspace here is this module's own (``run_page``): runs with long metric series, tables and files,
two interactive runs left Running (one to follow its log live, one to cancel), and two runs submitted
from a source folder (one completed, one failed), so the page is seen as a user sees it.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import struct
import subprocess
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

import ember
from ember.wiring import open_backend
from support.sdk_env import isolate_sdk_environment
from support.server_harness import ServerProcess, start_server, stop_server

if TYPE_CHECKING:
    from playwright.sync_api import Page

Screenshot = Callable[[Any, str], Path]

SERIES_POINTS = 5_000
BIG_SERIES_POINTS = 100_000
RUN_TIMEOUT_S = 120.0

TRAIN_PY = '''"""Train a tiny model."""
import sys

import ember


def main(epochs: int) -> None:
    run = ember.Run.get_context()
    for epoch in range(epochs):
        loss = 1.0 / (epoch + 1)
        run.log("loss", loss, step=epoch)
        print(f"epoch {epoch}: loss={loss:.3f}")
    with open("outputs/result.txt", "w") as out:
        out.write("done\\n")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 5)
'''

FAILING_PY = """import ember

def load(path):
    raise FileNotFoundError(f"no data at {path}")

ember.Run.get_context().log("loss", 1.0)
load("/data/train.csv")
"""


@dataclass
class RunPageWorkspace:
    path: Path
    trained: str  # interactive, completed: long series, a table, tags, files
    big: str  # interactive, completed: a 100,000-point series
    following: str  # interactive, left Running: its log is appended by the test
    to_cancel: str  # interactive, left Running: the test cancels it
    submitted: str  # submitted from a source folder, completed
    failed: str  # submitted, failed with a traceback
    child: str  # a child of `trained`


def _png(width: int, height: int) -> bytes:
    """A small RGB gradient as PNG bytes (no imaging library needed)."""
    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 255 // width, y * 255 // height, 160)) for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _git_source(folder: Path) -> None:
    """Make the source folder a git repository with one commit, when git is installed."""
    git = shutil.which("git")
    if git is None:
        return
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-q", "-m", "train"]):
        subprocess.run([git, *args], cwd=folder, env=env, check=True, capture_output=True)


def _seed(folder: Path, scratch: Path) -> RunPageWorkspace:
    ws = ember.Workspace.create(folder, name="run-page")
    exp = ember.Experiment(ws, "cifar-resnet")

    trained = exp.start_logging(
        display_name="resnet18-baseline", tags={"model": "resnet18"}, description="First try"
    )
    trained.log_params({"lr": 0.1, "batch_size": 128, "optimizer": "sgd"})
    trained.add_properties({"dataset_version": "3"})
    for step in range(SERIES_POINTS):
        noise = 0.15 * math.sin(step * 12.9898) * math.cos(step * 0.37)
        trained.log("loss", 2.5 * math.exp(-step / 1500) + 0.1 + noise, step=step)
        trained.log("accuracy", 1 - 0.9 * math.exp(-step / 1200), step=step)
    trained.log_table("per_class", {"class": ["cat", "dog", "ship"], "f1": [0.91, 0.88, 0.95]})
    trained.upload_file("outputs/notes.txt", _write(scratch / "notes.txt", b"the first baseline\nlr 0.1\n"))
    trained.upload_file(
        "outputs/metrics.json", _write(scratch / "metrics.json", b'{"f1":0.91,"classes":["cat","dog"]}')
    )
    trained.upload_file("outputs/plots/confusion.png", _write(scratch / "confusion.png", _png(96, 64)))
    trained.upload_file(
        "outputs/predictions.csv", _write(scratch / "p.csv", b"id,label,score\n1,cat,0.9\n2,dog,0.8\n")
    )
    trained.upload_file("outputs/report.html", _write(scratch / "r.html", b"<script>alert(1)</script>"))
    child = trained.child_run("fold-1")
    child.log("loss", 0.5)
    child.complete()
    trained.complete()

    big = exp.start_logging(display_name="long-series")
    for step in range(BIG_SERIES_POINTS):
        big.log("loss", 1.0 / (1 + step / 1000) + 0.05 * math.sin(step / 50), step=step)
    big.complete()

    following = exp.start_logging(display_name="following-logs")
    following.log("loss", 1.0, step=0)
    following.flush()
    to_cancel = exp.start_logging(display_name="cancel-me")
    to_cancel.flush()

    source = scratch / "src"
    source.mkdir()
    (source / "train.py").write_text(TRAIN_PY)
    (source / "config.yml").write_text("epochs: 5\nlr: 0.1\n")
    _git_source(source)
    submitted = exp.submit(ember.ScriptRunConfig(source_directory=source, script="train.py", arguments=["5"]))
    bad_source = scratch / "bad"
    bad_source.mkdir()
    (bad_source / "train.py").write_text(FAILING_PY)
    failed = exp.submit(ember.ScriptRunConfig(source_directory=bad_source, script="train.py"))
    assert (
        submitted.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)["info"]["status"]
        == "Completed"
    )
    assert failed.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)["info"]["status"] == "Failed"
    ws.close()  # `following` and `to_cancel` stay Running
    return RunPageWorkspace(
        path=folder,
        trained=trained.id,
        big=big.id,
        following=following.id,
        to_cancel=to_cancel.id,
        submitted=submitted.id,
        failed=failed.id,
        child=child.id,
    )


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def run_page(tmp_path_factory: pytest.TempPathFactory) -> RunPageWorkspace:
    root = tmp_path_factory.mktemp("run-page")
    with pytest.MonkeyPatch.context() as patch:
        isolate_sdk_environment(patch, root / "cache")
        scratch = root / "scratch"
        scratch.mkdir()
        return _seed(root / "ws", scratch)


@pytest.fixture(scope="module")
def run_server(studio_built: Path, run_page: RunPageWorkspace) -> Iterator[ServerProcess]:
    server = start_server(run_page.path, run_page.path.parent / "server.log")
    try:
        yield server
    finally:
        stop_server(server.process)


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _dark(page: Page) -> None:
    page.get_by_test_id("theme-toggle").click()
    _expect()(page.locator("html")).to_have_attribute("data-theme", "dark")


def test_a_runs_charts_draw_its_points_and_keep_their_options_in_the_url(
    page: Page, run_server: ServerProcess, run_page: RunPageWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{run_server.url}/runs/{run_page.trained}")
    page.get_by_test_id("tab-metrics").click()
    expect(page).to_have_url(re.compile(rf"/runs/{run_page.trained}/metrics$"))

    loss = page.locator("[data-testid=metric-card][data-key=loss]")
    chart = loss.get_by_test_id("metric-chart")
    expect(chart).to_have_attribute("data-ready", "true")
    expect(loss.get_by_test_id("metric-total-points")).to_have_text("5,000 points")
    # The server decimates to about 2,000 points (min/max per bucket), never fewer than a third of that.
    drawn = int(chart.get_attribute("data-points") or "0")
    assert 1_000 <= drawn <= 2_001, drawn
    expect(chart.locator("canvas")).to_be_visible()
    expect(page.get_by_test_id("metric-chart")).to_have_count(2)  # loss and accuracy
    table = page.locator("[data-testid=metric-table][data-key=per_class]")
    expect(table.get_by_role("cell", name="ship")).to_be_visible()

    page.get_by_test_id("smoothing").fill("0.6")
    page.get_by_test_id("log-scale").check()
    page.get_by_test_id("x-axis-time").check()
    expect(page).to_have_url(re.compile(r"smooth=0\.6"))
    expect(page).to_have_url(re.compile(r"log=1"))
    expect(page).to_have_url(re.compile(r"x=time"))
    expect(chart).to_have_attribute("data-ready", "true")
    chart.hover()  # the tooltip shows the values under the cursor
    expect(loss.locator(".metric-chart-tooltip")).to_be_visible()
    screenshot(page, "run-metrics")

    page.reload()  # a shared link opens the same view
    expect(page.get_by_test_id("smoothing")).to_have_value("0.6")
    expect(page.get_by_test_id("log-scale")).to_be_checked()
    expect(page.get_by_test_id("x-axis-time")).to_be_checked()
    expect(page.get_by_test_id("smoothing-value")).to_have_text("0.60")
    _dark(page)
    expect(page.locator("[data-key=loss] [data-testid=metric-chart]")).to_have_attribute("data-ready", "true")
    screenshot(page, "run-metrics-dark")


def test_a_100k_point_series_is_charted_quickly(
    page: Page, run_server: ServerProcess, run_page: RunPageWorkspace
) -> None:
    expect = _expect()
    page.goto(f"{run_server.url}/runs/{run_page.big}/metrics?smooth=0.9")
    chart = page.get_by_test_id("metric-chart")
    expect(chart).to_have_attribute("data-ready", "true", timeout=5_000)
    expect(page.get_by_test_id("metric-total-points")).to_have_text("100,000 points")
    assert int(chart.get_attribute("data-points") or "0") <= 2_001
    # Moving the cursor over it stays responsive (uPlot, a couple of thousand points).
    box = chart.bounding_box()
    assert box is not None
    for i in range(20):
        page.mouse.move(box["x"] + 60 + i * (box["width"] - 80) / 20, box["y"] + box["height"] / 2)
    expect(chart.locator(".metric-chart-tooltip")).to_be_visible()


def test_editing_tags_and_the_description_persists(
    page: Page, run_server: ServerProcess, run_page: RunPageWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{run_server.url}/runs/{run_page.trained}")
    expect(page.get_by_role("heading", name="resnet18-baseline", level=1)).to_be_visible()
    expect(page.get_by_role("rowheader", name="batch_size")).to_be_visible()
    expect(page.get_by_role("rowheader", name="dataset_version")).to_be_visible()
    children = page.get_by_test_id("run-children")
    expect(children.get_by_role("link", name="fold-1")).to_be_visible()

    page.get_by_test_id("edit-description").click()
    page.get_by_test_id("description-input").fill("Baseline with SGD.\nNext: try AdamW.")
    page.get_by_test_id("save-description").click()
    expect(page.get_by_test_id("run-description")).to_have_text("Baseline with SGD.\nNext: try AdamW.")

    page.get_by_test_id("tag-key").fill("reviewed")
    page.get_by_test_id("tag-value").fill("yes")
    page.get_by_test_id("add-tag").click()
    expect(page.locator("[data-testid=run-tag][data-key=reviewed]")).to_contain_text("yes")
    page.locator("[data-testid=run-tag][data-key=model]").get_by_test_id("remove-tag").click()
    expect(page.locator("[data-testid=run-tag][data-key=model]")).to_have_count(0)
    screenshot(page, "run-overview")

    page.reload()
    expect(page.get_by_test_id("run-description")).to_have_text("Baseline with SGD.\nNext: try AdamW.")
    expect(page.locator("[data-testid=run-tag][data-key=reviewed]")).to_be_visible()
    expect(page.locator("[data-testid=run-tag][data-key=model]")).to_have_count(0)
    backend = open_backend(str(run_page.path))
    try:
        details = backend.tracking.get_run(run_page.trained)
    finally:
        backend.close()
    assert details.tags.get("reviewed") == "yes"
    assert "model" not in details.tags
    assert details.info.description == "Baseline with SGD.\nNext: try AdamW."
    _dark(page)
    screenshot(page, "run-overview-dark")


def test_the_log_of_an_active_run_updates_live(
    page: Page, run_server: ServerProcess, run_page: RunPageWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    backend = open_backend(str(run_page.path))
    try:
        backend.jobs.append_log(run_page.following, "std_log.txt", "epoch 0: loss=1.000\n")
        page.goto(f"{run_server.url}/runs/{run_page.following}/logs")
        view = page.get_by_test_id("log-view")
        expect(view).to_contain_text("epoch 0: loss=1.000")
        expect(page.get_by_test_id("log-live")).to_be_visible()

        for epoch in range(1, 4):
            backend.jobs.append_log(
                run_page.following, "std_log.txt", f"epoch {epoch}: loss={1 / (epoch + 1):.3f}\n"
            )
            expect(view).to_contain_text(f"epoch {epoch}:", timeout=5_000)
        backend.jobs.append_log(run_page.following, "std_log.txt", "".join(f"line {i}\n" for i in range(200)))
        expect(view).to_contain_text("line 199")
        # It followed the end: the last line is in view without scrolling.
        expect(view.get_by_text("line 199", exact=False)).to_be_in_viewport()
        assert page.url.endswith(f"/runs/{run_page.following}/logs")
        screenshot(page, "run-logs-live")
    finally:
        backend.close()


def test_the_logs_of_a_submitted_run_have_one_tab_per_log(
    page: Page, run_server: ServerProcess, run_page: RunPageWorkspace
) -> None:
    expect = _expect()
    page.goto(f"{run_server.url}/runs/{run_page.submitted}/logs?name=std_log.txt")
    view = page.get_by_test_id("log-view")
    expect(view).to_contain_text("epoch 4: loss=0.200")
    expect(view).to_have_attribute("data-complete", "true")
    page.get_by_test_id("log-tab-runner_log.txt").click()
    expect(page).to_have_url(re.compile(r"name=runner_log\.txt"))
    expect(page.get_by_test_id("log-view")).not_to_contain_text("epoch 4")


def test_cancel_stops_an_active_run(
    page: Page, run_server: ServerProcess, run_page: RunPageWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{run_server.url}/runs/{run_page.to_cancel}")
    header = page.locator(".page-header")
    expect(header.locator("[data-status=Running]")).to_be_visible()
    page.get_by_test_id("cancel-run").click()
    screenshot(page, "run-cancel-confirm")
    page.get_by_test_id("cancel-run-confirm").click()
    expect(header.locator("[data-status=Canceled]")).to_be_visible()
    expect(page.get_by_test_id("cancel-run")).to_have_count(0)
    backend = open_backend(str(run_page.path))
    try:
        assert backend.tracking.get_run(run_page.to_cancel).info.status == "Canceled"
    finally:
        backend.close()


def test_outputs_preview_text_json_csv_and_images_with_downloads(
    page: Page, run_server: ServerProcess, run_page: RunPageWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{run_server.url}/runs/{run_page.trained}/outputs")
    tree = page.get_by_test_id("file-tree-item")
    expect(tree).to_have_count(5)

    page.locator("[data-testid=file-tree-item][data-path='outputs/notes.txt']").click()
    expect(page).to_have_url(re.compile(r"path=outputs%2Fnotes\.txt"))
    expect(page.get_by_test_id("artifact-text")).to_have_text("the first baseline\nlr 0.1\n")
    download = page.get_by_test_id("download-file")
    expect(download).to_have_attribute("href", f"/api/v1/runs/{run_page.trained}/artifacts/outputs/notes.txt")

    page.locator("[data-testid=file-tree-item][data-path='outputs/metrics.json']").click()
    expect(page.get_by_test_id("artifact-text")).to_contain_text('"f1": 0.91')  # pretty-printed

    page.locator("[data-testid=file-tree-item][data-path='outputs/predictions.csv']").click()
    expect(page.get_by_test_id("artifact-csv").get_by_role("columnheader", name="score")).to_be_visible()

    page.locator("[data-testid=file-tree-item][data-path='outputs/report.html']").click()
    expect(page.get_by_text("HTML and SVG files are not shown here")).to_be_visible()

    page.locator("[data-testid=file-tree-item][data-path='outputs/plots/confusion.png']").click()
    image = page.get_by_test_id("artifact-image")
    expect(image).to_be_visible()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=artifact-image]')?.naturalWidth === 96"
    )
    screenshot(page, "run-outputs")
    _dark(page)
    screenshot(page, "run-outputs-dark")


def test_the_snapshot_shows_the_submitted_source_highlighted(
    page: Page, run_server: ServerProcess, run_page: RunPageWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{run_server.url}/runs/{run_page.submitted}/snapshot")
    code = page.get_by_test_id("snapshot-code")
    expect(code).to_contain_text("def main(epochs: int) -> None:")  # the run's script is shown first
    expect(code).to_have_attribute("data-language", "python")
    assert code.locator(".hljs-keyword").count() >= 5
    expect(code.locator(".hljs-string").first).to_be_visible()
    screenshot(page, "run-snapshot")

    page.locator("[data-testid=file-tree-item][data-path='config.yml']").click()
    expect(page).to_have_url(re.compile(r"path=config\.yml"))
    expect(code).to_have_attribute("data-language", "yaml")
    expect(code.locator(".hljs-attr").first).to_contain_text("epochs")
    expect(page.get_by_test_id("download-file")).to_have_attribute(
        "href", f"/api/v1/runs/{run_page.submitted}/snapshot/config.yml"
    )
    page.goto(f"{run_server.url}/runs/{run_page.submitted}/snapshot?path=train.py")
    _dark(page)
    expect(page.get_by_test_id("snapshot-code").locator(".hljs-keyword").first).to_be_visible()
    screenshot(page, "run-snapshot-dark")

    page.goto(f"{run_server.url}/runs/{run_page.trained}/snapshot")
    expect(page.get_by_text("was not submitted from a source folder")).to_be_visible()


def test_a_failed_submitted_run_shows_its_error_and_configuration(
    page: Page, run_server: ServerProcess, run_page: RunPageWorkspace, screenshot: Screenshot
) -> None:
    expect = _expect()
    page.goto(f"{run_server.url}/runs/{run_page.failed}")
    error = page.get_by_test_id("run-error")
    expect(error).to_contain_text("FileNotFoundError")
    expect(error.get_by_label("Traceback")).to_contain_text('load("/data/train.csv")')
    configuration = page.get_by_test_id("run-configuration")
    expect(configuration).to_contain_text("train.py")
    expect(page.get_by_test_id("run-where")).to_have_text("local")
    screenshot(page, "run-failed")

    page.goto(f"{run_server.url}/runs/{run_page.submitted}")
    expect(page.get_by_test_id("run-configuration")).to_contain_text("5")
    if shutil.which("git"):
        expect(page.get_by_text("main", exact=True)).to_be_visible()  # the branch
    screenshot(page, "run-submitted")


def test_a_series_of_one_value_is_drawn_as_a_dot(
    page: Page, run_server: ServerProcess, run_page: RunPageWorkspace, screenshot: Any
) -> None:
    expect = _expect()
    page.goto(f"{run_server.url}/runs/{run_page.child}/metrics")
    chart = page.get_by_test_id("metric-chart")
    expect(chart).to_have_attribute("data-ready", "true")
    assert chart.get_attribute("data-points") == "1"
    # Grid, axes and text are grey; only the series paints saturated pixels. A one-point line paints none.
    colored = chart.locator("canvas").first.evaluate(
        """canvas => {
            const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
            let n = 0;
            for (let i = 0; i < data.length; i += 4) {
                const hi = Math.max(data[i], data[i + 1], data[i + 2]);
                const lo = Math.min(data[i], data[i + 1], data[i + 2]);
                if (data[i + 3] > 200 && hi - lo > 80) n += 1;
            }
            return n;
        }"""
    )
    screenshot(page, "run-metrics-one-value")
    assert colored > 10, f"only {colored} coloured pixels: the single value is not drawn"
