"""Reminder use cases: subscriptions, the retry policy and delivery in the worker."""

__all__ = [
    "delivery",
    "policy",
    "retry",
]
