"""Where runs wait and who they outlive: the compute target's queue, and the exit of the submitter."""

from __future__ import annotations

import itertools
import subprocess
import sys
import textwrap
from pathlib import Path

from jobs_support import RUN_TIMEOUT_S, Place, poll, read_file, std_log, write_source

import ember
from ember.entities import TERMINAL_STATUSES, RunStatus
from ember.entities.jobs import ComputeTargetUpdate

# Records when it started, waits for the test to open the gate, records when it ended.
GATED = """
import os
import sys
import time

import ember

started = time.time()
gate = sys.argv[1]
while not os.path.exists(gate) and time.time() < started + 60:
    time.sleep(0.02)
ember.Run.get_context().log("waited", time.time() - started)
print("through the gate", flush=True)
with open(os.path.join("outputs", "times.txt"), "w") as out:
    out.write(f"{started!r} {time.time()!r}")
"""


def test_a_busy_compute_target_queues_runs_and_starts_them_in_submission_order(
    place: Place, tmp_path: Path
) -> None:
    source = write_source(tmp_path / "src", {"job.py": GATED})
    gate = tmp_path / "gate"
    jobs = place.ws.backend.jobs
    jobs.update_compute_target("local", ComputeTargetUpdate(max_concurrent_runs=1))
    exp = ember.Experiment(place.ws, "e2e")
    config = ember.ScriptRunConfig(source_directory=source, script="job.py", arguments=[gate])

    first, second, third = (exp.submit(config, display_name=f"job-{n}") for n in range(3))
    poll(lambda: first.get_status() == "Running", what="the first run to be running")

    assert second.get_status() == "Queued"
    assert third.get_status() == "Queued"
    local = jobs.get_compute_target("local")
    assert (local.max_concurrent_runs, local.active_runs, local.queued_runs) == (1, 1, 2)

    gate.touch()
    outcomes = [
        run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1) for run in (first, second, third)
    ]

    assert [d["info"]["status"] for d in outcomes] == ["Completed"] * 3
    times = [
        tuple(float(t) for t in read_file(run, "outputs/times.txt").split()) for run in (first, second, third)
    ]
    starts = [start for start, _ in times]
    assert starts == sorted(starts), "the runs did not start in the order they were submitted"
    for (_, ended), (started_next, _) in itertools.pairwise(times):
        assert started_next > ended, "two runs ran at once on a target with room for one"
    local = jobs.get_compute_target("local")
    assert (local.active_runs, local.queued_runs) == (0, 0)


SUBMITTER = textwrap.dedent(
    """
    import sys

    import ember

    target, source, gate = sys.argv[1:4]
    ws = ember.Workspace.connect(target) if target.startswith("http") else ember.Workspace.get(target)
    config = ember.ScriptRunConfig(source_directory=source, script="job.py", arguments=[gate])
    print(ember.Experiment(ws, "e2e").submit(config).id)
    """
)


def test_a_run_outlives_the_python_process_that_submitted_it(place: Place, tmp_path: Path) -> None:
    source = write_source(tmp_path / "src", {"job.py": GATED})
    gate = tmp_path / "gate"
    assert place.ws.target is not None

    submitter = subprocess.run(
        [sys.executable, "-c", SUBMITTER, place.ws.target, str(source), str(gate)],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    assert submitter.returncode == 0, submitter.stderr
    run = place.ws.get_run(submitter.stdout.strip())
    assert RunStatus(run.get_status()) not in TERMINAL_STATUSES  # it waits for the gate

    gate.touch()
    details = run.wait_for_completion(timeout=RUN_TIMEOUT_S, poll_interval=0.1)

    assert details["info"]["status"] == "Completed"
    assert len(run.get_metrics()["waited"]) == 1
    assert std_log(run) == "through the gate\n"
    assert "outputs/times.txt" in run.get_file_names()
