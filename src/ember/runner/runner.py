"""Execute one submitted run: Preparing → Running → Finalizing → Completed/Failed/Canceled.

The runner restores the snapshot into a private working directory, starts the script in its own
process group with the run's identity in its environment, streams its output to the run's
``std_log.txt`` while it runs, ingests the metric spool the script writes (so a killed script loses
nothing it logged), heartbeats (learning of cancel requests), enforces the maximum duration, then
uploads ``outputs/`` and ``logs/`` and records the outcome. A run with a registered environment runs in
that environment's cached virtualenv, built with uv on first use; the build's output goes to the run's
``build_log.txt`` and a failed build fails the run with the installer's message.
"""

from __future__ import annotations

import codecs
import contextlib
import itertools
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from ember.artifacts import safe_local_files
from ember.backend import Backend
from ember.config import find_workspace_target
from ember.entities import TERMINAL_STATUSES, RunError, RunStatus, RunUpdate
from ember.entities.environment_spec import EnvironmentSpec
from ember.entities.jobs import RunConfigurationInfo
from ember.environments.materialize import (
    READY_MARKER,
    EnvironmentBuildCanceled,
    EnvironmentBuildError,
    EnvironmentCache,
    default_cache_root,
)
from ember.errors import EmberError
from ember.jobs import snapshot as snapshots_
from ember.tracking.spool import SpoolReader
from ember.wiring import open_backend

__all__ = ["Runner", "environment_cache_root", "main"]

logger = logging.getLogger("ember.runner")

STD_LOG = "std_log.txt"
RUNNER_LOG = "runner_log.txt"
BUILD_LOG = "build_log.txt"
_TAIL_LINES = 400
_INGEST_BATCH = 500_000


def _interval(name: str, default: float) -> float:
    try:
        return max(0.05, float(os.environ.get(name, default)))
    except ValueError:
        return default


class _LogPump(threading.Thread):
    """Reads the script's output and appends it to the run's log in batches."""

    def __init__(self, runner: Runner, stream: int) -> None:
        super().__init__(name="ember-log-pump", daemon=True)
        self._runner = runner
        self._fd = stream
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending: list[str] = []
        self._lock = threading.Lock()
        self.tail: deque[str] = deque(maxlen=_TAIL_LINES)
        self._partial = ""

    def run(self) -> None:
        while chunk := os.read(self._fd, 65536):
            text = self._decoder.decode(chunk)
            self._remember(text)
            with self._lock:
                self._pending.append(text)
        tail = self._decoder.decode(b"", final=True)
        if tail:
            self._remember(tail)
            with self._lock:
                self._pending.append(tail)

    def _remember(self, text: str) -> None:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        self.tail.extend(lines)

    def drain(self) -> str:
        with self._lock:
            data, self._pending = "".join(self._pending), []
        return data

    def last_lines(self) -> list[str]:
        return [*self.tail, self._partial] if self._partial else list(self.tail)


