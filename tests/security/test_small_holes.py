"""Finding 12 (the smaller holes of guard's share).

- The NUL guard was a ``before_request`` hook, which a route's own hook replaces: NUL in
  a JSON body reached PostgreSQL (500), and ``%00`` in the dashboard's sign-in form too.
- Deeply nested JSON and ``If-Match: ²`` gave 500.
- Error pages had no Content-Security-Policy and could be framed.
- SQL parameters (a ``whsec_`` secret among them) were logged on database errors.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
import uuid

import pytest
import sqlalchemy as sa

from casemgmt.adapters.sql.engine import create_engine
from casemgmt.application.auth import Role
from casemgmt.observability import configure_logging, get_logger
from tests.security.conftest import open_case
from tests.support.server import LiveServer

SECRET = "whsec_c2VjcmV0LXRoYXQtbXVzdC1uZXZlci1iZS1sb2dnZWQ="


def _case(subject: str) -> dict[str, str]:
    return {
        "regulator": "ofcom",
        "regime": "osa-2023",
        "subject": subject,
        "title": "NUL",
        "opened_on": "2026-01-05",
    }


def test_nul_in_a_body_is_refused_on_routes_with_their_own_hooks(
    server: LiveServer, writer: str
) -> None:
    case_id = f"ofcom-nul-{uuid.uuid4().hex[:8]}"
    open_case(server, writer, case_id)
    with server.client(writer) as client:
        opened = client.post("/v1/cases", json=_case("X\u0000Corp"))
        assert opened.status_code == 400, opened.text
        raw = client.post(
            "/v1/cases",
            content=b'{"regulator": "ofcom", "subject": "X\x00"}',
            headers={"Content-Type": "application/json"},
        )
        assert raw.status_code == 400, raw.text
        event = client.post(
            f"/v1/cases/{case_id}/events",
            json={"type": "note_added", "occurred_on": "2026-01-06", "text": "a\u0000b"},
        )
        assert event.status_code == 400, event.text
        assert client.get("/v1/cases?q=a%00b").status_code == 400
        assert client.get(f"/v1/cases/{case_id}").json()["version"] == 1


def test_nul_in_the_dashboard_sign_in_form_is_refused(server: LiveServer) -> None:
    with server.client() as client:
        response = client.post(
            "/dashboard/sign-in",
            content=b"key=cmk_abc%00def&next=%2Fdashboard",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("path", ["/v1/cases", "/v1/cases/{case}/events", "/v1/keys"])
def test_deeply_nested_json_is_a_400(server: LiveServer, writer: str, path: str) -> None:
    case_id = f"ofcom-deep-{uuid.uuid4().hex[:8]}"
    open_case(server, writer, case_id)
    admin = server.key(Role.ADMIN)
    deep = b'{"events": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with server.client(admin) as client:
        response = client.post(
            path.format(case=case_id), content=deep, headers={"Content-Type": "application/json"}
        )
    assert response.status_code == 400, response.text


@pytest.mark.parametrize("header", ["²", '"²"', "\u0661", "99999999999999999999"])
def test_a_non_ascii_if_match_is_a_400(server: LiveServer, writer: str, header: str) -> None:
    case_id = f"ofcom-ifm-{uuid.uuid4().hex[:8]}"
    open_case(server, writer, case_id)
    with server.client(writer) as client:
        response = client.post(
            f"/v1/cases/{case_id}/events",
            content=b'{"type": "note_added", "occurred_on": "2026-01-06", "text": "x"}',
            headers={"Content-Type": "application/json", "If-Match": header.encode()},
        )
    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["field"] == "If-Match"


@pytest.mark.parametrize(
    "path",
    [
        "/dashboard/cases/no-such-case",
        "/dashboard/deadlines?due_before=not-a-date",
        "/v1/nothing-here",
    ],
)
def test_error_pages_carry_a_csp_and_refuse_framing(
    server: LiveServer, writer: str, path: str
) -> None:
    with server.client(writer, cookies={"casemgmt_key": writer}) as client:
        response = client.get(path)
    assert response.status_code in (400, 404), response.text
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp
    assert "default-src 'none'" in csp
    assert response.headers["x-content-type-options"] == "nosniff"


def test_database_errors_never_log_statement_parameters(module_database_url: str) -> None:
    configure_logging("INFO", json=True)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)

    async def fail() -> None:
        engine = create_engine(module_database_url)
        try:
            async with engine.connect() as conn:
                await conn.execute(
                    sa.text("SELECT * FROM no_such_table WHERE x = :secret"), {"secret": SECRET}
                )
        except Exception:
            get_logger("casemgmt.test").exception("database error")
        finally:
            await engine.dispose()

    asyncio.run(fail())
    logged = stream.getvalue()
    assert "database error" in logged
    assert "whsec_c2Vj" not in logged
    logging.getLogger().handlers.clear()


def test_the_api_docs_load_nothing_from_elsewhere(server: LiveServer) -> None:
    with server.client() as client:
        page = client.get("/schema")
        assert page.status_code == 200
        sources = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert sources
        assert all(s.startswith(("/schema/assets/", "data:")) for s in sources), sources
        csp = page.headers["content-security-policy"]
        assert "script-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "<script>" not in page.text.replace(" ", "")  # no inline script
        for source in sources:
            if source.startswith("/"):
                asset = client.get(source)
                assert asset.status_code == 200, source
                assert len(asset.content) > 100
