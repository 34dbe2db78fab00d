"""Finding 12 (webhook secrets): signing secrets are encrypted at rest with a key from
settings (Fernet), read back for signing, and re-encrypted on key rotation."""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import sys
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from cryptography.fernet import Fernet
from sqlalchemy.ext.asyncio import create_async_engine

from casemgmt.adapters.secretbox import SecretBox
from casemgmt.adapters.sql.reminders.subscriptions import SqlSubscriptionRepository
from casemgmt.application.auth import Role
from tests.support.server import LiveServer, live_server

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()
SECRET = "whsec_" + base64.b64encode(b"s" * 32).decode()


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {"CASEMGMT_SECRET_KEYS": OLD_KEY}
    with live_server(module_database_url, tmp_path_factory.mktemp("logs"), env) as srv:
        yield srv


def _subscribe(server: LiveServer) -> str:
    with server.client(server.key(Role.ADMIN)) as admin:
        made = admin.post("/v1/subscriptions", json={"url": "https://hooks.example/x",
                                                     "secret": SECRET})  # fmt: skip
    assert made.status_code == 201, made.text
    return str(made.json()["subscription_id"])


async def _stored(url: str, subscription_id: str) -> str:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            query = sa.text("SELECT secret FROM subscriptions WHERE subscription_id = :id")
            return str((await conn.execute(query, {"id": subscription_id})).scalar_one())
    finally:
        await engine.dispose()


async def _readable(url: str, subscription_id: str, keys: str) -> str | None:
    engine = create_async_engine(url)
    try:
        found = await SqlSubscriptionRepository(engine, SecretBox(keys)).get(subscription_id)
        return None if found is None else found.secret
    finally:
        await engine.dispose()


def test_the_secret_is_not_stored_in_plain_text(server: LiveServer) -> None:
    subscription_id = _subscribe(server)
    stored = asyncio.run(_stored(server.database_url, subscription_id))
    assert SECRET not in stored
    assert SECRET.removeprefix("whsec_") not in stored
    assert stored.startswith("enc:")
    assert asyncio.run(_readable(server.database_url, subscription_id, OLD_KEY)) == SECRET


def test_rotation_re_encrypts_with_the_new_key(server: LiveServer) -> None:
    subscription_id = _subscribe(server)
    env = {**os.environ, "CASEMGMT_DATABASE_URL": server.database_url,
           "CASEMGMT_SECRET_KEYS": f"{NEW_KEY},{OLD_KEY}"}  # fmt: skip
    command = [sys.executable, "-c", "from casemgmt.entrypoints.cli.root import main; main()"]
    rotated = subprocess.run(
        [*command, "secrets", "rotate"], env=env, capture_output=True, text=True, timeout=60
    )
    assert rotated.returncode == 0, rotated.stderr
    assert asyncio.run(_readable(server.database_url, subscription_id, NEW_KEY)) == SECRET
    with pytest.raises(ValueError, match="no longer configured"):
        asyncio.run(_readable(server.database_url, subscription_id, OLD_KEY))
