"""Replica processes of one deployment: prepared, started, probed, restarted, scaled and replaced.

A deployment's generation is prepared once (its environment built into the shared cache, its models and
scoring code laid out under the host's state folder), then ``desired`` replicas of it run as
``python -m ember.serving.replica --uds ...`` in that environment, each logging to its own file. A replica
takes requests once its ``/readyz`` answers 200. A replica that exits on its own is restarted with a
growing delay. An update (a new generation) starts the new replicas beside the old ones and moves traffic
only when they are ready; the old ones then drain (no new requests, the ones in flight finish) and stop.
If the new generation cannot start, the old one keeps serving and the deployment says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ember.backend import Backend
from ember.entities.serving import DeploymentInfo, ReplicaStatus
from ember.environments.materialize import EnvironmentCache, default_cache_root
from ember.hosting.router import Replica, RouteDeployment
from ember.jobs import snapshot as snapshots
from ember.serving.interpreter import check_interpreter

__all__ = ["DeploymentSupervisor", "Prepared", "prepare_generation"]

logger = logging.getLogger(__name__)

READY_TIMEOUT_S = float(os.environ.get("EMBER_REPLICA_READY_TIMEOUT", "300"))
DRAIN_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 10.0
HEALTH_INTERVAL_S = 5.0
MAX_RESTART_DELAY_S = 30.0
_COMPLETE = ".ember-complete"


@dataclass
class Prepared:
    """Everything a replica of one generation is started with."""

    generation: int
    python: str
    model_dir: Path
    source_dir: Path | None
    entry_script: str | None
    mlflow_model: str | None
    env_vars: dict[str, str]
    max_body_bytes: int


def _atomic_dir(target: Path, fill: Callable[[Path], None]) -> Path:
    """Fill a temporary sibling of ``target`` and rename it into place, marked complete beside it.

    The marker is a sibling file, not a file inside, so a model folder holds exactly the model's files
    (``Model.get_model_path`` answers the file itself for a one-file model).
    """
    marker = target.parent / f"{target.name}{_COMPLETE}"
    if marker.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        fill(tmp)
        shutil.rmtree(target, ignore_errors=True)  # a half-finished earlier attempt
        try:
            tmp.rename(target)
        except OSError:  # another host filled it meanwhile
            if not marker.exists():
                raise
        marker.touch()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def _download_model(backend: Backend, model_id: str, target: Path) -> None:
    """Write a model version's files into ``target`` (a new folder)."""
    target.mkdir(parents=True)
    for entry in backend.registry.get_model_files(model_id):
        path = target / entry.path
        path.parent.mkdir(parents=True, exist_ok=True)
        _, chunks = backend.registry.open_model_file(model_id, entry.path)
        with open(path, "wb") as out:
            for chunk in chunks:
                out.write(chunk)
        os.chmod(path, entry.mode)


def prepare_generation(
    backend: Backend, state_dir: Path, endpoint: str, spec: DeploymentInfo, log: Callable[[str], None]
) -> Prepared:
    """Build (or reuse) the environment and lay out the models and code of one generation (blocking)."""
    python = sys.executable
    env_vars: dict[str, str] = {}
    if spec.environment is not None:
        found = backend.environments.get(spec.environment.name, spec.environment.version)
        log(f"environment {found.name} version {found.version}")
        cache = EnvironmentCache(default_cache_root())
        began = time.monotonic()
        python = str(cache.python_for(found.spec, log=lambda line: log(f"  build: {line}")))
        log(f"environment ready in {time.monotonic() - began:.1f} s: {python}")
        env_vars = dict(found.spec.env_vars)
    elif spec.interpreter is not None:
        # Environment.current(): checked at deploy time, and again here, where the replicas start (a
        # host on another machine sharing the database must refuse it, not start something else).
        python = check_interpreter(spec.interpreter, where="this serving host's replicas")
        log(f"environment: Environment.current() of the deploying process, {python}")
    generation_dir = state_dir / "deployments" / endpoint / spec.name / f"g{spec.generation}"
    model_dir = generation_dir / "models"
    shutil.rmtree(generation_dir, ignore_errors=True)
    model_dir.mkdir(parents=True)
    for model in spec.models:
        cached = _atomic_dir(state_dir / "models" / model.id, partial(_download_model, backend, model.id))
        link = model_dir / model.name / str(model.version)
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(cached, target_is_directory=True)
        log(f"model {model.name}:{model.version} ready")
    source_dir = None
    if spec.snapshot_digest is not None:
        digest = spec.snapshot_digest
        blobs = backend.blobs  # type: ignore[attr-defined]  # the host always opens a LocalBackend
        source_dir = _atomic_dir(
            state_dir / "sources" / digest, lambda tmp: snapshots.restore(blobs, digest, tmp)
        )
    mlflow_model = None
    if spec.entry_script is None and spec.models:
        mlflow_model = f"{spec.models[0].name}/{spec.models[0].version}"
    return Prepared(
        generation=spec.generation,
        python=python,
        model_dir=model_dir,
        source_dir=source_dir,
        entry_script=spec.entry_script,
        mlflow_model=mlflow_model,
        env_vars=env_vars,
        max_body_bytes=spec.max_body_bytes,
    )


