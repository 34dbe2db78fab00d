"""Prometheus metrics (prometheus-client): one ``Metrics`` per container, built by bootstrap.

Counters that only the worker process increments (reminders sent / failed) are read from
the database at scrape time by a collector instead, so that one API ``/metrics`` tells the
whole system's story whatever the number of worker processes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["Metrics"]


@dataclass(frozen=True)
class Metrics:
    registry: CollectorRegistry = field(
        default_factory=lambda: CollectorRegistry(auto_describe=True)
    )
    events_appended: Counter = field(init=False)
    append_seconds: Histogram = field(init=False)
    rejected: Counter = field(init=False)
    http_seconds: Histogram = field(init=False)

    def count_appended(self, envelopes: Sequence[Any]) -> None:
        """Count stored events (anything with ``regulator`` and ``type``)."""
        for envelope in envelopes:
            self.events_appended.labels(envelope.regulator, envelope.type).inc()

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(
            self,
            "events_appended",
            Counter(
                "casemgmt_events_appended",
                "Events appended to the store, by regulator and event type.",
                ["regulator", "type"],
                registry=self.registry,
            ),
        )
        set_(
            self,
            "append_seconds",
            Histogram(
                "casemgmt_append_seconds",
                "Time to decide, append and project one command (one transaction).",
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
                registry=self.registry,
            ),
        )
        set_(
            self,
            "http_seconds",
            Histogram(
                "casemgmt_http_request_duration_seconds",
                "HTTP request latency by method, route template and status.",
                ["method", "route", "status"],
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
                registry=self.registry,
            ),
        )
        set_(
            self,
            "rejected",
            Counter(
                "casemgmt_commands_rejected",
                "Commands refused, by reason (rule, conflict, validation).",
                ["reason"],
                registry=self.registry,
            ),
        )
