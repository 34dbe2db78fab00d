"""Relative SQLite paths and the var dir resolve against the project root, not the current
directory, so every command finds the same database wherever it runs (#14 item 9)."""

from __future__ import annotations

from pathlib import Path

import pytest

from casemgmt.settings import Settings, project_root, resolve_sqlite_url

ROOT = Path(__file__).resolve().parents[2]


def test_the_project_root_is_the_checkout() -> None:
    assert project_root() == ROOT


def test_relative_paths_resolve_against_the_root_whatever_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    relative = "sqlite+aiosqlite:///var/x.sqlite"
    settings = Settings.from_env(
        {"CASEMGMT_DATABASE_URL": relative, "CASEMGMT_DATABASE_READ_URL": relative}
    )
    assert settings.database.url == f"sqlite+aiosqlite:///{ROOT}/var/x.sqlite"
    assert settings.database.read_url == settings.database.url
    assert settings.worker.broker_url == f"sqla+sqlite:///{ROOT}/var/broker.sqlite"
    assert settings.var_dir == str(ROOT / "var")


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:////tmp/abs.sqlite",
        "sqlite+aiosqlite:///:memory:",
        "postgresql+asyncpg://u@127.0.0.1/db",
        "redis://127.0.0.1:6379/0",
    ],
)
def test_absolute_memory_and_server_urls_are_unchanged(url: str) -> None:
    assert resolve_sqlite_url(url, ROOT) == url


def test_an_absolute_var_dir_stays(tmp_path: Path) -> None:
    assert Settings.from_env({"CASEMGMT_VAR_DIR": str(tmp_path)}).var_dir == str(tmp_path)
