"""Shared fixtures: a fresh, migrated database per test on every configured backend.

SQLite always runs. PostgreSQL runs when ``CASEMGMT_TEST_POSTGRES_URL`` is set (an
asyncpg URL to a server where the user may create databases); under ``CI=true`` it is
required and an unreachable server fails the run instead of skipping. The same holds for
the brokers the worker tests use: ``CASEMGMT_TEST_REDIS_URL`` and ``CASEMGMT_TEST_AMQP_URL``
(RabbitMQ). Each backend is
migrated once per session into a template, and every test gets its own copy.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from casemgmt.adapters.sql.migrations import upgrade_to_head

PG_URL = os.environ.get("CASEMGMT_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("CASEMGMT_TEST_REDIS_URL", "")
AMQP_URL = os.environ.get("CASEMGMT_TEST_AMQP_URL", "")
IN_CI = os.environ.get("CI", "").lower() == "true"

BACKENDS = ["sqlite", *(["postgres"] if PG_URL else [])]


def pytest_configure(config: pytest.Config) -> None:
    if IN_CI and not PG_URL:
        raise pytest.UsageError("CI=true requires CASEMGMT_TEST_POSTGRES_URL")
    if IN_CI and not REDIS_URL:
        raise pytest.UsageError("CI=true requires CASEMGMT_TEST_REDIS_URL")
    if IN_CI and not AMQP_URL:
        raise pytest.UsageError("CI=true requires CASEMGMT_TEST_AMQP_URL")


def _pg_admin_dsn(url: str, database: str | None = None) -> str:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    if database is not None:
        dsn = dsn.rsplit("/", 1)[0] + "/" + database
    return dsn


def _pg_url_for(database: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + "/" + database


async def _pg_exec(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_dsn(PG_URL), timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def pg_create_database(template: str | None = None) -> str:
    """Create an empty (or templated) PostgreSQL database; return its name."""
    name = f"casemgmt_test_{uuid.uuid4().hex[:12]}"
    suffix = f" TEMPLATE {template}" if template else ""
    asyncio.run(_pg_exec(f'CREATE DATABASE "{name}"{suffix}'))
    return name


#: The role the API under test connects as on PostgreSQL (``tests/support/server.py``):
#: it may read and append events but not alter, truncate or un-trigger them.
APP_ROLE = "casemgmt_app"


def pg_grant_app_role(url: str) -> None:
    """Create the app role (once per cluster) and grant it the app's privileges at ``url``."""
    from casemgmt.adapters.sql.roles import grant_app_role

    asyncio.run(
        _pg_exec(
            f"DO $$ BEGIN CREATE ROLE {APP_ROLE} LOGIN; "
            "EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$"
        )
    )
    asyncio.run(grant_app_role(url, APP_ROLE))


def pg_drop_database(name: str) -> None:
    asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def template_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Per backend, a migrated database that tests copy from."""
    templates: dict[str, str] = {}
    base = tmp_path_factory.mktemp("templates")
    sqlite_path = base / "template.sqlite"
    upgrade_to_head(f"sqlite+aiosqlite:///{sqlite_path}")
    templates["sqlite"] = str(sqlite_path)
    pg_template = None
    if PG_URL:
        pg_template = pg_create_database()
        upgrade_to_head(_pg_url_for(pg_template))
        pg_grant_app_role(_pg_url_for(pg_template))
        templates["postgres"] = pg_template
    yield templates
    if pg_template:
        pg_drop_database(pg_template)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def database_url(backend: str, template_databases: dict[str, str], tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database of ``backend`` for this test alone."""
    if backend == "sqlite":
        path = tmp_path / "casemgmt.sqlite"
        shutil.copyfile(template_databases["sqlite"], path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = pg_create_database(template=template_databases["postgres"])
    try:
        yield _pg_url_for(name)
    finally:
        pg_drop_database(name)


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(
    request: pytest.FixtureRequest,
    template_databases: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """A fresh, migrated database per test module and backend (for long-lived servers)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("module-db") / "casemgmt.sqlite"
        shutil.copyfile(template_databases["sqlite"], path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    name = pg_create_database(template=template_databases["postgres"])
    try:
        yield _pg_url_for(name)
    finally:
        pg_drop_database(name)
