"""Who must act on a deadline, and which side of the case the team using casemgmt is on.

Every deadline names the **party** who must (or may) act and its **obligation**:

- a ``duty`` can be missed (respond to a request, comply with a notice, pay a penalty);
- a ``window`` is a time in which someone *may* act (appeal, ask for an internal review,
  make representations): it closes, and nobody is to blame.

A case records ``our_party``: the party the team using casemgmt is (a regulator's case
team is ``regulator``, a regulated company's compliance team ``subject``, a requester
``requester``). That makes every deadline ours or theirs, and gives it a **standing**
(:func:`standing`), the one word a queue sorts and highlights by.
"""

from __future__ import annotations

from typing import Literal, get_args

__all__ = [
    "OBLIGATIONS",
    "OUR_PARTIES",
    "PARTIES",
    "Obligation",
    "OurParty",
    "Party",
    "Standing",
    "is_ours",
    "standing",
]

#: The party who must act: the regulator or public authority, the case's subject (the
#: company), the requester (FOI), or a court or tribunal.
Party = Literal["regulator", "subject", "requester", "tribunal"]
#: The parties a team using casemgmt can be.
OurParty = Literal["regulator", "subject", "requester"]
Obligation = Literal["duty", "window"]
#: - ``breach``: our duty is missed or past due (stays on top until resolved);
#: - ``due``: our duty, not yet due; ``closing``: our window, still open;
#: - ``lost_right``: our window closed unused;
#: - ``their_overdue``: their duty is missed or past due (something to chase);
#: - ``theirs``: their duty not yet due, or their window (information);
#: - ``done``: met, met late, closed by use, or cancelled (nothing to do).
Standing = Literal["breach", "due", "closing", "lost_right", "their_overdue", "theirs", "done"]

PARTIES: tuple[str, ...] = get_args(Party)
OUR_PARTIES: tuple[str, ...] = get_args(OurParty)
OBLIGATIONS: tuple[str, ...] = get_args(Obligation)

_SETTLED = frozenset({"met", "met_late", "cancelled"})


def is_ours(party: str, our_party: str) -> bool:
    """Whether the party who must act is the team using casemgmt."""
    return party == our_party


def standing(ours: bool, obligation: str, status: str, past_due: bool) -> Standing:
    """What a deadline means to us, from its side, obligation, status and due instant.

    ``past_due``: the due instant has passed (an open duty past due is overdue before the
    worker records it missed; an open window past due is closing now).
    """
    if status in _SETTLED:
        return "done"
    if obligation == "window":
        if status == "closed":
            return "lost_right" if ours else "done"
        return "closing" if ours else "theirs"
    late = status == "missed" or past_due
    if ours:
        return "breach" if late else "due"
    return "their_overdue" if late else "theirs"
