"""Finding 2: webhook SSRF.

An admin could subscribe cloud metadata, loopback, private and encoded addresses; the
target's error bodies were stored in the delivery log and appended to the case; closed
ports were reported. Now non-public targets are refused (at subscription for literal
addresses, at connect time for every address a name resolves to), unless allowed by
``CASEMGMT_WEBHOOK_ALLOWED_NETWORKS``, and only a status code or a fixed error class is
ever recorded.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterator

import pytest

from casemgmt.adapters.webhooks import HttpxWebhookSender, build_client
from casemgmt.application.auth import Role
from casemgmt.application.reminders.policy import SendResult, new_secret
from casemgmt.application.reminders.targets import TargetPolicy
from tests.support.receiver import LOOPBACK, Receiver, receiver
from tests.support.server import LiveServer, free_port, live_server

REFUSED_URLS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.1:5432/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://2130706433/",
    "http://0x7f.1/",
    "http://10.0.0.8/hook",
    "http://192.168.1.1/hook",
    "http://172.16.0.1/hook",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "http://224.0.0.1/hook",
    "http://240.0.0.1/hook",
]


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {"CASEMGMT_WEBHOOK_ALLOWED_NETWORKS": ""}  # the default: public targets only
    with live_server(module_database_url, tmp_path_factory.mktemp("logs"), env) as srv:
        yield srv


@pytest.fixture
def hooks() -> Iterator[Receiver]:
    with receiver() as r:
        yield r


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_subscription_to_a_non_public_address_is_refused(server: LiveServer, url: str) -> None:
    with server.client(server.key(Role.ADMIN)) as admin:
        response = admin.post("/v1/subscriptions", json={"url": url})
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["field"] == "url"
        assert admin.get("/v1/subscriptions").json() == []


def _send(policy: TargetPolicy, url: str, secret: str | None = None) -> SendResult:
    async def send() -> SendResult:
        client = build_client(5.0, policy)
        try:
            sender = HttpxWebhookSender(client)
            return await sender.send(url, secret or new_secret(), "msg_1", b"{}")
        finally:
            await client.aclose()

    return asyncio.run(send())


def test_a_name_resolving_to_loopback_is_refused_at_connect_time(hooks: Receiver) -> None:
    url = hooks.route("named", new_secret()).replace("127.0.0.1", "localhost")
    refused = _send(TargetPolicy(), url)
    assert (refused.status_code, refused.error) == (None, "refused_target")
    assert hooks.seen("named") == []
    allowed = _send(TargetPolicy.parse(LOOPBACK), url)
    assert allowed.status_code is not None  # reached the receiver (401: unsigned for it)
    assert len(hooks.seen("named")) == 1


def test_closed_and_open_internal_ports_look_the_same(hooks: Receiver) -> None:
    open_port = hooks.route("open", new_secret())
    closed_port = f"http://127.0.0.1:{free_port()}/"
    results = {_send(TargetPolicy(), url).error for url in (open_port, closed_port)}
    assert results == {"refused_target"}


def test_the_targets_answer_is_never_recorded(hooks: Receiver) -> None:
    secret = new_secret()
    url = hooks.route("failing", secret, always_fail=True, status=500)
    result = _send(TargetPolicy.parse(LOOPBACK), url, secret)
    assert result.status_code == 500
    assert result.error is None
    closed = _send(TargetPolicy.parse(LOOPBACK), f"http://127.0.0.1:{free_port()}/")
    assert (closed.status_code, closed.error) == (None, "connect_failed")


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "::1", "::ffff:10.0.0.1", "169.254.169.254", "fe80::1", "fc00::1", "ff02::1"],
)
def test_the_policy_refuses_non_public_addresses(address: str) -> None:
    assert not TargetPolicy().allows(ipaddress.ip_address(address))
    assert TargetPolicy.parse("0.0.0.0/0, ::/0").allows(ipaddress.ip_address(address))


def test_the_policy_allows_public_addresses() -> None:
    assert TargetPolicy().allows(ipaddress.ip_address("93.184.216.34"))
    assert TargetPolicy().refusal("hooks.example") is None
    assert TargetPolicy().refusal("017700000001") is not None
    assert socket.inet_aton("017700000001") == bytes([127, 0, 0, 1])


def _resolving_to(monkeypatch: pytest.MonkeyPatch, address: str) -> list[str]:
    """Every name resolves to ``address`` (the system resolver stands in for DNS);
    returns the names asked for."""
    asked: list[str] = []

    async def getaddrinfo(
        self: asyncio.AbstractEventLoop, host: str, port: int, **_: object
    ) -> list[tuple[object, ...]]:
        asked.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    return asked


def test_the_connection_goes_to_the_address_that_was_checked(
    hooks: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = new_secret()
    url = hooks.route("pinned", secret).replace("127.0.0.1", "hooks.rebind.invalid")
    asked = _resolving_to(monkeypatch, "127.0.0.1")
    refused = _send(TargetPolicy(), url, secret)
    assert refused.error == "refused_target"
    assert hooks.seen("pinned") == []
    # Allowed: the name (unknown to any real resolver) is resolved once, and the socket
    # goes to the address that was checked, not to a second lookup's answer.
    delivered = _send(TargetPolicy.parse(LOOPBACK), url, secret)
    assert delivered.status_code == 200
    assert asked == ["hooks.rebind.invalid", "hooks.rebind.invalid"]
    assert len(hooks.seen("pinned")) == 1
