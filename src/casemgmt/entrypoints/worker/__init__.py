"""The Celery worker: app factory (``app``), tasks (``tasks``), and the runner that owns
each worker process's event loop, engine and HTTP client (``runner``)."""

from casemgmt.entrypoints.worker.app import TASK_NAMES, celery_config, create_celery

__all__ = ["TASK_NAMES", "celery_config", "create_celery"]
