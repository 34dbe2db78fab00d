"""``/v1/cases``: open, list and read cases; append events to them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter

from casemgmt.application.auth import Principal, Role
from casemgmt.application.cases import RecordCommand
from casemgmt.application.envelope import AppendResult
from casemgmt.application.errors import ConcurrencyConflict, ValidationFailed
from casemgmt.application.ids import derived_event_id, request_hash
from casemgmt.application.readmodels import CaseFilter, Page
from casemgmt.application.views import CaseDetail, CaseSummary, envelope_view
from casemgmt.domain.events import CaseOpened
from casemgmt.entrypoints.http.auth import requires
from casemgmt.entrypoints.http.bodies import decode_events_body
from casemgmt.entrypoints.http.conventions import known_code
from casemgmt.entrypoints.http.deps import Cases, Queries, Regimes, require_json
from casemgmt.entrypoints.http.errors import PreconditionFailed
from casemgmt.entrypoints.http.paging import bind_cursor, unbind_cursor, with_link
from casemgmt.entrypoints.http.schemas import AppendedEvents, EventPage, OpenCaseRequest

__all__ = ["CasesController"]

IdempotencyKey = Annotated[
    str | None,
    Parameter(
        header="Idempotency-Key",
        required=False,
        max_length=200,
        description="Retry-safe key: the same key and body replay the first response.",
    ),
]
Limit = Annotated[int, Parameter(ge=1, le=500, description="Page size.")]


def _appended(result: AppendResult, case_id: str) -> Response[AppendedEvents]:
    body = AppendedEvents(
        case_id=case_id,
        version=max((e.version for e in result.envelopes), default=0),
        events=[envelope_view(e) for e in result.envelopes],
        replayed=result.replayed,
    )
    headers = {"ETag": f'"{body.version}"'}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return Response(body, status_code=201, headers=headers)


def _correlation(request: Request[Any, Any, Any]) -> str | None:
    """The bounded correlation id the observability middleware chose (never the raw header)."""
    state = request.scope.get("state", {})
    correlation: str | None = state.get("correlation_id") or state.get("request_id")
    return correlation


class CasesController(Controller):
    path = "/v1/cases"
    tags = ["cases"]

    @post(
        "/",
        operation_id="openCase",
        summary="Open a case",
        opt=requires(Role.WRITER),
        before_request=require_json,
        status_code=201,
    )
    async def open_case(
        self,
        request: Request[Principal, Any, Any],
        data: OpenCaseRequest,
        cases: Cases,
        queries: Queries,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[CaseDetail]:
        # A retried request with the same Idempotency-Key must name the same case.
        seed = derived_event_id(request.user.key_id, idempotency_key) if idempotency_key else None
        case_id = data.case_id or f"{data.regulator}-{(seed or uuid.uuid4().hex)[-12:]}"
        opened = CaseOpened(
            occurred_on=data.opened_on,
            occurred_at=data.opened_at,
            case_id=case_id,
            regulator=data.regulator,
            regime=data.regime,
            subject=data.subject,
            title=data.title,
            opened_on=data.opened_on,
            related_parties=data.related_parties,
            reference=data.reference,
            received_on=data.received_on,
            our_party=data.our_party,
        )
        result = await cases.open_case(
            request.user,
            opened,
            idempotency_key=idempotency_key,
            body_hash=request_hash(await request.body()),
            correlation_id=_correlation(request),
        )
        case_id = result.envelopes[0].case_id if result.envelopes else case_id
        detail = await queries.get_case(request.user, case_id)
        headers = {"ETag": f'"{detail.version}"', "Location": f"/v1/cases/{case_id}"}
        if result.replayed:
            headers["Idempotent-Replayed"] = "true"
        return Response(detail, status_code=201, headers=headers)

    @get("/", operation_id="listCases", summary="List cases, newest first")
    async def list_cases(
        self,
        request: Request[Principal, Any, Any],
        queries: Queries,
        regimes: Regimes,
        regulator: str | None = None,
        regime: str | None = None,
        status: Annotated[str | None, Parameter(pattern="^(open|closed)$")] = None,
        stage: str | None = None,
        subject: str | None = None,
        q: Annotated[str | None, Parameter(max_length=200)] = None,
        assignee: Annotated[
            str | None,
            Parameter(
                max_length=120,
                description="Only cases assigned to this person (id); `me`: the person "
                "signed in (a key is no person: 400).",
            ),
        ] = None,
        cursor: str | None = None,
        limit: Limit = 50,
    ) -> Response[Page[CaseSummary]]:
        filters = CaseFilter(
            regulator=known_code(regulator, regimes.regulators(), "regulator"),
            regime=known_code(regime, {r.code for r in regimes.all()}, "regime"),
            status=status,
            stage=stage,
            subject=subject,
            q=q,
            assignee=assignee,
        )
        page = await queries.list_cases(
            request.user, filters, unbind_cursor(request, cursor), limit
        )
        bound = Page(items=page.items, next_cursor=bind_cursor(request, page.next_cursor))
        return with_link(request, bound, "cursor", bound.next_cursor)

    @get("/{case_id:str}", operation_id="getCase", summary="A case's current state")
    async def get_case(
        self,
        request: Request[Principal, Any, Any],
        queries: Queries,
        case_id: str,
        as_of: Annotated[
            date | None, Parameter(description="State from events that occurred by this date.")
        ] = None,
        known_at: Annotated[
            datetime | None, Parameter(description="State from events recorded by this instant.")
        ] = None,
    ) -> Response[CaseDetail]:
        if known_at is not None and known_at.tzinfo is None:
            raise ValidationFailed("known_at needs a UTC offset", field="known_at")
        detail = await queries.get_case(request.user, case_id, as_of, known_at)
        return Response(detail, headers={"ETag": f'"{detail.version}"'})

    @get("/{case_id:str}/events", operation_id="getCaseTimeline", summary="A case's timeline")
    async def timeline(
        self,
        request: Request[Principal, Any, Any],
        queries: Queries,
        case_id: str,
        after_version: Annotated[int, Parameter(ge=0, le=2**31 - 1)] = 0,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 1000,
    ) -> Response[EventPage]:
        envelopes = await queries.timeline(request.user, case_id)
        page = [e for e in envelopes if e.version > after_version][:limit]
        more = bool(page) and page[-1].version < envelopes[-1].version
        body = EventPage(
            items=[envelope_view(e) for e in page],
            next_cursor=str(page[-1].version) if more else None,
            total=len(envelopes),
        )
        return with_link(request, body, "after_version", body.next_cursor)

    @post(
        "/{case_id:str}/events",
        operation_id="recordCaseEvents",
        summary="Append one event, or {events: [...]} atomically",
        opt=requires(Role.WRITER),
        before_request=require_json,
        status_code=201,
    )
    async def record(
        self,
        request: Request[Principal, Any, Any],
        cases: Cases,
        case_id: str,
        idempotency_key: IdempotencyKey = None,
        if_match: Annotated[str | None, Parameter(header="If-Match", required=False)] = None,
    ) -> Response[AppendedEvents]:
        raw = await request.body()
        body = decode_events_body(raw, if_match)
        command = RecordCommand(
            case_id=case_id,
            proposals=body.proposals,
            expected_version=body.expected_version,
            idempotency_key=idempotency_key,
            request_hash=request_hash(raw),
            correlation_id=_correlation(request),
        )
        try:
            result = await cases.record(request.user, command)
        except ConcurrencyConflict as exc:
            if if_match is None:
                raise
            raise PreconditionFailed(exc) from exc
        return _appended(result, case_id)
