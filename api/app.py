"""Process root of the HTTP API: ``uvicorn api.app:app`` (settings from CASEMGMT_* env)."""

from casemgmt.entrypoints.http.app import create_app
from casemgmt.settings import Settings

app = create_app(Settings.from_env())
