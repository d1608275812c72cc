"""A user works with a workspace through ``ember server``: everything arrives, and comes back, intact."""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Iterator

import pytest

from ember.entities import (
    ExperimentCreate,
    ExperimentUpdate,
    MetricSeries,
    RunCreate,
    RunSearch,
    RunStatus,
    RunUpdate,
)
from ember.errors import Conflict, InvalidInput, NotFound
from ember.transport import ServerUnreachable
from ember.wiring import open_backend
from support.ports import free_port
from support.server_harness import ServerProcess

MiB = 1 << 20


def _chunks(total: int, *, seed: int, chunk: int = MiB) -> Iterator[bytes]:
    rng = random.Random(seed)
    sent = 0
    while sent < total:
        size = min(chunk, total - sent)
        sent += size
        yield rng.randbytes(size)


def test_experiment_run_params_tags_and_metrics_round_trip(server_process: ServerProcess) -> None:
    with open_backend(server_process.url) as remote:
        tracking = remote.tracking
        exp = tracking.create_experiment(ExperimentCreate(name="mnist", tags={"team": "vision"}))
        assert tracking.get_or_create_experiment("mnist").id == exp.id
        tracking.update_experiment(exp.id, ExperimentUpdate(description="digits"))

        run = tracking.create_run(RunCreate(experiment_id=exp.id, display_name="baseline", tags={"a": "1"}))
        tracking.log_params(run.info.id, {"lr": "0.01", "optimizer": "adam"})
        tracking.set_tags(run.info.id, {"stage": "dev", "dataset/version": "v2:final", "tmp/x y": "1"})
        tracking.delete_tag(run.info.id, "a")
        tracking.delete_tag(run.info.id, "tmp/x y")
        tracking.add_properties(run.info.id, {"git_sha": "abc123"})
        tracking.log_metrics(
            run.info.id,
            [
                MetricSeries(key="loss", values=[1.0, math.nan, math.inf, -math.inf, 0.25]),
                MetricSeries(key="eval/acc", values=[0.5, 0.75], steps=[10, 20]),
            ],
        )
        tracking.log_table_rows(run.info.id, "predictions", [{"label": "cat", "p": 0.9}])
        tracking.update_run(run.info.id, RunUpdate(status=RunStatus.COMPLETED))

        seen = tracking.get_run(run.info.id)
        history = tracking.get_metric_history(run.info.id, "loss")
        nested = tracking.get_metric_history(run.info.id, "eval/acc")
        metrics = tracking.get_metrics(run.info.id)
        found = tracking.search_runs(RunSearch(experiment_ids=[exp.id], filter="params.lr = '0.01'"))

    # The server wrote through to the workspace: a local reader sees exactly what the remote one saw.
    with open_backend(str(server_process.workspace)) as local:
        assert local.tracking.get_run(run.info.id) == seen
        assert local.tracking.get_experiment(exp.id).description == "digits"

    assert seen.info.status == RunStatus.COMPLETED
    assert seen.info.user == "local"  # set by the server from the caller's identity
    assert seen.params == {"lr": "0.01", "optimizer": "adam"}
    assert seen.tags == {"stage": "dev", "dataset/version": "v2:final"}
    assert seen.properties == {"git_sha": "abc123"}
    assert seen.metrics["eval/acc"] == 0.75
    assert history.values[0] == 1.0
    assert math.isnan(history.values[1])
    assert history.values[2:4] == [math.inf, -math.inf]
    assert history.steps == [0, 1, 2, 3, 4]
    assert (nested.values, nested.steps) == ([0.5, 0.75], [10, 20])
    assert metrics.series["eval/acc"] == nested
    assert metrics.tables["predictions"] == {"label": ["cat"], "p": [0.9]}
    assert [r.info.id for r in found.runs] == [run.info.id]


