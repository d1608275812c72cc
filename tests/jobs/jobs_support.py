"""Helpers of the end-to-end job tests: scripts on disk, polling with a deadline, processes, a server."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import httpx

import ember
from ember.entities import TERMINAL_STATUSES, RunStatus
from support.ports import free_port

T = TypeVar("T")

# Runners heartbeat every 0.2 s; a silent one is NotResponding after 2 s and Failed after 4 s; the
# server sweeps every 0.5 s. The server, the runners and the scripts inherit these from os.environ.
FAST_TIMEOUTS = {
    "EMBER_HEARTBEAT_INTERVAL": "0.2",
    "EMBER_HEARTBEAT_TIMEOUT": "2",
    "EMBER_LOST_TIMEOUT": "4",
    "EMBER_RUNNER_FLUSH_INTERVAL": "0.1",
    "EMBER_SWEEP_INTERVAL": "0.5",
}
RUN_TIMEOUT_S = 60.0  # no story takes more than a few seconds; this only bounds a hang
POLL_S = 0.05
SERVER_START_DEADLINE_S = 30.0

# The lifecycle of a submitted run, in order; what a watcher sees is a subsequence of it.
LIFECYCLE = [
    RunStatus.NOT_STARTED,
    RunStatus.QUEUED,
    RunStatus.STARTING,
    RunStatus.PREPARING,
    RunStatus.RUNNING,
    RunStatus.FINALIZING,
]


def poll(condition: Callable[[], T], *, what: str, timeout: float = RUN_TIMEOUT_S) -> T:
    """Call ``condition`` until it returns something truthy, and return that; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up after {timeout} s waiting for {what} (last answer: {value!r})")
        time.sleep(POLL_S)


def write_source(folder: Path, files: dict[str, str]) -> Path:
    """A source directory holding ``files`` (path → text, dedented); returns the folder."""
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return folder


# Every script that must be found again (to kill it, or to check it is gone) writes this file, atomically:
# "<pid> <process group> <parent pid (the runner)> [<pid of a child it started>]".
WRITE_PIDS = """
def write_pids(path, *extra):
    import os
    with open(path + ".tmp", "w") as out:
        out.write(" ".join(str(n) for n in (os.getpid(), os.getpgid(0), os.getppid(), *extra)))
    os.replace(path + ".tmp", path)
"""


@dataclass
class Pids:
    """What a script wrote about its processes."""

    pid: int
    pgid: int
    parent: int
    extra: list[int] = field(default_factory=list)


def read_pids(path: Path, *, timeout: float = RUN_TIMEOUT_S) -> Pids:
    """Wait for a script's pid file and parse it."""
    poll(path.exists, what=f"the script to write {path}", timeout=timeout)
    numbers = [int(n) for n in path.read_text().split()]
    return Pids(numbers[0], numbers[1], numbers[2], numbers[3:])


def is_running(pid: int) -> bool:
    """Whether a process exists and is not a zombie (an exited process nobody reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel (a zombie then counts as running)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def running_in_group(pgid: int) -> list[int]:
    """The processes of a process group that still run (zombies excluded)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            found.append(int(entry.name))
    return found


def wait_until_group_gone(pgid: int, *, timeout: float) -> None:
    """Wait until no process of the group runs; the failure names the survivors."""
    left: list[int] = []

    def gone() -> bool:
        left[:] = running_in_group(pgid)
        return not left

    try:
        poll(gone, what=f"the processes of group {pgid} to end", timeout=timeout)
    except AssertionError:
        survivors = {pid: " ".join(command_line(pid))[:120] for pid in left}
        raise AssertionError(
            f"after {timeout} s these processes of group {pgid} still run: {survivors}"
        ) from None


def command_line(pid: int) -> list[str]:
    """A process's arguments (empty when it is gone)."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def kill_group(pgid: int) -> None:
    """SIGKILL a whole process group, if anything is left of it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)


def watch_statuses(
    run: ember.Run, *, timeout: float = RUN_TIMEOUT_S, on_poll: Callable[[], object] = int
) -> list[str]:
    """Every status a user polling the run sees until it ends, each once, in order of appearance."""
    seen: list[str] = []

    def ended() -> bool:
        on_poll()
        status = run.get_status()
        if not seen or seen[-1] != status:
            seen.append(status)
        return RunStatus(status) in TERMINAL_STATUSES

    poll(ended, what=f"run {run.id} to end (statuses so far: {seen})", timeout=timeout)
    return seen


def in_lifecycle_order(statuses: list[str]) -> bool:
    """Whether the non-terminal statuses seen only ever move forward in the lifecycle."""
    ranks = [LIFECYCLE.index(RunStatus(s)) for s in statuses if RunStatus(s) in LIFECYCLE]
    return ranks == sorted(ranks) and len(set(ranks)) == len(ranks)


def std_log(run: ember.Run) -> str:
    """What the script printed so far, as the workspace stores it."""
    jobs = run.experiment.workspace.backend.jobs
    return jobs.read_log(run.id, "std_log.txt", max_chars=10_000_000).data


def read_file(run: ember.Run, name: str) -> str:
    """One of the run's stored files, as text."""
    _, chunks = run.experiment.workspace.backend.tracking.open_artifact(run.id, name)
    return b"".join(chunks).decode("utf-8")


def blob_count(workspace_folder: Path) -> int:
    """How many content-addressed blobs the workspace's artifact store holds."""
    base = workspace_folder / "artifacts" / "blobs"
    return sum(1 for p in base.rglob("*") if p.is_file()) if base.is_dir() else 0


# -- a real server -------------------------------------------------------------------------------------
@dataclass
class Server:
    """A running ``python -m ember.server --workspace`` subprocess."""

    url: str
    process: subprocess.Popen[bytes]
    log: Path


def start_server(workspace: Path, log: Path) -> Server:
    """Serve an existing folder workspace on a free loopback port; return once ``/healthz`` answers."""
    for _ in range(3):  # the free port may be taken before the server binds it
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "ember.server", "--workspace", str(workspace), "--port", str(port)]
        with log.open("ab") as sink:
            process = subprocess.Popen(
                [*command, "--log-level", "warning"], stdout=sink, stderr=sink, env=dict(os.environ)
            )
        deadline = time.monotonic() + SERVER_START_DEADLINE_S
        while time.monotonic() < deadline and process.poll() is None:
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    return Server(url, process, log)
            except httpx.TransportError:
                pass
            time.sleep(0.02)
        stop_server(process)
        if "address already in use" not in log.read_text(errors="replace").lower():
            break
    raise RuntimeError(f"ember server did not start; its log:\n{log.read_text(errors='replace')[-4000:]}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Terminate the server, killing it if it does not exit in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Place:
    """A workspace under test, how it is reached, and the processes a test asked to clean up."""

    mode: str  # "embedded" | "server"
    ws: ember.Workspace
    folder: Path  # the workspace folder: ember.db, artifacts/blobs, .runner-logs
    server: Server | None = None
    pid_files: list[Path] = field(default_factory=list)

    def sweep(self) -> None:
        """What notices dead runners: the caller, embedded; the server's own sweeper, remote."""
        if self.mode == "embedded":
            self.ws.backend.jobs.sweep()

    def pid_file(self, name: str) -> Path:
        """A path where a script writes its pids; its process group is killed after the test."""
        path = self.folder.parent / f"{name}.pids"
        self.pid_files.append(path)
        return path