class Runner:
    """Runs one submitted run to its end against a workspace backend."""

    def __init__(self, backend: Backend, run_id: str) -> None:
        self.backend = backend
        self.run_id = run_id
        self.cancel = threading.Event()
        self.abandoned = threading.Event()
        self._stop = threading.Event()
        self._heartbeat_every = _interval("EMBER_HEARTBEAT_INTERVAL", 5.0)
        self._flush_every = _interval("EMBER_RUNNER_FLUSH_INTERVAL", 0.5)

    # -- helpers ---------------------------------------------------------------------------------
    def _say(self, message: str) -> None:
        logger.info("run %s: %s", self.run_id, message)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        try:
            self.backend.jobs.append_log(self.run_id, RUNNER_LOG, f"{stamp} {message}\n")
        except EmberError:
            logger.warning("could not write to the runner log of run %s", self.run_id)

    def _status(self, status: RunStatus, error: RunError | None = None) -> None:
        self.backend.tracking.update_run(self.run_id, RunUpdate(status=status, error=error))

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self._heartbeat_every):
            try:
                status = self.backend.jobs.heartbeat(self.run_id)
                if status in TERMINAL_STATUSES:
                    # The sweeper gave up on this runner while it was stalled: the run's outcome is
                    # recorded already, so stop the script and record nothing more.
                    self.abandoned.set()
                    self.cancel.set()
                elif status == RunStatus.CANCEL_REQUESTED:
                    self.cancel.set()
            except Exception:  # a missed beat is survivable; the sweeper tolerates several
                logger.warning("heartbeat of run %s failed", self.run_id, exc_info=True)

    # -- the run ---------------------------------------------------------------------------------
    def run(self) -> RunStatus:
        """Execute the run; never raises for a failure of the script (it is recorded instead)."""
        heart = threading.Thread(target=self._heartbeat_loop, name="ember-heartbeat", daemon=True)
        heart.start()
        workdir = Path(tempfile.mkdtemp(prefix=f"ember-run-{self.run_id[:8]}-"))
        try:
            return self._execute(workdir)
        except Exception as exc:
            logger.exception("runner of run %s failed", self.run_id)
            self._say(f"runner error: {exc}")
            with contextlib.suppress(EmberError):
                self._status(RunStatus.FAILED, RunError(message=f"the runner failed: {exc}"[:20000]))
            return RunStatus.FAILED
        finally:
            self._stop.set()
            shutil.rmtree(workdir, ignore_errors=True)
            try:
                self.backend.jobs.sweep()  # frees this slot: start the next queued run
            except Exception:
                logger.warning("could not start queued runs", exc_info=True)

    def _execute(self, workdir: Path) -> RunStatus:
        info = self.backend.jobs.get_run_configuration(self.run_id)
        self._status(RunStatus.PREPARING)
        self._say(f"preparing in {workdir}")
        source = workdir / "source"
        if info.snapshot_digest:
            snapshots_.restore(self.backend.blobs, info.snapshot_digest, source)  # type: ignore[attr-defined]
        else:
            source.mkdir()
        for folder in ("outputs", "logs"):
            (source / folder).mkdir(exist_ok=True)
        try:
            arguments = self._data_arguments(info, workdir, source)
        except EmberError as exc:
            self._say(f"the run's data could not be prepared: {exc}")
            self._status(
                RunStatus.FAILED, RunError(message=f"preparing the run's data failed: {exc}"[:20000])
            )
            return RunStatus.FAILED
        if self.cancel.is_set() or self.backend.jobs.heartbeat(self.run_id) == RunStatus.CANCEL_REQUESTED:
            self._status(RunStatus.CANCELED)
            return RunStatus.CANCELED
        spec = self._environment_spec(info)
        try:
            python = self._python(info, spec)
        except EnvironmentBuildCanceled:
            self._say("canceled while the environment was being prepared")
            if self.abandoned.is_set():
                return RunStatus(self.backend.tracking.get_run(self.run_id).info.status)
            self._status(RunStatus.CANCELED)
            return RunStatus.CANCELED
        except EnvironmentBuildError as exc:
            self._say("the environment could not be built; see build_log.txt")
            self._status(RunStatus.FAILED, RunError(message=exc.message[:20000]))
            return RunStatus.FAILED
        # A cancel that came while the environment was ready to use, or between two heartbeats.
        if spec is not None and (
            self.cancel.is_set() or self.backend.jobs.heartbeat(self.run_id) == RunStatus.CANCEL_REQUESTED
        ):
            self._status(RunStatus.CANCELED)
            return RunStatus.CANCELED
        spool_dir = workdir / "spool"
        spool_dir.mkdir()
        env = self._environment(info, spool_dir, spec)
        # Through ember.runner.child, so that the script dies with this runner (parent-death signal).
        command = [python, "-m", "ember.runner.child", info.config.script, *arguments]
        self._say(f"running {info.config.script} with {python}")
        self._status(RunStatus.RUNNING)
        started = time.monotonic()
        proc = subprocess.Popen(
            command,
            cwd=source,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert proc.stdout is not None
        pump = _LogPump(self, proc.stdout.fileno())
        pump.start()
        reader = SpoolReader(spool_dir)
        outcome: str | None = None
        limit = info.config.max_run_duration_seconds
        while True:
            try:
                proc.wait(timeout=self._flush_every)
                break
            except subprocess.TimeoutExpired:
                pass
            self._ship(pump, reader)
            if self.cancel.is_set() and outcome is None:
                outcome = "canceled"
                self._say(
                    "the run ended without this runner: stopping the script"
                    if self.abandoned.is_set()
                    else "cancel requested: stopping the script"
                )
                self._kill(proc)
            elif limit is not None and time.monotonic() - started > limit and outcome is None:
                outcome = "timeout"
                self._say(f"the run exceeded max_run_duration_seconds={limit}: stopping the script")
                self._kill(proc)
        pump.join(timeout=30)
        if self.abandoned.is_set():
            reader.close()
            return RunStatus(self.backend.tracking.get_run(self.run_id).info.status)
        self._ship(pump, reader, final=True)
        reader.close()
        self._status(RunStatus.FINALIZING)
        self._upload(source)
        rc = proc.returncode
        self._say(f"script exited with code {rc}")
        if outcome == "canceled":
            self._status(RunStatus.CANCELED)
            return RunStatus.CANCELED
        if outcome == "timeout":
            error = RunError(
                message=f"the run exceeded its maximum duration of {limit} s and was stopped", exit_code=rc
            )
            self._status(RunStatus.FAILED, error)
            return RunStatus.FAILED
        if rc == 0 and info.config.outputs:
            from ember.runner.data import finish_outputs
            from ember.workspace import Workspace

            try:
                finish_outputs(
                    Workspace(self.backend), self.run_id, info.config, workdir=workdir, say=self._say
                )
            except EmberError as exc:
                self._say(f"the run's outputs could not be registered: {exc}")
                self._status(
                    RunStatus.FAILED, RunError(message=f"registering the outputs failed: {exc}"[:20000])
                )
                return RunStatus.FAILED
        if rc == 0:
            self._status(RunStatus.COMPLETED)
            return RunStatus.COMPLETED
        self._status(RunStatus.FAILED, _error_from(rc, pump.last_lines()))
        return RunStatus.FAILED

    def _data_arguments(self, info: RunConfigurationInfo, workdir: Path, source: Path) -> list[str]:
        """The script's arguments with input and output placeholders resolved (inputs fetched first)."""
        config = info.config
        if not config.inputs and not config.outputs:
            return list(config.arguments)  # the fast path imports nothing of the data area
        from ember.runner.data import prepare_data, substitute
        from ember.workspace import Workspace

        values = prepare_data(
            Workspace(self.backend), self.run_id, config, workdir=workdir, cwd=source, say=self._say
        )
        return substitute(config.arguments, values)

    def _environment_spec(self, info: RunConfigurationInfo) -> EnvironmentSpec | None:
        """The spec of the run's registered environment; None runs with the submitter's interpreter."""
        ref = info.config.environment
        if ref is None:
            return None
        found = self.backend.environments.get(ref.name, ref.version)
        self._say(f"environment {found.name} version {found.version}")
        return found.spec

    def _python(self, info: RunConfigurationInfo, spec: EnvironmentSpec | None) -> str:
        if spec is not None:
            return str(self._materialize(spec))
        candidate = info.python_executable
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
        return sys.executable

    def _materialize(self, spec: EnvironmentSpec) -> Path:
        """The environment's interpreter, built into the shared cache on first use (logged to build_log)."""
        cache = EnvironmentCache(environment_cache_root())
        where = cache.path_for(spec)
        if spec.inherit_current:
            self._build_log("the environment inherits the runner's interpreter: nothing to build")
        elif (where / READY_MARKER).exists():
            self._build_log(f"environment {where.name} is cached: reusing {where}")
        else:
            self._say(f"building environment {where.name} (build_log.txt follows it)")
        return cache.python_for(spec, log=self._build_log, cancel=self.cancel)

    def _build_log(self, line: str) -> None:
        try:
            self.backend.jobs.append_log(self.run_id, BUILD_LOG, f"{line}\n")
        except EmberError:
            logger.warning("could not write to the build log of run %s", self.run_id)

    def _environment(
        self, info: RunConfigurationInfo, spool_dir: Path, spec: EnvironmentSpec | None = None
    ) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EMBER_")}
        if spec is not None:
            env.update(spec.env_vars)
        env.update(info.config.env_vars)
        env["EMBER_RUN_ID"] = self.run_id
        env["EMBER_WORKSPACE"] = os.environ.get("EMBER_WORKSPACE", "")
        if os.environ.get("EMBER_ARTIFACT_URI"):
            env["EMBER_ARTIFACT_URI"] = os.environ["EMBER_ARTIFACT_URI"]
        env["EMBER_SPOOL_DIR"] = str(spool_dir)
        env["EMBER_RUNNER_PID"] = str(os.getpid())
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _ship(self, pump: _LogPump, reader: SpoolReader, *, final: bool = False) -> None:
        """Send new output and metric points to the workspace."""
        data = pump.drain()
        if data:
            for start in range(0, len(data), 1_000_000):
                self.backend.jobs.append_log(self.run_id, STD_LOG, data[start : start + 1_000_000])
        for _ in itertools.count() if final else range(8):  # a tick stays bounded: cancel is checked
            series = reader.read_new(max_points=_INGEST_BATCH)
            if not series:
                break
            self.backend.tracking.log_metrics(self.run_id, series)
            # A full batch means more is waiting: keep up with a fast logger instead of idling a tick.
            if not final and sum(len(s.values) for s in series) < _INGEST_BATCH:
                break

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes]) -> None:
        """Stop the script's whole process group: SIGTERM, then SIGKILL after a grace period.

        The SIGKILL goes to the group even when the script itself obeyed SIGTERM: a child that ignores
        it must not outlive the run.
        """
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)

    def _upload(self, source: Path) -> None:
        for folder in ("outputs", "logs"):
            root = source / folder
            if not root.is_dir():
                continue
            for rel, path in safe_local_files(root):
                with open(path, "rb") as stream:
                    self.backend.tracking.upload_artifact(
                        self.run_id, f"{folder}/{rel}", _read_chunks(stream)
                    )
        if self.backend.jobs.read_log(self.run_id, STD_LOG, max_chars=1).data:
            self.backend.tracking.upload_artifact(
                self.run_id, f"user_logs/{STD_LOG}", self._log_chunks(STD_LOG)
            )

    def _log_chunks(self, name: str) -> Iterator[bytes]:
        """A whole log, read in pieces, as UTF-8 bytes."""
        offset = 0
        while True:
            chunk = self.backend.jobs.read_log(self.run_id, name, offset=offset, max_chars=1_000_000)
            if not chunk.data:
                return
            yield chunk.data.encode()
            offset = chunk.next_offset


