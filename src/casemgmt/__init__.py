"""casemgmt: event-sourced case management for regulatory enforcement."""

__version__ = "0.1.0"
__all__ = ["__version__"]
