"""The model registry through the contract: versions, content-addressed files, aliases, search, lineage,
MLflow recognition, deletion, and refusals — on SQLite, PostgreSQL and a real server."""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from contract_support import Target, finish, new_experiment, new_run, unique
from pydantic import ValidationError

import ember
from ember.backend import Backend
from ember.entities.registry import ModelFile, ModelInfo, ModelRegister, ModelSearch, ModelUpdate
from ember.errors import Conflict, InvalidInput, NotFound

MLMODEL = """\
artifact_path: model
flavors:
  python_function:
    env:
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.7
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: cloudpickle
    sklearn_version: 1.7.2
mlflow_version: 3.17.0
signature:
  inputs: '[{"type": "double", "name": "sepal_length", "required": true}, {"type": "double", "name":
    "sepal_width", "required": true}]'
  outputs: '[{"type": "long", "required": true}]'
  params: null
"""


def _blob(backend: Backend, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    backend.jobs.upload_blob(digest, [data])
    return digest


def _register(backend: Backend, name: str, files: dict[str, bytes], **fields: object) -> ModelInfo:
    entries = [ModelFile(path=p, digest=_blob(backend, b), size=len(b)) for p, b in files.items()]
    return backend.registry.register_model(ModelRegister(name=name, files=entries, **fields))  # type: ignore[arg-type]


@pytest.fixture
def ws(target: Target) -> ember.Workspace:
    return ember.Workspace(target.backend, target=target.location)


# -- versions and files --------------------------------------------------------------------------
def test_versions_count_up_per_name_and_read_back(backend: Backend) -> None:
    name = unique("clf")

    first = _register(backend, name, {"model.pkl": b"one"}, tags={"area": "iris"}, properties={"acc": "0.9"})
    second = _register(backend, name, {"model.pkl": b"two"}, description="better")

    assert (first.version, second.version) == (1, 2)
    assert (first.tags, first.properties, first.file_count, first.total_size) == (
        {"area": "iris"},
        {"acc": "0.9"},
        1,
        3,
    )
    assert backend.registry.get_model(name) == second
    assert backend.registry.get_model(name, 1) == first
    assert backend.registry.get_model_by_id(first.id) == first
    assert [f.path for f in backend.registry.get_model_files(second.id)] == ["model.pkl"]
    info, chunks = backend.registry.open_model_file(second.id, "model.pkl")
    assert (info.size, b"".join(chunks)) == (3, b"two")
    with pytest.raises(NotFound, match="no version 3"):
        backend.registry.get_model(name, 3)
    with pytest.raises(NotFound, match="not found"):
        backend.registry.get_model(unique("nothing"))


def test_concurrent_registrations_of_one_name_get_distinct_versions(backend: Backend) -> None:
    name = unique("clf")
    digest = _blob(backend, b"weights")
    barrier = threading.Barrier(8)

    def register(_: int) -> int:
        barrier.wait()
        files = [ModelFile(path="model.pkl", digest=digest, size=7)]
        return backend.registry.register_model(ModelRegister(name=name, files=files)).version

    with ThreadPoolExecutor(8) as pool:
        versions = list(pool.map(register, range(8)))

    assert sorted(versions) == list(range(1, 9))


def test_registering_the_same_bytes_again_stores_nothing_new(target: Target, tmp_path: Path) -> None:
    ws = ember.Workspace(target.backend, target=target.location)
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"w" * 5000)
    (folder / "sub" / "config.json").write_text('{"layers": 3}')
    blobs_before = {p.name for p in (target.artifact_root / "blobs").rglob("*") if p.is_file()}

    first = ember.Model.register(ws, folder, unique("net"))
    middle = {p.name for p in (target.artifact_root / "blobs").rglob("*") if p.is_file()}
    second = ember.Model.register(ws, folder, first.name)
    after = {p.name for p in (target.artifact_root / "blobs").rglob("*") if p.is_file()}

    assert second.version == 2
    assert len(middle - blobs_before) <= 2
    assert after == middle
    assert sorted(f.path for f in second.get_files()) == ["sub/config.json", "weights.bin"]
    out = second.download(tmp_path / "out")
    assert (Path(out) / "sub" / "config.json").read_text() == '{"layers": 3}'


def test_a_file_whose_bytes_were_not_uploaded_is_refused(backend: Backend) -> None:
    missing = ModelFile(path="model.pkl", digest="a" * 64, size=3)
    name = unique("clf")

    with pytest.raises(InvalidInput, match="not uploaded"):
        backend.registry.register_model(ModelRegister(name=name, files=[missing]))
    assert backend.registry.list_models(ModelSearch(name=name)) == []


