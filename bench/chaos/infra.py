"""What a chaos run starts and kills: a private PostgreSQL cluster and Redis on free
loopback ports, the API with several workers, and the load (writers and feed tailers).

Nothing here touches a shared server: every process is started here and signalled by
its own PID (the API's workers are children of the uvicorn process started here).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from tests.support.server import ROOT, create_key, free_port

from casemgmt.application.auth import Role


@dataclass
class PrivateRedis:
    port: int
    root: Path
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
                   "--save", "", "--appendonly", "no", "--dir", str(self.root)]  # fmt: skip
        log = (self.root / "redis.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("private redis did not start")

    def kill9(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def private_redis() -> Iterator[PrivateRedis]:
    if shutil.which("redis-server") is None:
        raise RuntimeError("redis-server is not installed")
    root = Path(tempfile.mkdtemp(prefix="casemgmt-redis-"))
    redis = PrivateRedis(free_port(), root)
    redis.start()
    try:
        yield redis
    finally:
        redis.kill9()
        shutil.rmtree(root, ignore_errors=True)


@dataclass
class Api:
    base_url: str
    process: subprocess.Popen[bytes]
    database_url: str

    def workers(self) -> list[int]:
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(self.process.pid)],
                             capture_output=True, text=True, check=False).stdout  # fmt: skip
        pids = [int(p) for p in out.split()]
        return [p for p in pids if "spawn_main" in _cmdline(p)]  # not the resource tracker

    def key(self, role: Role = Role.ADMIN) -> str:
        return create_key(self.database_url, f"chaos {role.value}", role)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@contextmanager
def api(database_url: str, log_dir: Path, workers: int, env: dict[str, str]) -> Iterator[Api]:
    port = free_port()
    environment = {**os.environ, "CASEMGMT_DATABASE_URL": database_url,
                   "CASEMGMT_LOG_LEVEL": "WARNING", **env}  # fmt: skip
    command = [sys.executable, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--no-access-log"]  # fmt: skip
    log = (log_dir / "api.log").open("ab")
    process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log)
    server = Api(f"http://127.0.0.1:{port}", process, database_url)
    try:
        wait_for(lambda: _live(server.base_url), 60, "the API")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _live(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/health/live", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(check: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


@dataclass
class Load:
    """Writers posting events (half with an Idempotency-Key, re-posted once) to the API."""

    base_url: str
    token: str
    clients: int
    stop: threading.Event = field(default_factory=threading.Event)
    acknowledged: set[str] = field(default_factory=set)
    responses: list[tuple[float, int]] = field(default_factory=list)
    conflicts_409: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self.stop.clear()
        self.threads = [threading.Thread(target=self._client, args=(n,), daemon=True)
                        for n in range(self.clients)]  # fmt: skip
        for thread in self.threads:
            thread.start()

    def halt(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)

    def _client(self, n: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=30) as client:
            case_id = None
            i = 0
            while not self.stop.is_set():
                if case_id is None:
                    case_id = self._open(client)
                    continue
                self._post(client, case_id, n, i)
                i += 1
                time.sleep(0.02)

    def _open(self, client: httpx.Client) -> str | None:
        case_id = f"ofcom-chaos-{uuid.uuid4().hex[:10]}"
        body = {"regulator": "ofcom", "regime": "osa-2023", "subject": "X Corp",
                "title": "chaos", "opened_on": "2026-01-05", "case_id": case_id}  # fmt: skip
        status = self._send(client, "/v1/cases", body, {})
        if status == 201:
            with self.lock:
                self.acknowledged.add(f"case:{case_id}")
            return case_id
        time.sleep(0.2)
        return None

    def _post(self, client: httpx.Client, case_id: str, n: int, i: int) -> None:
        event_id = str(uuid.uuid4())
        body = {"type": "contact_recorded", "occurred_on": "2026-01-06",
                "direction": "inbound", "channel": "email",
                "summary": f"chaos {n}/{i}", "event_id": event_id}  # fmt: skip
        headers = {"Idempotency-Key": f"k-{event_id}"} if i % 2 else {}
        for _ in range(2 if i % 2 else 1):  # the idempotent half is re-posted
            if self._send(client, f"/v1/cases/{case_id}/events", body, headers) == 201:
                with self.lock:
                    self.acknowledged.add(event_id)

    def _send(self, client: httpx.Client, url: str, body: object, headers: dict[str, str]) -> int:
        try:
            status = client.post(url, json=body, headers=headers).status_code
        except httpx.HTTPError:
            status = 0  # connection refused/reset: an API worker died mid-request
        with self.lock:
            self.responses.append((time.monotonic(), status))
            self.conflicts_409 += status == 409
        return status


@dataclass
class Tailer:
    """Follows ``GET /v1/events`` with the last position it saw, as an integration would."""

    base_url: str
    token: str
    seen: list[int] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def halt(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=60)

    def catch_up(self) -> None:
        with self._client() as client:
            while self._page(client):
                pass

    def _client(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30)

    def _run(self) -> None:
        with self._client() as client:
            while not self.stop.is_set():
                try:
                    if not self._page(client):
                        time.sleep(0.2)
                except httpx.HTTPError:
                    time.sleep(0.5)

    def _page(self, client: httpx.Client) -> bool:
        after = self.seen[-1] if self.seen else 0
        response = client.get("/v1/events", params={"after": after, "limit": 1000})
        if response.status_code != 200:
            time.sleep(0.5)
            return False
        items = response.json()["items"]
        self.seen += [int(e["position"]) for e in items]
        self.ids += [e["event_id"] for e in items]
        return bool(items)


def kill9(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
