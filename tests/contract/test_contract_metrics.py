"""Metrics: steps, order, NaN and infinities, decimation, large batches, tables, all-or-nothing."""

from __future__ import annotations

import math
import random
import struct
import time

import pytest
from contract_support import Target, new_experiment, new_run, same_floats, unique
from pydantic import ValidationError

import ember
from ember.backend import Backend
from ember.entities import MetricSeries, RunSearch
from ember.errors import InvalidInput, NotFound
from ember.wiring import open_backend


def _run(backend: Backend) -> str:
    return new_run(backend, new_experiment(backend, "metrics").id).info.id


def test_steps_auto_increment_per_series(backend: Backend) -> None:
    run_id = _run(backend)
    backend.tracking.log_metrics(
        run_id, [MetricSeries(key="loss", values=[3.0, 2.0]), MetricSeries(key="acc", values=[0.1])]
    )
    backend.tracking.log_metrics(run_id, [MetricSeries(key="loss", values=[1.0])])
    assert backend.tracking.get_metric_history(run_id, "loss").steps == [0, 1, 2]
    assert backend.tracking.get_metric_history(run_id, "acc").steps == [0]

    # An explicit step moves the cursor; None (per point) means "the step after the previous point".
    backend.tracking.log_metrics(
        run_id, [MetricSeries(key="loss", values=[0.9, 0.8, 0.7], steps=[10, None, 20])]
    )
    backend.tracking.log_metrics(run_id, [MetricSeries(key="loss", values=[0.6])])
    history = backend.tracking.get_metric_history(run_id, "loss")
    assert history.steps == [0, 1, 2, 10, 11, 20, 21]
    assert history.values == [3.0, 2.0, 1.0, 0.9, 0.8, 0.7, 0.6]
    assert history.total_points == 7


def test_sdk_steps_auto_increment(ws: ember.Workspace) -> None:
    with ember.Experiment(ws, unique("steps")).start_logging() as run:
        run.log("a", 1.0)
        run.log("a", 2.0)
        run.log("b", 5.0, step=100)
        run.log("b", 6.0)
        run.log("a", 3.0, step=7)
        run.log("a", 4.0)
    assert [p["step"] for p in run.get_metric_history("a")] == [0, 1, 7, 8]
    assert [p["step"] for p in run.get_metric_history("b")] == [100, 101]


def test_history_is_in_logging_order_and_latest_is_the_highest_step(backend: Backend) -> None:
    run_id = _run(backend)
    backend.tracking.log_metrics(run_id, [MetricSeries(key="m", values=[1.0, 2.0, 3.0], steps=[5, 3, 9])])
    backend.tracking.log_metrics(run_id, [MetricSeries(key="m", values=[4.0], steps=[2])])
    history = backend.tracking.get_metric_history(run_id, "m")
    assert history.steps == [5, 3, 9, 2]
    assert history.values == [1.0, 2.0, 3.0, 4.0]
    # A point logged later at a lower step does not replace the latest value.
    assert backend.tracking.get_run(run_id).metrics == {"m": 3.0}


def test_latest_value_on_equal_steps_is_the_later_timestamp(backend: Backend) -> None:
    run_id = _run(backend)
    backend.tracking.log_metrics(
        run_id, [MetricSeries(key="m", values=[1.0, 2.0], steps=[4, 4], timestamps=[100.0, 200.0])]
    )
    assert backend.tracking.get_run(run_id).metrics == {"m": 2.0}


