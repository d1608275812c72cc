"""Counters of the serving host: requests, errors and latency per deployment, in Prometheus format.

The router updates plain counters on its event loop (no locks, nothing allocated per request beyond a
bisect); ``prometheus_client`` renders them at scrape time through a custom collector.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from ember.entities.serving import DeploymentTelemetry, EndpointTelemetry

__all__ = ["LATENCY_BUCKETS", "DeploymentCounters", "EndpointCounters", "Telemetry"]

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)


class DeploymentCounters:
    """Cumulative counters of one deployment (kept across updates of the deployment)."""

    __slots__ = ("buckets", "in_flight", "latency_sum", "mirrored", "ready_replicas", "restarts", "statuses")

    def __init__(self) -> None:
        self.statuses: dict[int, int] = {}
        self.buckets = [0] * (len(LATENCY_BUCKETS) + 1)  # the last one is +Inf
        self.latency_sum = 0.0
        self.in_flight = 0
        self.mirrored = 0
        self.ready_replicas = 0
        self.restarts = 0

    def observe(self, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.buckets[bisect.bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.latency_sum += seconds

    @property
    def requests(self) -> int:
        return sum(self.statuses.values())

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, requests at most that long) pairs, ending with +Inf."""
        out, total = [], 0
        for bound, count in zip((*LATENCY_BUCKETS, float("inf")), self.buckets, strict=True):
            total += count
            out.append((bound, total))
        return out


class EndpointCounters:
    """Counters of one endpoint: its deployments' and the requests refused before routing."""

    __slots__ = ("deployments", "unauthorized")

    def __init__(self) -> None:
        self.unauthorized = 0
        self.deployments: dict[str, DeploymentCounters] = {}

    def deployment(self, name: str) -> DeploymentCounters:
        counters = self.deployments.get(name)
        if counters is None:
            counters = self.deployments[name] = DeploymentCounters()
        return counters


class Telemetry(Collector):
    """Every endpoint's counters, as JSON for the workspace API and as Prometheus text for ``/metrics``."""

    def __init__(self) -> None:
        self.endpoints: dict[str, EndpointCounters] = {}
        self._registry = CollectorRegistry(auto_describe=False)
        self._registry.register(self)

    def endpoint(self, name: str) -> EndpointCounters:
        counters = self.endpoints.get(name)
        if counters is None:
            counters = self.endpoints[name] = EndpointCounters()
        return counters

    def forget(self, endpoint: str, deployments: set[str] | None = None) -> None:
        """Drop a deleted endpoint's counters, or only those of its deleted deployments."""
        if deployments is None:
            self.endpoints.pop(endpoint, None)
            return
        counters = self.endpoints.get(endpoint)
        if counters is not None:
            for name in [n for n in counters.deployments if n not in deployments]:
                del counters.deployments[name]

    def snapshot(self, endpoint: str) -> EndpointTelemetry:
        """The endpoint's counters now (an unknown endpoint has none)."""
        counters = self.endpoints.get(endpoint) or EndpointCounters()
        deployments = []
        for name, dep in sorted(counters.deployments.items()):
            deployments.append(
                DeploymentTelemetry(
                    deployment=name,
                    requests=dep.requests,
                    errors=sum(n for s, n in dep.statuses.items() if s >= 500),
                    client_errors=sum(n for s, n in dep.statuses.items() if 400 <= s < 500),
                    mirrored=dep.mirrored,
                    in_flight=dep.in_flight,
                    latency_buckets=[(b if b != float("inf") else 1e308, c) for b, c in dep.cumulative()],
                    latency_sum=dep.latency_sum,
                    ready_replicas=dep.ready_replicas,
                )
            )
        return EndpointTelemetry(
            endpoint=endpoint,
            time=time.time(),
            host_running=True,
            unauthorized=counters.unauthorized,
            deployments=deployments,
        )

    def prometheus(self) -> bytes:
        """The Prometheus text exposition of every counter."""
        return generate_latest(self._registry)

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "ember_endpoint_requests",
            "Scoring requests answered, by endpoint, deployment and HTTP status",
            labels=["endpoint", "deployment", "code"],
        )
        latency = HistogramMetricFamily(
            "ember_endpoint_request_duration_seconds",
            "Time from a request's arrival at the router to its answer",
            labels=["endpoint", "deployment"],
        )
        in_flight = GaugeMetricFamily(
            "ember_endpoint_in_flight_requests",
            "Requests being scored now",
            labels=["endpoint", "deployment"],
        )
        ready = GaugeMetricFamily(
            "ember_endpoint_ready_replicas", "Replicas taking requests", labels=["endpoint", "deployment"]
        )
        restarts = CounterMetricFamily(
            "ember_endpoint_replica_restarts",
            "Replicas restarted after a crash",
            labels=["endpoint", "deployment"],
        )
        mirrored = CounterMetricFamily(
            "ember_endpoint_mirrored_requests",
            "Copies of live requests sent to a mirror deployment",
            labels=["endpoint", "deployment"],
        )
        unauthorized = CounterMetricFamily(
            "ember_endpoint_unauthorized_requests",
            "Requests refused for a missing or wrong key or token",
            labels=["endpoint"],
        )
        for endpoint, counters in sorted(self.endpoints.items()):
            unauthorized.add_metric([endpoint], counters.unauthorized)
            for name, dep in sorted(counters.deployments.items()):
                labels = [endpoint, name]
                for status, count in sorted(dep.statuses.items()):
                    requests.add_metric([*labels, str(status)], count)
                latency.add_metric(
                    labels,
                    buckets=[("+Inf" if b == float("inf") else repr(b), c) for b, c in dep.cumulative()],
                    sum_value=dep.latency_sum,
                )
                in_flight.add_metric(labels, dep.in_flight)
                ready.add_metric(labels, dep.ready_replicas)
                restarts.add_metric(labels, dep.restarts)
                mirrored.add_metric(labels, dep.mirrored)
        yield from (requests, latency, in_flight, ready, restarts, mirrored, unauthorized)
