"""``casemgmt receive`` checks Standard Webhooks signatures as the reference library signs."""

from __future__ import annotations

from datetime import UTC, datetime

from standardwebhooks.webhooks import Webhook

from casemgmt.entrypoints.cli.receive import signature_ok

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _signed(body: bytes) -> dict[str, str]:
    at = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    signature = Webhook(SECRET).sign("msg_1", at, body.decode())
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
    }


def test_a_signature_made_by_the_reference_library_verifies() -> None:
    body = b'{"type": "reminder.due", "data": {"case_id": "ofcom-1"}}'
    assert signature_ok(SECRET, _signed(body), body)


def test_another_body_or_secret_does_not_verify() -> None:
    body = b'{"type": "reminder.due"}'
    headers = _signed(body)
    assert not signature_ok(SECRET, headers, body + b" ")
    assert not signature_ok("whsec_" + "A" * 32, headers, body)
