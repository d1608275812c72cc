"""How the CLI shows things: durations, times, numbers, errors, and stdout kept clean for --json."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cli_fakes import EPOCH, FakeBackend, FakeTracking
from cli_support import Cli

from ember.cli._common import CliState, format_duration, format_number, format_time, jsonable
from ember.cli.gc import parse_age
from ember.entities import RunDetails, RunInfo, RunStatus
from ember.errors import InvalidInput


def _run(run_id: str, *, seconds: float, status: RunStatus = RunStatus.COMPLETED) -> RunDetails:
    info = RunInfo(
        id=run_id,
        experiment_id="e" * 32,
        experiment_name="iris",
        display_name=f"run-{run_id[0]}",
        status=status,
        created_time=EPOCH,
        start_time=EPOCH,
        end_time=EPOCH + timedelta(seconds=seconds),
    )
    return RunDetails(info=info, metrics={"accuracy": 0.987654321})


@pytest.fixture
def fake() -> FakeTracking:
    tracking = FakeTracking()
    tracking.add_run(_run("a" * 32, seconds=83))
    tracking.add_run(_run("b" * 32, seconds=2 * 3600 + 5 * 60 + 9, status=RunStatus.FAILED))
    return tracking


@pytest.fixture
def fake_cli(fake: FakeTracking, project: Path) -> Cli:
    return Cli(obj=CliState(workspace="fake", opener=lambda target: FakeBackend(fake)))


def test_the_run_table_shows_local_times_and_humanised_durations(fake_cli: Cli, fake: FakeTracking) -> None:
    table = fake_cli.ok("run", "list").stdout

    lines = {line.split()[0]: line for line in table.splitlines()[1:]}
    assert "1m 23s" in lines["aaaaaaaa"]
    assert "2h 05m" in lines["bbbbbbbb"]
    assert "0.987654" in lines["aaaaaaaa"]
    assert EPOCH.astimezone().strftime("%Y-%m-%d %H:%M") in lines["aaaaaaaa"]
    assert "a" * 32 not in table  # short ids in the table …
    assert fake.closed


def test_json_output_has_full_ids_and_nothing_else_on_stdout(fake_cli: Cli) -> None:
    result = fake_cli.ok("run", "list", "--json")

    page = json.loads(result.stdout)
    assert {run["info"]["id"] for run in page["runs"]} == {"a" * 32, "b" * 32}  # … full ones in JSON
    assert page["runs"][0]["info"]["start_time"] == "2024-05-01T12:00:00Z"


def test_an_ember_error_is_one_red_line_and_exit_code_1(fake_cli: Cli) -> None:
    result = fake_cli("experiment", "show", "mnist")

    assert result.exit_code == 1
    assert result.stderr.startswith("Error: experiment 'mnist' not found")
    assert "Traceback" not in result.output
    assert result.stdout == ""


def test_usage_errors_keep_exit_code_2(fake_cli: Cli) -> None:
    unknown = fake_cli("run", "list", "--no-such-option")
    missing = fake_cli("run", "show")

    assert unknown.exit_code == 2
    assert missing.exit_code == 2


def test_version(cli: Cli) -> None:
    from ember import __version__

    assert cli.ok("--version").stdout.strip() == f"ember {__version__}"


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (0.0042, "0.0042s"),
        (0.5, "0.5s"),
        (7.25, "7.2s"),
        (42, "42s"),
        (83, "1m 23s"),
        (3600 + 60 * 5, "1h 05m"),
        (86400 * 3 + 3600 * 4 + 59, "3d 4h"),
        (None, ""),
        (math.nan, ""),
    ],
)
def test_format_duration(seconds: float | None, shown: str) -> None:
    assert format_duration(seconds) == shown


def test_format_number_and_time() -> None:
    assert format_number(0.123456789) == "0.123457"
    assert format_number(1e-9) == "1e-09"
    assert format_number(math.nan) == "NaN"
    assert format_number(-math.inf) == "-inf"
    assert format_number(None) == ""
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert format_time(moment) == moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    assert format_time(None) == ""


def test_jsonable_spells_non_finite_numbers_as_pydantic_does() -> None:
    data = {"a": [math.nan, math.inf, -math.inf, 1.5], "b": ("x", None, 2)}

    assert jsonable(data) == {"a": ["NaN", "Infinity", "-Infinity", 1.5], "b": ["x", None, 2]}


@pytest.mark.parametrize(
    ("text", "seconds"), [("0", 0), ("3600", 3600), ("90s", 90), ("15m", 900), ("12h", 43200), ("7d", 604800)]
)
def test_parse_age(text: str, seconds: float) -> None:
    assert parse_age(text) == seconds


@pytest.mark.parametrize("text", ["-5", "soon", "5y", ""])
def test_parse_age_refuses_what_is_not_an_age(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_age(text)
