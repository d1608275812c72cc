"""Launchers start the runner for a run; the local one spawns a detached process on this machine."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import Protocol

__all__ = ["Launcher", "LocalProcessLauncher"]

logger = logging.getLogger(__name__)


class Launcher(Protocol):
    """Starts ``python -m ember.runner <run-id>`` somewhere; returns at once."""

    def launch(self, run_id: str) -> None:
        """Start the runner of one run."""


class LocalProcessLauncher:
    """Runs each runner as a detached process (its own session), so it outlives whoever submitted it."""

    def __init__(
        self, *, workspace_target: str, artifact_uri: str | None = None, log_dir: Path | None = None
    ) -> None:
        self._target = workspace_target
        self._artifact_uri = artifact_uri
        self._log_dir = log_dir or Path(tempfile.gettempdir()) / "ember-runners"

    def launch(self, run_id: str) -> None:
        env = dict(os.environ)
        # The workspace location travels in the environment, never on the command line (it may hold
        # a database password, and process arguments are visible to every user of the machine).
        env["EMBER_WORKSPACE"] = self._target
        if self._artifact_uri:
            env["EMBER_ARTIFACT_URI"] = self._artifact_uri
        env.pop("EMBER_RUN_ID", None)
        self._log_dir.mkdir(parents=True, exist_ok=True)
        with open(self._log_dir / f"{run_id}.log", "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ember.runner", run_id],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
                close_fds=True,
            )
        # Reap it when it ends (no zombies in a long-lived server); a daemon thread never blocks exit.
        threading.Thread(target=proc.wait, name=f"ember-reap-{run_id[:8]}", daemon=True).start()
        logger.info("launched the runner of run %s (pid %d)", run_id, proc.pid)
