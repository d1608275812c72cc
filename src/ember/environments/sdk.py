"""The ``Environment`` SDK object: a named spec of Python version, pip requirements and variables.

An ``Environment`` is built in memory (``Environment(...)``, ``from_pip_requirements``, ``from_yaml``),
registered in a workspace as a numbered version (``register``), read back (``get``, ``list``) and deleted
(``delete``).
``Environment.current()`` is the submitting interpreter itself: nothing is built, nothing registered.
"""

from __future__ import annotations

import builtins
import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ember.entities.environment_spec import (
    EnvironmentSpec,
    parse_environment_yaml,
    parse_requirements_file,
    pin_python,
    spec_hash,
)
from ember.entities.environments import EnvironmentInfo, EnvironmentRegister, check_environment_name
from ember.environments.dockerfile import dockerfile
from ember.errors import InvalidInput

if TYPE_CHECKING:
    from ember.backend import HasBackend

__all__ = ["CURRENT_NAME", "Environment"]

CURRENT_NAME = "current"


def _read_text(path: str | os.PathLike[str], what: str) -> str:
    file = Path(path)
    try:
        return file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InvalidInput(f"{what} {str(file)!r} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {what} {str(file)!r}: {exc}") from None


def _requirements(pip: Iterable[str] | None) -> tuple[str, ...]:
    if pip is None:
        return ()
    if isinstance(pip, str | bytes):
        raise InvalidInput(
            f"pip must be a list of requirements such as ['six==1.16.0'], not the single string {pip!r}"
        )
    return tuple(pip)


