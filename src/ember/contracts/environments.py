"""The environments part of the Backend contract: registering, reading and deleting versioned specs.

``LocalEnvironments`` holds the rules (versioning, pinning, atomic registration, deletion protection);
``RemoteEnvironments`` is its HTTP client. Rendering a Dockerfile needs no backend:
``ember.environments.dockerfile`` works on the ``EnvironmentInfo`` that ``get`` returns.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from ember.entities.environments import EnvironmentInfo, EnvironmentRegister

__all__ = ["EnvironmentsBackend"]


class EnvironmentsBackend(ABC):
    """Registered environments of one workspace: versioned, immutable specs by name."""

    @abstractmethod
    def register(self, request: EnvironmentRegister) -> EnvironmentInfo:
        """Register a spec under a name and return the version that holds it.

        A spec already registered under the name returns that version unchanged (its description
        included); a new spec becomes the next version. Concurrent registrations of one name never
        produce two versions with the same number or two versions with the same spec.

        Raises:
            InvalidInput: The name or spec is invalid, or the spec inherits the submitting
                interpreter (which is not a reproducible spec, so it cannot be registered).
        """

    @abstractmethod
    def get(self, name: str, version: int | None = None) -> EnvironmentInfo:
        """One version of an environment; ``version=None`` is the latest.

        Raises:
            NotFound: No environment has that name, or it has no such version.
            InvalidInput: The name or version is malformed.
        """

    @abstractmethod
    def list(self, name: str | None = None) -> list[EnvironmentInfo]:
        """Every version of ``name``, newest first; without a name, the latest version of each, by name.

        An unknown name gives an empty list.
        """

    @abstractmethod
    def delete(self, name: str, version: int) -> None:
        """Delete one version of an environment; the other versions keep their numbers.

        Numbering works as for models: a deleted version's number is never given again, the latest's
        included (the workspace remembers the highest number each name had). Registering the spec of a
        deleted version makes a new version. Runs that used the version keep naming it (submitting one
        again then fails with NotFound).

        Raises:
            NotFound: No environment has that name, or it has no such version.
            Conflict: A deployment uses the version; the message names each (``endpoint/deployment``)
                and says to delete or update them first.
            InvalidInput: The name or version is malformed.
        """

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources."""
