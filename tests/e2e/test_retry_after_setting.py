"""CASEMGMT_RETRY_AFTER_SECONDS reaches the 503 an outage answers with."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from casemgmt.application.auth import Role, issue_key


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # the app's own, not ours
def test_an_outage_503_says_the_configured_retry_after(tmp_path: Path) -> None:
    from litestar.testing import TestClient

    from casemgmt.entrypoints.http.app import create_app
    from casemgmt.settings import ApiSettings, DatabaseSettings, Settings
    from tests.support.server import free_port

    url = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres"
    settings = Settings(
        database=DatabaseSettings(url=url),
        api=ApiSettings(retry_after_seconds=17),
        var_dir=str(tmp_path),
    )
    token = issue_key(name="t", role=Role.READER, regulators=None, now=datetime.now(UTC)).token
    with TestClient(create_app(settings)) as client:
        response = client.get("/v1/cases", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    assert response.headers["retry-after"] == "17"