class Environment:
    """A versioned spec of a Python version, pip packages and environment variables in which code runs.

    Args:
        name: The environment's name: letters, digits, ``_``, ``-`` or ``.``.
        python: ``"3.11"`` or ``"3.11.7"``; ``None`` pins the registering interpreter's major.minor.
        pip: PEP 508 requirements, such as ``["six==1.16.0", "numpy>=1.26"]``.
        env_vars: Environment variables set for runs in this environment.
        inherit_current: Run with the submitting interpreter and its packages (see ``current()``).
        description: Free text shown in lists.

    Raises:
        InvalidInput: The name or any part of the spec is invalid; the message says which and why.

    Example:
        >>> env = Environment("sk", python="3.11", pip=["six==1.16.0"], env_vars={"OMP_NUM_THREADS": "1"})
        >>> env = env.register(ws)  # version 1; registering the same spec again answers version 1
    """

    def __init__(
        self,
        name: str,
        *,
        python: str | None = None,
        pip: Iterable[str] | None = None,
        env_vars: Mapping[str, str] | None = None,
        inherit_current: bool = False,
        description: str | None = None,
    ) -> None:
        self.name = check_environment_name(name)
        if env_vars is not None and not isinstance(env_vars, Mapping):
            raise InvalidInput("env_vars must be a mapping of variable names to values")
        self.spec = EnvironmentSpec(
            python=python,
            pip=_requirements(pip),
            env_vars=dict(env_vars or {}),
            inherit_current=inherit_current,
        )
        self.description = description
        self.version: int | None = None
        self.created_time: datetime | None = None
        self._workspace: HasBackend | None = None  # where this version is registered

    # -- constructors ----------------------------------------------------------------------------
    @classmethod
    def from_pip_requirements(
        cls,
        name: str,
        file_path: str | os.PathLike[str],
        *,
        python: str | None = None,
        env_vars: Mapping[str, str] | None = None,
        description: str | None = None,
    ) -> Environment:
        """An environment with the requirements listed in a ``requirements.txt`` file.

        Args:
            name: The environment's name.
            file_path: The requirements file; options (``-r``, ``-e``, ``--index-url``) are refused.
            python: The Python version; ``None`` pins the registering interpreter's major.minor.
            env_vars: Environment variables set for runs in this environment.
            description: Free text shown in lists.

        Returns:
            The (unregistered) environment.

        Raises:
            InvalidInput: The file is missing or unreadable, or a line is not a requirement (its number
                is in the message).
        """
        pip = parse_requirements_file(_read_text(file_path, "requirements file"))
        return cls(name, python=python, pip=pip, env_vars=env_vars, description=description)

    @classmethod
    def from_yaml(
        cls, file_path: str | os.PathLike[str], *, name: str | None = None, description: str | None = None
    ) -> Environment:
        """An environment read from an ``env.yml``: Ember's layout or a conda ``environment.yml``.

        Args:
            file_path: The YAML file (see ``ember.environments.parse_environment_yaml`` for its keys).
            name: Overrides the file's ``name``.
            description: Free text shown in lists.

        Returns:
            The (unregistered) environment.

        Raises:
            InvalidInput: The file is missing, not valid YAML, or holds an invalid spec.
        """
        found, spec = parse_environment_yaml(_read_text(file_path, "environment file"))
        return cls._from_spec(name or found, spec, description=description)

    @classmethod
    def current(cls) -> Environment:
        """The submitting interpreter and its packages: runs start at once, nothing is built."""
        return cls(CURRENT_NAME, inherit_current=True)

    @classmethod
    def _from_spec(cls, name: str, spec: EnvironmentSpec, *, description: str | None = None) -> Environment:
        return cls(
            name,
            python=spec.python,
            pip=spec.pip,
            env_vars=spec.env_vars,
            inherit_current=spec.inherit_current,
            description=description,
        )

    @classmethod
    def _from_info(cls, workspace: HasBackend, info: EnvironmentInfo) -> Environment:
        env = cls._from_spec(info.name, info.spec, description=info.description)
        env.version = info.version
        env.created_time = info.created_time
        env._workspace = workspace
        return env

    # -- the workspace ---------------------------------------------------------------------------
    def register(self, workspace: HasBackend) -> Environment:
        """Register this spec in ``workspace`` under the environment's name.

        A spec new to the name becomes its next version; a spec already registered answers that version.
        ``python=None`` is pinned to this interpreter's major.minor first, so the stored spec names a
        concrete Python.

        Args:
            workspace: Where to register.

        Returns:
            The registered environment, with its ``version``.

        Raises:
            InvalidInput: The environment inherits the current interpreter (``Environment.current()``),
                which cannot be registered.
        """
        request = EnvironmentRegister(
            name=self.name, spec=pin_python(self.spec), description=self.description
        )
        return self._from_info(workspace, workspace.backend.environments.register(request))

    @classmethod
    def get(cls, workspace: HasBackend, name: str, version: int | None = None) -> Environment:
        """A registered environment: the given version, or the latest.

        Raises:
            NotFound: No environment has that name, or it has no such version.
        """
        return cls._from_info(workspace, workspace.backend.environments.get(name, version))

    @classmethod
    def list(cls, workspace: HasBackend, name: str | None = None) -> builtins.list[Environment]:
        """The latest version of every registered environment, by name; with ``name``, all its versions."""
        return [cls._from_info(workspace, info) for info in workspace.backend.environments.list(name)]

    def delete(self) -> None:
        """Delete this registered version from its workspace; the environment's other versions stay.

        Raises:
            InvalidInput: This environment was never registered (build it with ``register`` or ``get``).
            NotFound: The version is already deleted.
            Conflict: A deployment uses the version; the message names it (``endpoint/deployment``).
        """
        if self._workspace is None or self.version is None:
            raise InvalidInput(
                f"environment {self.name!r} is not a registered version: delete what Environment.get, "
                "Environment.list or register return"
            )
        self._workspace.backend.environments.delete(self.name, self.version)

    # -- views -----------------------------------------------------------------------------------
    @property
    def python(self) -> str | None:
        """The Python version (``None`` until registered, when the spec leaves it open)."""
        return self.spec.python

    @property
    def pip(self) -> tuple[str, ...]:
        """The pip requirements."""
        return self.spec.pip

    @property
    def env_vars(self) -> dict[str, str]:
        """Environment variables set for runs (a copy)."""
        return dict(self.spec.env_vars)

    @property
    def inherit_current(self) -> bool:
        """Whether runs use the submitting interpreter instead of a built environment."""
        return self.spec.inherit_current

    @property
    def spec_hash(self) -> str:
        """The hash of the spec as it would be registered (Python pinned): equal specs, equal hashes."""
        return spec_hash(pin_python(self.spec))

    def dockerfile(self) -> str:
        """A Dockerfile that builds this environment on a ``python:<version>-slim`` image.

        Raises:
            InvalidInput: The environment inherits the current interpreter, which no image reproduces.
        """
        return dockerfile(self.name, self.version, pin_python(self.spec))

    def __repr__(self) -> str:
        if self.inherit_current:
            return "Environment.current()"
        version = "" if self.version is None else f", version={self.version}"
        return f"Environment(name={self.name!r}{version}, python={self.python!r}, pip={list(self.pip)!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Environment):
            return NotImplemented
        return (self.name, self.version, self.spec) == (other.name, other.version, other.spec)

    def __hash__(self) -> int:
        return hash((self.name, self.version, spec_hash(self.spec)))
