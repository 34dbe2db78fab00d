"""``casemgmt receive``: a webhook receiver on this machine, to try subscriptions locally.

It listens on 127.0.0.1, prints one line per delivery (its ``webhook-id``, whether the
Standard Webhooks signature checks out under ``--secret``, and the event's type and case)
and answers 204. The signature is ``v1,`` + base64 HMAC-SHA256 of ``id.timestamp.body``
under the secret's bytes (the part after ``whsec_``, base64-decoded).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import click

__all__ = ["register", "signature_ok"]


def signature_ok(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Whether any ``v1,`` signature in ``webhook-signature`` matches ``secret``."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers.get('webhook-id', '')}.{headers.get('webhook-timestamp', '')}."
    digest = hmac.new(key, signed.encode() + body, hashlib.sha256).digest()
    expected = "v1," + base64.b64encode(digest).decode()
    offered = headers.get("webhook-signature", "").split()
    return any(hmac.compare_digest(expected, sig) for sig in offered)


def _handler(secret: str | None) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            checked = "unchecked" if secret is None else (
                "verified" if signature_ok(secret, headers, body) else "BAD SIGNATURE"
            )  # fmt: skip
            try:
                payload = json.loads(body)
            except ValueError:
                payload = {}
            data = payload.get("data", payload) if isinstance(payload, dict) else {}
            click.echo(
                f"{headers.get('webhook-id', '-')} {checked} {payload.get('type', '-')} "
                f"case={data.get('case_id', '-')}"
            )
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the one line per delivery above is the log."""

    return Handler


@click.command("receive")
@click.option("--port", default=8900, show_default=True, help="Port on 127.0.0.1.")
@click.option("--secret", default=None, help="The subscription's whsec_ secret, to verify.")
def receive(port: int, secret: str | None) -> None:
    """Receive webhooks on 127.0.0.1:PORT and print one line per delivery (Ctrl-C stops)."""
    server = ThreadingHTTPServer(("127.0.0.1", port), _handler(secret))
    click.echo(f"receiving webhooks at http://127.0.0.1:{port}/ (Ctrl-C stops)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def register(main: click.Group) -> None:
    main.add_command(receive)
