"""Submitting a script and reading back what it did: success, a script error, streamed output, job files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from jobs_support import (
    RUN_TIMEOUT_S,
    Place,
    in_lifecycle_order,
    poll,
    read_file,
    std_log,
    watch_statuses,
    write_source,
)

import ember
from ember.entities import TERMINAL_STATUSES, RunStatus

TRAIN = """
import argparse
import os

import ember

parser = argparse.ArgumentParser()
parser.add_argument("--C", type=float, required=True)
parser.add_argument("--points", type=int, required=True)
args = parser.parse_args()

run = ember.Run.get_context()
run.log_param("C", args.C)
run.set_tag("stage", "trained")
for step in range(args.points):
    run.log("loss", 1.0 / (step + 1))
with open(os.path.join("outputs", "model.txt"), "w") as out:
    out.write(f"C={args.C}\\n")
with open(os.path.join("logs", "train.log"), "w") as out:
    out.write("training done\\n")
print("epoch 1 done")
print("température ✓ 🎉")
"""


def _git(folder: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=Ada", "-c", "user.email=ada@example.com", "-c", "commit.gpgsign=false"]
    done = subprocess.run([*command, *args], cwd=folder, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def test_a_training_script_runs_and_everything_it_logged_is_kept(place: Place, tmp_path: Path) -> None:
    source = write_source(tmp_path / "src", {"train.py": TRAIN})
    _git(source, "init", "-q", "-b", "main")
    _git(source, "add", "train.py")
    _git(source, "commit", "-q", "-m", "first model")
    commit = _git(source, "rev-parse", "HEAD")
    exp = ember.Experiment(place.ws, "e2e")

    run = exp.submit(
        ember.ScriptRunConfig(
            source_directory=source, script="train.py", arguments=["--C", 0.5, "--points", 1000]
        ),
        tags={"why": "e2e"},
    )
    statuses = watch_statuses(run)

    assert statuses[-1] == "Completed", run.get_details()["info"]
    assert in_lifecycle_order(statuses), statuses
    assert "NotResponding" not in statuses, statuses
    history = run.get_metric_history("loss")
    assert [p["step"] for p in history] == list(range(1000))
    assert [p["value"] for p in history] == [1.0 / (step + 1) for step in range(1000)]
    assert run.get_params() == {"C": "0.5"}
    assert run.get_tags() == {"why": "e2e", "stage": "trained"}
    assert {"outputs/model.txt", "logs/train.log", "user_logs/std_log.txt"} <= set(run.get_file_names())
    assert read_file(run, "outputs/model.txt") == "C=0.5\n"
    assert read_file(run, "logs/train.log") == "training done\n"
    assert read_file(run, "user_logs/std_log.txt") == "epoch 1 done\ntempérature ✓ 🎉\n"
    assert std_log(run) == "epoch 1 done\ntempérature ✓ 🎉\n"
    stored = place.ws.backend.jobs.get_run_configuration(run.id)
    assert stored.config.arguments == ["--C", "0.5", "--points", "1000"]
    assert stored.git == {
        "repository": str(source.resolve()),
        "branch": "main",
        "commit": commit,
        "dirty": False,
    }
    info = run.get_details()["info"]
    assert info["run_type"] == "script"
    assert info["start_time"] is not None
    assert info["end_time"] is not None
    assert info["error"] is None


def test_a_script_that_raises_fails_the_run_with_its_error(place: Place, tmp_path: Path) -> None:
    source = write_source(
        tmp_path / "src",
        {
            "train.py": """
                import sys

                import ember

                def check(c):
                    if c < 0:
                        raise ValueError(f"C must be positive, got {c}")

                run = ember.Run.get_context()
                run.log("accuracy", 0.25)
                print("checking C")
                check(float(sys.argv[1]))
            """
        },
    )
    exp = ember.Experiment(place.ws, "e2e")

    run = exp.submit(ember.ScriptRunConfig(source_directory=source, script="train.py", arguments=["-1"]))
    details = run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    assert details["info"]["status"] == "Failed"
    error = details["info"]["error"]
    assert error["message"] == "ValueError: C must be positive, got -1.0"
    assert error["exit_code"] == 1
    assert error["traceback"].startswith("Traceback (most recent call last):")
    assert "in check" in error["traceback"]
    assert error["traceback"].endswith("ValueError: C must be positive, got -1.0")
    assert run.get_metrics() == {"accuracy": [0.25]}
    log = std_log(run)
    assert log.startswith("checking C\nTraceback (most recent call last):")
    assert "user_logs/std_log.txt" in run.get_file_names()


SHOUT = """
import time

for epoch in range(1, 4):
    print(f"epoch {epoch}/3 loss {1 / epoch:.3f}", flush=True)
    time.sleep(0.2)
