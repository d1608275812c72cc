"""Running ``ember server`` for tests: a real ``python -m ember.server`` subprocess, or an app in a thread."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import uvicorn
from fastapi import FastAPI

from support.ports import free_port

__all__ = ["ServerProcess", "serve_in_thread", "start_server", "stop_server"]

START_DEADLINE_S = 30.0
SRC = Path(__file__).resolve().parents[2] / "src"


@dataclass
class ServerProcess:
    """A running ``python -m ember.server`` and where its workspace and log are."""

    url: str
    port: int
    process: subprocess.Popen[bytes]
    workspace: Path
    log: Path

    def log_text(self) -> str:
        """What the server wrote to stderr so far."""
        return self.log.read_text(errors="replace")


def _wait_healthy(url: str, process: subprocess.Popen[bytes], deadline: float) -> bool:
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    return False


def start_server(workspace: Path, log: Path, *args: str) -> ServerProcess:
    """Start the server on a free loopback port and wait until ``/healthz`` answers.

    Retries on a new port when the one picked was taken in the meantime.
    """
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")])),
    }
    for _ in range(3):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        command = [sys.executable, "-m", "ember.server", "--workspace", str(workspace), "--port", str(port)]
        with log.open("ab") as sink:
            process = subprocess.Popen([*command, *args], stdout=sink, stderr=sink, env=env)
        if _wait_healthy(url, process, time.monotonic() + START_DEADLINE_S):
            return ServerProcess(url=url, port=port, process=process, workspace=workspace, log=log)
        stop_server(process)
        if "address already in use" not in log.read_text(errors="replace").lower():
            break
    raise RuntimeError(f"ember server did not start; its log:\n{log.read_text(errors='replace')[-4000:]}")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    """Stop the server process, killing it if it does not exit in time."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def serve_in_thread(app: FastAPI) -> Iterator[str]:
    """Run an app with uvicorn in a background thread of this process; yields its URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_DEADLINE_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the in-process server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
