"""HTTP controllers, one module per resource: they translate and call the application."""

__all__ = [
    "calendar",
    "cases",
    "deadlines",
    "exports",
    "feed",
    "health",
    "imports",
    "keys",
    "regulators",
    "subscriptions",
]
