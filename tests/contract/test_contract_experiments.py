"""Experiments: get-or-create, names, listing and paging, archive/restore/delete, run counts."""

from __future__ import annotations

import pytest
from contract_support import new_experiment, new_run, unique

import ember
from ember.backend import Backend
from ember.entities import ExperimentCreate, ExperimentUpdate, MetricSeries
from ember.errors import Conflict, InvalidInput, NotFound


def test_get_or_create_by_name_is_idempotent(backend: Backend, ws: ember.Workspace) -> None:
    name = unique("iris")
    first = backend.tracking.get_or_create_experiment(name)
    again = backend.tracking.get_or_create_experiment(name)
    sdk = ember.Experiment(ws, name)

    assert first.name == name
    assert again.id == first.id
    assert sdk.id == first.id
    assert backend.tracking.get_experiment_by_name(name).id == first.id
    assert backend.tracking.get_experiment(first.id).name == name
    assert ws.get_experiment(name).id == first.id
    assert ws.experiments[name].id == first.id


def test_creating_a_taken_name_is_a_conflict(backend: Backend) -> None:
    name = unique("dup")
    created = backend.tracking.create_experiment(
        ExperimentCreate(name=name, description="first", tags={"team": "vision"})
    )
    assert (created.name, created.description, created.tags) == (name, "first", {"team": "vision"})

    with pytest.raises(Conflict):
        backend.tracking.create_experiment(ExperimentCreate(name=name, description="second"))

    # The refused create changed nothing, and get-or-create still finds the first one.
    assert backend.tracking.get_experiment_by_name(name).description == "first"
    assert backend.tracking.get_or_create_experiment(name).id == created.id


def test_get_or_create_then_create_is_a_conflict(backend: Backend) -> None:
    name = unique("dup")
    backend.tracking.get_or_create_experiment(name)
    with pytest.raises(Conflict):
        backend.tracking.create_experiment(ExperimentCreate(name=name))


INVALID_NAMES = [
    "",
    "-starts-with-dash",
    ".hidden",
    "has space",
    "a/b",
    "..",
    "../etc",
    "semi;colon",
    "percent%2e",
    "back\\slash",
    "nul\x00byte",
    "x" * 256,
    "café",
]


@pytest.mark.parametrize("name", INVALID_NAMES, ids=range(len(INVALID_NAMES)))
def test_invalid_experiment_names_are_refused(backend: Backend, ws: ember.Workspace, name: str) -> None:
    before = {
        e.name for e in backend.tracking.list_experiments(lifecycle="all", max_results=5000).experiments
    }

    with pytest.raises(InvalidInput):
        backend.tracking.get_or_create_experiment(name)
    with pytest.raises(InvalidInput):
        backend.tracking.get_experiment_by_name(name)
    with pytest.raises(InvalidInput):
        ember.Experiment(ws, name)

    after = {e.name for e in backend.tracking.list_experiments(lifecycle="all", max_results=5000).experiments}
    assert after == before


def test_the_longest_valid_name_is_accepted(backend: Backend) -> None:
    name = unique("n")
    name = name + "x" * (255 - len(name))
    assert backend.tracking.get_or_create_experiment(name).name == name


def test_listing_pages_through_every_experiment_once(backend: Backend) -> None:
    prefix = unique("page")
    names = [f"{prefix}-{i}" for i in range(7)]
    for name in names:
        backend.tracking.get_or_create_experiment(name)

    seen: list[str] = []
    token: str | None = None
    pages = 0
    while True:
        page = backend.tracking.list_experiments(max_results=3, page_token=token)
        assert len(page.experiments) <= 3
        seen.extend(e.name for e in page.experiments)
        pages += 1
        token = page.next_page_token
        if token is None:
            break
        assert pages < 1000

    assert len(seen) == len(set(seen)), "an experiment was listed twice"
    mine = [n for n in seen if n.startswith(prefix)]
    assert sorted(mine) == sorted(names)
    # Most recently active first.
    assert mine.index(names[-1]) < mine.index(names[0])


def test_update_experiment_merges_tags_and_keeps_what_is_left_out(backend: Backend) -> None:
    exp = backend.tracking.create_experiment(
        ExperimentCreate(name=unique("upd"), description="d1", tags={"a": "1", "b": "2"})
    )
    updated = backend.tracking.update_experiment(exp.id, ExperimentUpdate(tags={"b": "20", "c": "3"}))
    assert updated.tags == {"a": "1", "b": "20", "c": "3"}
    assert updated.description == "d1"

    updated = backend.tracking.update_experiment(exp.id, ExperimentUpdate(description="d2"))
    assert updated.description == "d2"
    assert backend.tracking.get_experiment(exp.id).tags == {"a": "1", "b": "20", "c": "3"}


