"""Logs and metrics shared by every process (API, worker, CLI)."""

from casemgmt.observability.logs import (
    bind_request,
    bind_request_values,
    configure_logging,
    get_logger,
)
from casemgmt.observability.metrics import Metrics

__all__ = ["Metrics", "bind_request", "bind_request_values", "configure_logging", "get_logger"]
