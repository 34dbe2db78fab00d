"""The SQL event store: the events table, appends, the feed, bulk writes and chain verification."""

__all__ = [
    "bulk",
    "rows",
    "schema",
    "statements",
    "store",
    "tables",
    "verify",
]
