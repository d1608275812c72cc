"""Submitted runs with datasets: named inputs (download and direct), an output registered as a new dataset
version by the runner, and lineage read both ways — the user story of the SDK, on every backend."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from contract_support import Target, unique

import ember
from ember.errors import NotFound

RUN_DEADLINE_S = 120

SCRIPT = textwrap.dedent(
    """
    import argparse, os, pathlib
    import ember

    parser = argparse.ArgumentParser()
    parser.add_argument("--data")
    parser.add_argument("--raw")
    parser.add_argument("--out")
    args = parser.parse_args()
    run = ember.Run.get_context()
    files = sorted(p.name for p in pathlib.Path(args.data).rglob("*.csv"))
    print("downloaded:", files)
    train = run.input_datasets["train"]
    frame = train.to_pandas_dataframe()
    print("rows:", len(frame), "from", train.name, train.version)
    print("direct:", args.raw)
    run.log("rows", len(frame))
    out = pathlib.Path(args.out)
    (out / "part-0.csv").write_text("x,double\\n" + "".join(f"{x},{2 * x}\\n" for x in frame["x"]))
    """
)


def _wait(run: ember.Run) -> str:
    run.wait_for_completion(timeout=RUN_DEADLINE_S)
    return run.get_status()


@pytest.fixture
def ws(target: Target) -> ember.Workspace:
    return ember.Workspace(target.backend, target=target.location)


def test_a_submitted_run_consumes_datasets_and_registers_its_output(
    ws: ember.Workspace, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    (data / "iris").mkdir(parents=True)
    (data / "iris" / "a.csv").write_text("x,y\n1,10\n2,20\n")
    (data / "iris" / "b.csv").write_text("x,y\n3,30\n")
    store = ember.Datastore.register_local(ws, unique("raw"), data)
    train = ember.Dataset.Tabular.from_delimited_files([(store, "iris/*.csv")]).register(ws, unique("train"))
    raw = ember.Dataset.File.from_files(store.path("iris")).register(ws, unique("raw-files"))
    source = tmp_path / "src"
    source.mkdir()
    (source / "train.py").write_text(SCRIPT)
    output_name = unique("doubled")
    output = ember.OutputDatasetConfig("doubled", register_as=output_name, format="delimited")
    config = ember.ScriptRunConfig(
        source,
        "train.py",
        arguments=[
            "--data",
            train.as_named_input("train").as_download(),
            "--raw",
            raw.as_named_input("raw"),
            "--out",
            output,
        ],
    )

    run = ember.Experiment(ws, unique("data")).submit(config)
    status = _wait(run)

    text = ws.backend.jobs.read_log(run.id, "std_log.txt").data
    assert status == "Completed", (run.get_details(), text)
    assert "downloaded: ['a.csv', 'b.csv']" in text
    assert f"rows: 3 from {train.name} 1" in text
    assert f"direct: {data / 'iris'}" in text
    produced = ember.Dataset.get_by_name(ws, output_name)
    assert produced.version == 1
    assert produced.info is not None
    assert produced.info.source_run_id == run.id
    assert list(produced.to_pandas_dataframe()["double"]) == [2, 4, 6]
    # lineage from the run's side ...
    assert {name: d.name for name, d in run.input_datasets.items()} == {"train": train.name, "raw": raw.name}
    assert {name: d.name for name, d in run.output_datasets.items()} == {"doubled": output_name}
    # ... and from the datasets' side
    consumed = [(link.run_id, link.direction, link.mode) for link in train.get_runs()]
    assert consumed == [(run.id, "input", "download")]
    assert [(link.run_id, link.direction) for link in produced.get_runs()] == [(run.id, "output")]


def test_an_input_that_does_not_exist_is_refused_before_a_run_is_created(
    ws: ember.Workspace, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "s.py").write_text("print('hi')\n")
    config = ember.ScriptRunConfig(source, "s.py")
    config.inputs.append({"name": "train", "dataset_id": "0" * 32, "mode": "direct", "path_on_compute": None})
    experiment = ember.Experiment(ws, unique("data"))

    with pytest.raises(NotFound):
        experiment.submit(config)
    assert list(experiment.get_runs()) == []


def test_an_unregistered_dataset_cannot_be_an_input(ws: ember.Workspace, tmp_path: Path) -> None:
    store = ember.Datastore.register_local(ws, unique("raw"), tmp_path)
    tab = ember.Dataset.Tabular.from_delimited_files([(store, "*.csv")])

    with pytest.raises(ember.errors.InvalidInput, match="register the dataset first"):
        tab.as_named_input("train")
