"""Datastores and datasets through the contract: registration, versions, fingerprints, lineage, refusals.

The files live in a local datastore (a temp folder on this machine, which the server shares); object
storage is exercised against real Azurite and moto servers in ``test_contract_data_cloud.py``.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from contract_support import Target, finish, new_experiment, new_run, unique
from pydantic import SecretStr, ValidationError

import ember
from ember.backend import Backend
from ember.entities.data import DatasetDefinition, DatasetRegister, DatastoreRegister
from ember.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # data changed on purpose in some tests


def _files(root: Path) -> Path:
    (root / "iris").mkdir(parents=True)
    (root / "iris" / "a.csv").write_text("x,y,species\n1,2.5,setosa\n3,4.5,versicolor\n")
    (root / "iris" / "b.csv").write_text("x,y,species\n5,6.5,virginica\n")
    (root / "iris" / "notes.txt").write_text("not data\n")
    return root


def _datastore(backend: Backend, root: Path) -> str:
    name = unique("raw")
    backend.data.register_datastore(DatastoreRegister(name=name, kind="local", root=str(root)))
    return name


def _definition(datastore: str, path: str = "iris/*.csv", **extra: object) -> DatasetDefinition:
    return DatasetDefinition.model_validate(
        {
            "kind": "tabular",
            "format": "delimited",
            "sources": [{"datastore": datastore, "path": path}],
            **extra,
        }
    )


@pytest.fixture
def raw(backend: Backend, tmp_path: Path) -> tuple[str, Path]:
    root = _files(tmp_path / "data")
    return _datastore(backend, root), root


# -- datastores ----------------------------------------------------------------------------------
def test_the_default_datastore_is_always_there_and_first(backend: Backend) -> None:
    stores = backend.data.list_datastores()

    assert stores[0].name == "workspace"
    assert stores[0].is_default
    assert backend.data.get_datastore("workspace").kind == "workspace"
    with pytest.raises(Conflict):
        backend.data.delete_datastore("workspace")


def test_a_local_datastore_registers_reads_back_and_refuses_a_second_registration(
    backend: Backend, tmp_path: Path
) -> None:
    name = unique("raw")

    info = backend.data.register_datastore(
        DatastoreRegister(name=name, kind="local", root=str(tmp_path), description="raw files")
    )

    assert (info.name, info.kind, info.root, info.description) == (name, "local", str(tmp_path), "raw files")
    assert backend.data.get_datastore(name) == info
    assert name in {d.name for d in backend.data.list_datastores()}
    with pytest.raises(Conflict, match="exists"):
        backend.data.register_datastore(DatastoreRegister(name=name, kind="local", root=str(tmp_path)))
    moved = backend.data.register_datastore(
        DatastoreRegister(name=name, kind="local", root=str(tmp_path / "x"), overwrite=True)
    )
    assert moved.root == str(tmp_path / "x")
    backend.data.delete_datastore(name)
    with pytest.raises(NotFound, match="not found"):
        backend.data.get_datastore(name)


def test_credentials_are_never_returned(target: Target) -> None:
    backend = target.backend
    name = unique("blob")
    secret = "S3cr3tAccountKey" + "A" * 40 + "=="

    info = backend.data.register_datastore(
        DatastoreRegister(
            name=name,
            kind="azure_blob",
            account_name="devstoreaccount1",
            container_name="data",
            endpoint="http://127.0.0.1:9/devstoreaccount1" if target.kind != "remote" else None,
            credentials={"account_key": SecretStr(secret)},
        )
    )

    assert info.credential_type == "account_key"
    shown = json.dumps([d.model_dump(mode="json") for d in backend.data.list_datastores()])
    assert secret not in shown
    assert secret not in backend.data.get_datastore(name).model_dump_json()
    access = backend.data.get_datastore_access(name)
    assert secret not in json.dumps(access.storage_options)
    assert access.expires_time is not None  # a SAS signed with the key, not the key
    assert "sig=" in json.dumps(access.storage_options)
    if target.server_log is not None:
        assert secret not in target.server_log.read_text(errors="replace")
    backend.data.delete_datastore(name)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"kind": "local"}, "root"),
        ({"kind": "s3"}, "bucket"),
        (
            {"kind": "azure_blob", "account_name": "acct", "container_name": "data"},
            "account_key or sas_token",
        ),
        (
            {"kind": "local", "root": "/tmp", "credentials": {"password": SecretStr("x")}},
            "unknown credential",
        ),
        ({"kind": "ftp", "root": "/tmp"}, "kind"),
    ],
)
def test_a_malformed_datastore_is_refused_without_echoing_secrets(
    backend: Backend, fields: dict[str, object], message: str
) -> None:
    body = {"name": unique("bad"), **fields}
    with pytest.raises((InvalidInput, ValidationError)) as caught:
        backend.data.register_datastore(DatastoreRegister.model_construct(**body))  # type: ignore[arg-type]
    assert message in str(caught.value)
    assert "password" not in str(caught.value).replace("'password'", "")
    assert body["name"] not in {d.name for d in backend.data.list_datastores()}


def test_a_relative_local_root_is_refused(backend: Backend) -> None:
    with pytest.raises(InvalidInput, match="absolute"):
        backend.data.register_datastore(DatastoreRegister(name=unique("rel"), kind="local", root="data/raw"))


# -- datasets ------------------------------------------------------------------------------------
def test_registering_records_the_files_and_a_fingerprint(backend: Backend, raw: tuple[str, Path]) -> None:
    store, _ = raw
    name = unique("iris")

    info = backend.data.register_dataset(
        DatasetRegister(name=name, definition=_definition(store), description="iris", tags={"area": "demo"})
    )

    assert (info.name, info.version, info.kind, info.file_count) == (name, 1, "tabular", 2)
    assert (info.description, info.tags) == ("iris", {"area": "demo"})
    assert info.total_size > 0
    assert len(info.fingerprint) == 64
    files = backend.data.get_dataset_files(info.id)
    assert [f.path for f in files] == ["iris/a.csv", "iris/b.csv"]
    assert all(f.datastore == store and f.size > 0 for f in files)
    assert backend.data.get_dataset(name) == info
    assert backend.data.get_dataset(name, 1) == info
    assert backend.data.get_dataset_by_id(info.id) == info


def test_the_same_definition_is_the_same_version_and_a_new_one_needs_create_new_version(
    backend: Backend, raw: tuple[str, Path]
) -> None:
    store, root = raw
    name = unique("iris")
    first = backend.data.register_dataset(DatasetRegister(name=name, definition=_definition(store)))

    again = backend.data.register_dataset(DatasetRegister(name=name, definition=_definition(store)))
    with pytest.raises(Conflict, match="create_new_version"):
        backend.data.register_dataset(DatasetRegister(name=name, definition=_definition(store, "iris/a.csv")))
    second = backend.data.register_dataset(
        DatasetRegister(name=name, definition=_definition(store, "iris/a.csv"), create_new_version=True)
    )
    (root / "iris" / "a.csv").write_text("x,y,species\n9,9.5,setosa\n")  # same definition, new data
    third = backend.data.register_dataset(
        DatasetRegister(name=name, definition=_definition(store, "iris/a.csv"), create_new_version=True)
    )

    assert again == first
    assert (second.version, third.version) == (2, 3)
    assert second.fingerprint != third.fingerprint
    assert [v.version for v in backend.data.list_datasets(name)] == [3, 2, 1]
    assert name in {d.name for d in backend.data.list_datasets()}
    with pytest.raises(NotFound, match="no version 7"):
        backend.data.get_dataset(name, 7)


def test_concurrent_registrations_of_one_name_get_distinct_versions(
    backend: Backend, raw: tuple[str, Path]
) -> None:
    store, root = raw
    name = unique("iris")
    for i in range(8):
        (root / "iris" / f"part{i}.csv").write_text(f"x,y,species\n{i},1.0,s\n")
    barrier = threading.Barrier(8)

    def register(i: int) -> int:
        barrier.wait()
        request = DatasetRegister(
            name=name, definition=_definition(store, f"iris/part{i}.csv"), create_new_version=True
        )
        return backend.data.register_dataset(request).version

    with ThreadPoolExecutor(8) as pool:
        versions = list(pool.map(register, range(8)))

    assert sorted(versions) == list(range(1, 9))
    assert len({v.fingerprint for v in backend.data.list_datasets(name)}) == 8


def test_missing_files_and_unknown_datastores_are_refused_by_name(
    backend: Backend, raw: tuple[str, Path]
) -> None:
    store, _ = raw
    name = unique("iris")

    with pytest.raises(NotFound, match=r"iris/\*\.parquet"):
        backend.data.register_dataset(
            DatasetRegister(name=name, definition=_definition(store, "iris/*.parquet"))
        )
    with pytest.raises(NotFound, match=r"missing\.csv"):
        backend.data.register_dataset(
            DatasetRegister(name=name, definition=_definition(store, "missing.csv"))
        )
    with pytest.raises(NotFound, match="nostore"):
        backend.data.register_dataset(DatasetRegister(name=name, definition=_definition("nostore")))
    with pytest.raises(NotFound):
        backend.data.get_dataset(name)


def test_an_unknown_column_type_is_refused_naming_it() -> None:
    with pytest.raises(ValidationError, match="unknown column type 'decimal'"):
        _definition("raw", parse={"set_column_types": {"x": "decimal"}})


def test_preview_and_profile_read_the_data_and_the_profile_is_cached(
    backend: Backend, raw: tuple[str, Path]
) -> None:
    store, _ = raw
    info = backend.data.register_dataset(DatasetRegister(name=unique("iris"), definition=_definition(store)))

    preview = backend.data.preview_dataset(info.id, rows=2)
    profile = backend.data.get_dataset_profile(info.id)

    assert [c[0] for c in preview.columns] == ["x", "y", "species"]
    assert preview.rows == [[1, 2.5, "setosa"], [3, 4.5, "versicolor"]]
    assert profile.row_count == 3
    x = next(c for c in profile.columns if c.name == "x")
    assert (x.min, x.max, x.mean, x.missing) == (1, 5, 3.0, 0)
    assert backend.data.get_dataset_by_id(info.id).has_profile
    assert backend.data.get_dataset_profile(info.id).computed_time == profile.computed_time  # cached
    assert backend.data.get_dataset_profile(info.id, refresh=True).computed_time > profile.computed_time


def test_a_malformed_csv_row_is_reported_with_its_file_and_row(
    backend: Backend, raw: tuple[str, Path]
) -> None:
    store, root = raw
    (root / "bad").mkdir()
    (root / "bad" / "rows.csv").write_text("x,y\n1,2\n3,4,5\n6,7\n")
    info = backend.data.register_dataset(
        DatasetRegister(name=unique("bad"), definition=_definition(store, "bad/rows.csv"))
    )

    with pytest.raises(InvalidInput) as caught:
        backend.data.preview_dataset(info.id)

    assert "bad/rows.csv" in str(caught.value)
    assert "3" in str(caught.value)  # the row (line 3 of the file)


def test_a_profile_of_changed_data_is_refused_naming_the_file(
    backend: Backend, raw: tuple[str, Path]
) -> None:
    store, root = raw
    info = backend.data.register_dataset(DatasetRegister(name=unique("iris"), definition=_definition(store)))
    (root / "iris" / "b.csv").write_text("x,y,species\n5,6.5,virginica\n7,8.5,virginica\n")

    with pytest.raises(Conflict, match=r"iris/b\.csv"):
        backend.data.get_dataset_profile(info.id)


def test_tags_and_description_can_change_but_not_the_definition(
    backend: Backend, raw: tuple[str, Path]
) -> None:
    store, _ = raw
    info = backend.data.register_dataset(DatasetRegister(name=unique("iris"), definition=_definition(store)))

    updated = backend.data.update_dataset(info.id, description="now described", tags={"stage": "gold"})

    assert (updated.description, updated.tags, updated.definition) == (
        "now described",
        {"stage": "gold"},
        info.definition,
    )
    assert backend.data.get_dataset_by_id(info.id) == updated


def test_a_datastore_that_datasets_read_cannot_be_deleted(backend: Backend, raw: tuple[str, Path]) -> None:
    store, _ = raw
    name = unique("iris")
    backend.data.register_dataset(DatasetRegister(name=name, definition=_definition(store)))

    with pytest.raises(Conflict, match=name):
        backend.data.delete_datastore(store)
    assert backend.data.get_datastore(store).name == store


# -- lineage -------------------------------------------------------------------------------------
def test_lineage_is_recorded_both_ways(backend: Backend, raw: tuple[str, Path]) -> None:
    store, _ = raw
    experiment = new_experiment(backend)
    consumer = new_run(backend, experiment.id).info.id
    producer = new_run(backend, experiment.id).info.id
    source = backend.data.register_dataset(
        DatasetRegister(name=unique("iris"), definition=_definition(store))
    )

    backend.data.link_run_dataset(consumer, source.id, direction="input", name="train", mode="download")
    backend.data.link_run_dataset(
        consumer, source.id, direction="input", name="train", mode="download"
    )  # again
    produced = backend.data.register_dataset(
        DatasetRegister(
            name=unique("clean"),
            definition=_definition(store, "iris/a.csv"),
            source_run_id=producer,
            output_name="cleaned",
        )
    )
    finish(backend, consumer)

    assert [(x.run_id, x.direction, x.name, x.mode) for x in backend.data.get_dataset_runs(source.id)] == [
        (consumer, "input", "train", "download")
    ]
    (link,) = backend.data.get_run_datasets(producer)
    assert (link.dataset_id, link.direction, link.name, link.dataset_version) == (
        produced.id,
        "output",
        "cleaned",
        1,
    )
    assert produced.source_run_id == producer
    with pytest.raises(Conflict, match="train"):
        backend.data.link_run_dataset(consumer, produced.id, direction="input", name="train", mode="direct")
    with pytest.raises(NotFound):
        backend.data.link_run_dataset("0" * 32, source.id, direction="input", name="x", mode="direct")
    with pytest.raises(NotFound):
        backend.data.register_dataset(
            DatasetRegister(name=unique("orphan"), definition=_definition(store), source_run_id="0" * 32)
        )


def test_the_sdk_reads_a_registered_dataset_and_warns_or_fails_when_its_files_change(
    target: Target, tmp_path: Path
) -> None:
    ws = ember.Workspace(target.backend, target=target.location)
    root = _files(tmp_path / "sdk")
    ds = ember.Datastore.register_local(ws, unique("raw"), root)
    tab = ember.Dataset.Tabular.from_delimited_files([(ds, "iris/*.csv")], set_column_types={"x": "float"})
    registered = tab.register(ws, unique("iris"))

    frame = ember.Dataset.get_by_name(ws, registered.name).to_pandas_dataframe()
    (root / "iris" / "b.csv").write_text("x,y,species\n5,6.5,virginica\n8,1.5,virginica\n")

    assert list(frame["x"]) == [1.0, 3.0, 5.0]
    with pytest.warns(UserWarning, match=r"iris/b\.csv"):
        assert len(registered.to_pandas_dataframe()) == 4
    with pytest.raises(Conflict, match=r"iris/b\.csv \(modified\)"):
        registered.keep_columns(["x"]).to_pandas_dataframe(strict=True)


def test_the_default_datastore_takes_uploads_and_gives_them_back(target: Target, tmp_path: Path) -> None:
    ws = ember.Workspace(target.backend, target=target.location)
    local = tmp_path / "up"
    for i in range(30):
        (local / f"d{i % 3}").mkdir(parents=True, exist_ok=True)
        (local / f"d{i % 3}" / f"f{i}.txt").write_text(f"file {i}\n")
    store = ws.get_default_datastore()
    prefix = unique("up")

    report = store.upload(local, prefix, show_progress=False)
    again = store.upload(local, prefix, show_progress=False)
    back = store.download(prefix, tmp_path / "down", show_progress=False)

    assert (len(report.transferred), len(again.transferred), len(again.skipped)) == (30, 0, 30)
    assert len(back.transferred) == 30
    assert (tmp_path / "down" / "d1" / "f4.txt").read_text() == "file 4\n"
    assert len(store.list_files(prefix)) == 30


def test_a_datastore_can_be_browsed_one_level_at_a_time(backend: Backend, raw: tuple[str, Path]) -> None:
    store, root = raw
    (root / "iris" / "deep").mkdir()
    (root / "iris" / "deep" / "c.csv").write_text("x\n1\n")

    top = backend.data.list_datastore_files(store)
    inside = backend.data.list_datastore_files(store, "iris")

    assert [(e.path, e.kind) for e in top.entries] == [("iris", "folder")]
    assert [(e.path, e.kind) for e in inside.entries] == [
        ("iris/deep", "folder"),
        ("iris/a.csv", "file"),
        ("iris/b.csv", "file"),
        ("iris/notes.txt", "file"),
    ]
    assert inside.entries[1].size == (root / "iris" / "a.csv").stat().st_size
    assert backend.data.list_datastore_files(store, "iris", limit=2).truncated
    with pytest.raises(InvalidInput, match=r"\.\."):
        backend.data.list_datastore_files(store, "../etc")
    with pytest.raises(NotFound):
        backend.data.list_datastore_files(store, "nowhere")
