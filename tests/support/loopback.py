"""A test server in a child process on a free loopback port: started with retries, stopped for sure.

Subclasses say how to launch the server (``_command``) and how to tell it answers (``_answers``);
this class owns the process, its log (a file, not a pipe: a chatty server must never stall on an
unread pipe), the retry when another process takes the free port first, and the clean stop.
"""

from __future__ import annotations

import atexit
import subprocess
import tempfile
import time
from typing import IO, Self

from support.ports import free_port

__all__ = ["LoopbackServer", "LoopbackServerError"]


class LoopbackServerError(RuntimeError):
    """The server did not start; the message carries its log."""


class LoopbackServer:
    """One server process on 127.0.0.1: ``start()``, use ``port``, ``stop()`` (or a ``with`` block)."""

    label = "server"
    error: type[LoopbackServerError] = LoopbackServerError
    attempts = 3

    def __init__(self, *, startup_timeout: float = 30.0) -> None:
        self.startup_timeout = startup_timeout
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    # -- what a subclass provides ---------------------------------------------------------------------
    def _command(self, port: int, workdir: str) -> list[str]:
        raise NotImplementedError

    def _answers(self) -> bool:
        raise NotImplementedError

    # -- the process ----------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the server and return once it answers; safe to call twice."""
        if self._process is not None:
            return
        atexit.register(self.stop)  # do not leak a server if the session dies early
        # The free port may be taken before the server binds it; try a few before giving up.
        for attempt in range(1, self.attempts + 1):
            try:
                self._start_once()
                return
            except LoopbackServerError:
                self.stop()
                if attempt == self.attempts:
                    raise

    def stop(self) -> None:
        """Stop the server (terminate, then kill after 5 s); safe to call twice."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def _start_once(self) -> None:
        self.port = free_port()
        self._log = tempfile.TemporaryFile(prefix=f"ember-{self.label}-")  # noqa: SIM115 - lives with the server
        # An empty folder to run in, so a server that writes files cannot litter the checkout.
        self._workdir = tempfile.TemporaryDirectory(prefix=f"ember-{self.label}-")
        self._process = subprocess.Popen(
            self._command(self.port, self._workdir.name),
            cwd=self._workdir.name,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise self.error(f"{self.label} exited with code {self._process.returncode}:\n{self._tail()}")
            if self._answers():
                return
            time.sleep(0.05)
        raise self.error(f"{self.label} did not answer within {self.startup_timeout:.0f} s:\n{self._tail()}")

    def _tail(self, limit: int = 4000) -> str:
        if self._log is None:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-limit:]

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
