"""Reminders in SQL: the schedule projection, claims, deliveries, subscriptions and their admin."""

__all__ = [
    "admin",
    "projection",
    "store",
    "subscriptions",
    "tables",
]
