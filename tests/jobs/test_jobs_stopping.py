"""Runs that do not end on their own: cancel, a killed script, a dead runner, the maximum duration."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from jobs_support import (
    RUN_TIMEOUT_S,
    WRITE_PIDS,
    Place,
    command_line,
    is_running,
    poll,
    read_file,
    read_pids,
    std_log,
    wait_until_group_gone,
    watch_statuses,
    write_source,
)

import ember

TICKER = (
    WRITE_PIDS
    + """
import subprocess
import sys
import time

import ember

# A helper process in the script's group, as a data loader's workers would be.
helper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
write_pids(sys.argv[1], helper.pid)
run = ember.Run.get_context()
for tick in range(2400):  # 2 minutes at most
    run.log("tick", tick)
    print(f"tick {tick}", flush=True)
    time.sleep(0.05)
"""
)


def test_cancel_stops_the_script_and_its_processes_and_keeps_what_it_logged(
    place: Place, tmp_path: Path
) -> None:
    source = write_source(tmp_path / "src", {"ticker.py": TICKER})
    pid_file = place.pid_file("ticker")
    exp = ember.Experiment(place.ws, "e2e")
    run = exp.submit(ember.ScriptRunConfig(source_directory=source, script="ticker.py", arguments=[pid_file]))
    pids = read_pids(pid_file)
    poll(
        lambda: (
            run.get_status() == "Running"
            and "tick 3\n" in std_log(run)
            and len(run.get_metrics().get("tick", [])) > 3
        ),
        what="the script to be running and to have logged a few ticks",
    )
    printed_before = std_log(run)

    run.cancel()
    details = run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    assert details["info"]["status"] == "Canceled"
    assert details["info"]["error"] is None
    wait_until_group_gone(pids.pgid, timeout=15)
    assert not is_running(pids.pid)
    assert not is_running(pids.extra[0])
    log = std_log(run)
    assert log.startswith(printed_before)
    assert read_file(run, "user_logs/std_log.txt") == log
    ticks = run.get_metrics()["tick"]
    assert ticks == list(range(len(ticks)))
    assert len(ticks) > 3
    assert f"tick {len(ticks) - 1}\n" in log


LOG_THEN_SLEEP = (
    WRITE_PIDS
    + """
import sys
import time

import ember

pid_file, points = sys.argv[1], int(sys.argv[2])
run = ember.Run.get_context()
for step in range(points):
    run.log("loss", float(step))
write_pids(pid_file)
print("logged", flush=True)
time.sleep(120)
"""
)


def test_a_script_killed_by_sigkill_fails_the_run_and_keeps_every_point(place: Place, tmp_path: Path) -> None:
    points = 2000
    source = write_source(tmp_path / "src", {"train.py": LOG_THEN_SLEEP})
    pid_file = place.pid_file("train")
    exp = ember.Experiment(place.ws, "e2e")
    run = exp.submit(
        ember.ScriptRunConfig(source_directory=source, script="train.py", arguments=[pid_file, points])
    )
    pids = read_pids(pid_file)
    poll(lambda: "logged\n" in std_log(run), what="the script to say it logged everything")

    os.kill(pids.pid, signal.SIGKILL)  # as the kernel's out-of-memory killer would
    details = run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    assert details["info"]["status"] == "Failed"
    assert "killed by signal SIGKILL" in details["info"]["error"]["message"]
    assert details["info"]["error"]["exit_code"] == -signal.SIGKILL
    history = run.get_metric_history("loss")
    assert [p["value"] for p in history] == [float(step) for step in range(points)]
    assert [p["step"] for p in history] == list(range(points))


def test_a_run_whose_runner_dies_becomes_not_responding_then_failed(place: Place, tmp_path: Path) -> None:
    source = write_source(tmp_path / "src", {"train.py": LOG_THEN_SLEEP})
    pid_file = place.pid_file("train")
    exp = ember.Experiment(place.ws, "e2e")
    run = exp.submit(
        ember.ScriptRunConfig(source_directory=source, script="train.py", arguments=[pid_file, 10])
    )
    pids = read_pids(pid_file)
    poll(lambda: "logged\n" in std_log(run), what="the script to say it logged")
    runner = pids.parent
    assert "ember.runner" in command_line(runner)
    assert run.id in command_line(runner)

    os.kill(runner, signal.SIGKILL)
    killed_at = time.monotonic()
    statuses = watch_statuses(run, on_poll=place.sweep, timeout=30)

    assert statuses[-2:] == ["NotResponding", "Failed"], statuses
    assert time.monotonic() - killed_at >= 2  # EMBER_HEARTBEAT_TIMEOUT: not before the runner is overdue
    error = run.get_details()["info"]["error"]
    assert "stopped responding" in error["message"]


class ScriptOutlivedItsRunner(AssertionError):
    """The orphaned script of a dead runner still runs."""


@pytest.mark.slow
@pytest.mark.parametrize("place", ["embedded"], indirect=True)  # the runner is the same in both modes
def test_the_script_of_a_run_whose_runner_died_does_not_outlive_it(place: Place, tmp_path: Path) -> None:
    source = write_source(tmp_path / "src", {"train.py": LOG_THEN_SLEEP})
    pid_file = place.pid_file("train")
    run = ember.Experiment(place.ws, "e2e").submit(
        ember.ScriptRunConfig(source_directory=source, script="train.py", arguments=[pid_file, 10])
    )
    pids = read_pids(pid_file)
    poll(lambda: "logged\n" in std_log(run), what="the script to say it logged")

    os.kill(pids.parent, signal.SIGKILL)

    try:
        poll(lambda: not is_running(pids.pid), what="the orphaned script to end", timeout=3)
    except AssertionError as exc:
        raise ScriptOutlivedItsRunner(str(exc)) from None


STUBBORN_HELPER = (
    WRITE_PIDS
    + """
