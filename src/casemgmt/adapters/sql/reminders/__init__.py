"""Reminders in SQL: the schedule projection, claims, deliveries, subscriptions and their admin."""
