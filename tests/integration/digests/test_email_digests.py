"""Daily email digests through a real SMTP server (aiosmtpd on a free loopback port):
one plain-text message per active person listing, within their regulator scopes, what is
due this week, overdue and missed; a person scoped elsewhere gets nothing about them."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from celery.schedules import crontab
from tests.support.worker import case_with_deadline

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.mail import SmtpMailSender
from casemgmt.adapters.sql.reminders.store import SqlOverdueSource
from casemgmt.application.auth import Role
from casemgmt.application.reminders.delivery import MissedDeadlines
from casemgmt.bootstrap import Container, build_container, build_worker
from casemgmt.entrypoints.worker.app import TASK_NAMES, celery_config
from casemgmt.entrypoints.worker.tasks import SEND_DIGESTS
from casemgmt.settings import DatabaseSettings, Settings, WorkerSettings

#: Monday 12 October 2026, 08:00 UTC.
T0 = datetime(2026, 10, 12, 8, 0, tzinfo=UTC)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content)))
        return "250 OK"

    def to(self, address: str) -> list[Message]:
        return [m for rcpt, m in self.messages if address in rcpt]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@pytest.fixture
async def container(database_url: str, inbox: tuple[Inbox, int]) -> AsyncIterator[Container]:
    settings = Settings(
        database=DatabaseSettings(url=database_url, pool_size=4),
        worker=WorkerSettings(broker_url=""),
        smtp_url=f"smtp://127.0.0.1:{inbox[1]}",
        smtp_from="casemgmt@example.org",
    )
    built = build_container(settings, clock=FixedClock(T0))
    try:
        yield built
    finally:
        await built.aclose()


def _body(message: Message) -> str:
    payload = message.get_payload(decode=True)
    assert isinstance(payload, bytes)
    return payload.decode().replace("\r\n", "\n")  # SMTP sends CRLF lines


def _section(body: str, title: str) -> str:
    """The lines of one section of a digest (from its title to the blank line)."""
    start = body.index(f"\n{title} (")
    return body[start : body.index("\n\n", start)]


async def test_each_person_gets_their_scopes_due_overdue_and_missed(
    container: Container, inbox: tuple[Inbox, int]
) -> None:
    c, received = container, inbox[0]
    await case_with_deadline(c.cases, "ofcom-dg-missed", date(2026, 10, 1), date(2026, 10, 5))
    assert await MissedDeadlines(SqlOverdueSource(c.engine), c.cases, c.clock).mark(10) == 1
    await case_with_deadline(c.cases, "ofcom-dg-overdue", date(2026, 10, 1), date(2026, 10, 9))
    await case_with_deadline(c.cases, "ofcom-dg-week", date(2026, 10, 12), date(2026, 10, 15))
    await case_with_deadline(c.cases, "ofcom-dg-later", date(2026, 10, 12), date(2026, 11, 30))
    ana = await c.people.invite(None, "ana@example.org", "Ana", Role.READER, ["ofcom"])
    await c.people.invite(None, "ben@example.org", "Ben", Role.READER, ["ico"])
    carl = await c.people.invite(None, "carl@example.org", "Carl", Role.WRITER, ["ofcom"])
    await c.people.set_enabled(None, carl.user.user_id, False)

    dry = await c.digests.send(c.clock.now(), dry_run=True)
    assert dry.dry_run
    assert dry.sent == 0
    assert received.messages == []

    report = await c.digests.send(c.clock.now())

    assert report.sent == 1
    assert report.skipped_empty == 1  # Ben: nothing in his scope
    assert [rcpt for rcpt, _ in received.messages] == [["ana@example.org"]]
    assert received.to("ben@example.org") == []
    assert received.to("carl@example.org") == []
    (message,) = received.to("ana@example.org")
    assert message["From"] == "casemgmt@example.org"
    assert message["Subject"] == (
        "casemgmt digest 2026-10-12: 1 due this week, 1 overdue, 1 missed"
    )
    assert message.get_content_type() == "text/plain"
    body = _body(message)
    assert "ofcom-dg-missed" in _section(body, "Missed")
    assert "ofcom-dg-overdue" in _section(body, "Overdue")
    week = _section(body, "Due this week")
    assert "ofcom-dg-week" in week
    assert "2026-10-15" in week
    assert "ofcom-dg-later" not in body
    (ana_digest,) = [d for d in report.digests if d.user_id == ana.user.user_id]
    assert [v.case_id for v in ana_digest.missed] == ["ofcom-dg-missed"]


async def test_digests_are_off_without_an_smtp_url(database_url: str) -> None:
    settings = Settings(
        database=DatabaseSettings(url=database_url), worker=WorkerSettings(broker_url="")
    )
    built = build_container(settings, clock=FixedClock(T0))
    try:
        assert not built.digests.enabled
        report = await built.digests.send(T0)
        assert report.dry_run
        assert report.sent == 0
    finally:
        await built.aclose()


def test_the_smtp_password_never_shows_in_the_sender() -> None:
    sender = SmtpMailSender("smtp://mailer:s3cr3t-pass@127.0.0.1:2525", "a@example.org")
    assert "s3cr3t" not in repr(sender)
    with pytest.raises(ValueError, match="CASEMGMT_SMTP_URL") as bad:
        SmtpMailSender("http://mailer:s3cr3t-pass@127.0.0.1", "a@example.org")
    assert "s3cr3t" not in str(bad.value)


async def test_the_worker_task_sends_the_same_digests(
    container: Container, inbox: tuple[Inbox, int]
) -> None:
    c, received = container, inbox[0]
    await case_with_deadline(c.cases, "ofcom-dg-worker", date(2026, 10, 1), date(2026, 10, 9))
    await c.people.invite(None, "dora@example.org", "Dora", Role.READER, ["ofcom"])
    services = await build_worker(c.settings)  # the system clock: long past 9 October
    try:
        assert await services.send_digests() == 1
    finally:
        await services.aclose()
    (message,) = received.to("dora@example.org")
    assert "ofcom-dg-worker" in _body(message)


def test_beat_sends_the_digests_daily_at_seven_utc() -> None:
    entry = celery_config(Settings())["beat_schedule"]["email-digests"]
    assert entry["task"] == SEND_DIGESTS
    assert entry["schedule"] == crontab(hour=7, minute=0)
    assert SEND_DIGESTS in TASK_NAMES
