"""The serving host: one process per workspace and machine that routes scoring requests and runs replicas.

It is started on demand (``LocalEndpoints.ensure_host``, by a deploy or by ``ember server``) as a detached
``python -m ember.hosting`` and:

- takes the workspace's serving lease (one host at a time; a silent host loses it after a few seconds), and
  binds the port the workspace allocated for endpoints, so scoring URLs stay the same across restarts;
- watches the desired state (a revision counter polled a few times a second) and moves towards it: routes
  for every endpoint, a ``DeploymentSupervisor`` for every deployment;
- reports each deployment's status and replicas, and heartbeats with the revision it has applied (so a key
  regeneration returns only once the old key is refused);
- exits when the workspace has had no endpoint for a while, when it loses the lease, or on SIGTERM,
  stopping its replicas first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
import uuid
from pathlib import Path
from typing import Any, cast

from ember.backend import Backend
from ember.entities.serving import RoutedEndpoint, ServingState
from ember.hosting.collector import RequestCollector
from ember.hosting.router import RouteDeployment, RouteEndpoint, Router
from ember.hosting.supervisor import DeploymentSupervisor
from ember.hosting.telemetry import Telemetry

__all__ = ["ServingHost"]

logger = logging.getLogger(__name__)

POLL_INTERVAL_S = 0.2
HEARTBEAT_INTERVAL_S = 1.0
REPORT_INTERVAL_S = 2.0
AUTOSCALE_INTERVAL_S = 0.25


class ServingHost:
    """The host's state and loops; ``run()`` serves until told to stop."""

    def __init__(self, backend: Backend, *, idle_exit_seconds: float | None = None) -> None:
        self.backend = backend
        # A LocalEndpoints: its host-side methods (claim_host, desired_state, ...) are not in the contract.
        self.endpoints: Any = cast(Any, backend.endpoints)
        self.state_dir = Path(self.endpoints.state_dir)
        self.host_id = uuid.uuid4().hex
        self.telemetry = Telemetry()
        self.collector = RequestCollector(
            backend, flush_seconds=float(os.environ.get("EMBER_SERVING_COLLECT_SECONDS", "10"))
        )
        self.router = Router(self.telemetry, collect=self.collector.recorder())
        self.supervisors: dict[tuple[str, str], DeploymentSupervisor] = {}
        self.applied_revision = -1
        self.idle_exit_seconds = (
            idle_exit_seconds
            if idle_exit_seconds is not None
            else float(os.environ.get("EMBER_SERVING_IDLE_EXIT", "30"))
        )
        self._stop = asyncio.Event()
        self._dirty = True
        self._last_report: dict[tuple[str, str], tuple[Any, ...]] = {}
        self._closing: set[asyncio.Task[None]] = set()

    # ---- running -------------------------------------------------------------------------------------

    def run(self) -> int:
        """Serve until stopped; the exit code of the process."""
        try:
            import uvloop

            runner: Any = uvloop.run
        except ImportError:
            runner = asyncio.run
        return int(runner(self._main()))

    async def _main(self) -> int:
        loop = asyncio.get_running_loop()
        port = await loop.run_in_executor(
            None,
            lambda: self.endpoints.claim_host(
                host_id=self.host_id, pid=os.getpid(), hostname=socket.gethostname()
            ),
        )
        if port is None:
            logger.info(
                "another serving host holds this workspace's lease (or there are no endpoints); exiting"
            )
            return 0
        bind = os.environ.get("EMBER_SERVING_BIND", "127.0.0.1")
        try:
            sock = _listen(bind, port)
        except OSError as exc:
            logger.error("cannot listen on %s:%d: %s", bind, port, exc)
            await loop.run_in_executor(None, self.endpoints.release_host, self.host_id)
            return 1
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self._stop.set)
        server = await loop.create_server(self.router.protocol, sock=sock, backlog=2048)
        logger.info("serving host %s listening on %s:%d (pid %d)", self.host_id[:8], bind, port, os.getpid())
        tasks = [
            loop.create_task(self._watch_state()),
            loop.create_task(self._heartbeat()),
            loop.create_task(self._report_loop()),
            loop.create_task(self._autoscale_loop()),
            loop.create_task(self.collector.run()),
        ]
        try:
            await self._stop.wait()
        finally:
            logger.info("serving host stopping")
            server.close()
            for supervisor in list(self.supervisors.values()):
                await supervisor.close()
            await asyncio.gather(*self._closing, return_exceptions=True)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            for conn in list(self.router.connections):
                if conn.transport is not None:
                    conn.transport.close()
            with contextlib.suppress(Exception):
                await loop.run_in_executor(None, self.endpoints.release_host, self.host_id)
        return 0

    # ---- desired state -------------------------------------------------------------------------------

    async def _watch_state(self) -> None:
        loop = asyncio.get_running_loop()
        empty_since: float | None = None
        while not self._stop.is_set():
            try:
                revision = await loop.run_in_executor(None, self.endpoints.serving_revision)
                if revision != self.applied_revision:
                    state: ServingState = await loop.run_in_executor(None, self.endpoints.desired_state)
                    self._apply(state)
                    self.applied_revision = state.revision
                    # Tell the workspace at once, so that a key regeneration can return.
                    await loop.run_in_executor(None, self._beat)
                if self.router.endpoints:
                    empty_since = None
                elif empty_since is None:
                    empty_since = time.monotonic()
                elif time.monotonic() - empty_since > self.idle_exit_seconds:
                    logger.info("no endpoints for %.0f s; exiting", self.idle_exit_seconds)
                    self._stop.set()
            except Exception:
                logger.exception("reading the desired state failed; retrying")
                if not _workspace_exists(self.backend):
                    logger.error("the workspace is gone; stopping")
                    self._stop.set()
            await asyncio.sleep(POLL_INTERVAL_S)

    def _apply(self, state: ServingState) -> None:
        endpoints: dict[str, RouteEndpoint] = {}
        wanted: set[tuple[str, str]] = set()
        for routed in state.endpoints:
            endpoints[routed.name] = self._route_endpoint(routed, wanted)
        for key in [k for k in self.supervisors if k not in wanted]:
            supervisor = self.supervisors.pop(key)
            supervisor.event("deleted: stopping its replicas")
            self._close_later(supervisor)
            self._last_report.pop(key, None)
        self.router.endpoints = endpoints
        for name in [n for n in self.telemetry.endpoints if n not in endpoints]:
            self.telemetry.forget(name)
        for name, endpoint in endpoints.items():
            self.telemetry.forget(name, set(endpoint.deployments))
        self._dirty = True

    def _route_endpoint(self, routed: RoutedEndpoint, wanted: set[tuple[str, str]]) -> RouteEndpoint:
        counters = self.telemetry.endpoint(routed.name)
        deployments: dict[str, RouteDeployment] = {}
        for spec in routed.deployments:
            key = (routed.name, spec.name)
            wanted.add(key)
            supervisor = self.supervisors.get(key)
            if supervisor is not None and supervisor.spec.id != spec.id:  # deleted and made again
                self._close_later(supervisor)
                supervisor = None
            if supervisor is None:
                route = RouteDeployment(
                    name=spec.name,
                    counters=counters.deployment(spec.name),
                    max_body_bytes=spec.max_body_bytes,
                    collect=spec.collect_data,
                )
                supervisor = DeploymentSupervisor(
                    backend=self.backend,
                    state_dir=self.state_dir,
                    endpoint=routed.name,
                    route=route,
                    spec=spec,
                    on_change=self._changed,
                )
                self.supervisors[key] = supervisor
                supervisor.apply(spec)
            elif spec != supervisor.spec:
                supervisor.apply(spec)
            deployments[spec.name] = supervisor.route
        traffic: list[tuple[float, RouteDeployment]] = []
        total = 0.0
        for name, share in sorted(routed.traffic.items()):
            if share > 0 and name in deployments:
                total += share
                traffic.append((total, deployments[name]))
        mirror = None
        for name, share in routed.mirror_traffic.items():
            if share > 0 and name in deployments:
                mirror = (float(share), deployments[name])
        return RouteEndpoint(
            id=routed.id,
            name=routed.name,
            auth_mode=routed.auth_mode,
            key_hashes=frozenset(routed.key_hashes),
            token_secret=routed.token_secret,
            deployments=deployments,
            counters=counters,
            traffic=traffic,
            mirror=mirror,
        )

    def _close_later(self, supervisor: DeploymentSupervisor) -> None:
        """Stop a removed deployment's replicas in the background (keeping the task until it is done)."""
        task = asyncio.get_running_loop().create_task(supervisor.close())
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)

    def _changed(self) -> None:
        self._dirty = True

    # ---- reporting -----------------------------------------------------------------------------------

    def _beat(self) -> None:
        if not self.endpoints.host_heartbeat(self.host_id, applied_revision=self.applied_revision):
            logger.error("this host lost the workspace's serving lease to another host; stopping")
            self._stop.set()

    async def _heartbeat(self) -> None:
        loop = asyncio.get_running_loop()
        while not self._stop.is_set():
            try:
                await loop.run_in_executor(None, self._beat)
            except Exception:
                logger.exception("heartbeat failed")
            await asyncio.sleep(HEARTBEAT_INTERVAL_S)

    async def _report_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last = 0.0
        while not self._stop.is_set():
            await asyncio.sleep(0.05)
            if not self._dirty and time.monotonic() - last < REPORT_INTERVAL_S:
                continue
            self._dirty = False
            last = time.monotonic()
            reports = []
            for (endpoint, name), supervisor in list(self.supervisors.items()):
                status, message, ready, states = supervisor.status()
                report = (
                    supervisor.spec.generation,
                    status,
                    message,
                    supervisor.desired,
                    ready,
                    supervisor.restarts,
                )
                signature = (*report, tuple((s.id, s.state, s.pid, s.restarts) for s in states))
                if self._last_report.get((endpoint, name)) == signature:
                    continue
                self._last_report[(endpoint, name)] = signature
                reports.append((endpoint, name, report, states))
            if reports:
                try:
                    await loop.run_in_executor(None, self._send_reports, reports)
                except Exception:
                    logger.exception("reporting deployment status failed")
                    self._last_report.clear()

    def _send_reports(self, reports: list[tuple[str, str, tuple[Any, ...], list[Any]]]) -> None:
        for endpoint, name, (generation, status, message, desired, ready, restarts), states in reports:
            self.endpoints.report_deployment(
                endpoint,
                name,
                generation=generation,
                status=status,
                message=message,
                desired=desired,
                ready=ready,
                restarts=restarts,
                replicas=states,
            )

    async def _autoscale_loop(self) -> None:
        while not self._stop.is_set():
            await asyncio.sleep(AUTOSCALE_INTERVAL_S)
            now = time.monotonic()
            for supervisor in list(self.supervisors.values()):
                try:
                    supervisor.autoscale_tick(now)
                except Exception:
                    logger.exception("autoscaling %s failed", supervisor.spec.name)


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.setblocking(False)
    return sock


def _workspace_exists(backend: Backend) -> bool:
    folder = getattr(backend, "folder", None)
    return folder is None or Path(folder).exists()
