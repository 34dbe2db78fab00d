"""Daily email digests: for each active person, what is due this week, overdue and missed
within their regulator scopes, one plain-text message each.

The deadlines come from the deadline queue (``CaseQueryService.deadlines``) asked as that
person, so a digest never shows a case its reader could not open. Sending is a
``MailSender`` port (SMTP in ``adapters.mail``); logs carry user ids and counts, never an
address or a server's credentials.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from casemgmt.application.ports import MailMessage, MailSender, UserRepository
from casemgmt.application.queries import CaseQueryService
from casemgmt.application.readmodels import UNRESOLVED, DeadlineFilter
from casemgmt.application.users import User
from casemgmt.application.views import DeadlineView
from casemgmt.observability import get_logger

__all__ = ["Digest", "DigestReport", "DigestService"]

_log = get_logger("casemgmt.digests")

#: "This week": due today or within the next seven days.
WEEK_DAYS = 7


class Digest(msgspec.Struct, frozen=True, kw_only=True):
    """One person's digest: the deadlines in each section, soonest first."""

    user_id: str
    email: str
    due_this_week: list[DeadlineView]
    overdue: list[DeadlineView]
    missed: list[DeadlineView]

    @property
    def empty(self) -> bool:
        return not (self.due_this_week or self.overdue or self.missed)


class DigestReport(msgspec.Struct, frozen=True, kw_only=True):
    sent: int
    skipped_empty: int
    dry_run: bool
    digests: list[Digest]


class DigestService:
    def __init__(
        self,
        users: UserRepository,
        queries: CaseQueryService,
        sender: MailSender | None,
    ) -> None:
        self._users = users
        self._queries = queries
        self._sender = sender

    @property
    def enabled(self) -> bool:
        """False when no SMTP server is set (``CASEMGMT_SMTP_URL`` empty)."""
        return self._sender is not None

    async def digest_for(self, user: User, now: datetime) -> Digest:
        """``user``'s digest at ``now``, from the deadline queue within their scopes."""
        principal = user.principal()
        horizon = now.astimezone(UTC).date() + timedelta(days=WEEK_DAYS + 1)
        page = await self._queries.deadlines(
            principal, DeadlineFilter(status=UNRESOLVED, due_before=horizon), None, None
        )
        due: list[DeadlineView] = []
        overdue: list[DeadlineView] = []
        missed: list[DeadlineView] = []
        for view in page.items:
            if view.status == "missed":
                missed.append(view)
            elif view.overdue:
                overdue.append(view)
            elif view.status == "open" and (view.days_remaining or 0) <= WEEK_DAYS:
                due.append(view)
        key = _soonest
        return Digest(
            user_id=user.user_id,
            email=user.email,
            due_this_week=sorted(due, key=key),
            overdue=sorted(overdue, key=key),
            missed=sorted(missed, key=key),
        )

    async def send(self, now: datetime, *, dry_run: bool = False) -> DigestReport:
        """Build every active person's digest and mail the non-empty ones (one message
        each); ``dry_run``: build only. Nothing is sent when digests are off."""
        digests = [await self.digest_for(u, now) for u in await self._users.list() if u.active]
        ready = [d for d in digests if not d.empty]
        sending = not dry_run and self._sender is not None
        if sending and ready:
            assert self._sender is not None
            await self._sender.send([self.message(d, now) for d in ready])
        for d in ready:
            _log.info(
                "digest.sent" if sending else "digest.built", user_id=d.user_id,
                due=len(d.due_this_week), overdue=len(d.overdue), missed=len(d.missed),
            )  # fmt: skip
        return DigestReport(
            sent=len(ready) if sending else 0,
            skipped_empty=len(digests) - len(ready),
            dry_run=not sending,
            digests=digests,
        )

    def message(self, digest: Digest, now: datetime) -> MailMessage:
        day = now.astimezone(UTC).date()
        counts = (len(digest.due_this_week), len(digest.overdue), len(digest.missed))
        subject = (
            f"casemgmt digest {day.isoformat()}: {counts[0]} due this week, "
            f"{counts[1]} overdue, {counts[2]} missed"
        )
        lines = [f"Deadlines in your scope on {day.isoformat()} (UTC).", ""]
        for title, views in (
            ("Missed", digest.missed),
            ("Overdue", digest.overdue),
            ("Due this week", digest.due_this_week),
        ):
            lines.append(f"{title} ({len(views)})")
            lines += [self._line(v) for v in views] or ["  (none)"]
            lines.append("")
        lines.append("You receive this daily because you have an account on casemgmt.")
        return MailMessage(to=digest.email, subject=subject, body="\n".join(lines) + "\n")

    def _line(self, v: DeadlineView) -> str:
        side = "ours" if v.ours else v.party
        late = f", {v.days_late} day(s) late" if v.days_late else ""
        left = (
            f", {v.days_remaining} day(s) left"
            if v.days_remaining is not None and not v.overdue
            else ""
        )
        return (
            f"  - {v.due_on.isoformat()}  {v.regulator}  {v.case_id}  {v.label} "
            f"({v.kind}, {side}{left}{late})"
        )


def _soonest(view: DeadlineView) -> tuple[datetime, str, str]:
    return (view.due_at, view.case_id, view.deadline_id)
