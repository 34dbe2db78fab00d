"""Read models in SQL: case summaries and the deadline queue, projected, queried, rebuilt."""

__all__ = [
    "projection",
    "queries",
    "rebuild",
    "tables",
]
