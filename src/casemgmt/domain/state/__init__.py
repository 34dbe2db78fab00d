"""Case state: the structs a stream folds into, and evolve/fold."""

__all__ = [
    "evolve",
    "model",
    "penalties",
]
