"""Why a deadline falls on its day: structured steps plus one human sentence.

Every explanation is built from the ``PeriodEnd`` that ``BusinessCalendar.period``
returned for the due date itself, so the steps and the date never come from two
implementations. Steps replay: from the ``trigger`` day, count ``amount`` ``unit``
(working days pass over the listed ``skip`` days), then ``roll`` past listed skip days,
then stretch to the ``floor``; the result is the explanation's ``due_on``.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Literal

import msgspec

from casemgmt.domain.calendar.calendars import BusinessCalendar, PeriodEnd

__all__ = [
    "Explanation",
    "Step",
    "StepKind",
    "explain_period",
    "fmt_day",
    "period_sentence",
    "period_steps",
    "step",
]

StepKind = Literal[
    "trigger",
    "count",
    "skip",
    "roll",
    "floor",
    "minimum",
    "ends",
    "stated",
    "pause",
    "restart",
    "disregard",
    "extension",
    "manual",
]


class Step(msgspec.Struct, frozen=True, kw_only=True):
    """One step of the arithmetic. ``skip`` steps say why the day did not count:
    ``reason`` ``weekend`` or ``holiday`` (its ``holiday`` name, ``where``, ``confirmed``)."""

    kind: StepKind
    on: date | None = None
    text: str
    amount: int | None = None
    unit: str | None = None
    counting: str | None = None
    reason: str | None = None
    holiday: str | None = None
    where: str | None = None
    confirmed: bool | None = None


class Explanation(msgspec.Struct, frozen=True, kw_only=True):
    """Why a deadline is due on ``due_on``: the ``rule`` and its ``citation``, the steps,
    the time the period ends (``ends_at`` local time, or the end of the day), and who set
    it when it was set by hand (``set_by``)."""

    due_on: date
    sentence: str
    steps: tuple[Step, ...] = ()
    rule: str | None = None
    citation: str | None = None
    ends_at: str | None = None
    timezone: str | None = None
    set_by: str | None = None


@lru_cache(maxsize=8192)
def fmt_day(day: date) -> str:
    """``Wed 7 Jan 2026`` (cached: explanations name the same few hundred days again and
    again)."""
    return f"{day:%a} {day.day} {day:%b %Y}"


def step(kind: StepKind, on: date | None, text: str, **fields: object) -> Step:
    return Step(kind=kind, on=on, text=text, **fields)  # type: ignore[arg-type]


_UNIT_WORDS = {"working_days": "working day", "calendar_days": "day", "months": "month"}


def _amount(amount: int, unit: str) -> str:
    word = _UNIT_WORDS.get(unit, unit)
    return f"{amount} {word}{'' if abs(amount) == 1 else 's'}"


def _counting(counting: str) -> str:
    return "beginning with" if counting == "beginning_with" else "after"


def _skip(cal: BusinessCalendar, day: date) -> Step:
    reason, holiday = cal.reason(day)
    if holiday is None:
        return step("skip", day, f"{fmt_day(day)}: weekend", reason=reason)
    flag = "" if holiday.confirmed else " (holiday list not yet confirmed)"
    return step(
        "skip",
        day,
        f"{fmt_day(day)}: {holiday.name} ({holiday.where}){flag}",
        reason=reason,
        holiday=holiday.name,
        where=holiday.where,
        confirmed=holiday.confirmed,
    )


def period_steps(cal: BusinessCalendar, p: PeriodEnd, trigger: str) -> list[Step]:
    """Trigger, count, the days skipped, roll-forward and Art. 3(5) floor of ``p``."""
    out = [step("trigger", p.start, f"{trigger} on {fmt_day(p.start)}")]
    out.append(
        step(
            "count",
            p.counted_end,
            f"{_amount(p.amount, p.unit)} {_counting(p.counting)} {fmt_day(p.start)} "
            f"ends {fmt_day(p.counted_end)}",
            amount=p.amount,
            unit=p.unit,
            counting=p.counting,
        )
    )
    if p.unit == "working_days" and p.amount > 0:
        first = p.start if p.counting == "beginning_with" else p.start + timedelta(days=1)
        out += [_skip(cal, d) for d in cal.non_working_days(first, p.counted_end)]
    if p.rolled is not None:
        out += [_skip(cal, d) for d in cal.non_working_days(p.counted_end, p.rolled)]
        out.append(
            step("roll", p.rolled, f"next working day in {cal.place()}: {fmt_day(p.rolled)}")
        )
    if p.floored is not None:
        first = p.start if p.counting == "beginning_with" else p.start + timedelta(days=1)
        listed = {s.on for s in out if s.kind == "skip"}
        out += [_skip(cal, d) for d in cal.non_working_days(first, p.floored) if d not in listed]
        out.append(
            step(
                "floor",
                p.floored,
                f"Reg. 1182/71 Art. 3(5): a period of two days or more holds two working "
                f"days, so it ends {fmt_day(p.floored)}",
            )
        )
    return out


def _day_note(cal: BusinessCalendar, day: date) -> str:
    if cal.every_day_counts or cal.is_working_day(day):
        return ""
    _, holiday = cal.reason(day)
    return f", {holiday.name}" if holiday and day.weekday() < 5 else f", a {day:%A}"


def _skipped_summary(cal: BusinessCalendar, p: PeriodEnd) -> str:
    if p.unit != "working_days" or p.amount <= 0:
        return ""
    days = cal.non_working_days(p.start + timedelta(days=1), p.counted_end)
    weekend = sum(1 for d in days if cal.reason(d)[0] == "weekend")
    named = [cal.reason(d)[1] for d in days if cal.reason(d)[0] == "holiday"]
    parts = [f"{weekend} weekend day{'' if weekend == 1 else 's'}"] if weekend else []
    parts += [f"{h.name} {h.day.day} {h.day:%b} ({h.where})" for h in named if h]
    return f"; not counted: {', '.join(parts)}" if parts else ""


def period_sentence(
    cal: BusinessCalendar, p: PeriodEnd, citation: str | None, roll_forward: bool
) -> str:
    """``28 days after Fri 27 Nov 2026 (DPA 2018 s.162) is Fri 25 Dec 2026, Christmas
    Day; the next working day in England and Wales is Tue 29 Dec 2026``."""
    cited = f" ({citation})" if citation else ""
    text = (
        f"{_amount(p.amount, p.unit)} {_counting(p.counting)} {fmt_day(p.start)}{cited} is "
        f"{fmt_day(p.counted_end)}{_day_note(cal, p.counted_end)}"
    )
    text += _skipped_summary(cal, p)
    if p.rolled is not None:
        text += f"; the next working day in {cal.place()} is {fmt_day(p.rolled)}"
    elif not roll_forward and _day_note(cal, p.counted_end):
        text += " (this period does not roll forward)"
    if p.floored is not None:
        text += (
            f"; a period of two days or more must hold two working days "
            f"(Reg. 1182/71 Art. 3(5)), so it ends {fmt_day(p.floored)}"
        )
    return text


def ends_text(due_on: date, ends_at: str | None, timezone: str | None) -> str:
    zone = f" ({timezone})" if timezone else ""
    if ends_at:
        return f"ends at {ends_at}{zone} on {fmt_day(due_on)}"
    return f"ends at the end of {fmt_day(due_on)}{zone}"


def explain_period(
    cal: BusinessCalendar,
    p: PeriodEnd,
    *,
    trigger: str,
    rule: str | None,
    citation: str | None,
    roll_forward: bool,
    ends_at: str | None,
    timezone: str | None,
) -> Explanation:
    """The explanation of a due date computed as ``p`` on ``cal``."""
    steps = period_steps(cal, p, trigger)
    steps.append(step("ends", p.due_on, ends_text(p.due_on, ends_at, timezone)))
    sentence = period_sentence(cal, p, citation, roll_forward)
    sentence += "; filings close at " + ends_at if ends_at else ""
    return Explanation(
        due_on=p.due_on,
        sentence=sentence,
        steps=tuple(steps),
        rule=rule,
        citation=citation,
        ends_at=ends_at,
        timezone=timezone,
    )