@pytest.mark.parametrize("path", ["../escape.pkl", "/abs.pkl", "a//b", "a/./b", "dir/"])
def test_a_model_file_path_that_could_escape_is_refused(path: str) -> None:
    with pytest.raises(ValidationError):
        ModelFile(path=path, digest="a" * 64, size=1)


# -- aliases, tags, search -------------------------------------------------------------------------
def test_aliases_resolve_like_versions_and_move(backend: Backend) -> None:
    name = unique("clf")
    _register(backend, name, {"m": b"1"})
    _register(backend, name, {"m": b"2"})

    backend.registry.set_alias(name, "production", 1)
    assert backend.registry.get_model(name, "production").version == 1
    moved = backend.registry.set_alias(name, "production", 2)
    backend.registry.set_alias(name, "staging", 2)

    assert moved.aliases == ["production"]
    assert backend.registry.get_model(name, "production").aliases == ["production", "staging"]
    assert backend.registry.get_model(name, 1).aliases == []
    backend.registry.delete_alias(name, "staging")
    with pytest.raises(NotFound, match="no alias 'staging'"):
        backend.registry.get_model(name, "staging")
    with pytest.raises(NotFound):
        backend.registry.delete_alias(name, "staging")
    with pytest.raises(InvalidInput, match="reserved"):
        backend.registry.set_alias(name, "latest", 1)
    with pytest.raises(NotFound):
        backend.registry.set_alias(name, "old", 9)


def test_tags_and_properties_are_searchable_and_change_by_their_rules(backend: Backend) -> None:
    name = unique("clf")
    other = unique("clf")
    v1 = _register(
        backend, name, {"m": b"1"}, tags={"area": "iris", "stage": "dev"}, properties={"acc": "0.9"}
    )
    v2 = _register(backend, name, {"m": b"2"}, tags={"area": "iris"})
    _register(backend, other, {"m": b"3"}, tags={"area": "mnist"})

    iris = backend.registry.list_models(ModelSearch(tags=[("area", "iris")]))
    staged = backend.registry.list_models(ModelSearch(name=name, tags=[("area", "iris"), ("stage", None)]))
    accurate = backend.registry.list_models(ModelSearch(name=name, properties=[("acc", "0.9")]))
    latest = backend.registry.list_models(ModelSearch(name=name, latest=True))
    changed = backend.registry.update_model(
        v1.id, ModelUpdate(description="first", add_tags={"stage": "prod"}, remove_tags=["area"])
    )

    assert [(m.name, m.version) for m in iris if m.name == name] == [(name, 2), (name, 1)]
    assert all(m.tags.get("area") == "iris" for m in iris)
    assert [m.id for m in staged] == [v1.id]
    assert [m.id for m in accurate] == [v1.id]
    assert [m.id for m in latest] == [v2.id]
    assert (changed.description, changed.tags) == ("first", {"stage": "prod"})
    with pytest.raises(Conflict, match="write-once"):
        backend.registry.update_model(v1.id, ModelUpdate(add_properties={"acc": "0.1"}))
    assert backend.registry.update_model(
        v1.id, ModelUpdate(add_properties={"acc": "0.9", "f1": "0.8"})
    ).properties == {
        "acc": "0.9",
        "f1": "0.8",
    }


