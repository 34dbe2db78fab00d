"""``/v1/subscriptions`` end to end: a real API process on SQLite and PostgreSQL; the
delivery log filled by the delivery use case against a real receiver."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from datetime import UTC, date, datetime

import httpx
import pytest

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.sql.reminders.store import SqlDeliveryStore, claim_due
from casemgmt.adapters.webhooks import HttpxWebhookSender, build_client
from casemgmt.application.auth import Role
from casemgmt.application.reminders.delivery import ReminderDelivery
from casemgmt.application.reminders.policy import RetryPolicy, new_secret
from casemgmt.bootstrap import build_container
from casemgmt.settings import DatabaseSettings, ReminderSettings, Settings, WorkerSettings
from tests.support.receiver import LOOPBACK, Receiver, receiver
from tests.support.server import LiveServer
from tests.support.worker import case_with_deadline


@pytest.fixture(scope="module")
def admin(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(server.key(Role.ADMIN)) as client:
        yield client


@pytest.fixture(scope="module")
def ico_admin(server: LiveServer) -> Iterator[httpx.Client]:
    with server.client(server.key(Role.ADMIN, ["ico"])) as client:
        yield client


def test_create_shows_the_secret_once_list_and_delete(admin: httpx.Client) -> None:
    created = admin.post(
        "/v1/subscriptions",
        json={"url": "https://hooks.example/x", "kinds": ["response_due"], "description": "ops"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    sub_id = body["subscription_id"]
    listed = admin.get("/v1/subscriptions").json()
    assert [s["subscription_id"] for s in listed if s["subscription_id"] == sub_id] == [sub_id]
    assert all("secret" not in s for s in listed)
    assert "secret" not in admin.get(f"/v1/subscriptions/{sub_id}").json()
    deleted = admin.delete(f"/v1/subscriptions/{sub_id}")
    assert deleted.status_code == 200
    assert deleted.json()["deleted_at"] is not None
    assert sub_id not in [s["subscription_id"] for s in admin.get("/v1/subscriptions").json()]


@pytest.mark.parametrize(
    "body",
    [
        {"url": "ftp://hooks.example/x"},
        {"url": "https://hooks.example/x", "secret": "not-a-secret"},
        {"url": "https://hooks.example/x", "secret": "whsec_c2hvcnQ="},
        {"url": "https://hooks.example/x", "colour": "blue"},
    ],
)
def test_bad_subscriptions_are_refused(admin: httpx.Client, body: dict[str, object]) -> None:
    response = admin.post("/v1/subscriptions", json=body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_event_types_are_checked_against_the_registry_and_shown(admin: httpx.Client) -> None:
    url = "https://hooks.example/events"
    refused = admin.post(
        "/v1/subscriptions", json={"url": url, "event_types": ["deadline_missed", "no_such"]}
    )
    assert refused.status_code in (400, 422), refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "no_such" in refused.text
    assert "event_types" in refused.text
    assert "deadline_missed" not in refused.text
    types = ["penalty_imposed", "deadline_missed"]
    created = admin.post("/v1/subscriptions", json={"url": url, "event_types": types})
    assert created.status_code == 201, created.text
    sub_id = created.json()["subscription_id"]
    assert admin.get(f"/v1/subscriptions/{sub_id}").json()["event_types"] == sorted(types)
    plain = admin.post("/v1/subscriptions", json={"url": url}).json()
    assert plain["event_types"] is None


def test_a_scoped_admin_reaches_only_its_own_regulators(
    server: LiveServer, admin: httpx.Client, ico_admin: httpx.Client
) -> None:
    url = "https://hooks.example/ico"
    for scope in (None, ["ofcom"], ["ico", "ofcom"]):
        refused = ico_admin.post("/v1/subscriptions", json={"url": url, "regulators": scope})
        assert refused.status_code == 400, refused.text
    own = ico_admin.post("/v1/subscriptions", json={"url": url, "regulators": ["ico"]})
    assert own.status_code == 201
    other = admin.post("/v1/subscriptions", json={"url": url}).json()["subscription_id"]
    visible = {s["subscription_id"] for s in ico_admin.get("/v1/subscriptions").json()}
    assert own.json()["subscription_id"] in visible
    assert other not in visible
    for path in (f"/v1/subscriptions/{other}", f"/v1/subscriptions/{other}/deliveries"):
        assert ico_admin.get(path).status_code == 404
    assert ico_admin.delete(f"/v1/subscriptions/{other}").status_code == 404
    with server.client(server.key(Role.WRITER)) as writer:
        assert writer.get("/v1/subscriptions").status_code == 403


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


def test_the_delivery_log_shows_every_attempt(
    server: LiveServer, admin: httpx.Client, hooks: Receiver
) -> None:
    secret = new_secret()
    url = hooks.route("log", secret, fail=1, status=503)
    body = {"url": url, "secret": secret, "kinds": ["log_due"]}
    sub_id = admin.post("/v1/subscriptions", json=body).json()["subscription_id"]
    asyncio.run(_deliver_one(server.database_url))
    page = admin.get(f"/v1/subscriptions/{sub_id}/deliveries", params={"limit": 1}).json()
    [item] = page["items"]
    assert (item["status"], item["attempts"], item["case_id"]) == ("delivered", 2, "ofcom-log-1")
    assert [(a["status_code"], a["outcome"]) for a in item["log"]] == [
        (503, "retry"),
        (200, "delivered"),
    ]
    assert item["webhook_id"] == hooks.seen("log")[0].webhook_id
    assert page["next_cursor"] is None


async def _deliver_one(database_url: str) -> None:
    """A ``log_due`` deadline set on 12 Oct 2026; deliver its -5wd reminder on 20 Oct."""
    clock = FixedClock(datetime(2026, 10, 12, 8, tzinfo=UTC))
    settings = Settings(
        database=DatabaseSettings(url=database_url, pool_size=2),
        worker=WorkerSettings(broker_url=""),
        reminders=ReminderSettings(webhook_allowed_networks=LOOPBACK),
    )
    c = build_container(settings, clock=clock)
    client = build_client(5.0, c.targets)
    try:
        await case_with_deadline(
            c.cases, "ofcom-log-1", date(2026, 10, 12), date(2026, 10, 27), kind="log_due"
        )
        clock.set(datetime(2026, 10, 20, 8, tzinfo=UTC))
        delivery = ReminderDelivery(
            SqlDeliveryStore(c.engine),
            HttpxWebhookSender(client),
            c.cases,
            c.regimes,
            clock,
            RetryPolicy(3, 0.0, 0.0),
            60.0,
            random.Random(1),
        )
        claims, _ = await claim_due(c.engine, clock.now(), 10, 60.0)
        for rid, sid, token in claims:
            held: str | None = token
            while (outcome := await delivery.deliver(rid, sid, held or "")).status == "retry":
                held = outcome.claim_token  # a retry carries the claim its attempt held
    finally:
        await client.aclose()
        await c.aclose()
