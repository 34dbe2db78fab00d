"""Operations tables: API keys, housekeeping purges and the system metrics read."""

__all__ = [
    "housekeeping",
    "keys",
    "metrics",
]
