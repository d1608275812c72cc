"""The lifecycle of dataset versions, Azure ML's way: deprecate (by a replacement), archive, reactivate,
and unregister every version of a name — on every backend, as a user of the SDK and the contract sees it.

Deprecated versions still read, with a warning naming the replacement; archived versions are hidden from
lists and "latest" and refuse readers and runs until reactivated; unregistered names vanish from names
and lists while run lineage keeps pointing at their versions, and their numbers are never given again.
"""

from __future__ import annotations

import textwrap
import warnings
from pathlib import Path

import httpx
import pytest
from contract_support import Target, new_experiment, new_run, unique

import ember
from ember.backend import Backend
from ember.data.dataset import DatasetDeprecatedWarning
from ember.entities.data import DatasetVersionInfo
from ember.entities.jobs import RunSubmit
from ember.errors import Conflict, InvalidInput, NotFound

RUN_DEADLINE_S = 120


def _store(ws: ember.Workspace, tmp_path: Path) -> ember.Datastore:
    root = tmp_path / "data"
    (root / "iris").mkdir(parents=True)
    (root / "iris" / "a.csv").write_text("x,species\n1,setosa\n2,versicolor\n")
    (root / "iris" / "b.csv").write_text("x,species\n3,virginica\n")
    return ember.Datastore.register_local(ws, unique("raw"), root)


def _two_versions(
    ws: ember.Workspace, store: ember.Datastore
) -> tuple[ember.TabularDataset, ember.TabularDataset]:
    """Version 1 reads a.csv, version 2 both files."""
    name = unique("iris")
    old = ember.Dataset.Tabular.from_delimited_files([(store, "iris/a.csv")]).register(ws, name)
    new = ember.Dataset.Tabular.from_delimited_files([(store, "iris/*.csv")]).register(
        ws, name, create_new_version=True
    )
    return old, new


def _state(backend: Backend, info: DatasetVersionInfo | None) -> tuple[str, str | None]:
    assert info is not None
    found = backend.data.get_dataset_by_id(info.id)
    return found.state, found.deprecated_by


# -- deprecate ---------------------------------------------------------------------------------------


