"""Process entry points: HTTP (Litestar), worker (Celery), CLI."""

__all__ = [
    "cli",
    "http",
    "worker",
]
