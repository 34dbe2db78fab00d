"""``casemgmt up``: the whole system on one machine (what ``make run`` calls), and
``casemgmt serve``: the API alone, as production runs it (N uvicorn worker processes).

Migrates the database, loads the demo once, makes sure there is a demo admin key and a
demo officer (a person: email and password, kept in ``var/demo-officer.password``), then
runs the API (uvicorn) and a Celery worker with embedded beat as child processes, prints
where to look, and stops them all cleanly on Ctrl-C (or when one of them dies).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import click

from casemgmt.application.auth import Role
from casemgmt.application.demo import demo_cases, load_demo
from casemgmt.application.demo.assign import assign_demo_cases
from casemgmt.bootstrap import Container, build_container, upgrade_database
from casemgmt.settings import Settings

__all__ = ["register"]

KEY_FILE = "demo-admin.key"
OFFICER_FILE = "demo-officer.password"
#: The demo's officer: a person who signs in to the dashboard with a password.
OFFICER_EMAIL = "officer@example.org"
OFFICER_NAME = "Demo Officer"


async def _officer(container: Container, settings: Settings) -> str:
    """Make sure the demo officer exists and can sign in; return their password."""
    path = settings.ensure_var_dir() / OFFICER_FILE
    password = path.read_text().strip() if path.exists() else ""
    if len(password) < 12:
        password = "-".join(secrets.token_urlsafe(4) for _ in range(4))
        path.write_text(password + "\n")
        path.chmod(0o600)
    officer = await container.people.ensure(
        OFFICER_EMAIL, OFFICER_NAME, Role.WRITER, None, password
    )
    today = container.clock.now().date()
    await assign_demo_cases(container.cases, container.queries, officer.user_id, today)
    return password


async def _prepare(settings: Settings, demo: bool) -> tuple[str, str]:
    """Load the demo (idempotent); return a working demo admin key and the demo officer's
    password."""
    container = build_container(settings)
    try:
        if demo:
            report = await load_demo(
                container.cases, demo_cases(synthetic=True), container.clock.now().date()
            )
            click.echo(
                f"demo data: {report.cases} cases ({report.cases_opened} new), "
                f"{report.events_recorded} events recorded"
            )
        password = await _officer(container, settings)
        path = settings.ensure_var_dir() / KEY_FILE
        if path.exists():
            token = path.read_text().strip()
            if await container.access.authenticate(token) is not None:
                return token, password
        issued = await container.access.create_key(None, "demo admin (make run)", Role.ADMIN, None)
        path.write_text(issued.token + "\n")
        path.chmod(0o600)
        return issued.token, password
    finally:
        await container.aclose()


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


def _children(settings: Settings, root: Path) -> list[tuple[str, list[str]]]:
    bin_dir = Path(sys.executable).parent
    api = [
        sys.executable, "-m", "uvicorn", "api.app:app", "--app-dir", str(root),
        "--host", settings.api.host, "--port", str(settings.api.port), "--no-access-log",
        "--no-proxy-headers",  # X-Forwarded-Proto: only from CASEMGMT_TRUSTED_PROXIES
    ]  # fmt: skip
    worker = [str(bin_dir / "casemgmt"), "worker", "--beat"]
    return [("api", api), ("worker", worker)]


def _stop(processes: Sequence[tuple[str, subprocess.Popen[bytes]]]) -> None:
    for _, process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for name, process in processes:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            click.echo(f"{name} did not stop in time; killing it", err=True)
            process.kill()
            process.wait()


def _supervise(processes: Sequence[tuple[str, subprocess.Popen[bytes]]]) -> int:
    stopping = False

    def on_signal(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    while not stopping:
        for name, process in processes:
            if process.poll() is not None:
                click.echo(f"{name} exited with {process.returncode}; stopping the rest", err=True)
                _stop(processes)
                return 1
        time.sleep(0.5)
    click.echo("\nstopping...")
    _stop(processes)
    return 0


@click.command("up")
@click.option("--demo/--no-demo", default=True, show_default=True, help="Load the demo cases.")
def up(demo: bool) -> None:
    """Migrate, load the demo, start the API, a worker and beat; Ctrl-C stops them all."""
    settings = Settings.from_env()
    root = Path.cwd()
    if not (root / "api" / "app.py").is_file():
        raise click.ClickException("run `casemgmt up` (or `make run`) from the project's root")
    if not _port_free(settings.api.host, settings.api.port):
        raise click.ClickException(
            f"port {settings.api.port} is taken: set CASEMGMT_PORT to another one"
        )
    settings.ensure_var_dir()
    upgrade_database(settings)
    token, password = asyncio.run(_prepare(settings, demo))
    env = {**os.environ, "CASEMGMT_DATABASE_URL": settings.database.url}
    processes = [
        (name, subprocess.Popen(command, env=env, cwd=root))
        for name, command in _children(settings, root)
    ]
    base = f"http://{settings.api.host}:{settings.api.port}"
    click.echo(
        "\ncasemgmt is running:\n"
        f"  dashboard   {base}/dashboard\n"
        f"  API docs    {base}/schema\n"
        f"  health      {base}/health\n"
        f"  sign in     {base}/dashboard/sign-in as {OFFICER_EMAIL} with password "
        f"{password}\n"
        f"              (a writer; or sign in with the admin key below; admins invite people "
        f"at {base}/dashboard/people)\n"
        f"  admin key   {token}\n"
        f"  try         curl -H 'Authorization: Bearer {token}' {base}/v1/cases\n"
        "Ctrl-C stops everything.\n"
    )
    raise SystemExit(_supervise(processes))


def _fastest(module: str, name: str) -> str:
    """``name`` (uvloop, httptools) when ``module`` is installed, else uvicorn's default."""
    try:
        __import__(module)
    except ImportError:
        return "auto"
    return name


def serve_command(settings: Settings, root: Path, workers: int) -> list[str]:
    """The uvicorn command line ``casemgmt serve`` runs (uvloop and httptools when
    available, no access log: the app logs each request itself)."""
    return [
        sys.executable, "-m", "uvicorn", "api.app:app", "--app-dir", str(root),
        "--host", settings.api.host, "--port", str(settings.api.port),
        "--workers", str(workers), "--no-access-log", "--no-proxy-headers",
        "--loop", _fastest("uvloop", "uvloop"), "--http", _fastest("httptools", "httptools"),
    ]  # fmt: skip


@click.command("serve")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="API worker processes (default: one per CPU core; 1 with CASEMGMT_DEBUG).",
)
def serve(workers: int | None) -> None:
    """Run the API on CASEMGMT_HOST:CASEMGMT_PORT with N worker processes (production)."""
    settings = Settings.from_env()
    root = Path.cwd()
    if not (root / "api" / "app.py").is_file():
        raise click.ClickException("run `casemgmt serve` from the project's root")
    if workers is None:
        workers = 1 if settings.api.debug else (os.cpu_count() or 1)
    command = serve_command(settings, root, workers)
    click.echo(
        f"API on http://{settings.api.host}:{settings.api.port} with {workers} worker(s)",
        err=True,
    )
    os.execv(command[0], command)


def register(main: click.Group) -> None:
    main.add_command(up)
    main.add_command(serve)
