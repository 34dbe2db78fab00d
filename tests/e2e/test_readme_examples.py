"""The README's API examples, run verbatim against a live server (#14 item 10).

The ``sh`` blocks of the README's "API overview" section are run by bash from the project
root, as a reader would paste them. Only the variables the README itself defines for the
base URL (``API``) and the receiver's port (``RECEIVER_PORT``) are replaced; the keys are
made by the README's own ``casemgmt keys create`` lines, against the server's database.
Every answer must be a success: no problem+json anywhere in the output.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from casemgmt.application.auth import Role
from tests.support.receiver import LOOPBACK
from tests.support.server import ROOT, LiveServer, free_port, live_server

README = ROOT / "README.md"


@pytest.fixture(scope="module")
def server(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    env = {"CASEMGMT_WEBHOOK_ALLOWED_NETWORKS": LOOPBACK}
    with live_server(module_database_url, tmp_path_factory.mktemp("logs"), env) as srv:
        yield srv


def readme_api_examples() -> str:
    """The ``sh`` blocks of the "API overview" section, joined."""
    text = README.read_text()
    section = text.split("\n## API overview", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert blocks, "the API overview has no sh example"
    return "\n".join(blocks)


def _substituted(script: str, base_url: str, port: int) -> str:
    for name, value in (("API", base_url), ("RECEIVER_PORT", str(port))):
        pattern = re.compile(rf"^({name}=)\S+?(;|$)", flags=re.M)
        assert pattern.search(script), f"the README no longer defines {name}"
        script = pattern.sub(lambda m, v=value: f"{m.group(1)}{v}{m.group(2)}", script)
    return script


def _run(script: str, database_url: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    wrapped = f"set -euo pipefail\n{script}\nkill $(jobs -p) 2>/dev/null || true\nwait\n"
    env = {**os.environ, "CASEMGMT_DATABASE_URL": database_url, "HOME": str(tmp)}
    process = subprocess.Popen(
        ["bash", "-c", wrapped],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def test_the_readme_api_examples_run_verbatim(server: LiveServer, tmp_path: Path) -> None:
    script = _substituted(readme_api_examples(), server.base_url, free_port())
    result = _run(script, server.database_url, tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "casemgmt.dev/problems" not in result.stdout, result.stdout
    assert "about:blank" not in result.stdout, result.stdout
    start = result.stdout.index('{"results":')
    imported, _ = json.JSONDecoder().raw_decode(result.stdout, start)
    assert imported["results"], result.stdout
    assert imported["rejected"] == 0, imported
    with server.client(server.key(Role.READER)) as reader:
        for case_id, stage in (("ofcom-example-osa", "investigation"), ("ofcom-x-grok", None)):
            case = reader.get(f"/v1/cases/{case_id}")
            assert case.status_code == 200, case.text
            assert stage is None or case.json()["stage"] == stage
        assert reader.get("/v1/cases/ofcom-example-foi").json()["stage"] == "responded"


def test_the_example_import_is_accepted_line_by_line(server: LiveServer) -> None:
    """The shipped NDJSON is accepted by the current rules (a second post: duplicates)."""
    body = (ROOT / "examples" / "events.ndjson").read_bytes()
    headers = {"Content-Type": "application/x-ndjson"}
    with server.client(server.key(Role.WRITER, ["ofcom"])) as writer:
        first = writer.post("/v1/import", content=body, headers=headers)
        again = writer.post("/v1/import", content=body, headers=headers)
    assert first.status_code == again.status_code == 200, first.text
    statuses = {result["status"] for result in again.json()["results"]}
    assert statuses == {"duplicate"}
    assert again.json()["duplicate"] == len(body.splitlines())
