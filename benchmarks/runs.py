"""Ember against MLflow: submitting a run, logging inside it, and re-submitting a large source directory.

Usage::

    .venv/bin/python benchmarks/runs.py [--quick] [--reps N] [--markdown FILE] [--keep] [--profile DIR]

Measured in one invocation, Ember in this process (``.venv``) and MLflow in ``_runs_mlflow.py`` under
the MLflow virtualenv that ``tracking.py`` builds in ``.bench/mlflow-venv`` (built once, then reused):

1. Submit → the first line of the user's script: the script's first statement writes ``time.time()``
   to a file; the latency is that time minus the time just before ``exp.submit(...)`` (Ember) or
   ``mlflow.projects.run(..., env_manager="local", synchronous=False)``, and before the commands
   ``ember run submit --wait`` and ``mlflow run --env-manager local``.
2. ``run.log()`` inside a submitted run: the script logs in a tight loop and reports the calls/s it
   saw, then the time from the script's end until every point is stored in the workspace.
3. The snapshot of a 2,000-file source directory, the first time and again after one file changed
   (Ember ``upload_snapshot``; MLflow, which has no snapshot, ``mlflow.log_artifacts(dir)``).

Each is repeated ``--reps`` times (7 by default, after one warm-up submission) and the median reported.
``--profile DIR`` also writes cProfile dumps of the submit path and of the runner.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracking import (
    BENCH_DIR,
    MLFLOW_ENV,
    BenchError,
    Row,
    Sides,
    check,
    duration,
    ensure_mlflow_venv,
    environment,
    load_average,
    median,
    print_report,
    say,
    write_markdown,
)

import ember
from ember.entities import RunStatus
from ember.jobs.upload import upload_snapshot

HERE = Path(__file__).resolve().parent
POLL_S = 0.005  # how often a file, a status or a count is polled
DEADLINE_S = 600  # for any one thing the benchmark waits on
TARGET_SUBMIT_S = 0.5
TARGET_CALLS_PER_S = 1_000_000
TARGET_DURABLE_S = 1.0
TARGET_RESUBMIT_S = 0.5
METRIC = "m"
# Statuses before the runner has ingested the whole spool: it sets Finalizing only after the last batch.
_INGESTING = frozenset({RunStatus.QUEUED, RunStatus.STARTING, RunStatus.PREPARING, RunStatus.RUNNING})

# The user's script, one per side. Its first statement takes the time; it then logs ``points`` values.
_PROLOGUE = """\
import time

STARTED = time.time()  # the first statement: the submit latency ends here

import json
import os
import sys


def write(path, data):
    with open(path + ".tmp", "w") as handle:
        json.dump(data, handle)
    os.replace(path + ".tmp", path)  # the benchmark never reads half a file


start_file, points, end_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
write(start_file, {"time": STARTED})
values = [1.0 / (i + 1) for i in range(points)]
"""
EMBER_SCRIPT = (
    _PROLOGUE
    + """
if points:
    import ember

    run = ember.Run.get_context()
    if run.id == "offline":
        sys.exit("not inside a submitted run")
    start = time.perf_counter()
    for value in values:
        run.log("m", value)
    seconds = time.perf_counter() - start
    end = time.time()
    write(end_file, {"end": end, "seconds": seconds, "calls_per_s": points / seconds, "run_id": run.id})
"""
)
MLFLOW_SCRIPT = (
    _PROLOGUE
    + """
if points:
    import mlflow

    run = mlflow.start_run()  # the project's run (MLFLOW_RUN_ID): opens the store before the loop
    start = time.perf_counter()
    for value in values:
        mlflow.log_metric("m", value)
    seconds = time.perf_counter() - start
    end = time.time()
    run_id = run.info.run_id
    write(end_file, {"end": end, "seconds": seconds, "calls_per_s": points / seconds, "run_id": run_id})
"""
)
MLPROJECT = """\
name: bench
entry_points:
  main:
    parameters:
      start_file: string
      points: {type: int, default: 0}
      end_file: string
    command: "python train.py {start_file} {points} {end_file}"