# -- lineage --------------------------------------------------------------------------------------
def test_a_model_from_a_run_reuses_its_files_and_records_its_lineage(
    ws: ember.Workspace, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    (data / "train.csv").write_text("x,y\n1,2\n")
    store = ember.Datastore.register_local(ws, unique("raw"), data)
    training = ember.Dataset.File.from_files([(store, "train.csv")]).register(ws, unique("train"))
    (tmp_path / "model.pkl").write_bytes(b"pickled")
    experiment = ember.Experiment(ws, unique("exp"))
    with experiment.start_logging() as run:
        run.upload_file("outputs/model.pkl", tmp_path / "model.pkl")
        run.upload_file("outputs/extra/notes.txt", tmp_path / "model.pkl")

    model = run.register_model(
        unique("clf"), "outputs/model.pkl", datasets=[("training", training)], tags={"from": "run"}
    )
    folder = run.register_model(unique("clf"), "outputs")

    assert (model.run_id, model.info.experiment_id) == (run.id, experiment.id)
    assert [f.path for f in model.get_files()] == ["model.pkl"]
    assert model.get_files()[0].digest == hashlib.sha256(b"pickled").hexdigest()
    assert sorted(f.path for f in folder.get_files()) == ["extra/notes.txt", "model.pkl"]
    ref = model.datasets["training"]
    assert (ref.dataset_id, ref.dataset_name, ref.dataset_version) == (training.id, training.name, 1)
    assert [m.id for m in ember.Model.list(ws, run_id=run.id) if m.name == model.name] == [model.id]
    found = ws.backend.registry.list_models(ModelSearch(dataset_id=training.id))
    assert [m.id for m in found] == [model.id]
    with pytest.raises(InvalidInput, match="no file or folder"):
        run.register_model(unique("clf"), "outputs/missing.pkl")
    with pytest.raises(NotFound):
        ember.Model.register_from_run(ws, "0" * 32, unique("clf"), "outputs/model.pkl")


# -- MLflow models --------------------------------------------------------------------------------
def test_an_mlflow_model_is_recognised_with_its_flavors_and_signature(backend: Backend) -> None:
    info = _register(backend, unique("mlflow"), {"MLmodel": MLMODEL.encode(), "model.pkl": b"x"})

    assert info.format == "mlflow"
    assert set(info.flavors) == {"python_function", "sklearn"}
    assert info.framework == "sklearn"
    assert info.signature is not None
    assert [c["name"] for c in info.signature["inputs"]] == ["sepal_length", "sepal_width"]
    assert info.signature["outputs"] == [{"type": "long", "required": True}]


def test_a_malformed_mlmodel_file_is_refused(backend: Backend) -> None:
    with pytest.raises(InvalidInput, match="MLmodel"):
        _register(backend, unique("bad"), {"MLmodel": b"flavors: [unclosed", "model.pkl": b"x"})
    with pytest.raises(InvalidInput, match="flavors"):
        _register(backend, unique("bad"), {"MLmodel": b"name: nothing\n", "model.pkl": b"x"})


# -- deletion ---------------------------------------------------------------------------------------
def test_deleting_a_version_keeps_the_others_and_frees_its_aliases(backend: Backend) -> None:
    name = unique("clf")
    v1 = _register(backend, name, {"m": b"1"})
    v2 = _register(backend, name, {"m": b"2"})
    backend.registry.set_alias(name, "production", 1)

    backend.registry.delete_model(v1.id)

    assert [m.version for m in backend.registry.list_models(ModelSearch(name=name))] == [2]
    with pytest.raises(NotFound):
        backend.registry.get_model(name, "production")
    with pytest.raises(NotFound):
        backend.registry.get_model_by_id(v1.id)
    with pytest.raises(NotFound):
        backend.registry.delete_model(v1.id)
    assert _register(backend, name, {"m": b"3"}).version == 3  # numbers are never reused
    assert backend.registry.get_model(name, 2) == v2


def test_deleting_the_latest_version_never_gives_its_number_again(backend: Backend) -> None:
    name = unique("clf")
    _register(backend, name, {"m": b"1"})
    latest = _register(backend, name, {"m": b"2"})

    backend.registry.delete_model(latest.id)
    after = _register(backend, name, {"m": b"3"})

    assert after.version == 3
    with pytest.raises(NotFound):
        backend.registry.get_model(name, 2)


def test_a_served_version_cannot_be_deleted(target: Target) -> None:
    if target.kind == "remote":
        pytest.skip("the deployment guard is registered in-process; endpoints exercise it through the server")
    backend = target.backend
    info = _register(backend, unique("clf"), {"m": b"1"})
    backend.registry.add_deployment_guard(  # type: ignore[attr-defined]
        lambda model_id: ["endpoint iris / deployment blue"] if model_id == info.id else []
    )

    with pytest.raises(Conflict, match="iris / deployment blue"):
        backend.registry.delete_model(info.id)
    assert backend.registry.get_model_by_id(info.id) == info


def test_garbage_collection_keeps_blobs_that_models_use(target: Target, tmp_path: Path) -> None:
    backend = target.backend
    experiment = new_experiment(backend)
    run = new_run(backend, experiment.id).info.id
    backend.tracking.upload_artifact(run, "outputs/model.pkl", [b"kept-by-the-model"])
    model = ember.Model.register_from_run(ember.Workspace(backend), run, unique("clf"), "outputs/model.pkl")
    finish(backend, run)
    backend.tracking.set_run_lifecycle(run, "deleted")

    report = backend.tracking.purge()

    assert report.runs >= 1
    _, chunks = backend.registry.open_model_file(model.id, "model.pkl")
    assert b"".join(chunks) == b"kept-by-the-model"
    assert backend.registry.get_model_by_id(model.id).run_id is None  # the run is gone, the model stays