def test_lifecycle_and_purge_through_the_server(live_server: str) -> None:
    with open_backend(live_server) as remote:
        tracking = remote.tracking
        exp = tracking.get_or_create_experiment("lifecycle")
        run = tracking.create_run(RunCreate(experiment_id=exp.id))

        assert tracking.set_run_lifecycle(run.info.id, "deleted").lifecycle_stage == "deleted"
        assert tracking.set_run_lifecycle(run.info.id, "active").lifecycle_stage == "active"
        assert tracking.set_experiment_lifecycle(exp.id, "archived").lifecycle_stage == "archived"
        assert tracking.list_experiments().experiments == []
        assert [e.id for e in tracking.list_experiments(lifecycle="archived").experiments] == [exp.id]
        assert tracking.set_experiment_lifecycle(exp.id, "deleted").lifecycle_stage == "deleted"

        report = tracking.purge(older_than_seconds=0)

        assert (report.experiments, report.runs) == (1, 1)
        with pytest.raises(NotFound):
            tracking.get_run(run.info.id)


def test_server_errors_arrive_as_the_same_typed_errors(live_server: str) -> None:
    with open_backend(live_server) as remote:
        tracking = remote.tracking
        exp = tracking.create_experiment(ExperimentCreate(name="typed"))
        run = tracking.create_run(RunCreate(experiment_id=exp.id))
        tracking.log_params(run.info.id, {"lr": "0.1"})

        with pytest.raises(Conflict, match="already exists"):
            tracking.create_experiment(ExperimentCreate(name="typed"))
        with pytest.raises(Conflict, match="write-once"):
            tracking.log_params(run.info.id, {"lr": "0.2"})
        with pytest.raises(NotFound):
            tracking.get_run("0" * 32)
        with pytest.raises(NotFound):
            tracking.delete_tag(run.info.id, "never-set")
        with pytest.raises(InvalidInput):
            tracking.get_run("../../etc")
        with pytest.raises(InvalidInput):
            tracking.get_or_create_experiment("..")
        with pytest.raises(InvalidInput):
            tracking.set_run_lifecycle(run.info.id, "archived")
        for bad_path in ("../escape.txt", "a/./../../b", "a\\b", "/etc/passwd", "%2e%2e/x", "a;b"):
            with pytest.raises(InvalidInput, match="invalid artifact path"):
                tracking.upload_artifact(run.info.id, bad_path, [b"x"])
        assert tracking.list_artifacts(run.info.id) == []


def test_workspace_info_says_it_is_remote(live_server: str) -> None:
    with open_backend(live_server) as remote:
        info = remote.tracking.get_workspace_info()

    assert info.metadata_backend == "remote"
    assert info.name == "ws"


def test_a_20_mb_artifact_streams_up_and_down_intact(live_server: str) -> None:
    size = 20 * MiB
    expected = hashlib.sha256(b"".join(_chunks(size, seed=7))).hexdigest()
    with open_backend(live_server) as remote:
        tracking = remote.tracking
        run = tracking.create_run(RunCreate(experiment_id=tracking.get_or_create_experiment("files").id))

        stored = tracking.upload_artifact(run.info.id, "outputs/weights.bin", _chunks(size, seed=7))
        log = tracking.upload_artifact(run.info.id, "logs/tränïng log #1.txt", [b"epoch 1\n", b"epoch 2\n"])
        listed = tracking.list_artifacts(run.info.id)
        under_outputs = tracking.list_artifacts(run.info.id, "outputs")
        log_info, log_body = tracking.open_artifact(run.info.id, log.path)
        log_text = b"".join(log_body)
        info, body = tracking.open_artifact(run.info.id, "outputs/weights.bin")
        digest = hashlib.sha256()
        received = 0
        for chunk in body:
            digest.update(chunk)
            received += len(chunk)

    assert (stored.size, stored.digest) == (size, expected)
    assert [a.path for a in listed] == ["logs/tränïng log #1.txt", "outputs/weights.bin"]
    assert (log_info, log_text) == (log, b"epoch 1\nepoch 2\n")
    assert under_outputs == [stored]
    assert info == stored
    assert (received, digest.hexdigest()) == (size, expected)


def test_a_missing_server_is_named_in_the_error_without_the_token() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with open_backend(url, token="s3cret-token-value") as remote, pytest.raises(ServerUnreachable) as caught:
        remote.tracking.get_workspace_info()

    message = str(caught.value)
    assert url in message
    assert "ember server" in message
    assert "s3cret" not in message
