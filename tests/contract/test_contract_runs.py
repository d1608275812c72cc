"""Runs: the user story through the SDK, statuses, failures, terminal runs, write-once values, children."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from contract_support import finish, new_experiment, new_run, unique

import ember
from ember.backend import Backend
from ember.entities import MetricSeries, RunCreate, RunDetails, RunError, RunSearch, RunStatus, RunUpdate
from ember.errors import Conflict, InvalidInput


def test_the_user_story_end_to_end(ws: ember.Workspace, tmp_path: Path) -> None:
    name = unique("iris")
    model = tmp_path / "model.pkl"
    model.write_bytes(b"\x80\x04pickled-model" * 100)
    plots = tmp_path / "plots"
    (plots / "sub").mkdir(parents=True)
    (plots / "roc.png").write_bytes(b"png-roc")
    (plots / "sub" / "pr.png").write_bytes(b"png-pr")

    exp = ember.Experiment(ws, name)
    with exp.start_logging(display_name="baseline") as run:
        run.log_params({"C": 1.0, "model": "logreg"})
        run.set_tags({"team": "vision"})
        run.add_properties({"dataset": "iris-v1"})
        for step in range(1000):
            run.log("loss", 1 / (step + 1), step=step)
        run.log_list("fold_acc", [0.91, 0.93, 0.92])
        run.log_row("per_class", cls="a", f1=0.9)
        run.log_table("confusion", {"pred": [0, 1], "count": [10, 3]})
        stored = run.upload_file("outputs/model.pkl", model)
        uploaded = run.upload_folder("outputs/plots", plots)
        child = run.child_run("fold-1")
        child.log("acc", 0.9)
        child.complete()
        assert run.get_status() == "Running"

    assert stored == "outputs/model.pkl"
    assert uploaded == ["outputs/plots/roc.png", "outputs/plots/sub/pr.png"]

    metrics = run.get_metrics()
    assert metrics["loss"] == [1 / (s + 1) for s in range(1000)]
    assert metrics["fold_acc"] == [0.91, 0.93, 0.92]
    assert metrics["per_class"] == {"cls": ["a"], "f1": [0.9]}
    assert metrics["confusion"] == {"pred": [0, 1], "count": [10, 3]}
    assert run.get_metrics("fold_acc") == {"fold_acc": [0.91, 0.93, 0.92]}

    history = run.get_metric_history("loss")
    assert [p["step"] for p in history] == list(range(1000))
    assert [p["value"] for p in history] == metrics["loss"]
    assert all(isinstance(p["timestamp"], float) and p["timestamp"] > 0 for p in history)
    assert [p["step"] for p in run.get_metric_history("fold_acc")] == [0, 1, 2]

    assert run.get_status() == "Completed"
    details = run.get_details()
    assert details["info"]["display_name"] == "baseline"
    assert details["info"]["status"] == "Completed"
    assert details["info"]["experiment_id"] == exp.id
    assert details["info"]["start_time"] is not None
    assert details["info"]["end_time"] is not None
    assert details["info"]["end_time"] >= details["info"]["start_time"]
    assert details["params"] == {"C": "1.0", "model": "logreg"}
    assert details["tags"] == {"team": "vision"}
    assert details["properties"] == {"dataset": "iris-v1"}
    assert details["metrics"]["loss"] == 1 / 1000
    assert details["metrics"]["fold_acc"] == 0.92
    assert run.get_params() == {"C": "1.0", "model": "logreg"}
    assert run.get_tags() == {"team": "vision"}
    assert run.get_properties() == {"dataset": "iris-v1"}

    assert run.get_file_names() == ["outputs/model.pkl", "outputs/plots/roc.png", "outputs/plots/sub/pr.png"]
    assert run.get_file_names("outputs/plots") == ["outputs/plots/roc.png", "outputs/plots/sub/pr.png"]
    out = run.download_file("outputs/model.pkl", tmp_path / "down" / "model.pkl")
    assert out.read_bytes() == model.read_bytes()
    got = run.download_files("outputs/plots", tmp_path / "all")
    assert sorted(p.relative_to(tmp_path / "all").as_posix() for p in got) == [
        "outputs/plots/roc.png",
        "outputs/plots/sub/pr.png",
    ]
    assert (tmp_path / "all" / "outputs" / "plots" / "sub" / "pr.png").read_bytes() == b"png-pr"

    children = run.get_children()
    assert [c.id for c in children] == [child.id]
    assert children[0].display_name == "fold-1"
    assert children[0].parent_id == run.id
    assert children[0].get_status() == "Completed"
    assert children[0].get_metrics() == {"acc": [0.9]}

    assert [r.id for r in exp.get_runs()] == [run.id]
    assert {r.id for r in exp.get_runs(include_children=True)} == {run.id, child.id}
    again = ws.get_run(run.id)
    assert again.id == run.id
    assert again.experiment.name == name
    assert again.display_name == "baseline"
    assert name in ws.experiments
    assert ws.experiments[name].id == exp.id

    found = ws.search_runs(
        experiment=name,
        filter=(
            "metrics.loss < 0.01 and params.model = 'logreg' and tags.team = 'vision' "
            "and attributes.status = 'Completed'"
        ),
        order_by=["metrics.loss ASC"],
        max_results=100,
    )
    assert [r.id for r in found] == [run.id]
    assert found.next_page_token is None
    assert ws.search_runs(experiment=name, filter="metrics.loss > 0.01") == []


def test_an_exception_inside_with_fails_the_run_and_records_why(ws: ember.Workspace) -> None:
    run = ember.Experiment(ws, unique("boom")).start_logging()
    with pytest.raises(ValueError, match="bad fold"):
        _train_and_crash(run)

    assert run.get_status() == "Failed"
    error = run.get_details()["info"]["error"]
    assert "ValueError" in error["message"]
    assert "bad fold 3" in error["message"]
    assert "Traceback" in error["traceback"]
    assert "_train_and_crash" in error["traceback"]
    # What was logged before the failure is kept.
    assert run.get_metrics()["loss"] == [0.5]


def test_keyboard_interrupt_inside_with_cancels_the_run(ws: ember.Workspace) -> None:
    run = ember.Experiment(ws, unique("interrupt")).start_logging()
    with pytest.raises(KeyboardInterrupt):
        _train_and_crash(run, KeyboardInterrupt())
    assert run.get_status() == "Canceled"


def test_a_run_completed_inside_with_stays_completed(ws: ember.Workspace) -> None:
    exp = ember.Experiment(ws, unique("early"))
    with exp.start_logging() as run:
        run.complete()
    assert run.get_status() == "Completed"


def test_run_fail_with_a_message(ws: ember.Workspace) -> None:
    run = ember.Experiment(ws, unique("fail")).start_logging()
    run.fail("the data was empty")
    assert run.get_status() == "Failed"
    assert run.get_details()["info"]["error"]["message"] == "the data was empty"


def test_status_transitions(backend: Backend) -> None:
    exp = new_experiment(backend)
    queued = new_run(backend, exp.id, status=RunStatus.QUEUED)
    assert queued.info.status == RunStatus.QUEUED
    assert queued.info.start_time is None
    assert queued.info.end_time is None

    run_id = queued.info.id
    info = backend.tracking.update_run(run_id, RunUpdate(status=RunStatus.STARTING))
    assert info.status == RunStatus.STARTING
    info = backend.tracking.update_run(run_id, RunUpdate(status=RunStatus.RUNNING))
    assert info.status == RunStatus.RUNNING
    assert info.start_time is not None
    started = info.start_time
    assert info.end_time is None

    with pytest.raises(InvalidInput):
        backend.tracking.update_run(run_id, RunUpdate(status=RunStatus.NOT_STARTED))
    assert backend.tracking.get_run(run_id).info.status == RunStatus.RUNNING

    info = backend.tracking.update_run(run_id, RunUpdate(status=RunStatus.COMPLETED))
    assert info.status == RunStatus.COMPLETED
    assert info.start_time == started
    assert info.end_time is not None
    assert info.end_time >= started
    assert info.duration is not None
    assert info.duration >= 0

    for status in (RunStatus.RUNNING, RunStatus.FAILED, RunStatus.CANCELED, RunStatus.COMPLETED):
        with pytest.raises(Conflict):
            backend.tracking.update_run(run_id, RunUpdate(status=status))
    with pytest.raises(Conflict):
        backend.tracking.update_run(run_id, RunUpdate(error=RunError(message="late")))
    after = backend.tracking.get_run(run_id).info
    assert after.status == RunStatus.COMPLETED
    assert after.error is None
    assert after.end_time == info.end_time


def test_a_run_created_running_has_a_start_time(backend: Backend) -> None:
    exp = new_experiment(backend)
    run = new_run(backend, exp.id, display_name="r1", tags={"k": "v"})
    assert run.info.status == RunStatus.RUNNING
    assert run.info.start_time is not None
    assert run.info.display_name == "r1"
    assert run.info.experiment_name == exp.name
    assert run.info.lifecycle_stage == "active"
    assert run.tags == {"k": "v"}
    assert backend.tracking.get_run(run.info.id) == run


def test_a_queued_run_that_fails_gets_start_and_end_times(backend: Backend) -> None:
    exp = new_experiment(backend)
    run = new_run(backend, exp.id, status=RunStatus.QUEUED)
    info = backend.tracking.update_run(
        run.info.id,
        RunUpdate(status=RunStatus.FAILED, error=RunError(message="no GPU", traceback="tb", exit_code=3)),
    )
    assert info.status == RunStatus.FAILED
    assert info.start_time is not None
    assert info.end_time is not None
    assert info.error is not None
    assert (info.error.message, info.error.traceback, info.error.exit_code) == ("no GPU", "tb", 3)
    assert backend.tracking.get_run(run.info.id).info.error == info.error


@pytest.mark.parametrize("status", [RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED])
def test_a_finished_run_refuses_new_data_but_tags_and_description_stay_editable(
    backend: Backend, status: RunStatus
) -> None:
    exp = new_experiment(backend)
    run_id = new_run(backend, exp.id).info.id
    backend.tracking.log_params(run_id, {"lr": "0.1"})
    backend.tracking.add_properties(run_id, {"dataset": "v1"})
    backend.tracking.log_metrics(run_id, [MetricSeries(key="loss", values=[1.0, 0.5])])
    backend.tracking.log_table_rows(run_id, "t", [{"a": 1}])
    backend.tracking.upload_artifact(run_id, "a.txt", [b"before"])
    backend.tracking.set_tags(run_id, {"keep": "1", "drop": "2"})
    finish(backend, run_id, status)
    before = backend.tracking.get_run(run_id)

    with pytest.raises(Conflict):
        backend.tracking.log_metrics(run_id, [MetricSeries(key="loss", values=[0.1])])
    with pytest.raises(Conflict):
        backend.tracking.log_metrics(run_id, [MetricSeries(key="new", values=[0.1])])
    with pytest.raises(Conflict):
        backend.tracking.log_params(run_id, {"other": "1"})
    with pytest.raises(Conflict):
        backend.tracking.add_properties(run_id, {"other": "1"})
    with pytest.raises(Conflict):
        backend.tracking.log_table_rows(run_id, "t", [{"a": 2}])
    with pytest.raises(Conflict):
        backend.tracking.upload_artifact(run_id, "b.txt", [b"after"])
    with pytest.raises(Conflict):
        backend.tracking.upload_artifact(run_id, "a.txt", [b"overwrite"])

    after = backend.tracking.get_run(run_id)
    assert after == before
    assert backend.tracking.get_metric_history(run_id, "loss").values == [1.0, 0.5]
    assert backend.tracking.get_metrics(run_id).tables == {"t": {"a": [1]}}
    assert [a.path for a in backend.tracking.list_artifacts(run_id)] == ["a.txt"]
    _, chunks = backend.tracking.open_artifact(run_id, "a.txt")
    assert b"".join(chunks) == b"before"

    backend.tracking.set_tags(run_id, {"keep": "changed", "added": "3"})
    backend.tracking.delete_tag(run_id, "drop")
    info = backend.tracking.update_run(run_id, RunUpdate(description="looked at it", display_name="renamed"))
    assert info.description == "looked at it"
    assert info.display_name == "renamed"
    assert info.status == status
    final = backend.tracking.get_run(run_id)
    assert final.tags == {"keep": "changed", "added": "3"}
    assert final.info.description == "looked at it"
    assert final.info.end_time == before.info.end_time


def test_logging_to_a_finished_run_through_the_sdk_is_refused(ws: ember.Workspace) -> None:
    exp = ember.Experiment(ws, unique("sdk-finished"))
    with exp.start_logging() as run:
        run.log("loss", 1.0)
    run.log("loss", 2.0)
    with pytest.raises(Conflict):
        run.flush()
    with pytest.raises(Conflict):
        run.log_params({"late": 1})
    assert run.get_metrics() == {"loss": [1.0]}
    run.set_tag("reviewed", "yes")
    assert run.get_tags() == {"reviewed": "yes"}


@pytest.mark.parametrize("what", ["params", "properties"])
def test_params_and_properties_are_write_once(backend: Backend, what: str) -> None:
    exp = new_experiment(backend)
    run_id = new_run(backend, exp.id).info.id
    write = backend.tracking.log_params if what == "params" else backend.tracking.add_properties

    write(run_id, {"C": "1.0", "model": "logreg"})
    write(run_id, {"C": "1.0"})  # the same value again is fine
    with pytest.raises(Conflict):
        write(run_id, {"C": "2.0"})
    # All or nothing: a batch with one conflicting key stores none of its keys.
    with pytest.raises(Conflict):
        write(run_id, {"extra": "x", "model": "svm"})
    # "1.0" and "1" are different texts.
    with pytest.raises(Conflict):
        write(run_id, {"C": "1"})

    details = backend.tracking.get_run(run_id)
    assert getattr(details, what) == {"C": "1.0", "model": "logreg"}


def test_child_runs(backend: Backend) -> None:
    exp = new_experiment(backend)
    parent = new_run(backend, exp.id).info.id
    kids = [
        new_run(backend, exp.id, parent_run_id=parent, display_name=f"fold-{i}").info.id for i in range(3)
    ]
    grandchild = new_run(backend, exp.id, parent_run_id=kids[0]).info.id

    assert backend.tracking.get_run(kids[1]).info.parent_run_id == parent
    page = backend.tracking.search_runs(
        RunSearch(experiment_ids=[exp.id], parent_run_id=parent, order_by=["attributes.created_time ASC"])
    )
    assert [r.info.id for r in page.runs] == kids
    page = backend.tracking.search_runs(RunSearch(experiment_ids=[exp.id], parent_run_id=kids[0]))
    assert [r.info.id for r in page.runs] == [grandchild]


def test_a_child_must_be_in_its_parents_experiment(backend: Backend) -> None:
    exp = new_experiment(backend)
    other = new_experiment(backend)
    parent = new_run(backend, exp.id).info.id
    with pytest.raises(InvalidInput):
        new_run(backend, other.id, parent_run_id=parent)
    assert _runs_of(backend, other.id) == [], "the refused child was stored"


def test_the_user_given_is_recorded(backend: Backend) -> None:
    exp = new_experiment(backend)
    run = backend.tracking.create_run(RunCreate(experiment_id=exp.id, user="ana"))
    assert run.info.user == "ana"
    assert backend.tracking.get_run(run.info.id).info.user == "ana"
    page = backend.tracking.search_runs(RunSearch(experiment_ids=[exp.id], filter="attributes.user = 'ana'"))
    assert [r.info.id for r in page.runs] == [run.info.id]


def test_display_name_and_description_update_while_running(backend: Backend) -> None:
    exp = new_experiment(backend)
    run_id = new_run(backend, exp.id, display_name="a").info.id
    info = backend.tracking.update_run(run_id, RunUpdate(display_name="b"))
    assert info.display_name == "b"
    assert info.status == RunStatus.RUNNING
    info = backend.tracking.update_run(run_id, RunUpdate(description="notes"))
    assert (info.display_name, info.description) == ("b", "notes")


def test_nan_and_infinite_params_are_text(backend: Backend, ws: ember.Workspace) -> None:
    run = ember.Experiment(ws, unique("nanparam")).start_logging()
    run.log_params({"a": math.nan, "b": math.inf, "c": 3})
    assert run.get_params() == {"a": "nan", "b": "inf", "c": "3"}
    run.complete()


def _runs_of(backend: Backend, experiment_id: str) -> list[RunDetails]:
    return backend.tracking.search_runs(RunSearch(experiment_ids=[experiment_id], lifecycle="all")).runs


def _train_and_crash(run: ember.Run, error: BaseException | None = None) -> None:
    with run:
        run.log("loss", 0.5)
        raise error or ValueError("bad fold 3")