"""


@dataclass(frozen=True)
class Scale:
    """How much work each measurement does."""

    log_points: int  # Ember, per run
    mlflow_log_points: int  # MLflow, per run: at ~300 points/s it could not log Ember's count
    snapshot_files: int
    snapshot_file_bytes: tuple[int, int]  # each file's size is drawn from this range


FULL = Scale(
    log_points=2_000_000, mlflow_log_points=2_000, snapshot_files=2_000, snapshot_file_bytes=(2048, 6144)
)
QUICK = Scale(log_points=200_000, mlflow_log_points=200, snapshot_files=500, snapshot_file_bytes=(2048, 6144))


@dataclass
class RunRow(Row):
    """A row whose ratio can be left out where the two numbers do not measure the same cost."""

    comparable: bool = True

    @property
    def ratio(self) -> float | None:
        return super().ratio if self.comparable else None


class RunSides(Sides):
    """``tracking.Sides`` with this benchmark's MLflow side script."""

    def mlflow_runs(self, case: str, **config: Any) -> dict[str, Any]:
        return self._run(self.mlflow_python, "_runs_mlflow.py", case, config, os.environ | MLFLOW_ENV)


# -- test data -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sources:
    """What the benchmark submits: Ember's source directory, MLflow's project, the large code tree."""

    ember: Path
    mlflow: Path
    code: Path
    changed: Path  # the file of ``code`` edited before each re-submit


