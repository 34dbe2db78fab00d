"""A real webhook receiver on 127.0.0.1 for tests and the benchmark.

Each route (``/hooks/<name>``) has a secret and a behaviour: answer 2xx, fail the first
``fail`` requests with ``status`` (optionally with ``Retry-After``), fail always, or hold
every request after the first ``hold_after`` until released (to catch a worker mid-batch).
Every request is checked with the ``standardwebhooks`` library, independently of our
signing code, and recorded. Like a real integration, the receiver de-duplicates by the
``webhook-id`` header: a verified request it answers 2xx is *processed* (its payload
kept) only the first time its ``webhook-id`` comes; a later copy is answered the same
and not processed again. ``processed_twice`` counts reminders processed under more than
one id (what a de-duplicating receiver cannot catch), ``duplicates`` the copies dropped.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

#: What tests set CASEMGMT_WEBHOOK_ALLOWED_NETWORKS to: the receivers listen on loopback.
LOOPBACK = "127.0.0.0/8"


@dataclass
class Route:
    secret: str
    fail: int = 0
    status: int = 500
    always_fail: bool = False
    retry_after: str | None = None
    hold_after: int | None = None
    delay: float = 0.0
    served: int = 0
    processed: dict[str, dict[str, Any]] = field(default_factory=dict)  # by webhook-id


@dataclass(frozen=True)
class Received:
    route: str
    webhook_id: str
    verified: bool
    answered: int
    body: dict[str, Any] | None


@dataclass
class Receiver:
    base_url: str = ""
    routes: dict[str, Route] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    arrived: list[tuple[str, str]] = field(default_factory=list)  # (route, webhook-id)
    lock: threading.Lock = field(default_factory=threading.Lock)
    released: threading.Event = field(default_factory=threading.Event)

    def route(self, name: str, secret: str, **behaviour: Any) -> str:
        """Add a route; returns its URL."""
        with self.lock:
            self.routes[name] = Route(secret=secret, **behaviour)
        return f"{self.base_url}/hooks/{name}"

    def seen(self, name: str | None = None) -> list[Received]:
        with self.lock:
            return [r for r in self.received if name is None or r.route == name]

    def duplicates(self, name: str | None = None) -> int:
        """Requests answered 2xx for a ``webhook-id`` already answered 2xx before."""
        ok = Counter(r.webhook_id for r in self.seen(name) if 200 <= r.answered < 300)
        return sum(n - 1 for n in ok.values())

    def processed_twice(self, name: str) -> int:
        """Reminders (by the payload's reminder id) processed under more than one id."""
        with self.lock:
            payloads = list(self.routes[name].processed.values())
        ids = Counter(_reminder_id(p) for p in payloads)
        return sum(1 for n in ids.values() if n > 1)

    def processed_reminders(self, name: str) -> set[str]:
        with self.lock:
            return {_reminder_id(p) for p in self.routes[name].processed.values()}

    def arrived_ids(self, name: str) -> set[str]:
        """``webhook-id`` s of every request that reached the route so far (answered or not)."""
        with self.lock:
            return {i for route, i in self.arrived if route == name}

    def handle(self, name: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, str]]:
        with self.lock:
            route = self.routes.get(name)
            if route is None:
                return 404, {}
            route.served += 1
            n = route.served
            self.arrived.append((name, headers.get("webhook-id", "")))
        if route.hold_after is not None and n > route.hold_after:
            self.released.wait(timeout=60)
        if route.delay:
            time.sleep(route.delay)  # a slow receiver
        try:
            payload = Webhook(route.secret).verify(body, headers)
            verified = True
        except WebhookVerificationError:
            payload, verified = None, False
        status, extra = 200, {}
        if not verified:
            status = 401
        elif route.always_fail or n <= route.fail:
            status = route.status
            if route.retry_after is not None:
                extra["Retry-After"] = route.retry_after
        message_id = headers.get("webhook-id", "")
        with self.lock:
            if 200 <= status < 300 and payload is not None:
                route.processed.setdefault(message_id, payload)  # de-duplicated by the id
            self.received.append(Received(name, message_id, verified, status, payload))
        return status, extra


def _reminder_id(payload: dict[str, Any]) -> str:
    reminder = payload.get("data", {}).get("reminder") or {}
    return str(reminder.get("reminder_id", ""))


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes: without TCP_NODELAY, Nagle's algorithm
        # and the client's delayed ACK stall every response by ~40 ms.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            length = int(self.headers.get("content-length", "0"))
            body = self.rfile.read(length)
            name = self.path.removeprefix("/hooks/")
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, extra = receiver.handle(name, body, headers)
            reply = json.dumps({"status": status}).encode()
            try:
                self.send_response(status)
                for key, value in {**extra, "content-type": "application/json"}.items():
                    self.send_header(key, value)
                self.send_header("content-length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)
            except OSError:
                pass  # the worker was killed while we held its request

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class _Server(ThreadingHTTPServer):
    # A worker sends a batch concurrently: the default listen backlog (5) would drop
    # connections a real receiver accepts.
    request_queue_size = 256


@contextmanager
def receiver() -> Iterator[Receiver]:
    """A running receiver on a free port of 127.0.0.1; stopped on exit."""
    state = Receiver()
    server = _Server(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.released.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
