"""Stories about submitting scripts as runs from the command line, following their logs, cancelling them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from cli_support import Cli, seed_run

import ember
from ember.backend import Backend
from ember.entities import RunSearch, RunStatus
from ember.wiring import open_backend
from support.ports import free_port

SRC = str(Path(ember.__file__).resolve().parents[1])

TRAIN = """\
import os
import sys

import ember

run = ember.Run.get_context()
print("training with", " ".join(sys.argv[1:]), flush=True)
print("argv", repr(sys.argv[1:]), flush=True)
print("SEED", os.environ.get("SEED", "-"), flush=True)
print("files", sorted(os.listdir(".")), flush=True)
run.log("accuracy", 0.93)
print("finished training", flush=True)
"""

FAILING = """\
print("loading data", flush=True)
raise ValueError("C must be positive")
"""

SLOW = """\
import time

print("started", flush=True)
time.sleep(120)
print("never printed", flush=True)
"""


@pytest.fixture
def backend(workspace: Path) -> Iterator[Backend]:
    """The workspace's Backend, to watch runs the way a dashboard would."""
    opened = open_backend(str(workspace))
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(autouse=True)
def quick_runners(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runners (real processes started by the CLI) heartbeat often, so a cancel reaches them fast."""
    monkeypatch.setenv("EMBER_HEARTBEAT_INTERVAL", "0.2")
    monkeypatch.setenv("EMBER_RUNNER_FLUSH_INTERVAL", "0.1")


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _wait_for(condition: Callable[[], bool], *, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        time.sleep(0.05)


def _status(backend: Backend, run_id: str) -> RunStatus:
    return backend.tracking.get_run(run_id).info.status


def _only_run(backend: Backend, experiment: str = "e") -> str:
    exp = backend.tracking.get_experiment_by_name(experiment)
    runs = backend.tracking.search_runs(RunSearch(experiment_ids=[exp.id])).runs
    assert len(runs) == 1, runs
    return runs[0].info.id


# -- submitting a script -----------------------------------------------------------------------------


def test_submit_and_stream_prints_the_scripts_output_and_exits_0(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "train.py", TRAIN)

    result = cli("run", "submit", "train.py", "--experiment", "e", "--stream", "--", "--C", "0.5")

    assert result.exit_code == 0, result.output
    assert "training with --C 0.5" in result.stdout
    assert "finished training" in result.stdout
    assert "Submitted run" not in result.stdout  # streaming: stdout is the script's output alone
    assert "Submitted run" in result.stderr
    assert "Completed" in result.stderr
    run_id = _only_run(backend)
    shown = cli.json("run", "show", run_id[:8])["run"]
    assert shown["info"]["status"] == "Completed"
    assert shown["info"]["run_type"] == "script"
    assert shown["metrics"] == {"accuracy": 0.93}


def test_the_logs_of_a_finished_run_can_be_read_and_followed(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "train.py", TRAIN)
    cli.ok("run", "submit", "train.py", "-e", "e", "--wait", "--", "--C", "0.5")
    run_id = _only_run(backend)

    logs = cli.ok("run", "logs", run_id[:8])
    followed = cli.ok("run", "logs", run_id, "--follow")
    runner = cli.ok("run", "logs", run_id[:8], "--runner")

    assert logs.stdout.splitlines() == [
        "training with --C 0.5",
        "argv ['--C', '0.5']",
        "SEED -",
        "files ['logs', 'outputs', 'train.py']",
        "finished training",
    ]
    assert followed.stdout == logs.stdout
    assert "script exited with code 0" in runner.stdout


def test_the_source_files_of_a_run_are_listed_printed_and_downloaded(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "train.py", TRAIN)
    _write(project, "lib/util.py", "HELP = 'é'\n")
    cli.ok("run", "submit", "train.py", "-e", "e", "--wait")
    run_id = _only_run(backend)

    listing = cli.ok("run", "snapshot", run_id[:8])
    listed = cli.json("run", "snapshot", run_id[:8])
    printed = cli.ok("run", "snapshot", run_id[:8], "--cat", "lib/util.py")
    downloaded = cli.ok("run", "snapshot", run_id[:8], "--download", str(project / "copy"))
    missing = cli("run", "snapshot", run_id[:8], "--cat", "nope.py")
    again = cli("run", "snapshot", run_id[:8], "--download", str(project / "copy"))

    assert "lib/util.py" in listing.stdout
    assert "train.py" in listing.stdout
    assert "2 files" in listing.stdout
    assert [f["path"] for f in listed["files"]] == ["lib/util.py", "train.py"]
    assert printed.stdout == "HELP = 'é'\n"
    assert "Wrote 2 files" in downloaded.stdout
    assert (project / "copy" / "train.py").read_text() == TRAIN
    assert missing.exit_code != 0
    assert "has no file 'nope.py'" in missing.stderr
    assert again.exit_code != 0
    assert "not empty" in again.stderr


def test_submit_without_waiting_tells_how_to_follow_and_following_ends_with_the_run(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "train.py", TRAIN)

    submitted = cli.ok("run", "submit", "train.py", "-e", "e")
    run_id = _only_run(backend)
    followed = cli.ok("run", "logs", run_id[:8], "-f")

    assert f"Submitted run {run_id}" in submitted.stdout
    assert f"ember run logs {run_id[:8]} --follow" in submitted.stdout
    assert "finished training" in followed.stdout
    assert _status(backend, run_id) == RunStatus.COMPLETED


def test_arguments_reach_the_script_verbatim_never_through_a_shell(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "train.py", TRAIN)
    tricky = ["a b; echo pwned", "$HOME", "*.py", "--flag=1", "", "'quoted'"]

    result = cli.ok("run", "submit", "train.py", "-e", "e", "--wait", "--json", "--", *tricky, "--json")

    details = json.loads(result.stdout)
    assert details["info"]["status"] == "Completed"
    tricky.append("--json")  # after `--`, even Ember's own options belong to the script
    logs = cli.ok("run", "logs", details["info"]["id"]).stdout
    assert f"argv {tricky!r}" in logs
    assert "pwned\n" not in logs


def test_source_dir_name_tags_and_environment_variables_are_recorded(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "src/train.py", TRAIN)

    details = cli.json(
        "run", "submit", "src/train.py", "--source-dir", "src", "-e", "e", "--name", "baseline",
        "--tag", "team=vision", "-t", "stage=dev", "--env", "SEED=42", "--max-duration", "60", "--wait",
    )  # fmt: skip

    assert details["info"]["status"] == "Completed"
    assert details["info"]["display_name"] == "baseline"
    assert details["tags"] == {"team": "vision", "stage": "dev"}
    assert "SEED 42" in cli.ok("run", "logs", details["info"]["id"]).stdout
    config = backend.jobs.get_run_configuration(details["info"]["id"])
    assert config.config.script == "train.py"  # the source directory is src/, the script is in it
    assert config.config.max_run_duration_seconds == 60


def test_a_script_in_a_subfolder_has_that_folder_as_its_source_directory(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "src/train.py", TRAIN)
    _write(project, "src/helper.py", "")

    result = cli("run", "submit", "src/train.py", "-e", "e", "--stream")

    assert result.exit_code == 0, result.output
    config = backend.jobs.get_run_configuration(_only_run(backend))
    assert config.config.script == "train.py"


def test_the_workspace_folder_in_the_project_is_kept_out_of_the_snapshot(
    workspace: Path, project: Path, cli: Cli
) -> None:
    _write(project, "train.py", TRAIN)
    _write(project, "data/train.csv", "x,y\n1,2\n")
    _write(workspace, ".emberignore", "# the user's own rules, which would leave the database in\n")

    first = cli.ok("run", "submit", "train.py", "-e", "e", "--stream")
    second = cli.ok("run", "submit", "train.py", "-e", "e", "--stream")

    assert "files ['data', 'logs', 'outputs', 'train.py']" in first.stdout  # no ember-workspace/
    assert "files ['data', 'logs', 'outputs', 'train.py']" in second.stdout


def test_a_failing_script_streams_its_error_exits_1_and_shows_as_failed(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "train.py", FAILING)

    result = cli("run", "submit", "train.py", "-e", "e", "--stream")

    assert result.exit_code == 1
    assert "loading data" in result.stdout
    assert "ValueError: C must be positive" in result.stdout
    assert "Failed" in result.stderr
    assert "exit code 1" in result.stderr
    run_id = _only_run(backend)
    assert "Failed" in cli.ok("run", "show", run_id[:8]).stdout
    assert cli.json("run", "show", run_id)["run"]["info"]["status"] == "Failed"


def test_a_running_script_can_be_cancelled(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "slow.py", SLOW)
    cli.ok("run", "submit", "slow.py", "-e", "e")
    run_id = _only_run(backend)
    _wait_for(lambda: _status(backend, run_id) == RunStatus.RUNNING, what="the run is Running")

    cancelled = cli.ok("run", "cancel", run_id[:8])

    assert "CancelRequested" in cancelled.stdout or "Canceled" in cancelled.stdout
    _wait_for(lambda: _status(backend, run_id) == RunStatus.CANCELED, what="the run is Canceled")
    again = cli("run", "cancel", run_id)
    assert again.exit_code == 1
    assert "already Canceled" in again.stderr
    assert "never printed" not in cli.ok("run", "logs", run_id).stdout


# -- job files ---------------------------------------------------------------------------------------

JOB = """\
experiment: from-file
source_directory: src
script: train.py
arguments: [--C, 0.5, --epochs, 3]
env_vars:
  SEED: 7
tags:
  origin: yaml
display_name: yaml-run
compute_target: local
max_run_duration_seconds: 120
"""


def test_a_yaml_job_file_is_submitted_with_its_keys(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "src/train.py", TRAIN)
    _write(project, "jobs/job.yml", JOB.replace("source_directory: src", "source_directory: ../src"))

    result = cli("run", "submit", "-f", "jobs/job.yml", "--stream")

    assert result.exit_code == 0, result.output
    assert "training with --C 0.5 --epochs 3" in result.stdout
    assert "SEED 7" in result.stdout
    run = cli.json("run", "show", _only_run(backend, "from-file"))["run"]
    assert run["info"]["display_name"] == "yaml-run"
    assert run["tags"] == {"origin": "yaml"}


def test_options_override_the_job_file(workspace: Path, project: Path, backend: Backend, cli: Cli) -> None:
    _write(project, "src/train.py", TRAIN)
    _write(project, "job.yml", JOB)

    details = cli.json(
        "run", "submit", "-f", "job.yml", "--experiment", "other", "--name", "override", "-t", "k=v",
        "--env", "SEED=9", "--wait",
    )  # fmt: skip

    assert details["info"]["experiment_name"] == "other"
    assert details["info"]["display_name"] == "override"
    assert details["tags"] == {"origin": "yaml", "k": "v"}
    assert "SEED 9" in cli.ok("run", "logs", details["info"]["id"]).stdout


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("script: [unclosed\n", "is not valid YAML (line 2"),
        ("experiment: e\nscirpt: train.py\n", "unknown key 'scirpt' (did you mean 'script'?)"),
        ("- script: train.py\n", "must be a mapping"),
        ("experiment: e\n", "needs `script:`"),
        ("experiment: e\nscript: missing.py\n", "script 'missing.py' not found"),
        ("experiment: e\nscript: train.py\nmax_run_duration_seconds: 0\n", "max_run_duration_seconds"),
        ("experiment: e\nscript: train.py\narguments: [--x, {a: 1}]\n", "arguments[1] must be text"),
        ("script: train.py\n", "--experiment"),
    ],
)
def test_a_bad_job_file_is_refused_with_a_clear_message(
    workspace: Path, project: Path, cli: Cli, text: str, message: str
) -> None:
    _write(project, "train.py", TRAIN)
    _write(project, "job.yml", text)

    result = cli("run", "submit", "-f", "job.yml")

    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert cli.json("run", "list")["runs"] == []


# -- refusals ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("missing.py", "-e", "e"), "script 'missing.py' not found"),
        (("train.py",), "--experiment"),
        (("train.py", "-e", "e", "--env", "EMBER_RUN_ID=x"), "reserved"),
        (("train.py", "-e", "e", "--environment", "sklearn:two"), "NAME:VERSION"),
        (("train.py", "-e", "e", "--compute", "gpu-cluster"), "compute target 'gpu-cluster' not found"),
        (("-f", "job.yml", "train.py"), "not both"),
        ((), "give the script to run"),
    ],
)
def test_a_submission_that_cannot_run_is_refused_before_anything_starts(
    workspace: Path, project: Path, cli: Cli, args: tuple[str, ...], message: str
) -> None:
    _write(project, "train.py", TRAIN)
    _write(project, "job.yml", "script: train.py\n")

    result = cli("run", "submit", *args)

    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert cli.json("run", "list")["runs"] == []


def test_a_registered_environment_is_passed_on_and_a_refusal_surfaces(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "train.py", TRAIN)

    result = cli("run", "submit", "train.py", "-e", "e", "--environment", "sklearn:2")

    # The backend decides: it may refuse registered environments (or not know this one) with a clear
    # message; when it takes the run, the reference reached it whole.
    if result.exit_code == 0:
        config = backend.jobs.get_run_configuration(_only_run(backend)).config
        assert config.environment is not None
        assert (config.environment.name, config.environment.version) == ("sklearn", 2)
    else:
        assert result.exit_code == 1
        assert "environment" in result.stderr
        assert "Traceback" not in result.output


def test_stream_and_json_exclude_each_other(workspace: Path, project: Path, cli: Cli) -> None:
    _write(project, "train.py", TRAIN)

    result = cli("run", "submit", "train.py", "-e", "e", "--stream", "--json")

    assert result.exit_code == 2
    assert "--wait" in result.output


def test_logs_of_a_run_that_was_not_submitted_is_a_clear_error(
    workspace: Path, backend: Backend, cli: Cli
) -> None:
    run_id = seed_run(backend.tracking, status=RunStatus.COMPLETED)

    result = cli("run", "logs", run_id[:8])
    both = cli("run", "logs", run_id, "--runner", "--name", "other.txt")

    assert result.exit_code == 1
    assert "has no logs" in result.stderr
    assert both.exit_code == 2


# -- real processes ----------------------------------------------------------------------------------


def _env(project: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, env.get("PYTHONPATH", "")) if p)
    env.pop("EMBER_WORKSPACE", None)
    return env


def test_python_dash_m_ember_submits_and_streams(workspace: Path, project: Path) -> None:
    _write(project, "train.py", TRAIN)

    result = subprocess.run(
        [sys.executable, "-m", "ember", "run", "submit", "train.py", "-e", "e", "--stream", "--", "--C", "1"],
        capture_output=True,
        text=True,
        env=_env(project),
        cwd=project,
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert "training with --C 1" in result.stdout
    assert "Completed" in result.stderr


def test_ctrl_c_stops_following_cleanly_and_the_run_goes_on(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "slow.py", SLOW)
    cli.ok("run", "submit", "slow.py", "-e", "e")
    run_id = _only_run(backend)
    follower = subprocess.Popen(
        [sys.executable, "-m", "ember", "run", "logs", run_id[:8], "--follow"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(project),
        cwd=project,
    )
    try:
        assert follower.stdout is not None
        assert follower.stdout.readline() == "started\n"

        follower.send_signal(signal.SIGINT)
        _, stderr = follower.communicate(timeout=30)
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()

    assert follower.returncode == 130
    assert "Stopped following run" in stderr
    assert f"ember run cancel {run_id[:8]}" in stderr
    assert "Traceback" not in stderr
    assert _status(backend, run_id) == RunStatus.RUNNING
    backend.jobs.cancel_run(run_id)
    _wait_for(lambda: _status(backend, run_id) == RunStatus.CANCELED, what="the run is Canceled")


@pytest.fixture
def server_url(workspace: Path, project: Path) -> Iterator[str]:
    """``ember server`` serving the project's workspace, as a real process."""
    log = project.parent / "server.log"
    for _ in range(3):  # a free port can be taken before the server binds it: try another
        url = f"http://127.0.0.1:{(port := free_port())}"
        with log.open("ab") as sink:
            server = subprocess.Popen(
                [sys.executable, "-m", "ember", "server", "--port", str(port), "-w", str(workspace)],
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=_env(project),
            )
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and server.poll() is None:
                try:
                    if httpx.get(f"{url}/api/v1/workspace", timeout=2).status_code == 200:
                        yield url
                        return
                except httpx.TransportError:
                    time.sleep(0.1)
        finally:
            server.terminate()
            server.wait(timeout=15)
    raise AssertionError(f"ember server never answered:\n{log.read_text(errors='replace')[-3000:]}")


def test_submit_logs_and_compute_work_through_ember_server(
    server_url: str, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "train.py", TRAIN)
    remote = ("-w", server_url)

    streamed = cli(*remote, "run", "submit", "train.py", "-e", "e", "--stream", "--", "--C", "2")
    run_id = _only_run(backend)
    followed = cli.ok(*remote, "run", "logs", run_id[:8], "--follow")
    targets = cli.json(*remote, "compute", "list")

    assert streamed.exit_code == 0, streamed.output
    assert "training with --C 2" in streamed.stdout
    assert "finished training" in followed.stdout
    assert [t["name"] for t in targets["compute_targets"]] == ["local"]
    assert cli.json(*remote, "run", "show", run_id)["run"]["info"]["status"] == "Completed"


DATA_SCRIPT = """
import pathlib, sys
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
rows = sum(len(p.read_text().splitlines()) - 1 for p in sorted(src.rglob("*.csv")))
print("ROWS", rows)
(out / "count.csv").write_text(f"rows\\n{rows}\\n")
"""

DATA_JOB = """
script: count.py
source_directory: src
experiment: with-data
arguments: ["${{inputs.table}}", "${{outputs.counted}}"]
inputs:
  table: {dataset: "counted-source:1", mode: download}
outputs:
  counted: {register_as: row-counts, format: delimited}
"""


def test_a_job_file_takes_datasets_by_name_and_registers_its_output(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    ws = ember.Workspace(backend)
    data = project / "data"
    _write(data, "part-0.csv", "x\n1\n2\n")
    _write(data, "part-1.csv", "x\n3\n")
    store = ember.Datastore.register_local(ws, "files", data)
    ember.Dataset.Tabular.from_delimited_files([(store, "*.csv")]).register(ws, "counted-source")
    _write(project, "src/count.py", DATA_SCRIPT)
    _write(project, "job.yml", DATA_JOB)

    result = cli("run", "submit", "-f", "job.yml", "--stream")

    assert result.exit_code == 0, result.output
    assert "ROWS 3" in result.stdout
    produced = ember.Dataset.get_by_name(ws, "row-counts")
    assert list(produced.to_pandas_dataframe()["rows"]) == [3]
    assert [link.direction for link in produced.get_runs()] == ["output"]


def test_a_job_file_input_naming_an_unknown_dataset_is_refused(
    workspace: Path, project: Path, backend: Backend, cli: Cli
) -> None:
    _write(project, "src/count.py", DATA_SCRIPT)
    _write(project, "job.yml", DATA_JOB.replace("counted-source:1", "no-such-dataset"))

    result = cli("run", "submit", "-f", "job.yml")

    assert result.exit_code != 0
    assert "no-such-dataset" in result.output
    assert not _has_experiment(backend, "with-data")  # refused before anything was created


def _has_experiment(backend: Backend, name: str) -> bool:
    try:
        backend.tracking.get_experiment_by_name(name)
    except ember.errors.NotFound:
        return False
    return True
