"""The packaged regime rulebooks, one TOML file per regime (data, no code)."""

__all__: list[str] = []
