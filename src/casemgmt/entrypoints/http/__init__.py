"""The HTTP API and dashboard (Litestar): app factory, controllers, auth, errors."""

__all__ = [
    "app",
    "auth",
    "bodies",
    "controllers",
    "dashboard",
    "deps",
    "errors",
    "guards",
    "ical",
    "observability",
    "openapi",
    "schemas",
]
