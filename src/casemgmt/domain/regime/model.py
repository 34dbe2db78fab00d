"""A regime as data: one regulator's procedure under one law, read from a TOML file.

Every struct forbids unknown keys, so a typo in a file is an error naming the key.
Field docs below are the file format's reference (see ``src/casemgmt/regimes/*.toml``).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

import msgspec

from casemgmt.domain.calendar.calendars import (
    BusinessCalendar,
    Counting,
    HolidayYear,
    PeriodEnd,
    Unit,
    get_calendar,
)
from casemgmt.domain.events.fields import Period
from casemgmt.domain.parties import Obligation, Party

__all__ = [
    "ANY_REGULATOR",
    "ClockStopRule",
    "DeadlineKind",
    "DeadlineRule",
    "ExtensionRule",
    "MeetsRule",
    "Minimum",
    "NoticeKind",
    "OverdueAllowance",
    "PenaltyCap",
    "Prerequisite",
    "Regime",
    "ReminderOffset",
    "ReminderPolicy",
    "Stage",
    "Transition",
]

ANY_REGULATOR = "*"
RuleId = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]*$", max_length=80)]
Code = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=64)]
Label = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Amount = Annotated[int, msgspec.Meta(ge=0, le=3660)]
Citation = Annotated[str, msgspec.Meta(max_length=300)]
LocalTime = Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class _Data(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    pass


class Stage(_Data, frozen=True, kw_only=True):
    """A stage of the procedure; ``allows`` lists the event types it accepts."""

    code: Code
    name: Label
    allows: list[str] = []


class Transition(_Data, frozen=True, kw_only=True):
    """When ``on`` (of ``notice_kind``) happens in a stage of ``from`` (any if empty), go ``to``."""

    on: str
    to: Code
    from_: list[Code] = msgspec.field(default_factory=list, name="from")
    notice_kind: Code | None = None


class Prerequisite(_Data, frozen=True, kw_only=True):
    """A notice kind may only follow an earlier, unwithdrawn notice of ``notice_kind``.

    With ``deadline_kind``, that notice's deadline of this kind must be, on the day of the
    new notice: ``"over"`` met or past its due day; ``"expired"`` past its due day even
    if it was met early (a period for representations has to run out: early
    representations do not shorten it); ``"running"`` not yet past its due day and not
    closed (a time limit on the regulator, e.g. six months from a notice of intent).
    """

    id: RuleId
    notice_kind: Code
    deadline_kind: Code | None = None
    deadline: Literal["over", "expired", "running"] = "over"


class NoticeKind(_Data, frozen=True, kw_only=True):
    """A kind of notice the regulator issues; ``section`` cites the law.

    ``court_application``: the notice records the day the regulator applied to court.
    """

    code: Code
    name: Label
    section: str = ""
    court_application: bool = False
    requires: list[Prerequisite] = []


class Minimum(_Data, frozen=True, kw_only=True):
    """The shortest period the law allows a notice to give (checked, never invented).

    Counted like a deadline rule (``counting``: ``after`` the event's day or
    ``beginning_with`` it; ``roll_forward`` and ``min_working_days`` on ``calendar``,
    default the rule's): ``amount`` ``unit`` from the event's day, and/or ``not_before``:
    the stated date may not fall before the deadline of that kind the same event sets (an
    information notice may not end before its appeal period). ``unless`` names a boolean
    field of the event that waives the minimum (``urgent``). ``from_notice``: for an event
    naming a notice (a penalty's ``notice_id``), count from the day that notice was given.
    ``citation`` names the provision.
    """

    amount: Amount | None = None
    unit: Unit | None = None
    counting: Counting = "after"
    roll_forward: bool = False
    min_working_days: Amount = 0
    calendar: str | None = None
    not_before: Code | None = None
    unless: Literal["urgent"] | None = None
    from_notice: bool = False
    citation: Citation = ""

    @property
    def inclusive(self) -> bool:
        return self.counting == "beginning_with"


class DeadlineKind(_Data, frozen=True, kw_only=True):
    """What a deadline of one kind means: who must (or may) act, and whether it is a duty.

    ``party``: ``regulator`` (the regulator or public authority), ``subject`` (the company
    the case is about), ``requester`` (FOI) or ``tribunal`` (a court or tribunal).
    ``obligation``: ``duty`` (can be missed: respond, comply, pay) or ``window`` (someone
    may act: appeal, ask for a review, make representations; it closes, no blame).
    """

    party: Party
    obligation: Obligation
    description: str = ""


class DeadlineRule(_Data, frozen=True, kw_only=True):
    """An event (of ``notice_kind``) sets a deadline of ``kind``; ``citation`` names the law.

    ``period = "statutory"``: ``amount`` ``unit`` counted ``after`` the event's day or
    ``beginning_with`` it (that day is day 1), on ``calendar`` (default the regime's),
    rolled to the next working day if ``roll_forward``, stretched to hold
    ``min_working_days`` (Reg. 1182/71 Art. 3(5)), ending at ``ends_at`` local time (else
    at the end of the day). ``period = "stated"``: the law leaves the period to the notice
    or letter, whose date or period (counted the same way) is used; ``required`` rejects
    one that states neither and ``minimum`` one too short. ``limit`` caps any later
    extension at ``limit`` units from the basis day.
    ``fixed``: the law fixes the deadline, so only the regime's ``clock_stops`` and
    ``extensions`` of its kind move it and a plain ``deadline_extended`` is refused with
    this rule's id. ``stated_by`` names a date field of the event that, when given,
    replaces the computed date (the date an appellant gives for an appeal window).
    """

    id: RuleId
    on: str
    kind: Code
    label: Label
    period: Literal["statutory", "stated"] = "statutory"
    notice_kind: Code | None = None
    amount: Amount | None = None
    unit: Unit | None = None
    counting: Counting = "after"
    roll_forward: bool = False
    min_working_days: Amount = 0
    ends_at: LocalTime | None = None
    calendar: str | None = None
    citation: Citation = ""
    required: bool = False
    minimum: Minimum | None = None
    limit: Amount | None = None
    fixed: bool = False
    stated_by: Literal["appeal_by"] | None = None

    @property
    def inclusive(self) -> bool:
        """The event's day is day 1 of the period (``counting = "beginning_with"``)."""
        return self.counting == "beginning_with"


class MeetsRule(_Data, frozen=True, kw_only=True):
    """``on`` (of ``notice_kind``) meets the open deadlines of ``kind``.

    ``match = "notice"`` (``"penalty"``) limits it to the deadlines of the event's notice (penalty).
    """

    id: RuleId
    on: str
    kind: Code
    notice_kind: Code | None = None
    match: Literal["case", "notice", "penalty"] = "case"


class ClockStopRule(_Data, frozen=True, kw_only=True):
    """``stop_on`` pauses the open deadlines of ``kind``; ``resume_on`` starts them again.

    ``resume = "restart"``: the period (``amount`` ``unit``) runs anew from the resuming
    day. ``resume = "disregard"``: the working days from the stop day to the resuming day,
    both included, are added to the due date. A stop after the due day does not stop
    a clock that has run out: ``late = "refuse"`` refuses it (naming this rule);
    ``late = "keep_breach"`` records it and leaves the deadline (and its breach) as it
    is. ``lapse_kind``: the deadline of that kind (set by the stopping event) bounds the
    pause: resuming after its due day is refused, and when it is missed the paused
    deadlines are cancelled (the request lapsed).
    """

    id: RuleId
    kind: Code
    stop_on: str
    resume_on: str
    resume: Literal["restart", "disregard"]
    amount: Amount | None = None
    unit: Unit | None = None
    late: Literal["refuse", "keep_breach"] = "keep_breach"
    lapse_kind: Code | None = None
    citation: Citation = ""


class ExtensionRule(_Data, frozen=True, kw_only=True):
    """``on`` moves the open deadline of ``kind`` to the event's date, only while the
    deadline has not passed. ``max_amount`` ``unit`` caps all the extensions made under
    this rule together (chained extensions count in total) unless the event says it is
    exceptional; no ``max_amount``: as far as the event says (an agreed extension)."""

    id: RuleId
    on: str
    kind: Code
    max_amount: Amount | None = None
    unit: Unit = "working_days"
    citation: Citation = ""


class OverdueAllowance(_Data, frozen=True, kw_only=True):
    """In ``stages``, ``on`` is also allowed once a deadline of ``kind`` is overdue (past
    its due day unmet, or recorded missed); before that it is refused with this id."""

    id: RuleId
    on: str
    stages: list[Code]
    kind: Code


class ReminderOffset(_Data, frozen=True, kw_only=True):
    """Remind ``amount`` ``unit`` before, on, or after the due day."""

    amount: Amount
    unit: Literal["working_days", "calendar_days"]
    when: Literal["before", "on", "after"]


class ReminderPolicy(_Data, frozen=True, kw_only=True):
    """When reminders go out: at ``send_time`` local time, on the days of the offsets."""

    send_time: Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")] = "09:00"
    default: list[ReminderOffset] = []
    by_kind: dict[str, list[ReminderOffset]] = {}

    def offsets_for(self, kind: str) -> list[ReminderOffset]:
        return self.by_kind.get(kind, self.default)


class PenaltyCap(_Data, frozen=True, kw_only=True):
    """The maximum penalty: ``fixed``, ``percent`` of ``measure``, or the greater of both.

    ``daily_rate``: a penalty of this kind may add a daily rate from a stated day, capped
    at a number of days (OSA s.137).
    """

    id: RuleId
    penalty_kind: Code
    fixed: Decimal | None = None
    percent: Decimal | None = None
    measure: str | None = None
    section: str = ""
    daily_rate: bool = False


class Regime(_Data, frozen=True, kw_only=True):
    """One regulator's procedure under one law. ``regulator = "*"`` fits any regulator."""

    regulator: Annotated[str, msgspec.Meta(pattern=r"^(\*|[a-z0-9][a-z0-9\-]*)$")]
    regulator_name: Label
    code: Code
    law: Label
    timezone: str
    calendar: str
    initial_stage: Code
    stages: list[Stage]
    holiday_years: list[HolidayYear] = []
    always_allowed: list[str] = []
    transitions: list[Transition] = []
    notice_kinds: list[NoticeKind] = []
    deadline_kinds: dict[Code, DeadlineKind] = {}
    deadline_rules: list[DeadlineRule] = []
    meets: list[MeetsRule] = []
    clock_stops: list[ClockStopRule] = []
    extensions: list[ExtensionRule] = []
    when_overdue: list[OverdueAllowance] = []
    reminders: ReminderPolicy = ReminderPolicy()
    penalty_currency: Annotated[str, msgspec.Meta(pattern=r"^[A-Z]{3}$")] | None = None
    penalty_caps: list[PenaltyCap] = []
    source: str = ""

    @property
    def any_regulator(self) -> bool:
        return self.regulator == ANY_REGULATOR

    def label(self, regulator: str | None = None) -> str:
        """``"ofcom/osa-2023"``; an any-regulator regime shows the case's ``regulator``."""
        shown = regulator if self.any_regulator and regulator else self.regulator
        return f"{shown}/{self.code}"

    def business_calendar(self, name: str | None = None) -> BusinessCalendar:
        """The calendar ``name`` (default the regime's), with the regime's dated holidays."""
        return get_calendar(name or self.calendar, self.holiday_years)

    def count(self, rule: DeadlineRule, trigger: date, period: Period | None = None) -> PeriodEnd:
        """The end of ``rule``'s period (or the stated ``period``) counted from ``trigger``.

        Raises ``CalendarYearUnavailable`` when the count reaches a year with no list.
        """
        amount, unit = (period.amount, period.unit) if period else (rule.amount, rule.unit)
        assert amount is not None  # statutory rules have amount and unit: checked at load
        assert unit is not None
        return self.business_calendar(rule.calendar).period(
            trigger,
            amount,
            unit,
            counting=rule.counting,
            roll_forward=rule.roll_forward,
            min_working_days=rule.min_working_days,
        )

    def earliest_lawful(self, rule: DeadlineRule, trigger: date) -> PeriodEnd | None:
        """The earliest due date the law allows a notice of ``rule`` given on ``trigger``
        to state (its ``minimum``), or None when the law sets no minimum."""
        m = rule.minimum
        if m is None or m.amount is None or m.unit is None:
            return None
        return self.business_calendar(m.calendar or rule.calendar).period(
            trigger,
            m.amount,
            m.unit,
            counting=m.counting,
            roll_forward=m.roll_forward,
            min_working_days=m.min_working_days,
        )

    def stage(self, code: str) -> Stage | None:
        return next((s for s in self.stages if s.code == code), None)

    def notice_kind(self, code: str) -> NoticeKind | None:
        return next((n for n in self.notice_kinds if n.code == code), None)

    def deadline_rule(self, rule_id: str | None) -> DeadlineRule | None:
        return next((r for r in self.deadline_rules if r.id == rule_id), None)

    def allows(self, stage: str, event_type: str) -> bool:
        found = self.stage(stage)
        return event_type in self.always_allowed or (
            found is not None and event_type in found.allows
        )

    def rule_kinds(self) -> list[str]:
        """Every deadline kind a rule of this regime can produce, in file order."""
        return list(dict.fromkeys(r.kind for r in self.deadline_rules))

    def kind(self, code: str) -> DeadlineKind | None:
        """The declared meaning of deadline kind ``code`` (None if the file declares none)."""
        return self.deadline_kinds.get(code)

    def parties(self) -> list[str]:
        """The parties with a part in this procedure: the regulator and every party a
        deadline kind names."""
        named = [k.party for k in self.deadline_kinds.values()]
        return list(dict.fromkeys(["regulator", *named]))
