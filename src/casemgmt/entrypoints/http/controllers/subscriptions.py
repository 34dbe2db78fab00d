"""``/v1/subscriptions``: webhook subscribers (admin) and each one's delivery log.

A subscription's secret is shown once, in the creation response. A scoped admin key may
only subscribe to its own regulators and sees only subscriptions confined to them; any
other subscription is a 404, so its existence does not leak.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.params import Parameter

from casemgmt.application.auth import Principal, Role
from casemgmt.application.queries import decode_cursor, encode_cursor
from casemgmt.application.reminders.policy import (
    DeliveryRecord,
    NewSubscription,
    Subscription,
)
from casemgmt.entrypoints.http.auth import requires
from casemgmt.entrypoints.http.deps import ClockDep, Subscriptions, require_json

__all__ = ["DeliveryPage", "SubscriptionCreated", "SubscriptionView", "SubscriptionsController"]

Limit = Annotated[int, Parameter(ge=1, le=500, description="Page size.")]


class SubscriptionView(msgspec.Struct, frozen=True, kw_only=True):
    subscription_id: str
    url: str
    regulators: list[str] | None
    kinds: list[str] | None
    event_types: list[str] | None
    description: str
    created_at: datetime
    deleted_at: datetime | None


class SubscriptionCreated(SubscriptionView, frozen=True, kw_only=True):
    """The new subscription with its signing secret (``whsec_...``): shown only here."""

    secret: str


class DeliveryPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[DeliveryRecord]
    next_cursor: str | None


def view(s: Subscription) -> SubscriptionView:
    fields = SubscriptionView.__struct_fields__
    return SubscriptionView(**{f: getattr(s, f) for f in fields})


class SubscriptionsController(Controller):
    path = "/v1/subscriptions"
    tags = ["subscriptions"]
    opt = requires(Role.ADMIN)

    @post(
        "/",
        operation_id="createSubscription",
        summary="Subscribe a webhook to deadline reminders",
        before_request=require_json,
    )
    async def create(
        self,
        request: Request[Principal, Any, Any],
        data: NewSubscription,
        subscriptions: Subscriptions,
        clock: ClockDep,
    ) -> Response[SubscriptionCreated]:
        created = await subscriptions.create(request.user, data, clock.now())
        body = SubscriptionCreated(**msgspec.structs.asdict(view(created)), secret=created.secret)
        return Response(body, status_code=201)

    @get("/", operation_id="listSubscriptions", summary="Webhook subscriptions (no secrets)")
    async def list_subscriptions(
        self, request: Request[Principal, Any, Any], subscriptions: Subscriptions
    ) -> list[SubscriptionView]:
        return [view(s) for s in await subscriptions.visible(request.user)]

    @get("/{subscription_id:str}", operation_id="getSubscription", summary="One subscription")
    async def get_subscription(
        self,
        request: Request[Principal, Any, Any],
        subscription_id: str,
        subscriptions: Subscriptions,
    ) -> SubscriptionView:
        return view(await subscriptions.get(request.user, subscription_id))

    @delete(
        "/{subscription_id:str}",
        operation_id="deleteSubscription",
        summary="Stop a subscription (its delivery log stays readable)",
        status_code=200,
    )
    async def delete_subscription(
        self,
        request: Request[Principal, Any, Any],
        subscription_id: str,
        subscriptions: Subscriptions,
        clock: ClockDep,
    ) -> SubscriptionView:
        return view(await subscriptions.delete(request.user, subscription_id, clock.now()))

    @get(
        "/{subscription_id:str}/deliveries",
        operation_id="listSubscriptionDeliveries",
        summary="The delivery log: each reminder sent to this subscription, with its attempts",
    )
    async def deliveries(
        self,
        request: Request[Principal, Any, Any],
        subscription_id: str,
        subscriptions: Subscriptions,
        cursor: str | None = None,
        limit: Limit = 50,
    ) -> DeliveryPage:
        after = decode_cursor(cursor, (datetime, str)) if cursor else None
        items = await subscriptions.deliveries(
            request.user, subscription_id, (after[0], after[1]) if after else None, limit + 1
        )
        more = len(items) > limit
        items = items[:limit]
        last = items[-1] if more else None
        return DeliveryPage(
            items=items,
            next_cursor=encode_cursor(last.created_at, last.reminder_id) if last else None,
        )
