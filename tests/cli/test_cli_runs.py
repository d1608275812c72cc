"""Stories about finding runs and reading what they recorded: list, show, metrics."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_support import Cli, seed_run

from ember.entities import RunError, RunStatus, RunUpdate
from ember.tracking.contract import TrackingBackend


@dataclass
class Sweep:
    """Three runs of a learning-rate sweep in "iris", and one run in "mnist"."""

    fast: str
    mid: str
    slow: str
    other: str


@pytest.fixture
def sweep(workspace: Path, tracking: TrackingBackend) -> Sweep:
    fast = seed_run(
        tracking,
        name="lr-0.1",
        params={"lr": "0.1"},
        metrics={"accuracy": [0.5, 0.71], "loss": [1.0, 0.8]},
        status=RunStatus.COMPLETED,
    )
    mid = seed_run(
        tracking,
        name="lr-0.01",
        params={"lr": "0.01"},
        metrics={"accuracy": [0.6, 0.93], "loss": [0.9, float("nan"), 0.2]},
        status=RunStatus.FAILED,
    )
    slow = seed_run(tracking, name="lr-0.001", params={"lr": "0.001"}, metrics={"accuracy": [0.82]})
    other = seed_run(tracking, experiment="mnist", name="cnn", metrics={"accuracy": [0.99]})
    return Sweep(fast=fast, mid=mid, slow=slow, other=other)


def test_list_shows_every_run_with_status_and_latest_metrics(sweep: Sweep, cli: Cli) -> None:
    table = cli.ok("run", "list").stdout

    by_id = {line.split()[0]: line for line in table.splitlines()[1:]}
    assert set(by_id) == {sweep.fast[:8], sweep.mid[:8], sweep.slow[:8], sweep.other[:8]}
    lines = {run_id: by_id[run_id[:8]] for run_id in (sweep.fast, sweep.mid, sweep.slow, sweep.other)}
    assert "accuracy" in table.splitlines()[0]
    assert "lr-0.01" in lines[sweep.mid]
    assert "Failed" in lines[sweep.mid]
    assert "0.93" in lines[sweep.mid]
    assert "Completed" in lines[sweep.fast]
    assert "Running" in lines[sweep.slow]
    assert "mnist" in lines[sweep.other]


def test_list_json_has_full_ids_values_and_nan_as_a_string(sweep: Sweep, cli: Cli) -> None:
    page = cli.json("run", "list", "--experiment", "iris")

    runs = {run["info"]["id"]: run for run in page["runs"]}
    assert set(runs) == {sweep.fast, sweep.mid, sweep.slow}
    assert runs[sweep.mid]["metrics"] == {"accuracy": 0.93, "loss": 0.2}
    assert runs[sweep.mid]["params"] == {"lr": "0.01"}
    assert runs[sweep.mid]["info"]["status"] == "Failed"
    assert page["next_page_token"] is None


def test_a_nan_latest_value_is_printed_as_a_json_string(
    workspace: Path, tracking: TrackingBackend, cli: Cli
) -> None:
    run_id = seed_run(tracking, metrics={"loss": [0.5, float("nan")], "gain": [float("inf")]})

    run = cli.json("run", "show", run_id)["run"]

    assert run["metrics"] == {"loss": "NaN", "gain": "Infinity"}


def test_filter_and_order_by_select_and_sort_runs(sweep: Sweep, cli: Cli) -> None:
    page = cli.json(
        "run", "list", "--filter", "metrics.accuracy > 0.75", "--order-by", "metrics.accuracy ASC"
    )

    assert [run["info"]["id"] for run in page["runs"]] == [sweep.slow, sweep.mid, sweep.other]
    table = cli.ok("run", "list", "-f", "params.lr = '0.1'").stdout
    assert sweep.fast[:8] in table
    assert sweep.mid[:8] not in table


def test_a_malformed_filter_fails_with_its_position(sweep: Sweep, cli: Cli) -> None:
    result = cli("run", "list", "--filter", "metrics.accuracy > ")

    assert result.exit_code == 1
    assert "invalid filter at position 19" in result.stderr
    assert "^" in result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.output


def test_max_results_pages_and_all_pages_gets_everything(sweep: Sweep, cli: Cli) -> None:
    first = cli.json("run", "list", "--max-results", "2")
    rest = cli.json("run", "list", "--max-results", "2", "--page-token", first["next_page_token"])
    everything = cli.json("run", "list", "--max-results", "1", "--all-pages")

    assert len(first["runs"]) == 2
    assert first["next_page_token"]
    assert rest["next_page_token"] is None
    paged = [r["info"]["id"] for r in first["runs"] + rest["runs"]]
    assert sorted(paged) == sorted([sweep.fast, sweep.mid, sweep.slow, sweep.other])
    assert [r["info"]["id"] for r in everything["runs"]] == paged
    hint = cli.ok("run", "list", "--max-results", "2")
    assert "--page-token" in hint.stderr
    assert len(hint.stdout.strip().splitlines()) == 3  # header + 2 runs


def test_list_of_an_unknown_experiment_fails(sweep: Sweep, cli: Cli) -> None:
    result = cli("run", "list", "--experiment", "nope")

    assert result.exit_code == 1
    assert "experiment 'nope' not found" in result.stderr


def test_show_describes_a_run_by_its_short_id(sweep: Sweep, tracking: TrackingBackend, cli: Cli) -> None:
    tracking.set_tags(sweep.slow, {"team": "vision"})
    tracking.add_properties(sweep.slow, {"git_commit": "abc123"})
    seed_run(tracking, name="fold-1", parent=sweep.slow)
    seed_run(tracking, name="fold-2", parent=sweep.slow)

    text = cli.ok("run", "show", sweep.slow[:8]).stdout
    shown = cli.json("run", "show", sweep.slow)

    assert sweep.slow in text
    for expected in (
        "lr-0.001",
        "Running",
        "0.001",
        "accuracy",
        "0.82",
        "team",
        "vision",
        "git_commit",
        "abc123",
    ):
        assert expected in text
    assert shown["child_run_count"] == 2
    assert shown["run"]["tags"] == {"team": "vision"}
    assert shown["run"]["properties"] == {"git_commit": "abc123"}
    assert shown["run"]["info"]["experiment_name"] == "iris"


def test_show_includes_the_error_of_a_failed_run(sweep: Sweep, tracking: TrackingBackend, cli: Cli) -> None:
    tracking.update_run(
        sweep.slow,
        RunUpdate(status=RunStatus.FAILED, error=RunError(message="CUDA out of memory [gpu 0]", exit_code=3)),
    )

    text = cli.ok("run", "show", sweep.slow).stdout

    assert "CUDA out of memory [gpu 0] (exit code 3)" in text
    assert "Failed" in text


def test_show_of_an_unknown_run_fails_clearly(sweep: Sweep, cli: Cli) -> None:
    used = {sweep.fast[:4], sweep.mid[:4], sweep.slow[:4], sweep.other[:4]}
    unused = next(p for p in (f"{i:04x}" for i in range(65536)) if p not in used)

    missing = cli("run", "show", unused)
    malformed = cli("run", "show", "not-an-id")
    unknown_full = cli("run", "show", "0" * 32)

    assert missing.exit_code == 1
    assert f"no run id starts with '{unused}'" in missing.stderr
    assert malformed.exit_code == 1
    assert "is not a run id" in malformed.stderr
    assert unknown_full.exit_code == 1
    assert "not found" in unknown_full.stderr


def test_metrics_summarises_every_series_and_table(
    workspace: Path, tracking: TrackingBackend, cli: Cli
) -> None:
    run_id = seed_run(tracking, metrics={"loss": [0.9, 0.4, float("nan"), 0.25], "accuracy": [0.5, 0.75]})
    tracking.log_table_rows(run_id, "confusion", [{"label": "cat", "count": 3}, {"label": "dog", "count": 4}])

    text = cli.ok("run", "metrics", run_id).stdout
    data = cli.json("run", "metrics", run_id)

    rows = {line.split()[0]: line.split() for line in text.splitlines() if line.strip()}
    assert rows["loss"][1:] == ["0.25", "3", "4", "0.25", "0.9"]  # last, step, count, min, max
    assert rows["accuracy"][1:] == ["0.75", "1", "2", "0.5", "0.75"]
    assert rows["confusion"][1:] == ["2", "label,", "count"]
    assert data["series"]["loss"]["values"] == [0.9, 0.4, "NaN", 0.25]
    assert data["tables"]["confusion"] == {"label": ["cat", "dog"], "count": [3, 4]}


def test_metrics_with_a_key_shows_the_full_history(
    workspace: Path, tracking: TrackingBackend, cli: Cli
) -> None:
    run_id = seed_run(tracking, metrics={"loss": [0.9, 0.4, 0.25]})

    history = cli.json("run", "metrics", run_id, "--key", "loss")
    text = cli.ok("run", "metrics", run_id[:6], "-k", "loss").stdout

    assert history["steps"] == [0, 1, 2]
    assert history["values"] == [0.9, 0.4, 0.25]
    assert len(history["timestamps"]) == 3
    points = [line.split()[:2] for line in text.splitlines()[2:] if line.strip()]
    assert points == [["0", "0.9"], ["1", "0.4"], ["2", "0.25"]]


def test_metrics_with_an_unknown_key_lists_the_known_ones(
    workspace: Path, tracking: TrackingBackend, cli: Cli
) -> None:
    run_id = seed_run(tracking, metrics={"loss": [0.9], "accuracy": [0.5]})

    result = cli("run", "metrics", run_id, "--key", "los")

    assert result.exit_code == 1
    assert "has no metric or table 'los'; it has: accuracy, loss" in result.stderr
