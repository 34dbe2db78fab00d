"""The only layer that talks to SQLAlchemy, Celery and HTTP clients."""
