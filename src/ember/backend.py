"""The Backend contract of a workspace, by area, and its two implementations' common shape.

``LocalBackend`` holds the rules (on store/ and artifacts/); ``RemoteBackend`` is a thin HTTP client of
``ember server``. Only ``ember.wiring`` constructs them; everything else receives a ``Backend``.

Feature SDK objects (``Run``, ``Dataset``, ``Model``, ...) hold a workspace typed as ``HasBackend``, never as
``ember.workspace.Workspace``: the facade sits above every feature, and a feature that named it would
import in a circle.
"""

from __future__ import annotations

from abc import ABC
from typing import Protocol

from ember.contracts.data import DataBackend
from ember.contracts.endpoints import EndpointsBackend
from ember.contracts.environments import EnvironmentsBackend
from ember.contracts.jobs import JobsBackend
from ember.contracts.registry import RegistryBackend
from ember.contracts.tracking import TrackingBackend

__all__ = ["Backend", "HasBackend"]


class Backend(ABC):
    """One workspace's capabilities, one attribute per area (tracking, jobs, data, models, endpoints, ...)."""

    kind: str  # "local" | "remote"
    tracking: TrackingBackend
    jobs: JobsBackend
    environments: EnvironmentsBackend
    data: DataBackend
    registry: RegistryBackend
    endpoints: EndpointsBackend

    def close(self) -> None:
        """Release connections, pools and background threads."""
        for area in ("endpoints", "jobs", "registry", "data", "environments", "tracking"):
            contract = getattr(self, area, None)  # a test double may provide only some areas
            if contract is not None:
                contract.close()

    def __enter__(self) -> Backend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class HasBackend(Protocol):
    """What a feature's SDK object needs of its workspace: the Backend (``ember.Workspace`` is one)."""

    @property
    def backend(self) -> Backend:
        """The workspace's Backend."""
        ...
