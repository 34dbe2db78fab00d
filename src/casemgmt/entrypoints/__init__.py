"""Process entry points: HTTP (Litestar), worker (Celery), CLI."""
