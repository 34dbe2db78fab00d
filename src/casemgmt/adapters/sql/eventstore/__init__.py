"""The SQL event store: the events table, appends, the feed, bulk writes and chain verification."""
