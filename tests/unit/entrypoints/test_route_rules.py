"""Where a route's rules are checked: the authentication middleware applies the query
check (400) and the role (403) to every request it authenticates, so every ``/v1`` route
and every route that names a role must be one it authenticates; ``OPTIONS`` is not
authenticated and answers 204 with ``Allow``, never 500."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from casemgmt.entrypoints.http.auth import PUBLIC_PATHS, ROLE
from casemgmt.settings import DatabaseSettings, Settings, WorkerSettings

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")  # Litestar's, not ours


@pytest.fixture
def app(tmp_path: Path) -> Any:
    from casemgmt.entrypoints.http.app import create_app

    url = f"sqlite+aiosqlite:///{tmp_path / 'unused.sqlite'}"  # nothing here reads it
    return create_app(
        Settings(database=DatabaseSettings(url=url), worker=WorkerSettings(broker_url=""))
    )


def test_every_v1_route_and_every_role_is_behind_authentication(app: Any) -> None:
    checked = 0
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not (route.path.startswith("/v1/") or ROLE in handler.opt):
                continue
            checked += 1
            assert not any(re.search(p, route.path) for p in PUBLIC_PATHS), route.path
            assert not handler.opt.get("exclude_from_auth"), route.path
    assert checked > 20


@pytest.mark.parametrize("path", ["/v1/keys", "/v1/users", "/v1/subscriptions", "/v1/cases"])
def test_options_answers_allow_not_500(app: Any, path: str) -> None:
    from litestar.testing import TestClient

    with TestClient(app) as client:
        response = client.options(path)
    assert response.status_code == 204
    assert "OPTIONS" in response.headers["allow"]
