"""Regimes: the TOML rulebooks as checked structs, and the registry of them."""

__all__ = [
    "check",
    "model",
    "registry",
]
