"""Run the Alembic migrations from code (tests, ``casemgmt db upgrade``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

__all__ = ["alembic_config", "ensure_sqlite_directory", "upgrade_to_head"]

# src/casemgmt/adapters/sql/migrations.py -> the repository root holding alembic.ini.
_ROOT = Path(__file__).resolve().parents[4]


def alembic_config(url: str) -> Config:
    """The project's Alembic config with ``url`` as its database, independent of the cwd."""
    ini = _ROOT / "alembic.ini"
    if not ini.is_file():
        raise FileNotFoundError(f"alembic.ini not found at {ini} (run from a source checkout)")
    config = Config(str(ini))
    config.set_main_option("script_location", str(_ROOT / "migrations"))
    # ConfigParser interpolates '%': a percent-encoded password must be escaped.
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_to_head(url: str) -> None:
    """Migrate the database at ``url`` to the newest revision; a no-op when it is there.

    Creates a SQLite file's parent directory. Synchronous: Alembic runs its own event
    loop, so call it from synchronous code (or a thread), not inside a running loop.
    """
    ensure_sqlite_directory(url)
    command.upgrade(alembic_config(url), "head")


def ensure_sqlite_directory(url: str) -> None:
    """Create the directory of a SQLite database file (SQLite creates only the file)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
