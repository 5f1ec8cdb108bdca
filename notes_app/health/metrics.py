"""Prometheus metrics: requests by route template and status, and the database pool."""

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# (connections open, connections idle), or None where there is no pool (SQLite's one connection).
PoolStats = Callable[[], tuple[int, int] | None]


class HttpMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "notes_http_requests",
            "HTTP requests answered, by method, route template and status.",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "notes_http_request_duration_seconds",
            "Time from request to the end of the response, by method, route template and status.",
            ["method", "route", "status"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=registry,
        )

        # Each series' children, by (method, route, status): `labels()` takes a lock and checks the
        # labels on every call, half of the metrics' cost per request. One entry per series, so it
        # grows no further than the metrics themselves do.
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, *, method: str, route: str, status: int, seconds: float) -> None:
        key = (method, route, status)
        if (series := self._series.get(key)) is None:
            labels = (method, route, str(status))
            series = self._series[key] = (self.requests.labels(*labels), self.latency.labels(*labels))
        requests, latency = series
        requests.inc()
        latency.observe(seconds)


class PoolCollector(Collector):
    """Reads the pool when scraped, so the gauges are never stale and cost nothing between scrapes."""

    def __init__(self, pool_stats: PoolStats) -> None:
        self._pool_stats = pool_stats

    def collect(self) -> Iterator[GaugeMetricFamily]:
        gauge = GaugeMetricFamily("notes_db_pool_connections", "Database pool connections, by state.", labels=["state"])
        stats = self._pool_stats()
        if stats is not None:
            size, idle = stats
            gauge.add_metric(["in_use"], size - idle)
            gauge.add_metric(["idle"], idle)
        yield gauge
