"""Structured logging with structlog: JSON lines carrying request and correlation ids.

Request-scoped values (``request_id``, ``correlation_id``, ``principal``) are bound with
:func:`bind_request` into structlog's contextvars, so every log line written while a
request or task is handled carries them without being passed around.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

__all__ = ["bind_request", "configure_logging", "get_logger", "redact"]

#: Secrets that must never reach a log line, whatever carried them there (an exception
#: message, a driver's ``DETAIL``): webhook secrets, API keys, bearer tokens.
_SECRETS = re.compile(r"(whsec_|cmk_|Bearer\s+)[A-Za-z0-9+/=_\-.]+")
#: PostgreSQL's ``DETAIL: Key (column)=(value)`` repeats the offending value.
_KEY_DETAIL = re.compile(r"(Key \([^)]*\)=\()[^\n]*?(\) )")


def redact(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor (after ``format_exc_info``): mask secrets in every text value."""
    for name, value in event.items():
        if isinstance(value, str) and ("_" in value or "Key (" in value or "Bearer" in value):
            value = _SECRETS.sub(r"\1[redacted]", value)
            event[name] = _KEY_DETAIL.sub(r"\1[redacted]\2", value)
    return event


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """Configure structlog and route stdlib logging (uvicorn, celery) through it."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.stdlib.add_logger_name,
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        # filter_by_level first: a line below the level costs one check, not the chain.
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            redact,
            renderer,
        ],
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("uvicorn.access",):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger


def bind_request(**values: Any) -> None:
    """Bind values (request_id, correlation_id, ...) to every log line of this context."""
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})


def bind_request_values(**values: Any) -> None:
    """Add values (e.g. the authenticated ``key_id``) to this request's log context."""
    structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})
