"""Lifecycle: soft delete and restore of runs (children follow), hidden from search, purge frees bytes."""

from __future__ import annotations

import os

import pytest
from contract_support import Target, blob_path, finish, new_experiment, new_run, read_artifact, sha256

import ember
from ember.backend import Backend
from ember.entities import MetricSeries, RunSearch
from ember.errors import Conflict, InvalidInput, NotFound


def _ids(backend: Backend, experiment_id: str, lifecycle: str = "active") -> set[str]:
    page = backend.tracking.search_runs(
        RunSearch(experiment_ids=[experiment_id], lifecycle=lifecycle, max_results=5000)  # type: ignore[arg-type]
    )
    return {r.info.id for r in page.runs}


def test_delete_and_restore_a_run_with_its_children(backend: Backend) -> None:
    exp = new_experiment(backend, "del")
    parent = new_run(backend, exp.id).info.id
    child = new_run(backend, exp.id, parent_run_id=parent).info.id
    grandchild = new_run(backend, exp.id, parent_run_id=child).info.id
    bystander = new_run(backend, exp.id).info.id
    family = {parent, child, grandchild}

    info = backend.tracking.set_run_lifecycle(parent, "deleted")
    assert info.lifecycle_stage == "deleted"
    for run_id in family:
        assert backend.tracking.get_run(run_id).info.lifecycle_stage == "deleted"
    assert backend.tracking.get_run(bystander).info.lifecycle_stage == "active"
    assert _ids(backend, exp.id) == {bystander}
    assert _ids(backend, exp.id, "deleted") == family
    assert _ids(backend, exp.id, "all") == family | {bystander}
    assert backend.tracking.get_experiment(exp.id).run_count == 1

    info = backend.tracking.set_run_lifecycle(parent, "active")
    assert info.lifecycle_stage == "active"
    assert _ids(backend, exp.id) == family | {bystander}
    assert _ids(backend, exp.id, "deleted") == set()
    assert backend.tracking.get_experiment(exp.id).run_count == 4


def test_deleting_a_child_leaves_its_parent(backend: Backend) -> None:
    exp = new_experiment(backend, "delchild")
    parent = new_run(backend, exp.id).info.id
    child = new_run(backend, exp.id, parent_run_id=parent).info.id
    backend.tracking.set_run_lifecycle(child, "deleted")
    assert _ids(backend, exp.id) == {parent}
    assert backend.tracking.get_run(parent).info.lifecycle_stage == "active"


def test_search_hides_deleted_runs_unless_asked_in_the_sdk(backend: Backend) -> None:
    ws = ember.Workspace(backend)
    exp = ember.Experiment(ws, new_experiment(backend, "sdkdel").name)
    kept = exp.start_logging()
    gone = exp.start_logging()
    backend.tracking.set_run_lifecycle(gone.id, "deleted")
    assert [r.id for r in ws.search_runs(experiment=exp.name)] == [kept.id]
    assert {r.id for r in ws.search_runs(experiment=exp.name, include_deleted=True)} == {kept.id, gone.id}
    assert [r.id for r in exp.get_runs()] == [kept.id]


def test_a_deleted_run_refuses_writes_until_restored(backend: Backend) -> None:
    exp = new_experiment(backend, "delwrite")
    run_id = new_run(backend, exp.id, tags={"keep": "1"}).info.id
    backend.tracking.set_run_lifecycle(run_id, "deleted")
    with pytest.raises(Conflict):
        backend.tracking.log_metrics(run_id, [MetricSeries(key="m", values=[1.0])])
    with pytest.raises(Conflict):
        backend.tracking.log_params(run_id, {"a": "1"})
    with pytest.raises(Conflict):
        backend.tracking.set_tags(run_id, {"a": "1"})
    with pytest.raises(Conflict):
        backend.tracking.upload_artifact(run_id, "a.txt", [b"x"])
    with pytest.raises(Conflict):
        backend.tracking.add_properties(run_id, {"a": "1"})
    with pytest.raises(Conflict):
        backend.tracking.log_table_rows(run_id, "t", [{"a": 1}])
    details = backend.tracking.get_run(run_id)
    assert (details.params, details.tags, details.properties, details.metrics) == ({}, {"keep": "1"}, {}, {})
    assert backend.tracking.get_metrics(run_id).tables == {}
    assert backend.tracking.list_artifacts(run_id) == []


def test_a_deleted_run_keeps_its_tags(backend: Backend) -> None:
    exp = new_experiment(backend, "deltag")
    run_id = new_run(backend, exp.id, tags={"keep": "1"}).info.id
    backend.tracking.set_run_lifecycle(run_id, "deleted")
    with pytest.raises(Conflict):
        backend.tracking.delete_tag(run_id, "keep")
    assert backend.tracking.get_run(run_id).tags == {"keep": "1"}

    backend.tracking.set_run_lifecycle(run_id, "active")
    backend.tracking.log_metrics(run_id, [MetricSeries(key="m", values=[1.0])])
    assert backend.tracking.get_run(run_id).metrics == {"m": 1.0}


def test_runs_cannot_be_archived(backend: Backend) -> None:
    exp = new_experiment(backend, "arch")
    run_id = new_run(backend, exp.id).info.id
    with pytest.raises(InvalidInput):
        backend.tracking.set_run_lifecycle(run_id, "archived")
    assert backend.tracking.get_run(run_id).info.lifecycle_stage == "active"


