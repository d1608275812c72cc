"""Datastores on object storage, against real servers on loopback: Azure Blob (Azurite) and S3 (moto).

The same user story runs on each: register the datastore with credentials, upload CSV, Parquet and
JSON Lines files, define datasets over globs, register them and read them back, through every backend.
The stored credentials never come back; clients get short-lived ones (a container SAS, an STS session).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from contract_support import Target, unique

import ember
from ember.errors import InvalidInput
from support.azurite import AzuriteServer
from support.s3 import MotoServer

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

ROWS = [{"x": i, "y": i * 0.5, "species": ["setosa", "versicolor", "virginica"][i % 3]} for i in range(30)]


def _write_formats(folder: Path) -> None:
    """The same 30 rows as CSV (two files), Parquet and JSON Lines."""
    (folder / "csv").mkdir(parents=True)
    for part, rows in enumerate((ROWS[:20], ROWS[20:])):
        lines = ["x,y,species", *(f"{r['x']},{r['y']},{r['species']}" for r in rows)]
        (folder / "csv" / f"part{part}.csv").write_text("\n".join(lines) + "\n")
    (folder / "parquet").mkdir()
    pq.write_table(pa.Table.from_pylist(ROWS), folder / "parquet" / "rows.parquet")
    (folder / "jsonl").mkdir()
    (folder / "jsonl" / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ROWS))


@pytest.fixture(params=["azure_blob", "s3"])
def cloud_store(
    request: pytest.FixtureRequest, target: Target, tmp_path: Path
) -> tuple[ember.Workspace, ember.Datastore, str]:
    """A datastore on Azurite or moto, registered with credentials, and the secret it was given."""
    ws = ember.Workspace(target.backend, target=target.location)
    name = unique("cloud")
    if request.param == "azure_blob":
        azurite: AzuriteServer = request.getfixturevalue("azurite")
        container = unique("c").lower().replace("_", "-")[:40]
        azurite.create_container(container)
        secret = azurite.account_key
        store = ember.Datastore.register_azure_blob_container(
            ws,
            name,
            account_name=azurite.account_name,
            container_name=container,
            account_key=secret,
            endpoint=azurite.blob_endpoint,
            prefix="team",
        )
    else:
        moto: MotoServer = request.getfixturevalue("moto")
        bucket = unique("b").lower().replace("_", "-")[:40]
        moto.create_bucket(bucket)
        secret = "Moto" + "s3cr3t" * 6
        store = ember.Datastore.register_s3(
            ws,
            name,
            bucket=bucket,
            prefix="team",
            region=moto.region,
            endpoint=moto.endpoint_url,
            access_key_id="AKIAEMBERTESTKEY0001",
            secret_access_key=secret,
        )
    return ws, store, secret


def test_datasets_from_csv_parquet_and_json_lines_on_object_storage(
    cloud_store: tuple[ember.Workspace, ember.Datastore, str], target: Target, tmp_path: Path
) -> None:
    ws, store, secret = cloud_store
    _write_formats(tmp_path / "local")

    report = store.upload(tmp_path / "local", "rows", show_progress=False)
    tabs = {
        "csv": ember.Dataset.Tabular.from_delimited_files([(store, "rows/csv/*.csv")]),
        "parquet": ember.Dataset.Tabular.from_parquet_files(store.path("rows/parquet/*.parquet")),
        "jsonl": ember.Dataset.Tabular.from_json_lines_files(store.path("rows/**/*.jsonl")),
    }
    registered = {fmt: tab.register(ws, unique(fmt)) for fmt, tab in tabs.items()}

    assert len(report.transferred) == 4
    for fmt, dataset in registered.items():
        frame = ember.Dataset.get_by_id(ws, dataset.id).to_pandas_dataframe().sort_values("x")
        assert list(frame["x"]) == list(range(30)), fmt
        assert list(frame["species"])[:3] == ["setosa", "versicolor", "virginica"], fmt
        files = ws.backend.data.get_dataset_files(dataset.id)
        assert all(f.etag for f in files), fmt  # object stores identify content by ETag
    assert ws.backend.data.preview_dataset(registered["parquet"].id, rows=2).rows[1][0] == 1
    assert registered["csv"].get_profile().row_count == 30
    shown = json.dumps([d.model_dump(mode="json") for d in ws.backend.data.list_datastores()])
    assert secret not in shown
    access = ws.backend.data.get_datastore_access(store.name)
    assert secret not in json.dumps(access.storage_options)
    assert access.expires_time is not None
    if target.server_log is not None:
        assert secret not in target.server_log.read_text(errors="replace")


def test_a_file_dataset_downloads_and_a_changed_object_is_detected(
    cloud_store: tuple[ember.Workspace, ember.Datastore, str], tmp_path: Path
) -> None:
    ws, store, _ = cloud_store
    images = tmp_path / "images"
    for i in range(12):
        (images / f"class{i % 2}").mkdir(parents=True, exist_ok=True)
        (images / f"class{i % 2}" / f"img{i}.png").write_bytes(bytes([i]) * (100 + i))
    store.upload(images, "images", show_progress=False)
    files = ember.Dataset.File.from_files([(store, "images/**/*.png")]).register(ws, unique("images"))

    paths = files.download(tmp_path / "out", show_progress=False)
    relative = files.to_path()
    (images / "class0" / "img0.png").write_bytes(b"changed")
    store.upload(images / "class0", "images/class0", overwrite=True, show_progress=False)

    assert len(paths) == 12
    assert (tmp_path / "out" / "class1" / "img3.png").read_bytes() == bytes([3]) * 103
    assert relative[:2] == ["class0/img0.png", "class0/img10.png"]
    with pytest.raises(ember.errors.Conflict, match=r"images/class0/img0\.png"):
        files.download(tmp_path / "again", strict=True, show_progress=False)


def test_a_glob_matching_nothing_in_a_bucket_is_refused(
    cloud_store: tuple[ember.Workspace, ember.Datastore, str],
) -> None:
    ws, store, _ = cloud_store
    with pytest.raises(ember.errors.NotFound, match=r"nothing/\*\.csv"):
        ember.Dataset.Tabular.from_delimited_files([(store, "nothing/*.csv")]).register(ws, unique("none"))


def test_a_shared_server_refuses_endpoints_on_internal_addresses(target: Target) -> None:
    if target.kind != "remote":
        pytest.skip("the endpoint policy is a rule of a shared server; embedded use has none")
    for endpoint in ("http://169.254.169.254/latest", "http://10.1.2.3:9000", "http://[::1]:9000"):
        with pytest.raises(InvalidInput, match="does not allow"):
            ember.Datastore.register_s3(
                ember.Workspace(target.backend), unique("evil"), bucket="data", endpoint=endpoint
            )


def test_refused_credentials_are_a_clear_client_error(target: Target, azurite: AzuriteServer) -> None:
    ws = ember.Workspace(target.backend, target=target.location)
    container = unique("c").lower().replace("_", "-")[:40]
    azurite.create_container(container)
    wrong = ember.Datastore.register_azure_blob_container(
        ws,
        unique("wrong"),
        account_name=azurite.account_name,
        container_name=container,
        account_key="d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleQ==",
        endpoint=azurite.blob_endpoint,
    )

    with pytest.raises(InvalidInput, match="storage failed"):
        ember.Dataset.File.from_files([(wrong, "**")]).register(ws, unique("nope"))
    with pytest.raises(InvalidInput, match="storage failed"):
        ws.backend.data.list_datastore_files(wrong.name)
