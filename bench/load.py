"""A lean HTTP/1.1 load generator and a uvicorn launcher shared by the HTTP sections.

Server and load generator share this 2-core machine, so the client must cost little: each
virtual client keeps one keep-alive connection (asyncio streams) and writes and parses
plain HTTP/1.1 itself (Content-Length or chunked bodies), about a tenth of httpx's CPU per
request. The floor (bare Litestar + INSERT) and the API are driven by the same code, so
their ratio compares servers, not clients.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

__all__ = ["HttpError", "Load", "percentile", "rss_mb", "run_load", "serve", "server_cpu_seconds"]

ROOT = Path(__file__).resolve().parents[1]
#: (method, path, body or None) for client ``c``'s ``n``-th request.
Request = Callable[[int, int], tuple[str, str, bytes | None]]


class HttpError(Exception):
    pass


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile of ``values`` (seconds), in milliseconds."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * pct / 100))] * 1000


class Load:
    """The outcome of :func:`run_load`."""

    def __init__(self, latencies: list[float], elapsed: float) -> None:
        self.latencies, self.elapsed = latencies, elapsed

    @property
    def per_s(self) -> float:
        return len(self.latencies) / self.elapsed

    def as_dict(self, per_request: int = 1) -> dict[str, Any]:
        return {
            "requests": len(self.latencies),
            "requests_per_s": round(self.per_s),
            "events_per_s": round(self.per_s * per_request),
            "p50_ms": round(percentile(self.latencies, 50), 2),
            "p99_ms": round(percentile(self.latencies, 99), 2),
            "seconds": round(self.elapsed, 2),
        }


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        return status, await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await reader.readexactly(size + 2)
            if size == 0:
                return status, bytes(body)
            body += chunk[:-2]
    return status, b""


async def run_load(
    base: str,
    clients: int,
    per_client: int,
    request: Request,
    headers: dict[str, str] | None = None,
) -> Load:
    """``clients`` concurrent keep-alive connections, each sending ``per_client``
    requests one after the other; every response must be 2xx."""
    url = httpx.URL(base)
    host, port = url.host, url.port or 80
    extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
    latencies: list[float] = []

    async def client(c: int) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            for n in range(per_client):
                method, path, body = request(c, n)
                head = f"{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\n{extra}"
                if body is not None:
                    head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                data = (head + "\r\n").encode("latin-1") + (body or b"")
                started = time.perf_counter()
                writer.write(data)
                status, payload = await _read_response(reader)
                latencies.append(time.perf_counter() - started)
                if status >= 300:
                    raise HttpError(f"{method} {path}: {status} {payload[:300]!r}")
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    return Load(latencies, time.perf_counter() - started)


def _children(pid: int) -> list[int]:
    found = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found += [int(p) for p in text.split()]
    except OSError:
        return []
    return found + [g for c in found for g in _children(c)]


def server_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by ``pid`` and its descendants (all threads)."""
    ticks = 0
    for p in [pid, *_children(pid)]:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """The largest resident set (MB) of ``pid`` and its descendants (each API worker is a
    process of its own; the largest one is the figure)."""
    largest = 0.0
    for p in [pid, *_children(pid)]:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    largest = max(largest, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return largest


@contextmanager
def serve(
    target: list[str], env: dict[str, str], log: Path, workers: int, health: str = "/health"
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """``uvicorn TARGET...`` with ``workers`` processes on a free loopback port (uvloop and
    httptools, no access log); yields (process, base URL) once ``health`` answers."""
    from tests.support.server import free_port

    port = free_port()
    command = [sys.executable, "-m", "uvicorn", *target, "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--no-access-log",
               "--loop", "uvloop", "--http", "httptools"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError(f"server exited:\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base}{health}", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")
        yield process, base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
