"""A command against a missing, unmigrated or unreachable database prints one line saying
what is wrong and what fixes it (``casemgmt db upgrade``, the URL with its password
masked), never a traceback (#14 item 9)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from casemgmt.entrypoints.cli.root import main

COMMANDS = [["keys", "list"], ["verify"], ["demo", "load", "--seed-only"], ["reminders", "list"]]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends


def _run(args: list[str], url: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env={"CASEMGMT_DATABASE_URL": url})
    return result.exit_code, result.output


@pytest.mark.parametrize("args", COMMANDS)
def test_an_unmigrated_database_is_one_line_naming_the_fix(args: list[str], tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.sqlite'}"
    code, output = _run(args, url)
    assert code == 1, output
    assert "Traceback" not in output
    [line] = output.strip().splitlines()
    assert "run: casemgmt db upgrade" in line
    assert str(tmp_path / "empty.sqlite") in line


def test_an_unreachable_database_names_the_url_with_its_password_masked() -> None:
    url = f"postgresql+asyncpg://casemgmt:s3cret-pw@127.0.0.1:{_closed_port()}/casemgmt"
    code, output = _run(["keys", "list"], url)
    assert code == 1, output
    [line] = output.strip().splitlines()
    assert "s3cret-pw" not in line
    assert "casemgmt:***@127.0.0.1" in line
    assert "CASEMGMT_DATABASE_URL" in line


def test_a_migrated_database_is_not_reported(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}"
    assert _run(["db", "upgrade"], url)[0] == 0
    code, output = _run(["keys", "list"], url)
    assert code == 0, output
