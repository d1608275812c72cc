"""Params, tags and properties: text values, limits, write-once rules, tag edits."""

from __future__ import annotations

import pytest
from contract_support import new_experiment, new_run, unique

import ember
from ember.backend import Backend
from ember.errors import Conflict, InvalidInput, NotFound


def _run(backend: Backend) -> str:
    return new_run(backend, new_experiment(backend, "kv").id).info.id


def test_sdk_params_are_stored_as_text(ws: ember.Workspace) -> None:
    run = ember.Experiment(ws, unique("params")).start_logging()
    run.log_params({"C": 1.0, "n": 3, "flag": True, "name": "logreg", "none": None})
    run.log_param("lr", 1e-3)
    assert run.get_params() == {
        "C": "1.0",
        "n": "3",
        "flag": "True",
        "name": "logreg",
        "none": "None",
        "lr": "0.001",
    }
    run.complete()


def test_values_at_the_limits_round_trip(backend: Backend) -> None:
    run_id = _run(backend)
    long_param = "p" * 6000
    long_tag = "t" * 8000
    unicode_value = "naïve — 名前 🚀 \t tab\nnewline 'quotes' \"double\""
    key = "k" * 250
    backend.tracking.log_params(run_id, {"long": long_param, "uni": unicode_value, key: "v", "empty": ""})
    backend.tracking.set_tags(run_id, {"long": long_tag, "uni": unicode_value})
    backend.tracking.add_properties(run_id, {"long": long_tag, "uni": unicode_value})
    details = backend.tracking.get_run(run_id)
    assert details.params == {"long": long_param, "uni": unicode_value, key: "v", "empty": ""}
    assert details.tags == {"long": long_tag, "uni": unicode_value}
    assert details.properties == {"long": long_tag, "uni": unicode_value}


def test_tags_overwrite_and_delete(backend: Backend) -> None:
    run_id = _run(backend)
    backend.tracking.set_tags(run_id, {"a": "1", "b": "2"})
    backend.tracking.set_tags(run_id, {"b": "20", "c": "3"})
    assert backend.tracking.get_run(run_id).tags == {"a": "1", "b": "20", "c": "3"}

    backend.tracking.delete_tag(run_id, "a")
    assert backend.tracking.get_run(run_id).tags == {"b": "20", "c": "3"}
    with pytest.raises(NotFound):
        backend.tracking.delete_tag(run_id, "a")
    with pytest.raises(NotFound):
        backend.tracking.delete_tag(run_id, "never-set")
    backend.tracking.set_tags(run_id, {})
    assert backend.tracking.get_run(run_id).tags == {"b": "20", "c": "3"}


def test_tag_keys_with_slashes_and_dots(backend: Backend) -> None:
    run_id = _run(backend)
    keys = ["ember.source/git:commit", "a b", "x/y/z", "_private"]
    backend.tracking.set_tags(run_id, dict.fromkeys(keys, "v"))
    assert set(backend.tracking.get_run(run_id).tags) == set(keys)
    for key in keys:
        backend.tracking.delete_tag(run_id, key)
    assert backend.tracking.get_run(run_id).tags == {}


def test_sdk_tags_and_properties(ws: ember.Workspace) -> None:
    exp = ember.Experiment(ws, unique("tags"))
    run = exp.start_logging(tags={"stage": "dev"}, description="first try")
    run.set_tag("owner", "ana")
    run.set_tags({"stage": "prod", "n": 5})
    run.remove_tag("owner")
    run.add_properties({"dataset": "v1", "rows": 150})
    assert run.get_tags() == {"stage": "prod", "n": "5"}
    assert run.get_properties() == {"dataset": "v1", "rows": "150"}
    assert run.get_details()["info"]["description"] == "first try"
    with pytest.raises(Conflict):
        run.add_properties({"dataset": "v2"})
    run.complete()


def test_experiment_tags_through_the_sdk(ws: ember.Workspace) -> None:
    exp = ember.Experiment(ws, unique("exptags"))
    exp.set_tags({"owner": "ana"})
    exp.set_tags({"area": "vision"})
    assert exp.refresh().info.tags == {"owner": "ana", "area": "vision"}


def test_write_once_is_per_run(backend: Backend) -> None:
    exp = new_experiment(backend, "perrun")
    one, two = new_run(backend, exp.id).info.id, new_run(backend, exp.id).info.id
    backend.tracking.log_params(one, {"C": "1"})
    backend.tracking.log_params(two, {"C": "2"})
    assert backend.tracking.get_run(one).params == {"C": "1"}
    assert backend.tracking.get_run(two).params == {"C": "2"}


def test_a_param_conflict_says_params_are_write_once(backend: Backend) -> None:
    run_id = _run(backend)
    backend.tracking.log_params(run_id, {"a": "1"})
    with pytest.raises(Conflict) as caught:
        backend.tracking.log_params(run_id, {"a": "2"})
    assert "write-once" in caught.value.message


@pytest.mark.parametrize("what", ["params", "tags", "properties"])
def test_empty_mapping_is_a_no_op(backend: Backend, what: str) -> None:
    run_id = _run(backend)
    write = {
        "params": backend.tracking.log_params,
        "tags": backend.tracking.set_tags,
        "properties": backend.tracking.add_properties,
    }[what]
    write(run_id, {})
    assert getattr(backend.tracking.get_run(run_id), what) == {}


def test_too_many_keys_in_one_call_is_refused(backend: Backend) -> None:
    run_id = _run(backend)
    with pytest.raises(InvalidInput):
        backend.tracking.log_params(run_id, {f"k{i}": "v" for i in range(10_001)})
    assert backend.tracking.get_run(run_id).params == {}
