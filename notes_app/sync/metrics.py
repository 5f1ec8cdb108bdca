"""Metrics of the feed and the webhooks: long polls waiting, events pending, deliveries by result."""

from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector


class SyncMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.deliveries = Counter(
            "notes_webhook_deliveries",
            "Webhook delivery attempts, by result: delivered, retrying (failed, tried again later), "
            "given_up (failed for the last time), gone (the webhook was deleted meanwhile).",
            ["result"],
            registry=registry,
        )
        # Set when /metrics is scraped (health/router.py): a count in the database, not in this process.
        self.pending: int | None = None


class WaitersCollector(Collector):
    def __init__(self, waiting: Callable[[], int], metrics: SyncMetrics) -> None:
        self._waiting = waiting
        self._metrics = metrics

    def collect(self) -> Iterator[GaugeMetricFamily]:
        yield GaugeMetricFamily(
            "notes_feed_waiters", "Change feed long polls waiting in this process.", value=self._waiting()
        )
        pending = GaugeMetricFamily("notes_webhook_events_pending", "Webhook events not yet delivered or given up.")
        if self._metrics.pending is not None:
            pending.add_metric([], self._metrics.pending)
        yield pending
