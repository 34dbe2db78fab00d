"""``/v1/keys`` (admin): API keys; ``/v1/feed-tokens``: calendar feed tokens.

A token is shown once, at creation. A key never gets more power than its creator's
(role and regulators); revocation takes effect at once in every API process.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, delete, get, post

from casemgmt.application.auth import ApiKey, FeedToken, Principal, Role
from casemgmt.entrypoints.http.auth import requires
from casemgmt.entrypoints.http.deps import Access, require_json
from casemgmt.entrypoints.http.schemas import (
    FeedTokenCreated,
    FeedTokenRequest,
    FeedTokenView,
    KeyCreated,
    KeyRequest,
    KeyView,
)

__all__ = ["FeedTokensController", "KeysController", "key_view"]


def key_view(key: ApiKey) -> KeyView:
    return KeyView(
        key_id=key.key_id,
        name=key.name,
        role=key.role,
        regulators=key.regulators,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        created_by=key.created_by,
    )


def feed_view(token: FeedToken) -> FeedTokenView:
    fields = FeedTokenView.__struct_fields__
    return FeedTokenView(**{f: getattr(token, f) for f in fields})


class KeysController(Controller):
    path = "/v1/keys"
    tags = ["keys"]
    opt = requires(Role.ADMIN)

    @post("/", operation_id="createKey", summary="Create an API key", before_request=require_json)
    async def create(
        self, request: Request[Principal, Any, Any], data: KeyRequest, access: Access
    ) -> Response[KeyCreated]:
        issued = await access.create_key(request.user, data.name, data.role, data.regulators)
        view = msgspec.structs.asdict(key_view(issued.key))
        return Response(KeyCreated(**view, token=issued.token), status_code=201)

    @get("/", operation_id="listKeys", summary="API keys (never their secrets)")
    async def list_keys(
        self, request: Request[Principal, Any, Any], access: Access
    ) -> list[KeyView]:
        return [key_view(k) for k in await access.list_keys(request.user)]

    @delete("/{key_id:str}", operation_id="revokeKey", summary="Revoke an API key", status_code=200)
    async def revoke(
        self, request: Request[Principal, Any, Any], key_id: str, access: Access
    ) -> KeyView:
        return key_view(await access.revoke_key(request.user, key_id))


class FeedTokensController(Controller):
    path = "/v1/feed-tokens"
    tags = ["keys"]

    @post(
        "/",
        operation_id="createFeedToken",
        summary="Create a read-only calendar feed token for this key",
        before_request=require_json,
    )
    async def create(
        self, request: Request[Principal, Any, Any], data: FeedTokenRequest, access: Access
    ) -> Response[FeedTokenCreated]:
        feed, token = await access.create_feed_token(request.user, data.name, data.regulators)
        view = msgspec.structs.asdict(feed_view(feed))
        return Response(FeedTokenCreated(**view, token=token), status_code=201)

    @get("/", operation_id="listFeedTokens", summary="This key's feed tokens (admins: all)")
    async def list_tokens(
        self, request: Request[Principal, Any, Any], access: Access
    ) -> list[FeedTokenView]:
        return [feed_view(t) for t in await access.feed_tokens(request.user)]

    @delete(
        "/{token_id:str}",
        operation_id="revokeFeedToken",
        summary="Revoke a calendar feed token",
        status_code=200,
    )
    async def revoke(
        self, request: Request[Principal, Any, Any], token_id: str, access: Access
    ) -> FeedTokenView:
        return feed_view(await access.revoke_feed_token(request.user, token_id))