print("naïve café ✓")
"""


def test_wait_for_completion_shows_the_script_output(
    place: Place, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_source(tmp_path / "src", {"shout.py": SHOUT})
    exp = ember.Experiment(place.ws, "e2e")
    run = exp.submit(ember.ScriptRunConfig(source_directory=source, script="shout.py"))

    details = run.wait_for_completion(show_output=True, timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    assert details["info"]["status"] == "Completed"
    assert (
        capsys.readouterr().out
        == "epoch 1/3 loss 1.000\nepoch 2/3 loss 0.500\nepoch 3/3 loss 0.333\nnaïve café ✓\n"
    )


def test_wait_for_completion_after_the_end_shows_all_of_a_long_output(
    place: Place, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = 30_000  # about 2.5 million characters: more than one page of the log
    source = write_source(
        tmp_path / "src",
        {"chatty.py": f"for i in range({lines}):\n    print(f'line {{i:06d}} ' + 'x' * 70)\n"},
    )
    exp = ember.Experiment(place.ws, "e2e")
    run = exp.submit(ember.ScriptRunConfig(source_directory=source, script="chatty.py"))
    poll(lambda: RunStatus(run.get_status()) in TERMINAL_STATUSES, what="the run to end")

    run.wait_for_completion(show_output=True, timeout=RUN_TIMEOUT_S)

    shown = capsys.readouterr().out.splitlines()
    count, last = len(shown), shown[-1][:12] if shown else None
    assert run.get_status() == "Completed"
    assert len(std_log(run).splitlines()) == lines
    assert count == lines, f"{count} of {lines} lines shown; the last starts {last!r}"


def test_a_saved_run_configuration_loads_and_submits(place: Place, tmp_path: Path) -> None:
    source = write_source(
        tmp_path / "project" / "src",
        {
            "job.py": """
                import os
                import sys

                print("args", sys.argv[1:])
                print("greeting", os.environ["GREETING"])
            """
        },
    )
    config = ember.ScriptRunConfig(
        source_directory=source,
        script="job.py",
        arguments=["--lr", 0.01, "--name", "ünïcode name"],
        max_run_duration_seconds=600,
        env_vars={"GREETING": "hello there"},
    )
    saved = config.save(tmp_path / "project" / "jobs" / "train.yml")

    loaded = ember.ScriptRunConfig.load(saved)
    run = ember.Experiment(place.ws, "e2e").submit(loaded)
    details = run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    assert loaded.source_directory.resolve() == source.resolve()
    assert os.path.isabs(saved.read_text().split("source_directory:", 1)[1].split()[0]) is False
    assert loaded.script == "job.py"
    assert loaded.arguments == ["--lr", "0.01", "--name", "ünïcode name"]
    assert loaded.max_run_duration_seconds == 600
    assert loaded.env_vars == {"GREETING": "hello there"}
    assert loaded.compute_target == "local"
    assert loaded.to_run_configuration() == config.to_run_configuration()
    assert details["info"]["status"] == "Completed"
    assert std_log(run) == "args ['--lr', '0.01', '--name', 'ünïcode name']\ngreeting hello there\n"
    assert place.ws.backend.jobs.get_run_configuration(run.id).config == config.to_run_configuration()


@pytest.mark.parametrize("place", ["embedded"], indirect=True)  # the runner is the same in both modes
def test_a_script_that_exits_with_an_error_code_fails_the_run_with_that_code(
    place: Place, tmp_path: Path
) -> None:
    source = write_source(
        tmp_path / "src", {"train.py": 'print("no data, giving up")\nraise SystemExit(3)\n'}
    )
    run = ember.Experiment(place.ws, "e2e").submit(
        ember.ScriptRunConfig(source_directory=source, script="train.py")
    )

    details = run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    assert details["info"]["status"] == "Failed"
    assert details["info"]["error"] == {
        "message": "the script exited with code 3",
        "traceback": None,
        "exit_code": 3,
    }
    assert std_log(run) == "no data, giving up\n"


@pytest.mark.parametrize("place", ["embedded"], indirect=True)  # the runner is the same in both modes
def test_the_stored_output_of_a_run_keeps_every_line_of_a_long_output(place: Place, tmp_path: Path) -> None:
    lines = 110_000  # 11 million characters
    source = write_source(
        tmp_path / "src",
        {
            "chatty.py": f"""
                import sys

                for i in range({lines}):
                    sys.stdout.write(f"{{i:09d}} " + "z" * 89 + "\\n")
            """
        },
    )
    run = ember.Experiment(place.ws, "e2e").submit(
        ember.ScriptRunConfig(source_directory=source, script="chatty.py")
    )

    details = run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    assert details["info"]["status"] == "Completed"
    stored = read_file(run, "user_logs/std_log.txt")
    size = len(stored)
    assert size == lines * 100, f"{size:,} of {lines * 100:,} characters stored"
    assert stored.endswith(f"{lines - 1:09d} " + "z" * 89 + "\n")
