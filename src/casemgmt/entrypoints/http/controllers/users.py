"""``/v1/users`` (admin): people who sign in to the dashboard with a password.

Inviting answers the invite code once (``invite_code``); the person enters it at
``/dashboard/set-password`` (never in a URL) with the password they choose. An admin
invites with at most its own role and regulators and sees, disables and re-enables only
the people within its scope; disabling takes effect at once in every API process.
Password hashes and invite hashes are never returned.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post

from casemgmt.application.auth import Principal, Role
from casemgmt.application.users import IssuedInvite, User
from casemgmt.domain.events.fields import Codes, Name
from casemgmt.entrypoints.http.auth import requires
from casemgmt.entrypoints.http.deps import People, require_json

__all__ = ["UsersController"]

SET_PASSWORD_PATH = "/dashboard/set-password"
Email = Annotated[str, msgspec.Meta(min_length=3, max_length=320, examples=["ana@example.org"])]


class InviteRequest(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A person to invite: ``regulators`` None (or absent) means every regulator."""

    email: Email
    name: Name
    role: Role
    regulators: Codes | None = None


class UserView(msgspec.Struct, frozen=True, kw_only=True):
    user_id: str
    email: str
    name: str
    role: Role
    regulators: list[str] | None
    #: ``invited`` (no password yet), ``active`` or ``disabled``.
    status: str
    created_at: datetime
    created_by: str
    password_set_at: datetime | None
    invite_expires_at: datetime | None
    disabled_at: datetime | None


class UserInvited(UserView, frozen=True, kw_only=True):
    """The person and their invite code, shown once: give both ``invite_code`` and the
    page ``set_password_path`` to the person."""

    invite_code: str
    set_password_path: str = SET_PASSWORD_PATH


def user_view(user: User) -> UserView:
    status = "disabled" if user.disabled_at else "active" if user.password_hash else "invited"
    fields = set(UserView.__struct_fields__) - {"status"}
    return UserView(status=status, **{f: getattr(user, f) for f in fields})


def _invited(issued: IssuedInvite) -> UserInvited:
    view = msgspec.structs.asdict(user_view(issued.user))
    view["invite_expires_at"] = issued.expires_at
    return UserInvited(**view, invite_code=issued.code)


class UsersController(Controller):
    path = "/v1/users"
    tags = ["users"]
    opt = requires(Role.ADMIN)

    @post("/", operation_id="inviteUser", summary="Invite a person", before_request=require_json)
    async def invite(
        self, request: Request[Principal, Any, Any], data: InviteRequest, people: People
    ) -> Response[UserInvited]:
        issued = await people.invite(
            request.user, data.email, data.name, data.role, data.regulators
        )
        return Response(_invited(issued), status_code=201)

    @get("/", operation_id="listUsers", summary="People within this key's scope")
    async def list_users(
        self, request: Request[Principal, Any, Any], people: People
    ) -> list[UserView]:
        return [user_view(u) for u in await people.visible(request.user)]

    @get("/{user_id:str}", operation_id="getUser", summary="A person")
    async def get_user(
        self, request: Request[Principal, Any, Any], user_id: str, people: People
    ) -> UserView:
        return user_view(await people.get(request.user, user_id))

    @post("/{user_id:str}/disable", operation_id="disableUser", summary="Disable a person",
          status_code=200)  # fmt: skip
    async def disable(
        self, request: Request[Principal, Any, Any], user_id: str, people: People
    ) -> UserView:
        return user_view(await people.set_enabled(request.user, user_id, False))

    @post("/{user_id:str}/enable", operation_id="enableUser", summary="Re-enable a person",
          status_code=200)  # fmt: skip
    async def enable(
        self, request: Request[Principal, Any, Any], user_id: str, people: People
    ) -> UserView:
        return user_view(await people.set_enabled(request.user, user_id, True))

    @post("/{user_id:str}/invite", operation_id="reinviteUser",
          summary="A new invite code (forgotten password)", status_code=200)  # fmt: skip
    async def reinvite(
        self, request: Request[Principal, Any, Any], user_id: str, people: People
    ) -> UserInvited:
        return _invited(await people.reinvite(request.user, user_id))