def environment_cache_root() -> Path:
    """Where built environments are cached: ``$EMBER_ENV_CACHE``, else ``~/.cache/ember/envs``."""
    return default_cache_root()


def _read_chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(1 << 20):
        yield chunk


def _error_from(rc: int, lines: list[str]) -> RunError:
    """What went wrong, from the exit code and the end of the script's output."""
    traceback = None
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].startswith("Traceback (most recent call last):"):
            traceback = "\n".join(lines[i:]).strip()
            break
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = str(-rc)
        message = f"the script was killed by signal {name}"
    else:
        last = next((line.strip() for line in reversed(lines) if line.strip()), "")
        message = last if traceback and last else f"the script exited with code {rc}"
    return RunError(
        message=message[:20000], traceback=traceback[-200_000:] if traceback else None, exit_code=rc
    )


def main(argv: list[str]) -> int:
    """Entry point of ``python -m ember.runner <run-id>``."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if len(argv) != 1:
        print("usage: python -m ember.runner <run-id>  (workspace from $EMBER_WORKSPACE)", file=sys.stderr)
        return 2
    backend = open_backend(find_workspace_target(), artifact_uri=os.environ.get("EMBER_ARTIFACT_URI"))
    try:
        status = Runner(backend, argv[0]).run()
    finally:
        backend.close()
    return 0 if status == RunStatus.COMPLETED else 1