def test_a_deprecated_version_still_reads_and_warns_naming_its_replacement(
    ws: ember.Workspace, tmp_path: Path
) -> None:
    old, new = _two_versions(ws, _store(ws, tmp_path))
    holder = ember.Dataset.get_by_name(ws, old.name or "", 1)  # fetched before the change

    old.deprecate(new.id or "")

    assert (old.state, old.deprecated_by) == ("deprecated", new.id)
    again = ember.Dataset.get_by_id(ws, old.id or "")
    assert again.info is not None
    assert (again.info.deprecated_by_name, again.info.deprecated_by_version) == (new.name, 2)
    replacement = rf"{new.name}' version 2 \(id {new.id}\)"
    with pytest.warns(DatasetDeprecatedWarning, match=replacement):
        assert list(holder.to_pandas_dataframe()["x"]) == [1, 2]  # the state is read at consumption
    with pytest.warns(DatasetDeprecatedWarning, match=replacement):
        assert len(old.take(1).to_pandas_dataframe()) == 1  # derived datasets remember their version
    with pytest.warns(DatasetDeprecatedWarning, match=replacement):
        assert [Path(p).name for p in old.download(tmp_path / "down", show_progress=False)] == ["a.csv"]
    # still listed, and "latest" is still the newest version
    assert [(d.version, d.state) for d in ember.Dataset.list_versions(ws, old.name or "")] == [
        (2, "active"),
        (1, "deprecated"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DatasetDeprecatedWarning)
        assert len(new.to_pandas_dataframe()) == 3  # the replacement reads without a warning


def test_reactivating_a_deprecated_version_stops_the_warning(ws: ember.Workspace, tmp_path: Path) -> None:
    old, new = _two_versions(ws, _store(ws, tmp_path))
    old.deprecate(new)  # a dataset object names its version too

    old.reactivate()

    assert (old.state, old.deprecated_by) == ("active", None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DatasetDeprecatedWarning)
        assert len(old.to_pandas_dataframe()) == 2


def test_deprecating_again_points_at_the_new_replacement(ws: ember.Workspace, tmp_path: Path) -> None:
    store = _store(ws, tmp_path)
    old, new = _two_versions(ws, store)
    other = ember.Dataset.File.from_files(store.path("iris")).register(ws, unique("iris-files"))
    old.deprecate(new.id or "")

    old.deprecate(other.id or "")

    assert _state(ws.backend, old.info) == ("deprecated", other.id)
    assert old.info is not None
    assert (old.info.deprecated_by_name, old.info.deprecated_by_version) == (other.name, 1)


def test_invalid_deprecations_are_refused_and_change_nothing(ws: ember.Workspace, tmp_path: Path) -> None:
    store = _store(ws, tmp_path)
    old, new = _two_versions(ws, store)
    third = ember.Dataset.File.from_files(store.path("iris")).register(ws, unique("iris-files"))
    third.deprecate(new.id or "")
    backend = ws.backend
    assert old.id is not None
    assert new.id is not None
    assert third.id is not None
    before = backend.data.get_dataset_by_id(old.id)

    with pytest.raises(Conflict, match="by itself"):
        backend.data.deprecate_dataset(old.id, deprecated_by=old.id)
    with pytest.raises(Conflict, match="no registered dataset version"):
        backend.data.deprecate_dataset(old.id, deprecated_by="0" * 32)
    with pytest.raises(Conflict, match="itself deprecated"):
        backend.data.deprecate_dataset(old.id, deprecated_by=third.id)
    with pytest.raises(InvalidInput):
        backend.data.deprecate_dataset(old.id, deprecated_by="not an id!")
    with pytest.raises(InvalidInput):
        backend.data.deprecate_dataset("not an id!", deprecated_by=new.id)
    with pytest.raises(NotFound):
        backend.data.deprecate_dataset("0" * 32, deprecated_by=new.id)
    new_before = backend.data.get_dataset_by_id(new.id)
    with pytest.raises(Conflict, match="replaces deprecated versions"):
        backend.data.archive_dataset(new.id)  # third would point at an archived replacement
    assert backend.data.get_dataset_by_id(new.id) == new_before
    third.reactivate()
    new.archive()
    with pytest.raises(Conflict, match="archived"):
        backend.data.deprecate_dataset(old.id, deprecated_by=new.id)
    with pytest.raises(Conflict, match="reactivate it before deprecating"):
        backend.data.deprecate_dataset(new.id, deprecated_by=old.id)

    assert backend.data.get_dataset_by_id(old.id) == before
    assert _state(backend, new.info) == ("archived", None)


# -- archive -----------------------------------------------------------------------------------------


def test_an_archived_version_is_hidden_and_refused_until_it_is_reactivated(
    ws: ember.Workspace, tmp_path: Path
) -> None:
    old, new = _two_versions(ws, _store(ws, tmp_path))
    name = new.name or ""

    new.archive()

    assert new.state == "archived"
    assert ember.Dataset.get_by_name(ws, name).version == 1  # "latest" skips it
    assert [d.version for d in ember.Dataset.list_versions(ws, name)] == [1]
    assert [d.version for d in ember.Dataset.list_versions(ws, name, include_archived=True)] == [2, 1]
    assert ember.Dataset.get_all(ws)[name].version == 1
    assert ember.Dataset.get_all(ws, include_archived=True)[name].version == 2
    explicit = ember.Dataset.get_by_name(ws, name, 2)  # asked by number: there, to inspect it
    assert explicit.state == "archived"
    assert ember.Dataset.get_by_id(ws, new.id or "").state == "archived"
    for read in (
        explicit.to_pandas_dataframe,
        new.take(1).to_pandas_dataframe,
        lambda: new.download(tmp_path / "down", show_progress=False),
    ):
        with pytest.raises(Conflict, match=rf"'{name}' version 2 is archived.*reactivate"):
            read()
    assert not (tmp_path / "down").exists()

    explicit.reactivate()

    assert ember.Dataset.get_by_name(ws, name).version == 2
    assert len(new.to_pandas_dataframe()) == 3
    assert old.state == "active"


def test_a_name_whose_versions_are_all_archived_has_no_latest(ws: ember.Workspace, tmp_path: Path) -> None:
    store = _store(ws, tmp_path)
    only = ember.Dataset.Tabular.from_delimited_files([(store, "iris/a.csv")]).register(ws, unique("iris"))
    name = only.name or ""

    only.archive()
    only.archive()  # again: nothing changes

    with pytest.raises(NotFound, match="archived"):
        ember.Dataset.get_by_name(ws, name)
    assert name not in ember.Dataset.get_all(ws)
    assert ember.Dataset.get_by_name(ws, name, 1).state == "archived"
    # the same definition again is a new version, not the archived one
    with pytest.raises(Conflict, match="create_new_version"):
        ember.Dataset.Tabular.from_delimited_files([(store, "iris/a.csv")]).register(ws, name)
    again = ember.Dataset.Tabular.from_delimited_files([(store, "iris/a.csv")]).register(
        ws, name, create_new_version=True
    )
    assert (again.version, again.state) == (2, "active")


def test_an_archived_version_cannot_be_linked_as_a_run_input(
    backend: Backend, ws: ember.Workspace, tmp_path: Path
) -> None:
    old, _ = _two_versions(ws, _store(ws, tmp_path))
    run = new_run(backend, new_experiment(backend).id).info.id
    old.archive()
    assert old.id is not None

    with pytest.raises(Conflict, match="archived"):
        backend.data.link_run_dataset(run, old.id, direction="input", name="train", mode="direct")
    assert backend.data.get_run_datasets(run) == []


# -- unregister --------------------------------------------------------------------------------------


def test_unregistering_a_name_keeps_run_lineage_and_never_reuses_its_numbers(
    backend: Backend, ws: ember.Workspace, tmp_path: Path
) -> None:
    store = _store(ws, tmp_path)
    old, new = _two_versions(ws, store)
    name = old.name or ""
    assert old.id is not None
    assert new.id is not None
    run = new_run(backend, new_experiment(backend).id).info.id
    backend.data.link_run_dataset(run, old.id, direction="input", name="train", mode="direct")

    new.unregister_all_versions()

    assert not new.is_registered
    with pytest.raises(NotFound, match=name):
        ember.Dataset.get_by_name(ws, name)
    with pytest.raises(NotFound):
        ember.Dataset.get_by_name(ws, name, 1)
    assert name not in ember.Dataset.get_all(ws, include_archived=True)
    assert ember.Dataset.list_versions(ws, name, include_archived=True) == []
    # lineage still resolves, and the version is there by id with its data untouched
    (link,) = backend.data.get_run_datasets(run)
    assert (link.dataset_id, link.dataset_name, link.dataset_version) == (old.id, name, 1)
    kept = ember.Dataset.get_by_id(ws, old.id)
    assert kept.info is not None
    assert kept.info.unregistered_time is not None
    assert list(kept.to_pandas_dataframe()["x"]) == [1, 2]
    # a second unregister and lifecycle changes of its versions are refused
    with pytest.raises(NotFound):
        backend.data.unregister_dataset(name)
    with pytest.raises(Conflict, match="unregistered"):
        backend.data.archive_dataset(old.id)
    with pytest.raises(Conflict, match="no registered dataset version"):
        backend.data.deprecate_dataset(
            ember.Dataset.File.from_files(store.path("iris")).register(ws, unique("f")).id or "",
            deprecated_by=old.id,
        )
    # registering the name again continues its numbers
    again = ember.Dataset.Tabular.from_delimited_files([(store, "iris/a.csv")]).register(ws, name)
    assert again.version == 3
    assert [d.version for d in ember.Dataset.list_versions(ws, name)] == [3]


def test_a_name_that_replaces_other_datasets_cannot_be_unregistered(
    backend: Backend, ws: ember.Workspace, tmp_path: Path
) -> None:
    store = _store(ws, tmp_path)
    old, new = _two_versions(ws, store)
    other = ember.Dataset.File.from_files(store.path("iris")).register(ws, unique("files"))
    other.deprecate(new.id or "")
    old.deprecate(new.id or "")  # the same name's versions may point at each other

    with pytest.raises(Conflict, match=rf"{other.name} v1"):
        backend.data.unregister_dataset(new.name or "")

    assert ember.Dataset.get_by_name(ws, new.name or "").version == 2
    other.reactivate()
    assert [d.version for d in backend.data.unregister_dataset(new.name or "")] == [2, 1]


def test_unregistering_an_unknown_name_is_not_found(backend: Backend) -> None:
    with pytest.raises(NotFound):
        backend.data.unregister_dataset(unique("nothing"))
    with pytest.raises(InvalidInput):
        backend.data.unregister_dataset("bad name!")


# -- runs --------------------------------------------------------------------------------------------

SCRIPT = textwrap.dedent(
    """
    import ember
    frame = ember.Run.get_context().input_datasets["train"].to_pandas_dataframe()
    print("rows:", len(frame))
    """
)


def _config(tmp_path: Path, dataset: ember.TabularDataset) -> ember.ScriptRunConfig:
    source = tmp_path / "src"
    source.mkdir(exist_ok=True)
    (source / "train.py").write_text(SCRIPT)
    return ember.ScriptRunConfig(source, "train.py", arguments=[dataset.as_named_input("train")])


def test_an_archived_version_is_refused_as_a_run_input_before_a_run_is_created(
    ws: ember.Workspace, tmp_path: Path
) -> None:
    old, _ = _two_versions(ws, _store(ws, tmp_path))
    config = _config(tmp_path, old)
    old.archive()
    experiment = ember.Experiment(ws, unique("lifecycle"))

    with pytest.raises(Conflict, match=r"archived.*reactivate"):
        experiment.submit(config)
    with pytest.raises(Conflict, match="archived"):  # the workspace refuses it too, not just the SDK
        ws.backend.jobs.submit_run(
            RunSubmit(experiment_id=experiment.id, config=config.to_run_configuration())
        )
    assert list(experiment.get_runs()) == []


def test_a_deprecated_run_input_warns_at_submit_and_in_the_run(ws: ember.Workspace, tmp_path: Path) -> None:
    old, new = _two_versions(ws, _store(ws, tmp_path))
    old.deprecate(new.id or "")
    experiment = ember.Experiment(ws, unique("lifecycle"))

    with pytest.warns(DatasetDeprecatedWarning, match=f"{new.name}' version 2"):
        run = experiment.submit(_config(tmp_path, old))
    run.wait_for_completion(timeout=RUN_DEADLINE_S)

    log = ws.backend.jobs.read_log(run.id, "std_log.txt").data
    runner_log = ws.backend.jobs.read_log(run.id, "runner_log.txt").data
    assert run.get_status() == "Completed", (log, runner_log)
    assert "rows: 2" in log
    assert "DatasetDeprecatedWarning" in log  # the script read it: warned on its stderr
    assert f"is deprecated: use dataset '{new.name}' version 2" in runner_log


def test_a_malformed_state_request_is_refused_and_changes_nothing(
    target: Target, ws: ember.Workspace, tmp_path: Path
) -> None:
    old, new = _two_versions(ws, _store(ws, tmp_path))
    assert old.id is not None
    assert new.id is not None

    with pytest.raises(InvalidInput):
        ws.backend.data.deprecate_dataset(old.id, deprecated_by="")
    if target.kind == "remote":  # what the server answers a client that skips the SDK
        base = f"{target.location}/api/v1/dataset-versions/{old.id}"
        wrong_field = httpx.post(f"{base}/deprecate", json={"replacement": new.id})
        too_long = httpx.post(f"{base}/deprecate", json={"deprecated_by": "a" * 65})
        assert (wrong_field.status_code, too_long.status_code) == (400, 400), wrong_field.text
        assert wrong_field.json()["error"]["code"] == "invalid_input"

    assert ws.backend.data.get_dataset_by_id(old.id).state == "active"
