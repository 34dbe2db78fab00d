"""Process root of the Celery worker and beat: ``celery -A workers.celery_app worker -B``."""

from casemgmt.entrypoints.worker.app import create_celery
from casemgmt.settings import Settings

app = create_celery(Settings.from_env())
