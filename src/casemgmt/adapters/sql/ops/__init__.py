"""Operations tables: API keys, housekeeping purges, the system metrics read and the
events partitions kept ahead."""

__all__ = [
    "housekeeping",
    "keys",
    "metrics",
    "partitions",
]
