"""The README's "People and roles" example, run verbatim by bash against a real database
(SQLite and PostgreSQL): invite, list, disable, enable, reinvite."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

from tests.support.server import ROOT


def readme_people_example() -> str:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## People and roles", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, flags=re.S)
    assert blocks, "the People and roles section has no sh example"
    return "\n".join(blocks)


def test_the_readme_people_example_runs_verbatim(database_url: str, tmp_path: Path) -> None:
    env = {**os.environ, "CASEMGMT_DATABASE_URL": database_url, "HOME": str(tmp_path)}
    result = subprocess.run(
        ["bash", "-c", f"set -euo pipefail\n{readme_people_example()}"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr + result.stdout
    codes = re.findall(r"^cmi_[0-9a-f]{12}_\S+$", result.stdout, flags=re.M)
    assert len(codes) == 2  # the invite and the reinvite, each shown once
    assert codes[0] != codes[1]
    assert "disabled " in result.stdout
    assert "enabled " in result.stdout
    assert re.search(r"writer\s+ofcom\s+invited\s+ana@example.org\s+Ana Khan", result.stdout)
