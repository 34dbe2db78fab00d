"""Regimes: the TOML rulebooks as checked structs, and the registry of them."""
