"""The Backend contract of a workspace, by area, and its two implementations' common shape.

``LocalBackend`` holds the rules (on store/ and artifacts/); ``RemoteBackend`` is a thin HTTP client of
``ember server``. Only ``ember.wiring`` constructs them; everything else receives a ``Backend``.
"""

from __future__ import annotations

from abc import ABC

from ember.data.contract import DataBackend
from ember.environments.contract import EnvironmentsBackend
from ember.jobs.contract import JobsBackend
from ember.registry.contract import RegistryBackend
from ember.serving.contract import EndpointsBackend
from ember.tracking.contract import TrackingBackend

__all__ = ["Backend"]


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
