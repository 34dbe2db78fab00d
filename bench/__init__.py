"""Benchmarks: ``python -m bench [SECTION ...]`` (``make bench``).

Each section is a module with ``run() -> dict`` that prints its own table; the runner
merges what each returns into ``bench/results.json`` under the section's name.
"""
