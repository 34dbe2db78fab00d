"""``/v1/keys``: API key management (admin). A key's token is shown once, at creation."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post

from casemgmt.application.auth import ApiKey, Principal, Role, issue_key, revoke_key
from casemgmt.application.errors import NotFound, ValidationFailed
from casemgmt.entrypoints.http.auth import KeyCache, requires
from casemgmt.entrypoints.http.deps import ClockDep, Keys, require_json
from casemgmt.entrypoints.http.schemas import KeyCreated, KeyRequest, KeyView

__all__ = ["KeysController", "key_view"]


def key_view(key: ApiKey) -> KeyView:
    return KeyView(
        key_id=key.key_id,
        name=key.name,
        role=key.role,
        regulators=key.regulators,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
    )


def _within(admin: Principal, regulators: list[str] | None) -> bool:
    """A scoped admin manages only keys confined to its own regulators."""
    if admin.regulators is None:
        return True
    return regulators is not None and set(regulators) <= admin.regulators


class KeysController(Controller):
    path = "/v1/keys"
    tags = ["keys"]
    guards = [requires(Role.ADMIN)]

    @post("/", operation_id="createKey", summary="Create an API key", before_request=require_json)
    async def create(
        self, request: Request[Principal, Any, Any], data: KeyRequest, keys: Keys, clock: ClockDep
    ) -> Response[KeyCreated]:
        if not _within(request.user, data.regulators):
            raise ValidationFailed(
                "a key may not reach regulators beyond your own", field="regulators"
            )
        issued = issue_key(
            name=data.name, role=data.role, regulators=data.regulators, now=clock.now()
        )
        await keys.add(issued.key)
        view = key_view(issued.key)
        body = KeyCreated(
            **{f: getattr(view, f) for f in view.__struct_fields__}, token=issued.token
        )
        return Response(body, status_code=201)

    @get("/", operation_id="listKeys", summary="API keys (never their secrets)")
    async def list_keys(self, request: Request[Principal, Any, Any], keys: Keys) -> list[KeyView]:
        return [key_view(k) for k in await keys.list() if _within(request.user, k.regulators)]

    @delete("/{key_id:str}", operation_id="revokeKey", summary="Revoke an API key", status_code=200)
    async def revoke(
        self, request: Request[Principal, Any, Any], key_id: str, keys: Keys, clock: ClockDep
    ) -> KeyView:
        key = await keys.get(key_id)
        if key is None or not _within(request.user, key.regulators):
            raise NotFound("key", key_id)
        revoked = await revoke_key(keys, key_id, clock.now())
        cache: KeyCache = request.app.state.key_cache
        cache.forget(key_id)
        return key_view(revoked)
