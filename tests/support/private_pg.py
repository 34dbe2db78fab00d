"""A private PostgreSQL cluster for fault tests: its own data directory and loopback port.

Fault tests stop, restart and ``kill -9`` this cluster, never the shared server:
``initdb`` runs as the ``postgres`` user (when started as root) into a temporary
directory, the postmaster listens on a free 127.0.0.1 port, and every signal goes to the
PID in this cluster's own ``postmaster.pid``. Skips when no PostgreSQL binaries exist.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.server import free_port

__all__ = ["PrivatePostgres", "pg_bin_dir", "private_postgres"]


def pg_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/*/bin`` holding ``initdb``, or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key)
    return Path(found[-1]).parent if found else None


def _version_key(path: str) -> int:
    part = Path(path).parts[-3]
    return int(part) if part.isdigit() else 0


def _demote() -> list[str]:
    """The ``su`` prefix that runs PostgreSQL as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return []
    return ["su", "postgres", "-s", "/bin/sh", "-c"]


@dataclass
class PrivatePostgres:
    bin_dir: Path
    root: Path
    port: int

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log_path(self) -> Path:
        return self.root / "postgres.log"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        command = " ".join([str(self.bin_dir / args[0]), *args[1:]])
        prefix = _demote()
        argv = [*prefix, command] if prefix else ["/bin/sh", "-c", command]
        return subprocess.run(argv, check=check, capture_output=True, timeout=60)

    def init(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            os.chown(self.root, pwd.getpwnam("postgres").pw_uid, -1)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log_path), "-w", "-t", "60",
                  "-o", f"'{options}'", "start")  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        """``pg_ctl stop`` of this cluster (its own PID file); no error if already down."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)

    def pid(self) -> int | None:
        pid_file = self.data / "postmaster.pid"
        with contextlib.suppress(FileNotFoundError, ValueError, IndexError):
            return int(pid_file.read_text().splitlines()[0])
        return None

    def kill9(self) -> None:
        """SIGKILL this cluster's postmaster (its children exit on their own)."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            _wait_gone(pid)

    def restart(self) -> None:
        self.stop()
        self.start()


def _wait_gone(pid: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A started private cluster; stopped (by its own PID file) and deleted on exit."""
    import pytest

    bin_dir = pg_bin_dir()
    if bin_dir is None or (os.geteuid() == 0 and not shutil.which("su")):
        pytest.skip("no PostgreSQL server binaries (initdb) on this machine")
    root = Path(tempfile.mkdtemp(prefix="casemgmt-pg-"))
    cluster = PrivatePostgres(bin_dir, root, free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)
