"""Bad input: unknown and malformed ids, invalid names and values; each refusal changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from contract_support import new_experiment, new_run, state_of, unique

import ember
from ember.backend import Backend
from ember.entities import (
    ExperimentUpdate,
    MetricSeries,
    RunCreate,
    RunSearch,
    RunStatus,
    RunUpdate,
)
from ember.errors import InvalidInput, NotFound

UNKNOWN = "0123456789abcdef0123456789abcdef"


@dataclass
class Victim:
    """A run with something of everything, whose state must not move when a request is refused."""

    experiment_id: str
    run_id: str


@pytest.fixture
def victim(backend: Backend) -> Victim:
    exp = new_experiment(backend, "victim")
    run_id = new_run(backend, exp.id, display_name="victim", tags={"t": "1"}).info.id
    backend.tracking.log_params(run_id, {"p": "1"})
    backend.tracking.add_properties(run_id, {"prop": "1"})
    backend.tracking.log_metrics(run_id, [MetricSeries(key="m", values=[1.0, 2.0])])
    backend.tracking.log_table_rows(run_id, "table", [{"a": 1}])
    backend.tracking.upload_artifact(run_id, "outputs/f.txt", [b"content"])
    return Victim(exp.id, run_id)


def _drain(pair: tuple[Any, Any]) -> None:
    b"".join(pair[1])


# Every call that names a run, as (name, call(backend, run_id)).
RUN_CALLS: list[tuple[str, Callable[[Backend, str], object]]] = [
    ("get_run", lambda b, r: b.tracking.get_run(r)),
    ("update_run", lambda b, r: b.tracking.update_run(r, RunUpdate(description="x"))),
    ("update_run_status", lambda b, r: b.tracking.update_run(r, RunUpdate(status=RunStatus.COMPLETED))),
    ("delete_run", lambda b, r: b.tracking.set_run_lifecycle(r, "deleted")),
    ("restore_run", lambda b, r: b.tracking.set_run_lifecycle(r, "active")),
    ("log_params", lambda b, r: b.tracking.log_params(r, {"q": "1"})),
    ("set_tags", lambda b, r: b.tracking.set_tags(r, {"q": "1"})),
    ("delete_tag", lambda b, r: b.tracking.delete_tag(r, "t")),
    ("add_properties", lambda b, r: b.tracking.add_properties(r, {"q": "1"})),
    ("log_metrics", lambda b, r: b.tracking.log_metrics(r, [MetricSeries(key="m", values=[3.0])])),
    ("log_table_rows", lambda b, r: b.tracking.log_table_rows(r, "table", [{"a": 2}])),
    ("get_metric_history", lambda b, r: b.tracking.get_metric_history(r, "m")),
    ("get_metrics", lambda b, r: b.tracking.get_metrics(r)),
    ("upload_artifact", lambda b, r: b.tracking.upload_artifact(r, "outputs/f.txt", [b"evil"])),
    ("list_artifacts", lambda b, r: b.tracking.list_artifacts(r)),
    ("open_artifact", lambda b, r: _drain(b.tracking.open_artifact(r, "outputs/f.txt"))),
]

EXPERIMENT_CALLS: list[tuple[str, Callable[[Backend, str], object]]] = [
    ("get_experiment", lambda b, e: b.tracking.get_experiment(e)),
    ("update_experiment", lambda b, e: b.tracking.update_experiment(e, ExperimentUpdate(description="x"))),
    ("archive_experiment", lambda b, e: b.tracking.set_experiment_lifecycle(e, "archived")),
    ("delete_experiment", lambda b, e: b.tracking.set_experiment_lifecycle(e, "deleted")),
    ("restore_experiment", lambda b, e: b.tracking.set_experiment_lifecycle(e, "active")),
    ("create_run_in", lambda b, e: b.tracking.create_run(RunCreate(experiment_id=e))),
]


@pytest.mark.parametrize(("name", "call"), RUN_CALLS, ids=[n for n, _ in RUN_CALLS])
def test_unknown_run_ids_are_not_found(
    backend: Backend, victim: Victim, name: str, call: Callable[[Backend, str], object]
) -> None:
    before = state_of(backend, victim.run_id)
    with pytest.raises(NotFound):
        call(backend, UNKNOWN)
    assert state_of(backend, victim.run_id) == before


@pytest.mark.parametrize(("name", "call"), EXPERIMENT_CALLS, ids=[n for n, _ in EXPERIMENT_CALLS])
def test_unknown_experiment_ids_are_not_found(
    backend: Backend, victim: Victim, name: str, call: Callable[[Backend, str], object]
) -> None:
    before = state_of(backend, victim.run_id)
    with pytest.raises(NotFound):
        call(backend, UNKNOWN)
    assert state_of(backend, victim.run_id) == before
    assert backend.tracking.get_experiment(victim.experiment_id).lifecycle_stage == "active"


def test_an_unknown_parent_run_is_not_found(backend: Backend, victim: Victim) -> None:
    with pytest.raises(NotFound):
        backend.tracking.create_run(RunCreate(experiment_id=victim.experiment_id, parent_run_id=UNKNOWN))
    runs = backend.tracking.search_runs(
        RunSearch(experiment_ids=[victim.experiment_id], lifecycle="all")
    ).runs
    assert [r.info.id for r in runs] == [victim.run_id]


PATH_LIKE_IDS = [
    "../../etc/passwd",
    "a/b",
    "%2e%2e",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..",
    ".",
    "",
    " ",
    "0" * 31,
    "0" * 33,
    "G" * 32,
    UNKNOWN.upper(),
    UNKNOWN + "\n",
    UNKNOWN[:16] + "/../" + UNKNOWN[:12],
    UNKNOWN[:31] + "\x00",
    "search",
    "by-name",
    UNKNOWN + "?x=1",
    UNKNOWN + "#frag",
]


def test_ids_that_look_like_paths_are_refused_cleanly(backend: Backend, victim: Victim) -> None:
    # Every call that takes an id, with every id: one test per backend, reporting all that went wrong.
    before = state_of(backend, victim.run_id)
    wrong: dict[str, str] = {}
    for bad_id in PATH_LIKE_IDS:
        for name, call in [*RUN_CALLS, *EXPERIMENT_CALLS]:
            try:
                call(backend, bad_id)
            except (InvalidInput, NotFound) as exc:
                if type(exc) not in (InvalidInput, NotFound):
                    wrong[f"{name}({bad_id!r})"] = f"{type(exc).__name__}: {exc}"[:300]
            except Exception as exc:  # a generic EmberError would be a 500 on the server
                wrong[f"{name}({bad_id!r})"] = f"{type(exc).__name__}: {exc}"[:300]
            else:
                wrong[f"{name}({bad_id!r})"] = "accepted"
    assert wrong == {}
    assert state_of(backend, victim.run_id) == before


@pytest.mark.parametrize("bad_id", ["../../etc/passwd", "a/b", "%2e%2e", "", "G" * 32])
def test_path_like_parent_and_experiment_ids_in_a_new_run(
    backend: Backend, victim: Victim, bad_id: str
) -> None:
    for request in (
        RunCreate(experiment_id=bad_id),
        RunCreate(experiment_id=victim.experiment_id, parent_run_id=bad_id),
    ):
        with pytest.raises((InvalidInput, NotFound)) as caught:
            backend.tracking.create_run(request)
        assert type(caught.value) in (InvalidInput, NotFound)
    runs = backend.tracking.search_runs(
        RunSearch(experiment_ids=[victim.experiment_id], lifecycle="all")
    ).runs
    assert [r.info.id for r in runs] == [victim.run_id]


# Refusals of malformed values: (name, call(backend, run_id)); each must be InvalidInput.
INVALID_VALUES: list[tuple[str, Callable[[Backend, str], object]]] = [
    ("param_value_6001", lambda b, r: b.tracking.log_params(r, {"big": "x" * 6001})),
    ("param_value_nul", lambda b, r: b.tracking.log_params(r, {"nul": "a\x00b"})),
    ("param_key_dotdot", lambda b, r: b.tracking.log_params(r, {"../x": "1"})),
    ("param_key_empty", lambda b, r: b.tracking.log_params(r, {"": "1"})),
    ("param_key_251", lambda b, r: b.tracking.log_params(r, {"k" * 251: "1"})),
    ("param_key_semicolon", lambda b, r: b.tracking.log_params(r, {"a;b": "1"})),
    ("param_batch_with_one_bad", lambda b, r: b.tracking.log_params(r, {"ok": "1", "big": "x" * 6001})),
    ("tag_value_8001", lambda b, r: b.tracking.set_tags(r, {"big": "x" * 8001})),
    ("tag_key_backslash", lambda b, r: b.tracking.set_tags(r, {"a\\b": "1"})),
    ("tag_key_leading_dash", lambda b, r: b.tracking.set_tags(r, {"-a": "1"})),
    ("tag_batch_with_one_bad", lambda b, r: b.tracking.set_tags(r, {"t": "2", "x\x00": "1"})),
    ("property_value_8001", lambda b, r: b.tracking.add_properties(r, {"big": "x" * 8001})),
    ("property_key_dotdot", lambda b, r: b.tracking.add_properties(r, {"a..b": "1"})),
    ("table_name_dotdot", lambda b, r: b.tracking.log_table_rows(r, "../t", [{"a": 1}])),
    ("table_name_empty", lambda b, r: b.tracking.log_table_rows(r, "", [{"a": 1}])),
    ("table_column_bad", lambda b, r: b.tracking.log_table_rows(r, "table", [{"a b;": 1}])),
    ("table_cell_nested", lambda b, r: b.tracking.log_table_rows(r, "table", [{"a": {"b": 1}}])),
    (
        "status_back_to_not_started",
        lambda b, r: b.tracking.update_run(r, RunUpdate(status=RunStatus.NOT_STARTED)),
    ),
    ("archive_a_run", lambda b, r: b.tracking.set_run_lifecycle(r, "archived")),
    ("history_max_points_1", lambda b, r: b.tracking.get_metric_history(r, "m", max_points=1)),
    ("list_artifacts_bad_prefix", lambda b, r: b.tracking.list_artifacts(r, "../")),
    ("upload_bad_path", lambda b, r: b.tracking.upload_artifact(r, "../f.txt", [b"evil"])),
]


@pytest.mark.parametrize(("name", "call"), INVALID_VALUES, ids=[n for n, _ in INVALID_VALUES])
def test_invalid_values_are_refused_and_change_nothing(
    backend: Backend, victim: Victim, name: str, call: Callable[[Backend, str], object]
) -> None:
    before = state_of(backend, victim.run_id)
    with pytest.raises(InvalidInput) as caught:
        call(backend, victim.run_id)
    assert type(caught.value) is InvalidInput
    assert caught.value.message
    assert state_of(backend, victim.run_id) == before


BAD_METRIC_NAMES = ["", "../x", "a..b", "a\\b", "with;semi", "k" * 251, "-lead", "tab\tkey", "café", "a\x00"]


@pytest.mark.parametrize("key", BAD_METRIC_NAMES, ids=[repr(k)[:20] for k in BAD_METRIC_NAMES])
def test_invalid_metric_names_are_refused_by_the_sdk(ws: ember.Workspace, key: str) -> None:
    run = ember.Experiment(ws, unique("badmetric")).start_logging()
    run.log("good", 1.0)
    with pytest.raises(InvalidInput):
        run.log(key, 1.0)
    with pytest.raises(InvalidInput):
        run.log_metrics({"fine": 1.0, key: 2.0})
    run.complete()
    assert set(run.get_metrics()) <= {"good", "fine"}
    assert run.get_metrics()["good"] == [1.0]


@pytest.mark.parametrize("value", ["abc", None, [1.0], object()], ids=["str", "none", "list", "object"])
def test_non_numeric_metric_values_are_refused_by_the_sdk(ws: ember.Workspace, value: object) -> None:
    run = ember.Experiment(ws, unique("badvalue")).start_logging()
    with pytest.raises(InvalidInput):
        run.log("m", value)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        run.log("m", 1.0, step=1.5)  # type: ignore[arg-type]
    run.complete()
    assert run.get_metrics() == {}


def test_a_param_of_exactly_6000_characters_is_accepted(backend: Backend, victim: Victim) -> None:
    backend.tracking.log_params(victim.run_id, {"edge": "x" * 6000})
    assert backend.tracking.get_run(victim.run_id).params["edge"] == "x" * 6000