def socket_dir() -> Path:
    """A short folder for replica sockets (a Unix socket path must stay under 108 bytes)."""
    path = Path(tempfile.gettempdir()) / f"ember-replicas-{os.getuid()}"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


@dataclass
class _ReplicaProcess:
    route: Replica
    generation: int
    slot: int
    log_path: Path
    proc: asyncio.subprocess.Process | None = None
    state: str = "starting"  # starting | ready | draining | failed | stopped
    started: float = field(default_factory=time.time)
    restarts: int = 0
    message: str = ""
    stopping: bool = False
    ready_since: float | None = None


class DeploymentSupervisor:
    """Runs one deployment's replicas to match its spec; the host calls ``apply`` with every new spec."""

    def __init__(
        self,
        *,
        backend: Backend,
        state_dir: Path,
        endpoint: str,
        route: RouteDeployment,
        spec: DeploymentInfo,
        on_change: Callable[[], None],
    ) -> None:
        self.backend = backend
        self.state_dir = state_dir
        self.endpoint = endpoint
        self.route = route
        self.spec = spec
        self.on_change = on_change
        self.log_dir = state_dir / "logs" / endpoint / spec.name
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.replicas: list[_ReplicaProcess] = []
        self.prepared: Prepared | None = None  # of spec.generation, once ready
        self.failure: str = ""
        self.restarts = 0
        self.desired = spec.autoscale.min_replicas if spec.autoscale else spec.replicas
        self._samples: deque[int] = deque(maxlen=20)
        self._low_since: float | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._preparing: int | None = None
        self._closed = False

    # ---- events --------------------------------------------------------------------------------------

    def event(self, message: str) -> None:
        """A line in the deployment's events log (``[host]`` lines of ``get_logs``)."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.localtime())
        try:
            with open(self.log_dir / "events.log", "a", encoding="utf-8") as out:
                out.write(f"{stamp} {message}\n")
        except OSError:
            logger.warning("cannot write the events log of %s/%s", self.endpoint, self.spec.name)
        logger.info("%s/%s: %s", self.endpoint, self.spec.name, message)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- the spec ------------------------------------------------------------------------------------

    def apply(self, spec: DeploymentInfo) -> None:
        """Move towards ``spec``: a new generation is prepared and rolled out; replica counts adjust."""
        previous = self.spec
        self.spec = spec
        self.route.max_body_bytes = spec.max_body_bytes
        self.route.collect = spec.collect_data
        if spec.autoscale is None:
            self.desired = spec.replicas
        else:
            self.desired = min(max(self.desired, spec.autoscale.min_replicas), spec.autoscale.max_replicas)
        if self.prepared is None or self.prepared.generation != spec.generation:
            if self._preparing != spec.generation:
                if previous.generation != spec.generation or self.prepared is None:
                    self.failure = ""
                self._preparing = spec.generation
                self._spawn(self._prepare(spec))
        else:
            self._scale()
        self.on_change()

    async def _prepare(self, spec: DeploymentInfo) -> None:
        verb = "creating" if spec.generation == 1 else f"updating to generation {spec.generation}"
        self.event(f"{verb}: preparing the environment, models and code")
        loop = asyncio.get_running_loop()
        try:
            prepared = await loop.run_in_executor(
                None, prepare_generation, self.backend, self.state_dir, self.endpoint, spec, self.event
            )
        except Exception as exc:
            if self.spec.generation == spec.generation:
                self.failure = f"preparing generation {spec.generation} failed: {exc}"
                self._preparing = None
                self.event(self.failure)
                self.on_change()
            return
        if self._closed or self.spec.generation != spec.generation:
            return  # a newer spec arrived meanwhile; its own preparation follows
        self._preparing = None
        self.prepared = prepared
        self._scale()
        self.on_change()

    # ---- replicas ------------------------------------------------------------------------------------

    def current(self) -> list[_ReplicaProcess]:
        """Replicas of the current generation that run or are starting (not draining or stopped)."""
        generation = self.prepared.generation if self.prepared else -1
        return [
            r
            for r in self.replicas
            if r.generation == generation and r.state in ("starting", "ready", "failed")
        ]

    def _scale(self) -> None:
        if self._closed or self.prepared is None:
            return
        current = self.current()
        missing = self.desired - len(current)
        slots = {r.slot for r in current}
        for _ in range(max(0, missing)):
            slot = next(i for i in range(len(slots) + missing + 1) if i not in slots)
            slots.add(slot)
            self._start(self.prepared, slot)
        if missing < 0:
            # Newest first: the replicas that have served longest keep their warm caches.
            for replica in sorted(current, key=lambda r: r.started, reverse=True)[:-missing]:
                self._spawn(self._drain(replica, reason="scaling in"))
        self._retire_old()

    def _start(
        self, prepared: Prepared, slot: int, *, restarts: int = 0, replica_id: str | None = None
    ) -> None:
        replica_id = replica_id or f"{self.spec.name}-{prepared.generation}-{slot}-{secrets.token_hex(2)}"
        sock = socket_dir() / f"{uuid.uuid4().hex[:12]}.sock"
        process = _ReplicaProcess(
            route=Replica(replica_id, str(sock)),
            generation=prepared.generation,
            slot=slot,
            log_path=self.log_dir / f"{replica_id}.log",
            restarts=restarts,
        )
        self.replicas.append(process)
        self._spawn(self._run(process, prepared))

    async def _run(self, replica: _ReplicaProcess, prepared: Prepared) -> None:
        args = [prepared.python, "-m", "ember.serving.replica", "--uds", replica.route.socket_path]
        args += ["--model-dir", str(prepared.model_dir), "--max-body-bytes", str(prepared.max_body_bytes)]
        if prepared.entry_script is not None and prepared.source_dir is not None:
            args += ["--source-dir", str(prepared.source_dir), "--entry-script", prepared.entry_script]
        elif prepared.mlflow_model is not None:
            args += ["--mlflow-model", prepared.mlflow_model]
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("EMBER_WORKSPACE", "EMBER_ARTIFACT_URI"))
        }
        env.update(prepared.env_vars)
        env["EMBER_DEPLOYMENT"] = f"{self.endpoint}/{self.spec.name}"
        env["EMBER_REPLICA_ID"] = replica.route.id
        env["PYTHONUNBUFFERED"] = "1"
        with contextlib.suppress(FileNotFoundError):
            os.unlink(replica.route.socket_path)
        replica.started = time.time()
        replica.state = "starting"
        began = time.monotonic()
        with open(replica.log_path, "ab") as out:
            try:
                replica.proc = await asyncio.create_subprocess_exec(
                    *args,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=out,
                    stderr=asyncio.subprocess.STDOUT,
                    env=env,
                    cwd=str(prepared.source_dir or prepared.model_dir),
                    start_new_session=True,
                )
            except OSError as exc:
                replica.state = "failed"
                replica.message = f"cannot start: {exc}"
                self.event(f"replica {replica.route.id} could not start: {exc}")
                self.on_change()
                return
        self.event(f"replica {replica.route.id} started (pid {replica.proc.pid})")
        self.on_change()
        waiter = asyncio.get_running_loop().create_task(replica.proc.wait())
        try:
            ready = await self._await_ready(replica, waiter)
            if ready:
                replica.state = "ready"
                replica.ready_since = time.monotonic()
                replica.route.ready = True
                self.failure = ""
                self.route.replicas.append(replica.route)
                self.event(f"replica {replica.route.id} ready in {time.monotonic() - began:.2f} s")
                self._retire_old()
                self.on_change()
                await self._watch(replica, waiter)
            code = await waiter
        finally:
            if not waiter.done():
                waiter.cancel()
        self._detach(replica)
        if replica.stopping or self._closed:
            replica.state = "stopped"
            self.on_change()
            self._forget(replica)
            return
        replica.state = "failed"
        replica.message = replica.message or f"exited with code {code}"
        if replica.generation != (self.prepared.generation if self.prepared else -1):
            self._forget(replica)
            self.on_change()
            return
        served = replica.ready_since is not None and time.monotonic() - replica.ready_since > 60
        delay = 0.0 if served else min(MAX_RESTART_DELAY_S, 0.5 * 2 ** min(replica.restarts, 6))
        self.restarts += 1
        self.route.counters.restarts += 1
        never_ready = replica.ready_since is None
        if never_ready and not any(r.state == "ready" for r in self.current()):
            tail = _tail(replica.log_path, 8)
            self.failure = f"replica {replica.route.id} {replica.message} before it was ready: {tail}"
        self.event(f"replica {replica.route.id} {replica.message}; restarting in {delay:.1f} s")
        self.on_change()
        await asyncio.sleep(delay)
        self._forget(replica)
        if self._closed or self.prepared is None or replica.generation != self.prepared.generation:
            return
        if len(self.current()) >= self.desired:
            return
        self._start(
            self.prepared,
            replica.slot,
            restarts=0 if served else replica.restarts + 1,
            replica_id=replica.route.id,
        )

    async def _await_ready(self, replica: _ReplicaProcess, waiter: asyncio.Future[int]) -> bool:
        deadline = time.monotonic() + READY_TIMEOUT_S
        probe = b"GET /readyz HTTP/1.1\r\nHost: replica\r\n\r\n"
        delay = 0.02
        while time.monotonic() < deadline:
            if waiter.done() or replica.stopping:
                return False
            try:
                status, _, body = await replica.route.request(probe, 5.0)
            except (OSError, TimeoutError, Exception):
                status, body = 0, b""
            if status == 200:
                return True
            if status == 503 and b'"failed"' in body:
                replica.message = "init() failed"
                self.failure = f"init() of replica {replica.route.id} failed: {_tail(replica.log_path, 8)}"
                self.event(self.failure)
                await self._terminate(replica)
                return False
            await asyncio.sleep(delay)
            delay = min(0.2, delay * 1.5)
        replica.message = f"not ready after {READY_TIMEOUT_S:.0f} s"
        await self._terminate(replica)
        return False

    async def _watch(self, replica: _ReplicaProcess, waiter: asyncio.Future[int]) -> None:
        """Probe liveness while the process runs; a replica that stops answering is killed (and restarted)."""
        failures = 0
        probe = b"GET /healthz HTTP/1.1\r\nHost: replica\r\n\r\n"
        while not waiter.done() and not replica.stopping:
            done, _ = await asyncio.wait({waiter}, timeout=HEALTH_INTERVAL_S)
            if done or replica.stopping:
                return
            try:
                status, _, _ = await replica.route.request(probe, 10.0)
            except Exception:
                status = 0
            failures = 0 if status == 200 else failures + 1
            if failures >= 3:
                replica.message = "stopped answering its health probe"
                self._detach(replica)
                await self._terminate(replica)
                return

    def _detach(self, replica: _ReplicaProcess) -> None:
        replica.route.ready = False
        if replica.route in self.route.replicas:
            self.route.replicas.remove(replica.route)
        replica.route.close_idle()

    def _forget(self, replica: _ReplicaProcess) -> None:
        if replica in self.replicas:
            self.replicas.remove(replica)
        with contextlib.suppress(OSError):
            os.unlink(replica.route.socket_path)

    def _retire_old(self) -> None:
        """Once the current generation has its replicas ready, drain every older one."""
        if self.prepared is None:
            return
        ready = sum(1 for r in self.current() if r.state == "ready")
        if ready < min(self.desired, len(self.current())) or ready == 0:
            return
        for replica in list(self.replicas):
            if replica.generation != self.prepared.generation and replica.state in ("starting", "ready"):
                self._spawn(self._drain(replica, reason=f"replaced by generation {self.prepared.generation}"))

    async def _drain(self, replica: _ReplicaProcess, *, reason: str) -> None:
        replica.stopping = True
        replica.state = "draining"
        self._detach(replica)
        self.on_change()
        deadline = time.monotonic() + DRAIN_TIMEOUT_S
        while replica.route.in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        self.event(f"replica {replica.route.id} stopping ({reason})")
        await self._terminate(replica)

    async def _terminate(self, replica: _ReplicaProcess) -> None:
        proc = replica.proc
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), STOP_TIMEOUT_S)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()

    async def close(self) -> None:
        """Stop every replica (the deployment was deleted, or the host stops)."""
        self._closed = True
        for replica in list(self.replicas):
            replica.stopping = True
            self._detach(replica)
        await asyncio.gather(*(self._terminate(r) for r in list(self.replicas)), return_exceptions=True)
        for task in list(self._tasks):
            task.cancel()
        for replica in list(self.replicas):
            self._forget(replica)

    # ---- autoscaling ---------------------------------------------------------------------------------

    def autoscale_tick(self, now: float) -> None:
        """Sample the requests in flight and resize (called a few times a second)."""
        autoscale = self.spec.autoscale
        if autoscale is None or self.prepared is None:
            return
        self._samples.append(self.route.counters.in_flight)
        average = sum(self._samples) / len(self._samples)
        wanted = math.ceil(average / autoscale.target_concurrency) if average > 0 else autoscale.min_replicas
        wanted = min(max(wanted, autoscale.min_replicas), autoscale.max_replicas)
        if wanted > self.desired:
            self.event(f"scaling out to {wanted} replicas ({average:.1f} requests in flight on average)")
            self.desired = wanted
            self._low_since = None
            self._scale()
            self.on_change()
        elif wanted < self.desired:
            if self._low_since is None:
                self._low_since = now
            elif now - self._low_since >= autoscale.scale_down_delay_seconds:
                self.event(f"scaling in to {wanted} replicas ({average:.1f} requests in flight on average)")
                self.desired = wanted
                self._low_since = None
                self._scale()
                self.on_change()
        else:
            self._low_since = None

    # ---- status --------------------------------------------------------------------------------------

    def status(self) -> tuple[str, str, int, list[ReplicaStatus]]:
        """(status, message, ready replicas of the current generation, replica states)."""
        generation = self.spec.generation
        current = [r for r in self.replicas if r.generation == generation]
        ready = sum(1 for r in current if r.state == "ready")
        older_ready = sum(1 for r in self.replicas if r.generation != generation and r.state == "ready")
        if ready >= self.desired and self.desired > 0:
            status, message = "Healthy", f"{ready} of {self.desired} replicas ready"
        elif self.failure:
            status, message = "Failed", self.failure
            if older_ready:
                message += f"; generation {generation - 1} still serves"
        elif ready > 0:
            status, message = "Degraded", f"{ready} of {self.desired} replicas ready"
        elif older_ready or generation > 1:
            status, message = "Updating", f"starting generation {generation}"
        else:
            status, message = "Creating", "preparing" if self.prepared is None else "starting replicas"
        self.route.status = status
        self.route.counters.ready_replicas = len(self.route.replicas)
        states = [
            ReplicaStatus(
                id=r.route.id,
                pid=r.proc.pid if r.proc is not None else None,
                state=r.state,
                generation=r.generation,
                started_time=r.started,
                restarts=r.restarts,
                message=r.message,
            )
            for r in self.replicas
        ]
        return status, message[:2000], ready, states


def _tail(path: Path, lines: int) -> str:
    try:
        text = path.read_text(errors="replace").splitlines()[-lines:]
    except OSError:
        return "(no log)"
    return " | ".join(line.strip() for line in text if line.strip())[-1500:]
