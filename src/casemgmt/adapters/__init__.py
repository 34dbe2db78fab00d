"""The only layer that talks to SQLAlchemy, Celery and HTTP clients."""

__all__ = [
    "broker",
    "clock",
    "codec",
    "memory",
    "outages",
    "regime_files",
    "sql",
    "upcasters",
    "webhooks",
]