@pytest.mark.isolated_workspace
def test_purge_frees_a_shared_blob_only_when_its_last_run_is_gone(target: Target) -> None:
    backend = target.backend
    exp = new_experiment(backend, "purge")
    one, two = new_run(backend, exp.id).info.id, new_run(backend, exp.id).info.id
    data = os.urandom(1_000_003)
    only_one = os.urandom(1000)
    backend.tracking.upload_artifact(one, "model.bin", [data])
    backend.tracking.upload_artifact(one, "mine.bin", [only_one])
    backend.tracking.upload_artifact(two, "same-model.bin", [data])
    finish(backend, one)
    shared = blob_path(target.artifact_root, sha256(data))
    own = blob_path(target.artifact_root, sha256(only_one))
    assert shared.is_file()
    assert own.is_file()

    assert backend.tracking.purge().model_dump() == {
        "experiments": 0,
        "runs": 0,
        "blobs": 0,
        "bytes_freed": 0,
    }

    backend.tracking.set_run_lifecycle(one, "deleted")
    report = backend.tracking.purge()
    assert (report.runs, report.experiments, report.blobs, report.bytes_freed) == (1, 0, 1, len(only_one))
    assert shared.is_file(), "a blob still referenced by another run was freed"
    assert not own.exists()
    assert read_artifact(backend, two, "same-model.bin") == data
    with pytest.raises(NotFound):
        backend.tracking.get_run(one)
    with pytest.raises(NotFound):
        backend.tracking.set_run_lifecycle(one, "active")

    backend.tracking.set_run_lifecycle(two, "deleted")
    report = backend.tracking.purge()
    assert (report.runs, report.experiments, report.blobs, report.bytes_freed) == (1, 0, 1, len(data))
    assert not shared.exists()
    with pytest.raises(NotFound):
        backend.tracking.get_run(two)
    assert backend.tracking.get_experiment(exp.id).run_count == 0


@pytest.mark.isolated_workspace
def test_purging_a_deleted_experiment_removes_its_runs(target: Target) -> None:
    backend = target.backend
    doomed = new_experiment(backend, "doomed")
    kept = new_experiment(backend, "kept")
    runs = [new_run(backend, doomed.id).info.id for _ in range(3)]
    child = new_run(backend, doomed.id, parent_run_id=runs[0]).info.id
    survivor = new_run(backend, kept.id).info.id
    data = os.urandom(2048)
    backend.tracking.upload_artifact(runs[1], "f.bin", [data])
    backend.tracking.log_metrics(runs[2], [MetricSeries(key="m", values=[1.0, 2.0])])
    backend.tracking.log_params(runs[2], {"p": "1"})

    backend.tracking.set_experiment_lifecycle(doomed.id, "deleted")
    report = backend.tracking.purge()

    assert (report.experiments, report.runs, report.blobs, report.bytes_freed) == (1, 4, 1, len(data))
    with pytest.raises(NotFound):
        backend.tracking.get_experiment(doomed.id)
    with pytest.raises(NotFound):
        backend.tracking.get_experiment_by_name(doomed.name)
    for run_id in [*runs, child]:
        with pytest.raises(NotFound):
            backend.tracking.get_run(run_id)
    assert not blob_path(target.artifact_root, sha256(data)).exists()
    assert backend.tracking.get_run(survivor).info.lifecycle_stage == "active"
    # The name is free again.
    assert backend.tracking.get_or_create_experiment(doomed.name).id != doomed.id


@pytest.mark.isolated_workspace
def test_purge_respects_the_grace_period(target: Target) -> None:
    backend = target.backend
    exp = new_experiment(backend, "grace")
    run_id = new_run(backend, exp.id).info.id
    backend.tracking.upload_artifact(run_id, "f.bin", [b"grace"])
    backend.tracking.set_run_lifecycle(run_id, "deleted")

    report = backend.tracking.purge(older_than_seconds=3600)
    assert (report.runs, report.blobs) == (0, 0)
    assert backend.tracking.set_run_lifecycle(run_id, "active").lifecycle_stage == "active"
    assert read_artifact(backend, run_id, "f.bin") == b"grace"
    with pytest.raises(InvalidInput):
        backend.tracking.purge(older_than_seconds=-1)


@pytest.mark.isolated_workspace
def test_purge_leaves_archived_experiments_and_active_runs(target: Target) -> None:
    backend = target.backend
    exp = new_experiment(backend, "archived")
    run_id = new_run(backend, exp.id).info.id
    backend.tracking.upload_artifact(run_id, "f.bin", [b"keep me"])
    backend.tracking.set_experiment_lifecycle(exp.id, "archived")
    report = backend.tracking.purge()
    assert (report.experiments, report.runs, report.blobs) == (0, 0, 0)
    assert read_artifact(backend, run_id, "f.bin") == b"keep me"


def test_sdk_delete_and_gc(backend: Backend) -> None:
    ws = ember.Workspace(backend)
    exp = ember.Experiment(ws, new_experiment(backend, "sdkgc").name)
    with exp.start_logging() as run:
        run.log("m", 1.0)
    exp.delete()
    assert exp.info.lifecycle_stage == "deleted"
    assert exp.name not in ws.experiments
    report = ws.gc()
    assert report["experiments"] >= 1
    assert report["runs"] >= 1
    with pytest.raises(NotFound):
        ws.get_run(run.id)


def test_sdk_run_delete_and_restore(backend: Backend) -> None:
    ws = ember.Workspace(backend)
    exp = ember.Experiment(ws, new_experiment(backend, "sdkdel").name)
    with exp.start_logging(display_name="keep") as kept:
        kept.log("m", 1.0)
    with exp.start_logging(display_name="drop") as dropped:
        child = dropped.child_run("fold")
        child.complete()
    dropped.delete()
    assert [r.id for r in exp.get_runs()] == [kept.id]
    assert ws.get_run(child.id).get_details()["info"]["lifecycle_stage"] == "deleted"
    dropped.restore()
    assert {r.id for r in exp.get_runs()} == {kept.id, dropped.id}
    assert ws.get_run(child.id).get_details()["info"]["lifecycle_stage"] == "active"
