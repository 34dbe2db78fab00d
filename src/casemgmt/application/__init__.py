"""Use cases, ports and projections: async, framework-free."""

__all__ = [
    "access",
    "auth",
    "cases",
    "demo",
    "due_dates",
    "envelope",
    "errors",
    "ids",
    "imports",
    "parties",
    "ports",
    "queries",
    "readmodels",
    "reminders",
    "views",
]
