"""Use cases, ports and projections: async, framework-free."""
