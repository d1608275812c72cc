"""The workspace the studio's browser tests look at, seeded with the SDK the way a user fills one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import ember
from ember.entities import ExperimentUpdate

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

__all__ = ["UI_TIMEOUT_MS", "SeededWorkspace", "checked_page", "seed_workspace"]

UI_TIMEOUT_MS = 15_000  # how long a browser test waits for the page to show something


@contextmanager
def checked_page(browser: Browser, *, expected_statuses: str) -> Iterator[Page]:
    """A page in a fresh browser context (no storage shared), light theme, laptop size; on exit, fail if
    the page logged an error (a CSP violation, an uncaught exception) other than a failed request with
    one of ``expected_statuses`` (a regex alternation such as ``"404|503"``)."""
    context = browser.new_context(viewport={"width": 1360, "height": 860}, color_scheme="light")
    context.set_default_timeout(UI_TIMEOUT_MS)
    errors: list[str] = []
    page = context.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        yield page
    finally:
        context.close()
    unexpected = [e for e in errors if not re.search(rf"status of ({expected_statuses})", e)]
    assert not unexpected, f"the page logged errors: {unexpected}"


@dataclass
class SeededWorkspace:
    """What the seeded workspace holds, for tests to look for on the pages."""

    path: Path
    name: str
    experiments: dict[str, str]  # name -> id of the active ones
    archived: str  # name of the archived experiment
    runs: dict[str, str]  # display name -> id
    running: str  # display name of the run still running
    run_count: int


def seed_workspace(folder: Path) -> SeededWorkspace:
    """A workspace as a user leaves it after a few days: experiments, finished and live runs, an archive."""
    ws = ember.Workspace.create(folder, name="vision-team")
    runs: dict[str, str] = {}
    experiments: dict[str, str] = {}

    iris = ember.Experiment(ws, "iris-classifier")
    for index, lr in enumerate((0.1, 0.01, 0.001)):
        with iris.start_logging(display_name=f"logreg-lr{lr}", tags={"model": "logreg"}) as run:
            run.log_params({"lr": lr, "epochs": 20})
            for step in range(20):
                run.log("loss", 1.0 / (step + 1 + index), step=step)
            run.log("accuracy", 0.9 + index / 100)
        runs[f"logreg-lr{lr}"] = run.id
    failed = iris.start_logging(display_name="svm-rbf", tags={"model": "svm"})
    failed.log_params({"C": 1.0, "kernel": "rbf"})
    failed.fail("the kernel matrix did not fit in memory")
    runs["svm-rbf"] = failed.id
    experiments["iris-classifier"] = iris.id

    resnet = ember.Experiment(ws, "resnet-finetune")
    live = resnet.start_logging(display_name="resnet50-epoch-sweep", tags={"gpu": "a100"})
    live.log_params({"batch_size": 64})
    live.log("loss", 2.3, step=0)
    live.flush()  # left Running: what "Running now" shows
    runs["resnet50-epoch-sweep"] = live.id
    experiments["resnet-finetune"] = resnet.id

    old = ember.Experiment(ws, "mnist-2023")
    with old.start_logging(display_name="cnn") as run:
        run.log("accuracy", 0.99)
    runs["cnn"] = run.id
    old.archive()

    ws.backend.tracking.update_experiment(
        iris.id, ExperimentUpdate(description="Logistic regression and SVM baselines on iris")
    )
    ws.close()  # the live run stays Running: nothing completes it
    return SeededWorkspace(
        path=folder,
        name="vision-team",
        experiments=experiments,
        archived="mnist-2023",
        runs=runs,
        running="resnet50-epoch-sweep",
        run_count=5,  # of the active experiments
    )
