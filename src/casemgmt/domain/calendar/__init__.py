"""Calendars and deadline arithmetic: business days, due instants, reminder offsets."""

__all__ = [
    "calendars",
    "deadlines",
    "explain",
    "holiday_lists",
]
