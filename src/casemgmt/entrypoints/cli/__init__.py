"""The casemgmt command line: serve, worker, demo, admin, due-date and more."""

__all__ = [
    "admin",
    "common",
    "demo",
    "events",
    "root",
    "run",
    "worker",
]
