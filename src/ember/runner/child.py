"""Start the user's script so that it dies with its runner.

The runner starts ``python -m ember.runner.child SCRIPT ARGS…``; this sets the Linux parent-death
signal (SIGKILL) and then replaces itself with ``python SCRIPT ARGS…`` (the signal survives ``exec``).
If the runner is killed, the script is killed too instead of running on, unwatched, with nobody to
ingest its metrics. On systems without ``prctl`` the script simply runs.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1


def main(argv: list[str]) -> None:
    """Arm the parent-death signal, then exec the script."""
    runner = int(os.environ.pop("EMBER_RUNNER_PID", "0") or 0)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: no parent-death signal
        pass
    if runner and os.getppid() != runner:  # the runner died before the signal was armed
        os._exit(128 + signal.SIGKILL)
    os.execv(sys.executable, [sys.executable, *argv])


if __name__ == "__main__":
    main(sys.argv[1:])
