"""A real API server process (uvicorn on 127.0.0.1, a free port) for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy.engine import make_url

from casemgmt.application.auth import Role
from casemgmt.bootstrap import build_container
from casemgmt.settings import DatabaseSettings, Settings
from tests.support.receiver import LOOPBACK

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _create_key(url: str, name: str, role: Role, regulators: list[str] | None) -> str:
    container = build_container(Settings(database=DatabaseSettings(url=url)))
    try:
        issued = await container.access.create_key(None, name, role, regulators)
        return issued.token
    finally:
        await container.aclose()


def create_key(url: str, name: str, role: Role, regulators: list[str] | None = None) -> str:
    """Store a new key directly in the database at ``url``; return its token."""
    return asyncio.run(_create_key(url, name, role, regulators))


@dataclass
class LiveServer:
    base_url: str
    database_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def client(self, token: str | None = None, **kwargs: object) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=30.0, **kwargs)  # type: ignore[arg-type]

    def key(self, role: Role = Role.ADMIN, regulators: list[str] | None = None) -> str:
        return create_key(self.database_url, f"test {role.value}", role, regulators)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def app_url(database_url: str) -> str:
    """The URL the API connects with: on PostgreSQL as the app role (see ``tests/conftest``),
    which cannot alter, truncate or un-trigger ``events``; SQLite as is."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        return database_url
    return url.set(username="casemgmt_app", password=None).render_as_string(hide_password=False)


@contextmanager
def live_server(
    database_url: str,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    *,
    app_role: bool = True,
) -> Iterator[LiveServer]:
    """uvicorn over ``database_url``; on PostgreSQL it connects as the app role unless
    ``app_role`` is False (a private cluster without the role)."""
    port = free_port()
    log_path = log_dir / f"server-{port}.log"
    environment = {
        **os.environ,
        "CASEMGMT_DATABASE_URL": app_url(database_url) if app_role else database_url,
        "CASEMGMT_BROKER_URL": "",
        "CASEMGMT_LOG_LEVEL": "WARNING",
        "CASEMGMT_WEBHOOK_ALLOWED_NETWORKS": LOOPBACK,
        **(env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "api.app:app",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--no-proxy-headers",  # X-Forwarded-* is the app's call (CASEMGMT_TRUSTED_PROXIES)
    ]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=log)
    server = LiveServer(f"http://127.0.0.1:{port}", database_url, process, log_path)
    try:
        _wait_healthy(server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_healthy(server: LiveServer, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{server.log()}")
        try:
            if httpx.get(f"{server.base_url}/health/live", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"server did not become healthy:\n{server.log()}")
