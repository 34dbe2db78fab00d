"""``security_headers`` (``before_send``): every response gets CSP (unless its route set
one), nosniff, no framing, a referrer policy (unless set) and the correlation id; what
it sets replaces the route's value, once, and nothing else of the route's is touched."""

from __future__ import annotations

from typing import Any

from casemgmt.entrypoints.http.guards import DEFAULT_CSP, security_headers
from casemgmt.entrypoints.http.openapi import DOCS_CSP


async def _sent(
    headers: list[tuple[bytes, bytes]], path: str = "/v1/cases", **state: Any
) -> dict[str, list[str]]:
    message: Any = {"type": "http.response.start", "status": 200, "headers": headers}
    await security_headers(message, {"path": path, "state": state})  # type: ignore[typeddict-item]
    out: dict[str, list[str]] = {}
    for name, value in message["headers"]:
        out.setdefault(name.decode().lower(), []).append(value.decode())
    return out


async def test_defaults_on_a_bare_response() -> None:
    sent = await _sent([(b"content-type", b"application/json")], correlation_id="c-1")
    assert sent["content-security-policy"] == [DEFAULT_CSP]
    assert sent["x-content-type-options"] == ["nosniff"]
    assert sent["x-frame-options"] == ["DENY"]
    assert sent["referrer-policy"] == ["no-referrer"]
    assert sent["x-correlation-id"] == ["c-1"]
    assert sent["content-type"] == ["application/json"]
    assert "x-correlation-id-replaced" not in sent


async def test_a_routes_own_csp_and_referrer_policy_are_kept() -> None:
    sent = await _sent(
        [(b"Content-Security-Policy", b"default-src 'self'"), (b"referrer-policy", b"same-origin")]
    )
    assert sent["content-security-policy"] == ["default-src 'self'"]
    assert sent["referrer-policy"] == ["same-origin"]


async def test_framing_and_sniffing_are_refused_whatever_the_route_said() -> None:
    sent = await _sent(
        [(b"x-frame-options", b"SAMEORIGIN"), (b"X-Content-Type-Options", b"sniff"),
         (b"x-correlation-id", b"from-route")],
        correlation_id="c-2", correlation_replaced=True,
    )  # fmt: skip
    assert sent["x-frame-options"] == ["DENY"]
    assert sent["x-content-type-options"] == ["nosniff"]
    assert sent["x-correlation-id"] == ["c-2"]
    assert len(sent["x-correlation-id-replaced"]) == 1


async def test_the_docs_get_their_own_csp() -> None:
    assert (await _sent([], path="/schema"))["content-security-policy"] == [DOCS_CSP]
    assert (await _sent([], path="/schema/swagger"))["content-security-policy"] == [DOCS_CSP]


async def test_other_messages_are_untouched() -> None:
    message: Any = {"type": "http.response.body", "body": b"x"}
    await security_headers(message, {"path": "/", "state": {}})  # type: ignore[typeddict-item]
    assert message == {"type": "http.response.body", "body": b"x"}
