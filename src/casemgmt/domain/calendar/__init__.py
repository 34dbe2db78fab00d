"""Calendars and deadline arithmetic: business days, due instants, reminder offsets."""
