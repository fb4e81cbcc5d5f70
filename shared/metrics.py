"""Prometheus metrics of one service, in its own registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
        labels = {"service": service}
        self.requests = Histogram(
            "govit_http_request_duration_seconds",
            "HTTP request duration",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.published = Counter(
            "govit_events_published_total",
            "events published from the outbox",
            ["type"],
            registry=self.registry,
        )
        self.consumed = Counter(
            "govit_events_consumed_total",
            "events consumed by outcome",
            ["consumer", "outcome"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "govit_outbox_pending", "events committed but not yet published", registry=self.registry
        )
        self.info = Gauge("govit_service_info", "service identity", ["service"], registry=self.registry)
        self.info.labels(**labels).set(1)
