"""Decide: may a proposed action happen in a case's state, and which events follow from it."""

__all__ = [
    "context",
    "core",
    "dates",
    "derive",
    "explaining",
    "guards",
    "parties",
    "periods",
    "statute",
]
