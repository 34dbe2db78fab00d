"""The dashboard by side: which team's cases (``team``) and which of their deadlines
(``view``: our duties, our windows, their duties, their windows).

A case is tracked by one team (its ``our_party``): a regulator's case team, a company's
compliance team or a requester. The overview and the queue show our duties, our windows
and their duties apart, our missed duties first, for any team alike.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from casemgmt.application.auth import Principal
from casemgmt.application.queries import CaseQueryService
from casemgmt.application.readmodels import UNRESOLVED, DeadlineFilter
from casemgmt.entrypoints.http.dashboard.present import page_url

__all__ = ["TEAMS", "VIEWS", "Team", "View", "attention", "tabs", "view_filter"]

Team = Literal["regulator", "subject", "requester"]
View = Literal["all", "our-duties", "our-windows", "their-duties", "their-windows"]

#: (team, label) of the team tabs; "" is every team.
TEAMS: tuple[tuple[str, str], ...] = (
    ("", "All teams"),
    ("regulator", "Regulator's case team"),
    ("subject", "Company's compliance team"),
    ("requester", "Requester"),
)
#: view -> (label, ours, obligation).
VIEWS: dict[str, tuple[str, bool | None, str | None]] = {
    "all": ("Everything", None, None),
    "our-duties": ("Our duties", True, "duty"),
    "our-windows": ("Our windows", True, "window"),
    "their-duties": ("Their duties", False, "duty"),
    "their-windows": ("Their windows", False, "window"),
}
#: Rows in each of the overview's lists.
ATTENTION_ROWS = 8


def view_filter(view: str) -> dict[str, Any]:
    """The ``DeadlineFilter`` fields of a queue view (``ours`` and ``obligation``)."""
    _, ours, obligation = VIEWS.get(view, VIEWS["all"])
    return {"ours": ours, "obligation": obligation}


def tabs(
    path: str, params: Mapping[str, Any], name: str, choices: Mapping[str, str], current: str
) -> list[dict[str, Any]]:
    """Links that set query parameter ``name`` to each of ``choices`` (value -> label)."""
    return [
        {
            "label": label,
            "url": page_url(path, params, **{name: value or None, "cursor": None}),
            "current": value == current,
        }
        for value, label in choices.items()
    ]


async def attention(
    queries: CaseQueryService, principal: Principal, team: str | None
) -> list[dict[str, Any]]:
    """The overview's three lists: our duties (missed first), our open windows (closing
    soonest first), their duties (overdue first); each with a link to the whole list."""
    lists = (
        ("our-duties", "Our duties", "missed and overdue first", UNRESOLVED),
        ("our-windows", "Our windows", "rights we lose when they close", "open"),
        ("their-duties", "Their duties", "overdue on their side first", UNRESOLVED),
    )
    out = []
    for view, title, note, status in lists:
        filters = DeadlineFilter(status=status, our_party=team, **view_filter(view))
        page = await queries.deadlines(principal, filters, None, ATTENTION_ROWS)
        params = {"view": view, "team": team}
        out.append(
            {
                "view": view,
                "title": title,
                "note": note,
                "items": page.items,
                "more": page.next_cursor is not None,
                "url": page_url("/dashboard/deadlines", params),
            }
        )
    return out
