"""Finding 7: revocation is immediate everywhere, keys record their creator, key events are
logged by key id (never the secret), and no admin creates a key stronger than its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from casemgmt.application.auth import Role
from tests.support.server import LiveServer, live_server


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """uvicorn over this module's database, logging at INFO (the audit lines)."""
    env = {"CASEMGMT_LOG_LEVEL": "INFO"}
    with live_server(module_database_url, tmp_path_factory.mktemp("logs"), env) as srv:
        yield srv


@pytest.fixture(scope="module")
def other_server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A second API process over the same database (as behind a load balancer)."""
    with live_server(module_database_url, tmp_path_factory.mktemp("logs2")) as srv:
        yield srv


def _key_id(token: str) -> str:
    return token.split("_")[1]


def test_a_revoked_key_stops_at_once_in_every_process(
    server: LiveServer, other_server: LiveServer
) -> None:
    doomed = server.key(Role.ADMIN)
    with other_server.client(doomed) as elsewhere:
        assert elsewhere.get("/v1/keys").status_code == 200  # known to that process
        with server.client(server.key(Role.ADMIN)) as admin:
            assert admin.delete(f"/v1/keys/{_key_id(doomed)}").status_code == 200
        assert elsewhere.get("/v1/keys").status_code == 401
        created = elsewhere.post("/v1/keys", json={"name": "escape", "role": "admin"})
        assert created.status_code == 401


def test_keys_record_who_created_them(server: LiveServer) -> None:
    admin_token = server.key(Role.ADMIN)
    with server.client(admin_token) as admin:
        made = admin.post("/v1/keys", json={"name": "made", "role": "reader"}).json()
        assert made["created_by"] == f"key:{_key_id(admin_token)}"
        listed = {k["key_id"]: k for k in admin.get("/v1/keys").json()}
        assert listed[made["key_id"]]["created_by"] == f"key:{_key_id(admin_token)}"
        assert listed[_key_id(admin_token)]["created_by"] == "cli"


def test_creating_revoking_and_using_keys_is_logged_by_id_never_secret(
    server: LiveServer,
) -> None:
    with server.client(server.key(Role.ADMIN)) as admin:
        made = admin.post("/v1/keys", json={"name": "logged", "role": "reader"}).json()
        with server.client(made["token"]) as reader:
            assert reader.get("/v1/cases").status_code == 200
        assert admin.delete(f"/v1/keys/{made['key_id']}").status_code == 200
        with server.client(made["token"]) as reader:
            assert reader.get("/v1/cases").status_code == 401
    log = server.log()
    secret = made["token"].split("_", 2)[2]
    assert secret not in log
    lines = [line for line in log.splitlines() if made["key_id"] in line]
    events = " ".join(lines)
    for event in ("key.created", "key.revoked", "auth.refused"):
        assert event in events
    assert any('"route": "/v1/cases"' in line and '"status": 200' in line for line in lines)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "wider", "role": "reader"}, "regulators"),
        ({"name": "other", "role": "admin", "regulators": ["ico"]}, "regulators"),
        ({"name": "mixed", "role": "writer", "regulators": ["ofcom", "ico"]}, "regulators"),
    ],
)
def test_an_admin_cannot_create_a_key_with_more_power_than_its_own(
    server: LiveServer, body: dict[str, object], field: str
) -> None:
    with server.client(server.key(Role.ADMIN, ["ofcom"])) as scoped:
        refused = scoped.post("/v1/keys", json=body)
        assert refused.status_code == 400
        assert field in refused.text
        same = scoped.post("/v1/keys", json={**body, "regulators": ["ofcom"]})
        assert same.status_code == 201


def test_keys_cli_records_the_command_line_as_creator(tmp_path: Path, database_url: str) -> None:
    from click.testing import CliRunner

    from casemgmt.entrypoints.cli.root import main

    env = {"CASEMGMT_DATABASE_URL": database_url, "CASEMGMT_BROKER_URL": ""}
    made = CliRunner().invoke(main, ["keys", "create", "--role", "reader"], env=env)
    assert made.exit_code == 0, made.output
    listed = CliRunner().invoke(main, ["keys", "list"], env=env)
    assert "by cli" in listed.output