def write_sources(work: Path, scale: Scale) -> Sources:
    ember_src = work / "ember-src"
    ember_src.mkdir()
    (ember_src / "train.py").write_text(EMBER_SCRIPT)
    project = work / "mlflow-project"
    project.mkdir()
    (project / "train.py").write_text(MLFLOW_SCRIPT)
    (project / "MLproject").write_text(MLPROJECT)
    code = work / "code"
    rng = random.Random(11)
    paths = []
    for i in range(scale.snapshot_files):
        path = code / f"pkg_{i // 100:02d}" / f"module_{i % 100:03d}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        size = rng.randint(*scale.snapshot_file_bytes)
        lines = [f"# {rng.randbytes(30).hex()}" for _ in range(size // 64 + 1)]
        path.write_text("\n".join(lines)[:size] + "\n")
        paths.append(path)
    return Sources(ember=ember_src, mlflow=project, code=code, changed=paths[len(paths) // 2])


def age_tree(root: Path, seconds: float = 3600) -> None:
    """Date every file back, as for a source tree not edited in the last hour.

    Ember's hash cache does not keep files changed within the last 2 s (a rewrite within one mtime tick
    would go unseen), so a tree written just now would be hashed in full on every submit.
    """
    then = time.time() - seconds
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def wait_for_json(path: Path) -> tuple[dict[str, Any], float]:
    """What the script wrote (atomically) to ``path``, and when this process saw it."""
    deadline = time.monotonic() + DEADLINE_S
    while not path.exists():
        if time.monotonic() > deadline:
            raise BenchError(f"the script did not write {path} within {DEADLINE_S} s")
        time.sleep(POLL_S)
    return json.loads(path.read_text()), time.time()


# -- the Ember side --------------------------------------------------------------------------------


class EmberSide:
    """Ember through its SDK, in this process, on one workspace for the submissions."""

    def __init__(self, work: Path, sources: Sources) -> None:
        self.work = work
        self.sources = sources
        self.stamps = work / "stamps"
        self.stamps.mkdir(exist_ok=True)
        self.ws_path = work / "ember-ws"
        self.ws = ember.Workspace.create(self.ws_path)
        self.experiment = ember.Experiment(self.ws, "bench")

    def close(self) -> None:
        self.ws.close()

    def _config(self, name: str, points: int) -> tuple[ember.ScriptRunConfig, Path, Path]:
        start, end = self.stamps / f"{name}.start", self.stamps / f"{name}.end"
        config = ember.ScriptRunConfig(
            source_directory=self.sources.ember, script="train.py", arguments=[start, points, end]
        )
        return config, start, end

    def _finish(self, run: ember.Run) -> None:
        details = run.wait_for_completion(timeout=DEADLINE_S, poll_interval=0.05)
        if details["info"]["status"] != RunStatus.COMPLETED.value:
            raise BenchError(
                f"Ember run {run.id} ended {details['info']['status']}: {details['info']['error']}"
            )

    def submit_latency(self, reps: int) -> dict[str, list[float]]:
        """``exp.submit`` → the script's first line; the first submission is a warm-up."""
        latencies, calls = [], []
        for i in range(reps + 1):
            config, start, _ = self._config(f"ember-submit-{i}", 0)
            before = time.time()
            run = self.experiment.submit(config)
            call = time.time() - before
            started = wait_for_json(start)[0]["time"]
            self._finish(run)
            if i > 0:
                latencies.append(started - before)
                calls.append(call)
        return {"latency": latencies, "submit_call": calls}

    def submit_cli(self, reps: int) -> dict[str, list[float]]:
        """``ember run submit --wait`` → the script's first line; the first submission is a warm-up."""
        command = [str(Path(sys.executable).parent / "ember"), "--workspace", str(self.ws_path), "run"]
        command += ["submit", "train.py", "-s", str(self.sources.ember), "-e", "cli", "--wait", "--"]
        latencies, totals = [], []
        for i in range(reps + 1):
            start, end = self.stamps / f"ember-cli-{i}.start", self.stamps / f"ember-cli-{i}.end"
            before = time.time()
            subprocess.run([*command, str(start), "0", str(end)], check=True, stdout=subprocess.DEVNULL)
            total = time.time() - before
            started = wait_for_json(start)[0]["time"]
            if i > 0:
                latencies.append(started - before)
                totals.append(total)
        return {"latency": latencies, "total": totals}

    def log_in_run(self, reps: int, points: int) -> dict[str, Any]:
        """``run.log`` calls/s seen by the script; its end → every point stored (status, then count)."""
        tracking = self.ws.backend.tracking
        rates, durable, readable = [], [], []
        for i in range(reps):
            config, _, end_file = self._config(f"ember-log-{i}", points)
            run = self.experiment.submit(config)
            end = wait_for_json(end_file)[0]
            # The runner sets Finalizing only after it has ingested the whole spool: a cheap poll of the
            # status (~1 ms) instead of reading back millions of points on every poll.
            while True:
                polled = time.time()
                if tracking.get_run(run.id).info.status not in _INGESTING:
                    break
                if polled - end["end"] > DEADLINE_S:
                    raise BenchError(f"Ember run {run.id} still ingesting after {DEADLINE_S} s")
                time.sleep(POLL_S)
            stored = tracking.get_metric_history(run.id, METRIC).total_points
            read = time.time()
            if stored != points:
                raise BenchError(
                    f"Ember run {run.id}: {stored} points stored once Finalizing, {points} logged"
                )
            self._finish(run)
            rates.append(end["calls_per_s"])
            durable.append(polled - end["end"])
            readable.append(read - end["end"])
        return {"points": points, "calls_per_s": rates, "durable": durable, "readable": readable}

    def snapshots(self, reps: int) -> dict[str, Any]:
        """``upload_snapshot`` of the code tree into a new workspace, then again after one file changed."""
        first: list[float] = []
        second: list[float] = []
        for i in range(reps):
            age_tree(self.sources.code)
            # A fresh workspace (empty blob store) and a fresh hash cache: a first submission.
            os.environ["XDG_CACHE_HOME"] = str(self.work / f"snapshot-cache-{i}")
            with ember.Workspace.create(self.work / f"snapshot-ws-{i}") as ws:
                digests = []
                for times in (first, second):
                    if times is second:
                        with open(self.sources.changed, "a") as handle:
                            handle.write(f"# ember edit {i}\n")
                    start = time.perf_counter()
                    digests.append(upload_snapshot(ws.backend.jobs, self.sources.code))
                    times.append(time.perf_counter() - start)
                if digests[0] == digests[1]:
                    raise BenchError("the snapshot did not change when a file did")
        return {"first": first, "second": second}

    def profile(self, out: Path, points: int) -> None:
        """cProfile dumps and summaries of the submit path and of the runner (submit, then logging)."""
        out.mkdir(parents=True, exist_ok=True)
        jobs = self.ws.backend.jobs
        launcher = jobs.launcher  # type: ignore[attr-defined]
        try:
            for name, n in (("submit", 0), ("log", points)):
                profiling = ProfilingLauncher(self.ws_path, out / f"runner-{name}.prof")
                jobs.launcher = profiling  # type: ignore[attr-defined]
                config, start, _ = self._config(f"profile-{name}", n)
                profiler = cProfile.Profile()
                before = time.time()
                profiler.enable()
                run = self.experiment.submit(config)
                profiler.disable()
                latency = wait_for_json(start)[0]["time"] - before
                self._finish(run)
                profiler.dump_stats(out / f"submit-{name}.prof")
                summarise(out / f"submit-{name}.prof")
                for proc in profiling.processes:  # the profile is written as the runner exits
                    proc.wait(timeout=DEADLINE_S)
                summarise(out / f"runner-{name}.prof")
                say(f"profile {name}: submit → first line {latency:.3f} s under cProfile; see {out}")
        finally:
            jobs.launcher = launcher  # type: ignore[attr-defined]
        importtime = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", "import ember.runner.runner, ember.jobs.local"],
            capture_output=True,
            text=True,
            check=True,
        )
        (out / "runner-importtime.txt").write_text(importtime.stderr)


class ProfilingLauncher:
    """Starts the runner under cProfile, as ``LocalProcessLauncher`` starts it otherwise."""

    def __init__(self, workspace: Path, output: Path) -> None:
        self.workspace = workspace
        self.output = output
        self.processes: list[subprocess.Popen[bytes]] = []

    def launch(self, run_id: str) -> None:
        env = os.environ | {"EMBER_WORKSPACE": str(self.workspace)}
        env.pop("EMBER_RUN_ID", None)
        command = [sys.executable, "-m", "cProfile", "-o", str(self.output), "-m", "ember.runner", run_id]
        with open(self.output.with_suffix(".log"), "ab") as log:
            proc = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        self.processes.append(proc)


def summarise(prof: Path, lines: int = 60) -> None:
    """``<prof>.txt``: the top of the profile by cumulative and by own time."""
    text = io.StringIO()
    stats = pstats.Stats(str(prof), stream=text)
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines // 2)
    prof.with_suffix(".txt").write_text(text.getvalue())


# -- the report ------------------------------------------------------------------------------------


class Bench:
    """The measurements of one invocation."""

    def __init__(self, *, sides: RunSides, ember_side: EmberSide, sources: Sources, scale: Scale, reps: int):
        self.sides = sides
        self.ember = ember_side
        self.sources = sources
        self.scale = scale
        self.reps = reps
        self.stamps = ember_side.stamps
        self.mlflow_uri = f"sqlite:///{sides.work / 'mlflow.db'}"

    def _mlflow(self, case: str, **config: Any) -> dict[str, Any]:
        return self.sides.mlflow_runs(
            case, project=str(self.sources.mlflow), stamps=str(self.stamps), reps=self.reps, **config
        )

    def submit(self) -> list[Row]:
        reps = self.reps
        say(f"submit → first line: Ember exp.submit, 1 warm-up + {reps}")
        ember_ = self.ember.submit_latency(reps)
        say(f"submit → first line: Ember `ember run submit --wait` command, 1 warm-up + {reps}")
        ember_cli = self.ember.submit_cli(reps)
        say(f"submit → first line: MLflow mlflow.projects.run(synchronous=False), 1 warm-up + {reps}")
        api: dict[str, Any] | None
        try:
            api = self._mlflow("submit_api", tracking_uri=self.mlflow_uri)
        except BenchError as exc:
            say(f"mlflow.projects.run failed, left out: {exc}")
            api = None
        say(f"submit → first line: MLflow `mlflow run` command, 1 warm-up + {reps}")
        cli = self._mlflow("submit_cli", tracking_uri=self.mlflow_uri)
        ember_s = median(ember_["latency"])
        rows = [
            RunRow(
                "submit → script's first line, vs mlflow.projects.run",
                "s",
                ember_s,
                median(api["latency"]) if api else None,
                higher_is_better=False,
                target=f"< {TARGET_SUBMIT_S:g} s",
                status=check(ember_s < TARGET_SUBMIT_S),
            ),
            RunRow(
                "submit → script's first line, `ember run submit` vs `mlflow run`",
                "s",
                median(ember_cli["latency"]),
                median(cli["latency"]),
                higher_is_better=False,
            ),
        ]
        rows[0].notes.append(
            f"Ember's {reps} latencies: {_spread(ember_['latency'], 's')}; `exp.submit()` itself returned in "
            f"{median(ember_['submit_call']) * 1000:.0f} ms (median); the rest is the runner starting the "
            "script"
        )
        if api:
            rows[0].notes.append(
                f"`mlflow.projects.run(..., synchronous=False)` returned in "
                f"{median(api['submit_call']) * 1000:.0f} ms (median)"
            )
        else:
            rows[0].notes.append("mlflow.projects.run failed here; see _runs_mlflow.log under --keep")
        rows[1].notes.append(
            "from just before the command starts, so starting its interpreter and importing the library "
            f"count; each command waits for the run to end, which took {median(ember_cli['total']):.1f} s "
            f"(`ember run submit --wait`) and {median(cli['total']):.1f} s (`mlflow run`), median, for "
            "a script that exits at once"
        )
        return rows

    def logging(self) -> list[Row]:
        scale, reps = self.scale, self.reps
        say(f"run.log in a submitted run: Ember, {scale.log_points:,} points x {reps}")
        ember_ = self.ember.log_in_run(reps, scale.log_points)
        say(f"log_metric in a project run: MLflow, {scale.mlflow_log_points:,} points x {reps}")
        mlflow_ = self._mlflow("log_in_run", tracking_uri=self.mlflow_uri, points=scale.mlflow_log_points)
        rate = median(ember_["calls_per_s"])
        durable = median(ember_["durable"])
        rate_row = RunRow(
            "run.log() calls/s inside a submitted run (1 point per call)",
            "points/s",
            rate,
            median(mlflow_["calls_per_s"]),
            target=f"≥ {TARGET_CALLS_PER_S:,} calls/s",
            status=check(rate >= TARGET_CALLS_PER_S),
        )
        rate_row.notes.append(
            f"Ember logged {scale.log_points:,} points per run, MLflow {scale.mlflow_log_points:,} "
            f"(`mlflow.log_metric`, synchronous, its default); at its rate MLflow would take "
            f"{duration(scale.log_points / median(mlflow_['calls_per_s']))} for Ember's count"
        )
        durable_row = RunRow(
            "script's end → every point stored",
            "s",
            durable,
            median(mlflow_["durable"]),
            higher_is_better=False,
            target=f"≤ {TARGET_DURABLE_S:g} s",
            status=check(durable <= TARGET_DURABLE_S),
            comparable=False,
        )
        durable_row.notes.append(
            f"Ember: {scale.log_points:,} points, from the timestamp the script writes right after its loop "
            "until the run leaves Running (the runner sets Finalizing only after ingesting the last batch), "
            f"then the stored count is checked; reading all {scale.log_points:,} points back as well took "
            f"until {median(ember_['readable']):.3f} s (median). MLflow stores each point inside "
            "`log_metric` (paid in its calls/s), so its number is only the polling delay: no ratio"
        )
        durable_row.notes.append(
            f"Ember's {reps} runs: {_spread(ember_['durable'], 's')} to store every point; "
            f"{_spread([r / 1e6 for r in ember_['calls_per_s']], 'M calls/s')} in the loop"
        )
        total_ember = scale.log_points / rate + durable
        total_mlflow = scale.log_points / median(mlflow_["calls_per_s"]) + median(mlflow_["durable"])
        durable_row.notes.append(
            f"loop start → all {scale.log_points:,} points stored: Ember {total_ember:.2f} s; MLflow at its "
            f"measured rate about {duration(total_mlflow)} ({total_mlflow / total_ember:,.0f}x)"
        )
        return [rate_row, durable_row]

    def snapshots(self) -> list[Row]:
        files, reps = self.scale.snapshot_files, self.reps
        say(f"snapshot of {files:,} files: Ember upload_snapshot x {reps}")
        ember_ = self.ember.snapshots(reps)
        say(f"log_artifacts of {files:,} files: MLflow x {reps}")
        mlflow_ = self.sides.mlflow_runs(
            "log_artifacts",
            tracking_uri=self.mlflow_uri,
            source=str(self.sources.code),
            changed_file=str(self.sources.changed),
            artifacts=str(self.sides.work / "mlflow-artifacts"),
            reps=reps,
        )
        second = median(ember_["second"])
        rows = [
            RunRow(
                f"snapshot, first submit ({files:,} files)",
                "s",
                median(ember_["first"]),
                median(mlflow_["first"]),
                higher_is_better=False,
            ),
            RunRow(
                "snapshot, re-submit with 1 file changed",
                "s",
                second,
                median(mlflow_["second"]),
                higher_is_better=False,
                target=f"< {TARGET_RESUBMIT_S:g} s",
                status=check(second < TARGET_RESUBMIT_S),
            ),
        ]
        rows[1].notes.append(
            f"Ember's {reps} re-submits: {_spread(ember_['second'], 's')}; first submits "
            f"{_spread(ember_['first'], 's')}"
        )
        return rows


def _spread(values: list[float], unit: str) -> str:
    return f"{min(values):.3f} to {max(values):.3f} {unit}"


def methodology(scale: Scale, reps: int, size: int) -> list[str]:
    return [
        f"Every number is the median of {reps} repetitions. Ember runs in the benchmark's process (its "
        "`.venv`); MLflow in `benchmarks/_runs_mlflow.py` under `.bench/mlflow-venv`, on a SQLite "
        "tracking database in the same folder. Both use the same Python and run the script with it.",
        "Submit → first line: the script's first statement writes `time.time()` to a file; the latency is "
        "that time minus `time.time()` just before `exp.submit(ScriptRunConfig(...))` (Ember, "
        "environment=None: the current interpreter), `mlflow.projects.run(dir, env_manager='local', "
        "synchronous=False)`; for the commands, `ember run submit train.py -s dir --wait -- ...` and "
        "`mlflow run dir --env-manager local -P ...`. "
        "Each side submits once as a warm-up first, and waits for each run to end before the next.",
        "run.log: the script calls `run.log('m', v)` (Ember, after `Run.get_context()`) or "
        "`mlflow.log_metric('m', v)` (MLflow, after `mlflow.start_run()`) once per precomputed value; "
        "calls/s is the script's own `time.perf_counter()` around the loop.",
        f"Snapshot: {scale.snapshot_files:,} files of {scale.snapshot_file_bytes[0] // 1024} to "
        f"{scale.snapshot_file_bytes[1] // 1024} KB ({size / 2**20:.1f} MB) in "
        f"{max(1, scale.snapshot_files // 100)} folders, dated an hour back. Ember: "
        "`upload_snapshot(ws.backend.jobs, dir)` into a new workspace with a new hash cache, then again "
        "after one line is appended to one file. MLflow: `mlflow.log_artifacts(dir)` in a new run, "
        "both times (it has no snapshot and copies everything each time). The page cache is warm for both.",
        "MLflow runs with its defaults, except that telemetry is off (MLFLOW_DISABLE_TELEMETRY, "
        "DO_NOT_TRACK).",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, help="repetitions of each measurement (default 7, --quick 3)")
    parser.add_argument("--quick", action="store_true", help="a small-scale smoke run (about 2 minutes)")
    parser.add_argument("--markdown", type=Path, metavar="FILE", help="also write the results as Markdown")
    parser.add_argument("--keep", action="store_true", help="keep the workspaces, stamps and logs")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="also write cProfile dumps of Ember here")
    args = parser.parse_args(argv)
    scale = QUICK if args.quick else FULL
    reps = max(1, args.reps if args.reps is not None else 3 if args.quick else 7)
    load_before = load_average()
    mlflow_python = ensure_mlflow_venv()
    work = Path(tempfile.mkdtemp(prefix="runs-", dir=BENCH_DIR))
    # The runners' folders and logs, and the snapshot hash caches, stay under the work folder.
    os.environ["TMPDIR"] = str(work / "tmp")
    (work / "tmp").mkdir()
    tempfile.tempdir = None
    os.environ["XDG_CACHE_HOME"] = str(work / "cache")
    sources = write_sources(work, scale)
    size = sum(p.stat().st_size for p in sources.code.rglob("*") if p.is_file())
    sides = RunSides(mlflow_python=mlflow_python, work=work)
    ok = False
    ember_side: EmberSide | None = None
    try:
        ember_side = EmberSide(work, sources)
        mlflow_info = sides.mlflow("version")  # tracking.py's side script answers this one
        bench = Bench(sides=sides, ember_side=ember_side, sources=sources, scale=scale, reps=reps)
        rows = [*bench.submit(), *bench.logging(), *bench.snapshots()]
        notes = methodology(scale, reps, size)
        quick = " (--quick: a smoke run at reduced scale, not comparable with full runs)"
        notes.append(
            f"The whole benchmark took {duration(time.monotonic() - _STARTED)}{quick if args.quick else ''}."
        )
        env = environment(ember.__version__, mlflow_info, load_before)
        print_report(rows, env, notes)
        if args.markdown:
            command = " ".join(["python benchmarks/runs.py", *(sys.argv[1:] if argv is None else argv)])
            write_markdown(args.markdown, rows, env, notes, command)
            say(f"wrote {args.markdown}")
        if args.profile:  # after the report: profiling slows everything it watches
            say(f"profiling Ember's submit path and runner into {args.profile}")
            ember_side.profile(args.profile, scale.log_points)
        ok = True
    except BenchError as exc:
        print(f"benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        if ember_side is not None:
            ember_side.close()
        if ok and not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            say(f"workspaces, stamps and logs kept in {work}")
    return 0


_STARTED = time.monotonic()

if __name__ == "__main__":
    sys.exit(main())