import signal
import subprocess
import sys
import time

# A helper that ignores SIGTERM (the disposition survives exec) and does not hold the script's output.
helper = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(120)"],
    preexec_fn=lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN),
    stdout=subprocess.DEVNULL,
    stderr=subprocess.DEVNULL,
)
write_pids(sys.argv[1], helper.pid)
print("ready", flush=True)
time.sleep(120)
"""
)


@pytest.mark.slow
@pytest.mark.parametrize("place", ["embedded"], indirect=True)  # the runner is the same in both modes
def test_cancel_also_stops_a_helper_process_that_ignores_sigterm(place: Place, tmp_path: Path) -> None:
    source = write_source(tmp_path / "src", {"main.py": STUBBORN_HELPER})
    pid_file = place.pid_file("main")
    run = ember.Experiment(place.ws, "e2e").submit(
        ember.ScriptRunConfig(source_directory=source, script="main.py", arguments=[pid_file])
    )
    pids = read_pids(pid_file)
    poll(lambda: "ready\n" in std_log(run), what="the script to start its helper")

    run.cancel()
    details = run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    assert details["info"]["status"] == "Canceled"
    # The runner promises SIGTERM, then SIGKILL after a grace period, to the whole group; by the time the
    # run is Canceled nothing of the group should be left (a moment for the kernel to finish the kill).
    wait_until_group_gone(pids.pgid, timeout=3)


def test_a_run_longer_than_its_maximum_duration_is_stopped_and_failed(place: Place, tmp_path: Path) -> None:
    source = write_source(
        tmp_path / "src",
        {"slow.py": 'import time\nprint("started", flush=True)\ntime.sleep(120)\nprint("finished")\n'},
    )
    exp = ember.Experiment(place.ws, "e2e")
    config = ember.ScriptRunConfig(source_directory=source, script="slow.py", max_run_duration_seconds=2)

    started = time.monotonic()
    run = exp.submit(config)
    details = run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    assert details["info"]["status"] == "Failed"
    message = details["info"]["error"]["message"]
    assert "maximum duration of 2 s" in message, message
    assert 2 <= time.monotonic() - started < 20
    assert std_log(run) == "started\n"


def test_a_run_canceled_right_after_it_was_submitted_never_runs_its_script(
    place: Place, tmp_path: Path
) -> None:
    marker = tmp_path / "the script ran"
    source = write_source(
        tmp_path / "src", {"train.py": 'import sys\nopen(sys.argv[1], "w").close()\nprint("ran")\n'}
    )
    run = ember.Experiment(place.ws, "e2e").submit(
        ember.ScriptRunConfig(source_directory=source, script="train.py", arguments=[marker])
    )

    run.cancel()
    details = run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    assert details["info"]["status"] == "Canceled"
    assert not marker.exists()
    assert std_log(run) == ""
    assert "user_logs/std_log.txt" not in run.get_file_names()


GATED_WITH_PIDS = (
    WRITE_PIDS
    + """
import os
import sys
import time

pid_file, gate = sys.argv[1:3]
write_pids(pid_file)
started = time.time()
while not os.path.exists(gate) and time.time() < started + 60:
    time.sleep(0.02)
print("through the gate", flush=True)
"""
)


@pytest.mark.slow
@pytest.mark.parametrize("place", ["embedded"], indirect=True)  # the runner is the same in both modes
def test_a_runner_that_was_paused_and_comes_back_in_time_completes_its_run(
    place: Place, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    source = write_source(tmp_path / "src", {"train.py": GATED_WITH_PIDS})
    pid_file = place.pid_file("train")
    run = ember.Experiment(place.ws, "e2e").submit(
        ember.ScriptRunConfig(source_directory=source, script="train.py", arguments=[pid_file, gate])
    )
    runner = read_pids(pid_file).parent
    poll(lambda: run.get_status() == "Running", what="the run to be running")

    os.kill(runner, signal.SIGSTOP)  # a suspended laptop, a stalled machine
    try:
        poll(
            lambda: place.sweep() or run.get_status() == "NotResponding",
            what="the run to look dead",
            timeout=10,
        )
    finally:
        os.kill(runner, signal.SIGCONT)
    poll(lambda: run.get_status() == "Running", what="the runner's heartbeat to revive the run", timeout=1.5)
    gate.touch()
    details = run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    assert details["info"]["status"] == "Completed"
    assert std_log(run) == "through the gate\n"


@pytest.mark.slow
@pytest.mark.parametrize("place", ["embedded"], indirect=True)  # the runner is the same in both modes
def test_a_runner_that_comes_back_after_its_run_was_failed_stops_its_script(
    place: Place, tmp_path: Path
) -> None:
    gate = tmp_path / "gate"
    source = write_source(tmp_path / "src", {"train.py": GATED_WITH_PIDS})
    pid_file = place.pid_file("train")
    run = ember.Experiment(place.ws, "e2e").submit(
        ember.ScriptRunConfig(source_directory=source, script="train.py", arguments=[pid_file, gate])
    )
    pids = read_pids(pid_file)
    poll(lambda: run.get_status() == "Running", what="the run to be running")

    os.kill(pids.parent, signal.SIGSTOP)
    try:
        statuses = watch_statuses(run, on_poll=place.sweep, timeout=30)
    finally:
        os.kill(pids.parent, signal.SIGCONT)

    assert statuses[-1] == "Failed"
    # The sweeper's verdict stands; the runner learns it from its next heartbeat and must not let a
    # script of a Failed run go on using the machine.
    wait_until_group_gone(pids.pgid, timeout=3)
    assert run.get_status() == "Failed"