def test_nan_and_infinities_are_stored_faithfully(backend: Backend) -> None:
    run_id = _run(backend)
    values = [1.0, math.nan, math.inf, -math.inf, -0.0, 5e-324, 1.7976931348623157e308]
    backend.tracking.log_metrics(run_id, [MetricSeries(key="edge", values=values)])
    for last in (math.nan, math.inf, -math.inf):
        key = f"last_{last}"
        backend.tracking.log_metrics(run_id, [MetricSeries(key=key, values=[0.5, last])])

    history = backend.tracking.get_metric_history(run_id, "edge")
    assert same_floats(history.values, values)
    assert math.copysign(1.0, history.values[4]) == -1.0, "-0.0 lost its sign"
    assert same_floats(backend.tracking.get_metrics(run_id).series["edge"].values, values)

    latest = backend.tracking.get_run(run_id).metrics
    assert latest["edge"] == 1.7976931348623157e308
    assert math.isnan(latest["last_nan"])
    assert latest["last_inf"] == math.inf
    assert latest["last_-inf"] == -math.inf
    # Only non-NaN values match a filter.
    exp_id = backend.tracking.get_run(run_id).info.experiment_id
    page = backend.tracking.search_runs(RunSearch(experiment_ids=[exp_id], filter="metrics.last_inf > 1e308"))
    assert [r.info.id for r in page.runs] == [run_id]
    page = backend.tracking.search_runs(RunSearch(experiment_ids=[exp_id], filter="metrics.last_nan < 1e308"))
    assert page.runs == []


def test_sdk_keeps_nan_and_infinities(ws: ember.Workspace) -> None:
    with ember.Experiment(ws, unique("nan")).start_logging() as run:
        for value in (math.nan, math.inf, -math.inf, 2.0):
            run.log("x", value)
        run.log("y", math.nan)
    assert same_floats(run.get_metrics()["x"], [math.nan, math.inf, -math.inf, 2.0])
    latest = run.get_details()["metrics"]
    assert latest["x"] == 2.0
    assert math.isnan(latest["y"])


def test_decimated_history_keeps_first_and_last_points(backend: Backend) -> None:
    run_id = _run(backend)
    n = 10_000
    backend.tracking.log_metrics(
        run_id, [MetricSeries(key="loss", values=[float(i) * 0.5 for i in range(n)], steps=list(range(n)))]
    )
    for max_points in (10, 100, 1000):
        history = backend.tracking.get_metric_history(run_id, "loss", max_points=max_points)
        assert history.total_points == n
        assert 2 <= len(history.values) <= 2 * max_points
        assert history.steps[0] == 0
        assert history.steps[-1] == n - 1
        assert history.steps == sorted(set(history.steps)), "points are in order, none twice"
        assert all(v == s * 0.5 for s, v in zip(history.steps, history.values, strict=True))
        assert len(history.timestamps) == len(history.values)

    full = backend.tracking.get_metric_history(run_id, "loss", max_points=n)
    assert len(full.values) == n
    assert full.total_points == n
    with pytest.raises(InvalidInput):
        backend.tracking.get_metric_history(run_id, "loss", max_points=5)


def test_decimation_keeps_spikes(backend: Backend) -> None:
    run_id = _run(backend)
    values = [1.0] * 5000
    values[1234] = 1000.0
    values[3456] = -1000.0
    backend.tracking.log_metrics(run_id, [MetricSeries(key="m", values=values)])
    history = backend.tracking.get_metric_history(run_id, "m", max_points=50)
    assert max(history.values) == 1000.0
    assert min(history.values) == -1000.0


