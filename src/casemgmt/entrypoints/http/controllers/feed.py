"""``/v1/events``: the global event feed, in commit order, within the key's scope."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.params import Parameter

from casemgmt.application.auth import Principal
from casemgmt.application.views import envelope_view
from casemgmt.entrypoints.http.deps import Queries
from casemgmt.entrypoints.http.paging import with_link
from casemgmt.entrypoints.http.schemas import EventPage

__all__ = ["MAX_BIGINT", "FeedController"]

MAX_BIGINT = 2**63 - 1


class FeedController(Controller):
    path = "/v1/events"
    tags = ["feed"]

    @get("/", operation_id="readFeed", summary="The global event feed, in commit order")
    async def feed(
        self,
        request: Request[Principal, Any, Any],
        queries: Queries,
        after: Annotated[
            int, Parameter(ge=0, le=MAX_BIGINT, description="Last position you received.")
        ] = 0,
        limit: Annotated[int, Parameter(ge=1, le=5000)] = 500,
    ) -> Response[EventPage]:
        envelopes = await queries.feed(request.user, after, limit)
        body = EventPage(
            items=[envelope_view(e) for e in envelopes],
            next_cursor=str(envelopes[-1].position) if envelopes else None,
        )
        # A full page may have more after it; a short one is the feed's end (for now).
        more = body.next_cursor if len(envelopes) == limit else None
        return with_link(request, body, "after", more)
