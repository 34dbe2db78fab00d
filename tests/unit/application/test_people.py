"""People on the in-memory adapters: argon2 hashing and rehashing, invites that expire and
work once, the power ceiling of an inviting admin, disabling, and the person as the actor."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from casemgmt.adapters.clock import FixedClock
from casemgmt.adapters.memory import MemoryDatabase, MemoryUserRepository
from casemgmt.adapters.passwords import Argon2Passwords
from casemgmt.application.access import AccessService
from casemgmt.application.auth import Principal, Role
from casemgmt.application.cases import CaseService, Proposal, RecordCommand
from casemgmt.application.errors import NotFound, ValidationFailed
from casemgmt.application.people import PeopleService
from casemgmt.domain.events import NoteAdded
from tests.support.worker import open_case

PASSWORD = "correct horse battery staple"
#: Cheap argon2 parameters for fast tests (the service uses argon2-cffi's defaults).
CHEAP = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}

ADMIN_ALL = Principal(key_id="k-admin", name="admin", role=Role.ADMIN)
ADMIN_OFCOM = Principal(
    key_id="k-ofcom", name="ofcom admin", role=Role.ADMIN, regulators=frozenset({"ofcom"})
)
WRITER = Principal(key_id="k-writer", name="writer", role=Role.WRITER)


class NoKeys:
    """People never touch keys; any use of this would fail the test."""


@pytest.fixture
def users() -> MemoryUserRepository:
    return MemoryUserRepository()


def service(users: MemoryUserRepository, clock: FixedClock, **params: int) -> PeopleService:
    access = AccessService(NoKeys(), clock, regulators=["ofcom", "ico", "eu-commission"])  # type: ignore[arg-type]
    return PeopleService(users, Argon2Passwords(**(params or CHEAP)), access, clock)


@pytest.fixture
def people(users: MemoryUserRepository, clock: FixedClock) -> PeopleService:
    return service(users, clock)


async def test_a_password_is_stored_as_an_argon2id_hash_only(
    people: PeopleService, users: MemoryUserRepository
) -> None:
    issued = await people.invite(ADMIN_ALL, "Ana@Example.org", "Ana", Role.WRITER, None)
    await people.accept_invite(issued.code, PASSWORD, PASSWORD)

    user = users.users[issued.user.user_id]
    assert user.email == "ana@example.org"
    assert user.password_hash is not None
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash
    assert user.invite_sha256 is None  # burnt
    principal = await people.sign_in("ANA@example.org ", PASSWORD)
    assert principal is not None
    assert principal.user_id == user.user_id
    assert await people.sign_in("ana@example.org", PASSWORD + "!") is None


async def test_the_invite_code_is_stored_hashed_and_works_once(
    people: PeopleService, users: MemoryUserRepository
) -> None:
    issued = await people.invite(ADMIN_ALL, "ben@example.org", "Ben", Role.READER, ["ico"])
    stored = users.users[issued.user.user_id]
    secret = issued.code.split("_", 2)[2]
    assert stored.invite_sha256 is not None
    assert secret not in repr(stored)

    await people.accept_invite(issued.code, PASSWORD, PASSWORD)
    with pytest.raises(ValidationFailed) as again:
        await people.accept_invite(issued.code, "another long password", None)
    assert again.value.field == "code"
    assert await people.sign_in("ben@example.org", PASSWORD) is not None


async def test_an_invite_expires(people: PeopleService, clock: FixedClock) -> None:
    issued = await people.invite(ADMIN_ALL, "cy@example.org", "Cy", Role.READER, None)
    assert issued.expires_at == clock.now() + timedelta(hours=72)
    clock.advance(timedelta(hours=72))
    with pytest.raises(ValidationFailed) as expired:
        await people.accept_invite(issued.code, PASSWORD, PASSWORD)
    assert expired.value.field == "code"

    fresh = await people.reinvite(ADMIN_ALL, "cy@example.org")
    with pytest.raises(ValidationFailed):  # the older code stays dead
        await people.accept_invite(issued.code, PASSWORD, PASSWORD)
    await people.accept_invite(fresh.code, PASSWORD, PASSWORD)


@pytest.mark.parametrize(
    ("password", "repeat", "field"),
    [("short", "short", "password"), (PASSWORD, PASSWORD + "x", "repeat"),
     ("dee@example.org", None, "password"), ("x" * 257, None, "password")],
)  # fmt: skip
async def test_an_unusable_password_is_refused_naming_the_field(
    people: PeopleService, password: str, repeat: str | None, field: str
) -> None:
    issued = await people.invite(ADMIN_ALL, "dee@example.org", "Dee", Role.READER, None)
    with pytest.raises(ValidationFailed) as refused:
        await people.accept_invite(issued.code, password, repeat)
    assert refused.value.field == field
    await people.accept_invite(issued.code, PASSWORD, None)  # the code was not used up


async def test_a_hash_made_with_older_parameters_is_upgraded_at_sign_in(
    users: MemoryUserRepository, clock: FixedClock
) -> None:
    old = service(users, clock, time_cost=1, memory_cost=8, parallelism=1)
    issued = await old.invite(None, "eve@example.org", "Eve", Role.READER, None)
    await old.accept_invite(issued.code, PASSWORD, None)
    before = users.users[issued.user.user_id].password_hash
    assert before is not None
    assert "t=1" in before

    stronger = service(users, clock, time_cost=2, memory_cost=16, parallelism=1)
    assert Argon2Passwords(time_cost=2, memory_cost=16, parallelism=1).needs_rehash(before)
    assert await stronger.sign_in("eve@example.org", PASSWORD) is not None
    after = users.users[issued.user.user_id].password_hash
    assert after is not None
    assert after != before
    assert "m=16,t=2" in after
    assert await stronger.sign_in("eve@example.org", PASSWORD) is not None


@pytest.mark.parametrize(
    ("by", "role", "regulators", "field"),
    [
        (ADMIN_OFCOM, Role.READER, ["ico"], "regulators"),
        (ADMIN_OFCOM, Role.READER, None, "regulators"),
        (ADMIN_OFCOM, Role.WRITER, ["ofcom", "ico"], "regulators"),
        (WRITER, Role.ADMIN, None, "role"),
    ],
)
async def test_nobody_invites_a_person_with_more_power_than_their_own(
    people: PeopleService,
    users: MemoryUserRepository,
    by: Principal,
    role: Role,
    regulators: list[str] | None,
    field: str,
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        await people.invite(by, "fay@example.org", "Fay", role, regulators)
    assert refused.value.field == field
    assert users.users == {}


async def test_an_admin_invites_within_its_power_and_records_itself(
    people: PeopleService,
) -> None:
    issued = await people.invite(ADMIN_OFCOM, "gus@example.org", "Gus", Role.ADMIN, ["OFCOM"])
    assert issued.user.regulators == ["ofcom"]
    assert issued.user.created_by == "key:k-ofcom"
    with pytest.raises(ValidationFailed) as unknown:
        await people.invite(ADMIN_ALL, "h@example.org", "H", Role.READER, ["nosuch"])
    assert unknown.value.field == "regulators"


async def test_a_scoped_admin_sees_and_disables_only_people_in_its_scope(
    people: PeopleService,
) -> None:
    ico = await people.invite(ADMIN_ALL, "ico@example.org", "Ico", Role.READER, ["ico"])
    ofcom = await people.invite(ADMIN_ALL, "of@example.org", "Of", Role.READER, ["ofcom"])
    assert [u.user_id for u in await people.visible(ADMIN_OFCOM)] == [ofcom.user.user_id]
    with pytest.raises(NotFound):
        await people.set_enabled(ADMIN_OFCOM, ico.user.user_id, False)
    disabled = await people.set_enabled(ADMIN_OFCOM, ofcom.user.user_id, False)
    assert disabled.disabled_at is not None


async def test_a_disabled_person_cannot_sign_in_or_use_an_invite(
    people: PeopleService,
) -> None:
    issued = await people.invite(ADMIN_ALL, "ida@example.org", "Ida", Role.READER, None)
    await people.accept_invite(issued.code, PASSWORD, None)
    await people.set_enabled(ADMIN_ALL, "ida@example.org", False)
    assert await people.sign_in("ida@example.org", PASSWORD) is None
    with pytest.raises(ValidationFailed):
        await people.reinvite(ADMIN_ALL, issued.user.user_id)

    await people.set_enabled(ADMIN_ALL, issued.user.user_id, True)
    assert await people.sign_in("ida@example.org", PASSWORD) is not None


async def test_nobody_disables_themselves(people: PeopleService) -> None:
    issued = await people.invite(None, "jo@example.org", "Jo", Role.ADMIN, None)
    with pytest.raises(ValidationFailed):
        await people.set_enabled(issued.user.principal(), issued.user.user_id, False)


async def test_unknown_addresses_and_people_without_a_password_are_refused(
    people: PeopleService,
) -> None:
    await people.invite(ADMIN_ALL, "kim@example.org", "Kim", Role.READER, None)
    assert await people.sign_in("kim@example.org", "") is None
    assert await people.sign_in("nobody@example.org", PASSWORD) is None
    assert await people.sign_in("not an address", PASSWORD) is None


async def test_the_person_is_the_actor_of_the_events_they_record(
    people: PeopleService, cases: CaseService, db: MemoryDatabase
) -> None:
    issued = await people.invite(ADMIN_ALL, "lee@example.org", "Lee", Role.WRITER, ["ofcom"])
    principal = await people.accept_invite(issued.code, PASSWORD, None)
    await open_case(cases, "ofcom-c-1", date(2026, 1, 5))

    note = NoteAdded(occurred_on=date(2026, 1, 6), text="called the company")
    result = await cases.record(
        principal, RecordCommand(case_id="ofcom-c-1", proposals=[Proposal(event=note)])
    )

    assert principal.actor == f"user:{issued.user.user_id}"
    assert [e.actor for e in result.envelopes] == [f"user:{issued.user.user_id}"]
    assert ADMIN_ALL.actor == "key:k-admin"  # keys keep recording the key
