"""Finding 10: the calendar feed takes read-only feed tokens (per person or team,
revocable, scoped like their key), never an API key in the URL."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from casemgmt.application.auth import Role
from casemgmt.entrypoints.cli.root import main
from tests.support.server import LiveServer

FEED = "/v1/deadlines.ics"


def _deadline(server: LiveServer, regulator: str, regime: str, marker: str) -> None:
    with server.client(server.key(Role.WRITER, [regulator])) as writer:
        opened = writer.post(
            "/v1/cases",
            json={"regulator": regulator, "regime": regime, "subject": "Feed Co",
                  "title": f"feed {marker}", "opened_on": "2026-01-05"},
        )  # fmt: skip
        assert opened.status_code == 201, opened.text
        posted = writer.post(
            f"/v1/cases/{opened.json()['case_id']}/events",
            json={"type": "deadline_set", "occurred_on": "2026-01-05", "deadline_id": marker,
                  "kind": "response_due", "label": f"due {marker}", "due_on": "2027-01-09"},
        )  # fmt: skip
        assert posted.status_code == 201, posted.text


@pytest.mark.parametrize("role", list(Role))
def test_an_api_key_in_the_url_is_refused(server: LiveServer, role: Role) -> None:
    key = server.key(role)
    with server.client() as anonymous:
        assert anonymous.get(FEED, params={"token": key}).status_code == 401


def test_a_feed_token_reads_only_the_feed_within_its_scope(server: LiveServer) -> None:
    _deadline(server, "ofcom", "osa-2023", "feed-ofcom")
    _deadline(server, "ico", "uk-gdpr", "feed-ico")
    with server.client(server.key(Role.READER, ["ico"])) as reader:
        made = reader.post("/v1/feed-tokens", json={"name": "ico team"})
        assert made.status_code == 201, made.text
        assert made.json()["regulators"] == ["ico"]
        wider = reader.post("/v1/feed-tokens", json={"name": "x", "regulators": ["ofcom"]})
        assert wider.status_code == 400
    token = made.json()["token"]
    with server.client() as calendar:
        feed = calendar.get(FEED, params={"token": token})
        assert feed.status_code == 200
        assert "due feed-ico" in feed.text
        assert "due feed-ofcom" not in feed.text
        assert calendar.get("/v1/deadlines", params={"token": token}).status_code == 401
    with server.client(token) as misuse:  # not an API key either
        assert misuse.get("/v1/cases").status_code == 401
        assert misuse.get(FEED).status_code == 401


def test_a_feed_token_is_revocable_and_dies_with_its_key(server: LiveServer) -> None:
    key = server.key(Role.READER)
    with server.client(key) as reader:
        first = reader.post("/v1/feed-tokens", json={"name": "mine"}).json()
        second = reader.post("/v1/feed-tokens", json={"name": "team"}).json()
        assert {t["token_id"] for t in reader.get("/v1/feed-tokens").json()} >= {
            first["token_id"],
            second["token_id"],
        }
        assert reader.delete(f"/v1/feed-tokens/{first['token_id']}").status_code == 200
    with server.client() as calendar:
        assert calendar.get(FEED, params={"token": first["token"]}).status_code == 401
        assert calendar.get(FEED, params={"token": second["token"]}).status_code == 200
        with server.client(server.key(Role.ADMIN)) as admin:
            assert admin.delete(f"/v1/keys/{key.split('_')[1]}").status_code == 200
        assert calendar.get(FEED, params={"token": second["token"]}).status_code == 401


def test_feed_tokens_from_the_command_line(server: LiveServer) -> None:
    key = server.key(Role.READER, ["ofcom"])
    env = {"CASEMGMT_DATABASE_URL": server.database_url, "CASEMGMT_BROKER_URL": ""}
    made = CliRunner().invoke(
        main, ["keys", "feed-create", key.split("_")[1], "--name", "ofcom team"], env=env
    )
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("cmf_")
    with server.client() as calendar:
        assert calendar.get(FEED, params={"token": token}).status_code == 200
    listed = CliRunner().invoke(main, ["keys", "feed-list"], env=env)
    token_id = token.split("_")[1]
    assert token_id in listed.output
    revoked = CliRunner().invoke(main, ["keys", "feed-revoke", token_id], env=env)
    assert revoked.exit_code == 0, revoked.output
    with server.client() as calendar:
        assert calendar.get(FEED, params={"token": token}).status_code == 401
