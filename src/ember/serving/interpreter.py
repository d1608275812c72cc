"""``Environment.current()`` in a deployment: which machine this is, and whether a path is a Python to run.

A local deployment may run its replicas in the deploying process's own interpreter (the fast path, as
``Environment.current()`` is for runs): nothing to build, the packages the notebook already has. That
interpreter exists only on the machine it was named on, so the rule is checked where the replicas start.
"""

from __future__ import annotations

import os
import re
import socket
from functools import cache
from pathlib import Path

from ember.entities.serving import Interpreter
from ember.errors import InvalidInput

__all__ = ["check_interpreter", "current_interpreter", "machine_id"]

# python, python3, python3.11, pypy3 ...: the replica is started as ``<executable> -m ember.serving.replica``.
_PYTHON_NAME = re.compile(r"^(python|pypy)(\d+(\.\d+)?)?$")
_MACHINE_ID_FILES = ("/etc/machine-id", "/var/lib/dbus/machine-id")


@cache
def machine_id() -> str:
    """This machine: its host name, plus the start of its systemd machine id where it has one."""
    host = socket.gethostname() or "localhost"
    for path in _MACHINE_ID_FILES:
        try:
            ident = Path(path).read_text(encoding="ascii").strip()
        except (OSError, UnicodeDecodeError):
            continue
        if re.fullmatch(r"[0-9a-f]{32}", ident):
            return f"{host}/{ident[:12]}"
    return host


def current_interpreter() -> Interpreter:
    """This process's interpreter on this machine."""
    import sys

    return Interpreter(executable=sys.executable, machine=machine_id())


def check_interpreter(interpreter: Interpreter, *, where: str) -> str:
    """The executable to start replicas with, when ``interpreter`` can run them on this machine.

    Args:
        interpreter: What the deployment asks for.
        where: Who is checking, for the message ("this workspace's replicas", "the serving host").

    Raises:
        InvalidInput: It names another machine's interpreter, or no Python interpreter here.
    """
    here = machine_id()
    if interpreter.machine != here:
        raise InvalidInput(
            f"Environment.current() is the interpreter {interpreter.executable} on machine "
            f"{interpreter.machine!r}, but {where} run on machine {here!r}, where it does not exist: "
            "register an Environment that lists its packages "
            "(ember.Environment(name, pip=[...]).register(ws)) and deploy with that"
        )
    path = Path(interpreter.executable)
    if not path.is_absolute() or not _PYTHON_NAME.fullmatch(path.name):
        raise InvalidInput(
            f"Environment.current() must name a Python interpreter by its absolute path, not "
            f"{interpreter.executable!r}"
        )
    if not path.is_file() or not os.access(path, os.X_OK):
        raise InvalidInput(
            f"Environment.current() names {interpreter.executable}, which is not an executable file on "
            f"machine {here!r} (a removed virtualenv?): deploy again from the interpreter you want"
        )
    return str(path)