def test_archive_restore_and_delete(backend: Backend) -> None:
    exp = new_experiment(backend, "life")
    run = new_run(backend, exp.id)

    archived = backend.tracking.set_experiment_lifecycle(exp.id, "archived")
    assert archived.lifecycle_stage == "archived"
    assert exp.id not in _listed(backend, "active")
    assert exp.id in _listed(backend, "archived")
    assert exp.id in _listed(backend, "all")
    assert backend.tracking.get_experiment(exp.id).lifecycle_stage == "archived"
    assert backend.tracking.get_experiment_by_name(exp.name).id == exp.id
    # An archived experiment keeps its runs readable but refuses new ones.
    assert backend.tracking.get_run(run.info.id).info.experiment_id == exp.id
    with pytest.raises(Conflict):
        new_run(backend, exp.id)
    # get-or-create by name finds it rather than making a second one.
    assert backend.tracking.get_or_create_experiment(exp.name).id == exp.id

    restored = backend.tracking.set_experiment_lifecycle(exp.id, "active")
    assert restored.lifecycle_stage == "active"
    assert exp.id in _listed(backend, "active")
    new_run(backend, exp.id)

    deleted = backend.tracking.set_experiment_lifecycle(exp.id, "deleted")
    assert deleted.lifecycle_stage == "deleted"
    assert exp.id in _listed(backend, "deleted")
    assert exp.id not in _listed(backend, "active")
    with pytest.raises(Conflict):
        new_run(backend, exp.id)

    assert backend.tracking.set_experiment_lifecycle(exp.id, "active").lifecycle_stage == "active"
    assert backend.tracking.get_experiment(exp.id).run_count == 2


def test_archived_experiment_refuses_runs_through_the_sdk(ws: ember.Workspace) -> None:
    exp = ember.Experiment(ws, unique("sdk-archived"))
    exp.archive()
    assert exp.archived
    with pytest.raises(Conflict):
        exp.start_logging()
    exp.reactivate()
    assert not exp.archived
    with exp.start_logging() as run:
        run.log("x", 1.0)
    assert run.get_status() == "Completed"


def test_run_count_counts_active_runs_including_children(backend: Backend) -> None:
    exp = new_experiment(backend, "count")
    assert exp.run_count == 0
    parent = new_run(backend, exp.id)
    new_run(backend, exp.id, parent_run_id=parent.info.id)
    other = new_run(backend, exp.id)
    assert backend.tracking.get_experiment(exp.id).run_count == 3

    backend.tracking.set_run_lifecycle(other.info.id, "deleted")
    assert backend.tracking.get_experiment(exp.id).run_count == 2
    listed = {e.id: e for e in backend.tracking.list_experiments(max_results=5000).experiments}
    assert listed[exp.id].run_count == 2


def test_experiment_keys_are_the_params_metrics_and_tags_its_runs_use(backend: Backend) -> None:
    exp = new_experiment(backend, "keys")
    other = new_experiment(backend, "keys-other")
    first = new_run(backend, exp.id, tags={"team": "a"})
    second = new_run(backend, exp.id)
    elsewhere = new_run(backend, other.id, tags={"only.there": "x"})
    backend.tracking.log_params(first.info.id, {"lr": "0.1", "model": "svm"})
    backend.tracking.log_params(second.info.id, {"lr": "0.2", "depth": "3"})
    backend.tracking.log_params(elsewhere.info.id, {"not_here": "1"})
    backend.tracking.log_metrics(first.info.id, [MetricSeries(key="loss", values=[1.0, 0.5])])
    backend.tracking.log_metrics(second.info.id, [MetricSeries(key="acc/val", values=[0.9])])
    backend.tracking.log_metrics(elsewhere.info.id, [MetricSeries(key="other_metric", values=[1.0])])

    keys = backend.tracking.get_experiment_keys(exp.id)
    empty = backend.tracking.get_experiment_keys(new_experiment(backend, "keys-empty").id)

    assert keys.params == ["depth", "lr", "model"]
    assert keys.metrics == ["acc/val", "loss"]
    assert keys.tags == ["team"]
    assert (empty.params, empty.metrics, empty.tags) == ([], [], [])
    with pytest.raises(NotFound):
        backend.tracking.get_experiment_keys("0" * 32)
    with pytest.raises(InvalidInput):
        backend.tracking.get_experiment_keys("not-an-id")


def test_unknown_experiments_are_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound):
        backend.tracking.get_experiment_by_name(unique("missing"))
    with pytest.raises(NotFound):
        backend.tracking.get_experiment("0" * 32)


def test_list_experiments_refuses_bad_paging(backend: Backend) -> None:
    with pytest.raises(InvalidInput):
        backend.tracking.list_experiments(max_results=0)
    with pytest.raises(InvalidInput):
        backend.tracking.list_experiments(max_results=5001)
    with pytest.raises(InvalidInput):
        backend.tracking.list_experiments(page_token="not-a-token")


def _listed(backend: Backend, lifecycle: str) -> set[str]:
    ids: set[str] = set()
    token: str | None = None
    while True:
        page = backend.tracking.list_experiments(
            lifecycle=lifecycle,  # type: ignore[arg-type]
            max_results=5000,
            page_token=token,
        )
        ids.update(e.id for e in page.experiments)
        token = page.next_page_token
        if token is None:
            return ids


def test_names_are_case_sensitive(backend: Backend) -> None:
    name = unique("Case")
    upper = backend.tracking.get_or_create_experiment(name)
    lower = backend.tracking.get_or_create_experiment(name.lower())
    assert upper.id != lower.id
    assert backend.tracking.get_experiment_by_name(name).id == upper.id
