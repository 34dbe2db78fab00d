"""A database error as one line a person can act on (for the command line).

:func:`database_problem` looks through an exception's cause chain for the errors a
command meets against a missing, unmigrated or unreachable database, and says what is
wrong, the URL in use (password masked) and the command or setting that fixes it.
Anything else is None: a bug, to be shown as one.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

__all__ = ["database_problem", "masked_url"]

_UNMIGRATED = ("no such table", "undefinedtable", "no such column")
_UNREACHABLE = (
    "connection refused",
    "could not connect",
    "unable to open database",
    "name or service not known",
    "password authentication failed",
    "invalidcatalogname",
)


def masked_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        item = todo.pop()
        if item is None or id(item) in seen:
            continue
        seen.add(id(item))
        yield item
        todo.extend([item.__cause__, item.__context__, getattr(item, "orig", None)])


def database_problem(exc: BaseException, url: str) -> str | None:
    """One line saying what is wrong with the database at ``url`` and how to fix it."""
    where = masked_url(url)
    for item in _chain(exc):
        text = f"{type(item).__name__} {item}".lower()
        if ("relation" in text and "does not exist" in text) or any(
            marker in text for marker in _UNMIGRATED
        ):
            return (
                f"the database at {where} has no casemgmt schema (or an old one); "
                "run: casemgmt db upgrade"
            )
        if isinstance(item, OSError) or any(marker in text for marker in _UNREACHABLE):
            reason = (str(item).strip().splitlines() or [type(item).__name__])[0][:200]
            return (
                f"cannot open the database at {where} ({reason}); check "
                "CASEMGMT_DATABASE_URL, then run: casemgmt db upgrade"
            )
    return None
