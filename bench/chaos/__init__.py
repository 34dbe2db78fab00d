"""The fault-injection suite (``make chaos``): see ``bench.chaos.run``."""