def test_200k_points_in_one_call_round_trip_exactly(backend: Backend) -> None:
    run_id = _run(backend)
    rng = random.Random(20261127)
    n = 200_000
    values = [struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0] for _ in range(n // 2)]
    values += [rng.uniform(-1e6, 1e6) for _ in range(n - len(values))]
    steps = [i * 3 for i in range(n)]
    stamps = [1_700_000_000.0 + i * 0.001 for i in range(n)]
    backend.tracking.log_metrics(
        run_id, [MetricSeries(key="big", values=values, steps=steps, timestamps=stamps)]
    )

    history = backend.tracking.get_metric_history(run_id, "big")
    assert history.total_points == n
    assert history.steps == steps
    assert history.timestamps == stamps
    assert same_floats(history.values, values)
    assert [struct.pack("<d", v) for v in history.values if not math.isnan(v)] == [
        struct.pack("<d", v) for v in values if not math.isnan(v)
    ]


def test_many_series_in_one_call(backend: Backend) -> None:
    run_id = _run(backend)
    series = [MetricSeries(key=f"m{i}", values=[float(i), float(i + 1)]) for i in range(50)]
    backend.tracking.log_metrics(run_id, series)
    metrics = backend.tracking.get_metrics(run_id)
    assert set(metrics.series) == {f"m{i}" for i in range(50)}
    assert metrics.series["m7"].values == [7.0, 8.0]
    assert backend.tracking.get_run(run_id).metrics["m49"] == 50.0


def test_the_same_key_twice_in_one_call_keeps_order(backend: Backend) -> None:
    run_id = _run(backend)
    backend.tracking.log_metrics(
        run_id, [MetricSeries(key="k", values=[1.0, 2.0]), MetricSeries(key="k", values=[3.0])]
    )
    history = backend.tracking.get_metric_history(run_id, "k")
    assert history.values == [1.0, 2.0, 3.0]
    assert history.steps == [0, 1, 2]


def test_tables_append_rows_and_merge_columns(backend: Backend) -> None:
    run_id = _run(backend)
    backend.tracking.log_table_rows(run_id, "per_class", [{"cls": "a", "f1": 0.9}])
    backend.tracking.log_table_rows(
        run_id, "per_class", [{"cls": "b", "f1": 0.8}, {"cls": "c", "recall": 0.5}]
    )
    backend.tracking.log_table_rows(run_id, "flags", [{"ok": True, "note": None}])
    backend.tracking.log_metrics(run_id, [MetricSeries(key="loss", values=[1.0, 0.5])])
    tables = backend.tracking.get_metrics(run_id).tables
    only_tables = backend.tracking.get_metrics(run_id, series=False)
    assert only_tables.tables == tables
    assert only_tables.series == {}
    assert list(backend.tracking.get_metrics(run_id).series) == ["loss"]
    assert tables["per_class"] == {
        "cls": ["a", "b", "c"],
        "f1": [0.9, 0.8, None],
        "recall": [None, None, 0.5],
    }
    assert tables["flags"] == {"ok": [True], "note": [None]}


def test_bad_table_rows_are_refused(backend: Backend) -> None:
    run_id = _run(backend)
    with pytest.raises(InvalidInput):
        backend.tracking.log_table_rows(run_id, "t", [{"bad column!": 1}])
    with pytest.raises(InvalidInput):
        backend.tracking.log_table_rows(run_id, "t", [{"a": [1, 2]}])
    with pytest.raises(InvalidInput):
        backend.tracking.log_table_rows(run_id, "../t", [{"a": 1}])
    assert backend.tracking.get_metrics(run_id).tables == {}


def test_unknown_metric_is_not_found(backend: Backend) -> None:
    run_id = _run(backend)
    backend.tracking.log_metrics(run_id, [MetricSeries(key="loss", values=[1.0])])
    with pytest.raises(NotFound):
        backend.tracking.get_metric_history(run_id, "nope")


def test_metric_keys_with_slashes_colons_and_spaces(backend: Backend) -> None:
    run_id = _run(backend)
    keys = ["train/loss", "eval:acc", "f1 macro", "a.b-c_d"]
    backend.tracking.log_metrics(run_id, [MetricSeries(key=k, values=[1.0]) for k in keys])
    for key in keys:
        assert backend.tracking.get_metric_history(run_id, key).values == [1.0]
    assert set(backend.tracking.get_run(run_id).metrics) == set(keys)


def test_a_batch_with_one_bad_series_stores_nothing(backend: Backend) -> None:
    """The backend checks what it is sent, even a series built without validation (all or nothing)."""
    run_id = _run(backend)
    good = MetricSeries(key="good", values=[1.0])
    bad = MetricSeries.model_construct(key="bad key!", values=[2.0], steps=None, timestamps=None)
    with pytest.raises(InvalidInput):
        backend.tracking.log_metrics(run_id, [good, bad])
    assert backend.tracking.get_metrics(run_id).series == {}
    assert backend.tracking.get_run(run_id).metrics == {}


@pytest.mark.parametrize(
    "fields",
    [
        {"key": "../escape", "values": [1.0]},
        {"key": "", "values": [1.0]},
        {"key": "empty", "values": []},
        {"key": "steps", "values": [1.0, 2.0], "steps": [1]},
        {"key": "stamps", "values": [1.0], "timestamps": [math.nan]},
    ],
    ids=["dotdot-key", "empty-key", "no-values", "short-steps", "nan-timestamp"],
)
def test_the_backend_refuses_unvalidated_malformed_series(
    backend: Backend, fields: dict[str, object]
) -> None:
    run_id = _run(backend)
    series = MetricSeries.model_construct(**{"steps": None, "timestamps": None, **fields})
    with pytest.raises(InvalidInput):
        backend.tracking.log_metrics(run_id, [series])
    assert backend.tracking.get_metrics(run_id).series == {}


def _second_client(target: Target) -> Backend:
    """Another backend on the same workspace, as another process would open it."""
    return open_backend(target.location, artifact_uri=target.artifact_uri)


def test_flushed_points_are_visible_to_another_client(target: Target, ws: ember.Workspace) -> None:
    run = ember.Experiment(ws, unique("flush")).start_logging()
    for i in range(2500):
        run.log("loss", 1.0 / (i + 1))
    run.flush()
    other = _second_client(target)
    try:
        history = other.tracking.get_metric_history(run.id, "loss")
        assert history.total_points == 2500
        assert history.values[-1] == 1.0 / 2500
        assert other.tracking.get_run(run.id).metrics == {"loss": 1.0 / 2500}
    finally:
        other.close()
        run.complete()


def test_logged_points_arrive_without_a_flush(target: Target, ws: ember.Workspace) -> None:
    run = ember.Experiment(ws, unique("background")).start_logging()
    for i in range(10):
        run.log("acc", i / 10)
    other = _second_client(target)
    try:
        deadline = time.monotonic() + 15
        seen = 0
        while time.monotonic() < deadline:
            metrics = other.tracking.get_metrics(run.id).series
            seen = metrics["acc"].total_points if "acc" in metrics else 0
            if seen == 10:
                break
            time.sleep(0.05)
        assert seen == 10, "the background thread did not send the points"
    finally:
        other.close()
        run.complete()


def test_sdk_timestamps_are_wall_clock_seconds(ws: ember.Workspace) -> None:
    before = time.time()
    with ember.Experiment(ws, unique("stamps")).start_logging() as run:
        run.log("m", 1.0)
        run.log("m", 2.0)
    after = time.time()
    stamps = [p["timestamp"] for p in run.get_metric_history("m")]
    assert all(before - 1 <= t <= after + 1 for t in stamps)
    assert stamps == sorted(stamps)


def test_large_and_negative_steps_round_trip(backend: Backend) -> None:
    run_id = _run(backend)
    steps = [-5, 0, 2**31, 2**53 + 1, 2**63 - 1]
    backend.tracking.log_metrics(
        run_id, [MetricSeries(key="m", values=[1.0, 2.0, 3.0, 4.0, 5.0], steps=steps)]
    )
    history = backend.tracking.get_metric_history(run_id, "m")
    assert history.steps == steps
    assert backend.tracking.get_run(run_id).metrics == {"m": 5.0}


@pytest.mark.parametrize("step", [2**63, -(2**63) - 1, 10**30], ids=["2^63", "-2^63-1", "1e30"])
def test_steps_beyond_64_bits_are_invalid_input(backend: Backend, step: int) -> None:
    run_id = _run(backend)
    backend.tracking.log_metrics(run_id, [MetricSeries(key="m", values=[1.0])])
    with pytest.raises(ValidationError, match="64-bit"):
        MetricSeries(key="m", values=[2.0], steps=[step])
    unvalidated = MetricSeries.model_construct(key="m", values=[2.0], steps=[step], timestamps=None)
    with pytest.raises(InvalidInput, match="64-bit"):
        backend.tracking.log_metrics(run_id, [unvalidated])
    assert backend.tracking.get_metric_history(run_id, "m").values == [1.0]


def test_an_out_of_range_step_is_refused_at_log_time_and_loses_nothing(ws: ember.Workspace) -> None:
    run = ember.Experiment(ws, unique("bigstep")).start_logging()
    run.log("good", 1.0)
    with pytest.raises(InvalidInput):
        run.log("m", 1.0, step=2**63)
    run.log("good", 2.0)
    run.complete()
    assert run.get_metrics() == {"good": [1.0, 2.0]}
