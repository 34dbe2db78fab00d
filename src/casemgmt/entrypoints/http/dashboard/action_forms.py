"""The case page's action forms, generated from the regime and the event schemas.

Which forms: the event types the case's regime allows in its current stage (``stages``,
``always_allowed`` and, once their deadline is overdue, ``when_overdue``), minus what only
the system writes; on a closed case only ``ALLOWED_WHEN_CLOSED``. Actions on one deadline
(met, waived or cancelled, extended, a statutory extension of its kind) are offered per
unresolved deadline, and only where the domain would consider them: a deadline the law
fixes is never offered a plain extension or cancellation, a missed one is not extended.

What each form holds: the event struct's own fields (``msgspec.inspect``), each with the
widget its type calls for (a date, a whole number, a choice of the ``Literal``'s values,
a line per list item, a checkbox), its length limits and its schema description as a
hint; fields whose values the case or the regime knows are choices (notice kinds and
penalty kinds of the regime, the case's notices, penalties, appeals and deadlines).
Fields ``decide`` fills in itself are left out. Nothing here is written per event type
beyond titles and a few labels: a new event type or regime gets its form for free.

``form_body`` turns a posted form back into the JSON body the API takes, so both are
decoded by the same ``decode_event_object`` and decided by the same ``CaseService``.
``actions_context`` is what the case page's ``_actions.html`` shows: no forms at all for
a reader or a past (as-of) view.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

import msgspec
import msgspec.inspect as mi

from casemgmt.application.auth import Principal, Role
from casemgmt.application.errors import ValidationFailed
from casemgmt.application.views import CaseDetail, DeadlineView
from casemgmt.domain.decide.core import ALLOWED_WHEN_CLOSED
from casemgmt.domain.errors import UnknownRegime
from casemgmt.domain.events import EVENT_TYPES
from casemgmt.domain.events.base import Event
from casemgmt.domain.events.fields import Code, Id
from casemgmt.domain.regime.model import Regime
from casemgmt.domain.regime.registry import RegimeRegistry
from casemgmt.entrypoints.http.bodies import SYSTEM_ONLY
from casemgmt.entrypoints.http.dashboard.context import Sources
from casemgmt.entrypoints.http.dashboard.present import humanize

__all__ = [
    "WORKER_ONLY",
    "ActState",
    "ActionForm",
    "CaseActions",
    "Choice",
    "DeadlineActions",
    "FormField",
    "actions_context",
    "case_actions",
    "form_body",
    "form_for",
    "local_today",
    "regime_of",
]

Widget = Literal["date", "text", "textarea", "lines", "checkbox", "select", "number", "hidden"]

#: Recorded by the worker when a due day passes, not by a person on the page.
WORKER_ONLY = frozenset({"deadline_missed", "deadline_closed"})
#: Filled in by ``decide`` (or meaningful only to an integration): never on a form.
SYSTEM_FIELDS = frozenset({"occurred_at", "backfill", "explanation", "rule", "trigger", "basis_on"})
#: Case-level forms that come after the procedure's own steps, in this order.
LAST = ("deadline_set", "note_added", "case_assigned", "case_closed")
#: A text field longer than this is a text area.
LONG_TEXT = 300
_CHANNELS = ("email", "letter", "phone", "meeting", "portal")

TITLES = {
    "contact_recorded": "Record contact",
    "assessment_started": "Start assessment",
    "assessment_concluded": "Conclude the assessment",
    "investigation_opened": "Open an investigation",
    "investigation_closed": "Close the investigation",
    "notice_issued": "Issue a notice",
    "notice_withdrawn": "Withdraw a notice",
    "representations_received": "Record representations",
    "penalty_imposed": "Impose a penalty",
    "penalty_paid": "Record a penalty paid",
    "appeal_lodged": "Record an appeal",
    "appeal_decided": "Record an appeal's outcome",
    "deadline_set": "Set a deadline",
    "deadline_met": "Mark met",
    "deadline_cancelled": "Cancel",
    "deadline_extended": "Extend",
    "extension_agreed": "Record an agreed extension",
    "note_added": "Add a note",
    "case_assigned": "Assign the case",
    "case_closed": "Close the case",
}
LABELS = {
    "occurred_on": "Date",
    "notice_kind": "Kind of notice",
    "penalty_kind": "Kind of penalty",
    "period": "Or a period from the day of issue",
    "text": "Note",
    "assignee": "Assign to",
    "kind": "Kind of deadline",
    "due_on": "Due on",
    "extended_to": "Extended to",
    "court_application_on": "Court application made on",
    "daily_until": "Daily penalty until deadline",
    "against": "Against (notice or penalty id)",
}
HINTS = {
    "occurred_on": "The day it happened, in the case's time zone.",
    "assignee": "The person's id: their user name or e-mail address.",
    "period": "Give a date or a period, not both.",
    "respond_by": "Give a date or a period, not both.",
    "party": "Left empty: as the regime declares the kind.",
    "obligation": "Left empty: as the regime declares the kind.",
}
#: Hints for one event type's field, where the field means something else elsewhere.
EVENT_HINTS = {
    ("penalty_imposed", "penalty_id"): "Left empty: the next penalty-N.",
    ("appeal_lodged", "appeal_id"): "Left empty: the next appeal-N.",
    ("appeal_decided", "appeal_id"): "Left empty: the only pending appeal.",
    ("penalty_paid", "penalty_id"): "Left empty: the only unpaid penalty.",
}
#: Optional fields that, left empty, pick the only one there is: with none, the form
#: has nothing to act on.
PICKS_THE_ONLY = frozenset({("penalty_paid", "penalty_id"), ("appeal_decided", "appeal_id")})
_MONEY_HINT = "An amount such as 18000000.00."


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    """One input. ``name`` is the JSON field (``period.amount`` for a nested one);
    ``choices`` fill a select (a blank first unless ``required``), ``suggestions`` a
    datalist for free text."""

    name: str
    label: str
    widget: Widget
    required: bool = False
    hint: str = ""
    choices: tuple[Choice, ...] = ()
    suggestions: tuple[Choice, ...] = ()
    default: str = ""
    max_length: int | None = None
    minimum: int | None = None
    maximum: int | None = None
    max_date: str = ""
    inputmode: str | None = None

    @property
    def dom_id(self) -> str:
        return self.name.replace(".", "-")


@dataclass(frozen=True)
class ActionForm:
    """A form that posts one event of ``event_type``; ``key`` is unique on the page."""

    key: str
    event_type: str
    title: str
    description: str
    fields: tuple[FormField, ...]
    deadline_id: str | None = None

    def field(self, name: str) -> FormField | None:
        return next((f for f in self.fields if f.name == name), None)

    def defaults(self) -> dict[str, str]:
        return {f.name: f.default for f in self.fields if f.default}


@dataclass(frozen=True)
class DeadlineActions:
    deadline: DeadlineView
    forms: tuple[ActionForm, ...]


@dataclass(frozen=True)
class CaseActions:
    """The forms of a case page: for the case, and per unresolved deadline."""

    case_forms: tuple[ActionForm, ...]
    deadlines: tuple[DeadlineActions, ...] = ()
    all: dict[str, ActionForm] = field(default_factory=dict)

    def find(self, key: str) -> ActionForm | None:
        return self.all.get(key)


# -- which actions ------------------------------------------------------------------------


def _postable(tag: str) -> bool:
    return tag in EVENT_TYPES and tag not in SYSTEM_ONLY and tag not in WORKER_ONLY


def _field_names(tag: str) -> set[str]:
    return {f.name for f in msgspec.structs.fields(EVENT_TYPES[tag])}


def _per_deadline(tag: str, regime: Regime) -> bool:
    """An action on one existing deadline (or a statutory extension of a kind)."""
    on_deadline = "deadline_id" in _field_names(tag) and tag != "deadline_set"
    return on_deadline or any(x.on == tag for x in regime.extensions)


def _overdue_allows(regime: Regime, case: CaseDetail, tag: str, today: date) -> bool:
    for rule in regime.when_overdue:
        if rule.on != tag or case.stage not in rule.stages:
            continue
        if any(
            d.kind == rule.kind
            and (d.status == "missed" or (d.status == "open" and d.due_on < today))
            for d in case.deadlines
        ):
            return True
    return False


def allowed(regime: Regime, case: CaseDetail, tag: str, today: date) -> bool:
    """Whether the regime lets ``tag`` be recorded on the case as it stands."""
    if not _postable(tag):
        return False
    if case.status == "closed":
        return tag in ALLOWED_WHEN_CLOSED
    return regime.allows(case.stage, tag) or _overdue_allows(regime, case, tag, today)


def _order(tags: Iterable[str]) -> list[str]:
    found = list(tags)
    head = [t for t in found if t not in LAST]
    return head + [t for t in LAST if t in found]


def case_actions(regime: Regime, case: CaseDetail, today: date) -> CaseActions:
    """Every form the case page offers today (``today``: the case's local date)."""
    tags = _order(t for t in EVENT_TYPES if allowed(regime, case, t, today))
    built = (form_for(t, regime, case, today) for t in tags if not _per_deadline(t, regime))
    case_forms = tuple(f for f in built if _actionable(f))
    per_deadline = []
    for d in case.deadlines:
        forms = tuple(f for f in _deadline_forms(regime, case, d, today) if _actionable(f))
        if forms:
            per_deadline.append(DeadlineActions(deadline=d, forms=forms))
    everything = {f.key: f for f in case_forms}
    everything.update({f.key: f for group in per_deadline for f in group.forms})
    return CaseActions(case_forms=case_forms, deadlines=tuple(per_deadline), all=everything)


def _actionable(form: ActionForm) -> bool:
    """False when a required choice has nothing to choose (no notice to withdraw)."""
    return not any(f.required and f.widget == "select" and not f.choices for f in form.fields)


def _fixed(regime: Regime, d: DeadlineView) -> bool:
    rule = regime.deadline_rule(d.rule)
    return rule is not None and rule.fixed


def _deadline_forms(
    regime: Regime, case: CaseDetail, d: DeadlineView, today: date
) -> Iterable[ActionForm]:
    """What may be done to ``d``: met (late, if past due), waived or cancelled, extended;
    a fixed (statutory) deadline only by the regime's own extension events of its kind."""
    if d.status not in ("open", "paused", "missed"):
        return
    standing = d.status in ("open", "paused")
    if allowed(regime, case, "deadline_met", today):
        late = d.status == "missed" or today > d.due_on
        yield form_for("deadline_met", regime, case, today, d, "Mark met late" if late else None)
    if standing and not _fixed(regime, d) and allowed(regime, case, "deadline_extended", today):
        yield form_for("deadline_extended", regime, case, today, d)
    if not _fixed(regime, d) and allowed(regime, case, "deadline_cancelled", today):
        title = "Waive the breach" if d.status == "missed" else None
        yield form_for("deadline_cancelled", regime, case, today, d, title)
    if not standing or today > d.due_on:
        return  # an extension moves a deadline that has not passed
    for tag in dict.fromkeys(x.on for x in regime.extensions if x.kind == d.kind):
        if allowed(regime, case, tag, today):
            yield form_for(tag, regime, case, today, d)


# -- what each form holds -----------------------------------------------------------------


def _description(cls: type[Event]) -> str:
    paragraph = (cls.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(paragraph.replace("``", "").split())


def form_for(
    tag: str,
    regime: Regime,
    case: CaseDetail,
    today: date,
    deadline: DeadlineView | None = None,
    title: str | None = None,
) -> ActionForm:
    """The form of event type ``tag`` on ``case`` (on ``deadline`` if given)."""
    cls = EVENT_TYPES[tag]
    fields: list[FormField] = []
    for info in _struct_fields(cls):
        if info.name in SYSTEM_FIELDS:
            continue
        if info.name == "deadline_id" and deadline is not None:
            hidden = FormField(
                name="deadline_id", label="Deadline", widget="hidden", default=deadline.deadline_id
            )
            fields.append(hidden)
            continue
        fields.extend(_inputs(tag, info, regime, case, today))
    key = tag if deadline is None else f"{tag}--{deadline.deadline_id}"
    return ActionForm(
        key=key,
        event_type=tag,
        title=title or TITLES.get(tag, humanize(tag)),
        description=_description(cls),
        fields=tuple(fields),
        deadline_id=deadline.deadline_id if deadline else None,
    )


@cache
def _struct_fields(cls: type[Event]) -> tuple[mi.Field, ...]:
    info = mi.type_info(cls)
    assert isinstance(info, mi.StructType)
    return info.fields


@cache
def _generic_descriptions() -> frozenset[str]:
    """Schema descriptions too generic to help on a form (the format of ids and codes)."""
    return frozenset(_unwrap(mi.type_info(t))[1] for t in (Id, Code))


def _unwrap(t: mi.Type) -> tuple[mi.Type, str]:
    """The type without ``| None`` and its metadata, and the schema's description."""
    if isinstance(t, mi.UnionType):
        t = next(x for x in t.types if not isinstance(x, mi.NoneType))
    description = ""
    if isinstance(t, mi.Metadata):
        description = str((t.extra_json_schema or {}).get("description", ""))
        t = t.type
    return t, description


def _inputs(
    tag: str, info: mi.Field, regime: Regime, case: CaseDetail, today: date
) -> list[FormField]:
    t, description = _unwrap(info.type)
    name, label = info.name, LABELS.get(info.name, humanize(info.name))
    generic = "" if description in _generic_descriptions() else description
    hint = EVENT_HINTS.get((tag, name)) or HINTS.get(name, generic)
    if isinstance(t, mi.StructType):  # a period: its amount and its unit
        return [
            FormField(
                name=f"{name}.{sub.name}",
                label=f"{label}: {humanize(sub.name).lower()}",
                hint=hint if n == 0 else "",
                **_widget(_unwrap(sub.type)[0]),
            )
            for n, sub in enumerate(t.fields)
        ]
    widget = _widget(t)
    if _is_money(t):
        widget["inputmode"] = "decimal"
        hint = EVENT_HINTS.get((tag, name)) or HINTS.get(name, _MONEY_HINT)
    if name == "occurred_on":
        widget.update(default=today.isoformat(), max_date=today.isoformat())
    f = FormField(name=name, label=label, required=info.required, hint=hint, **widget)
    known = _with_case_knowledge(tag, f, regime, case)
    return [known] if known is not None else []


def _is_money(t: mi.Type) -> bool:
    return isinstance(t, mi.StrType) and bool(t.pattern) and "[0-9]{0,17}" in (t.pattern or "")


def _widget(t: mi.Type) -> dict[str, Any]:
    if isinstance(t, mi.DateType):
        return {"widget": "date"}
    if isinstance(t, mi.BoolType):
        return {"widget": "checkbox"}
    if isinstance(t, mi.IntType):
        return {"widget": "number", "minimum": t.ge, "maximum": t.le}
    if isinstance(t, mi.LiteralType):
        return {
            "widget": "select",
            "choices": tuple(Choice(str(v), humanize(str(v))) for v in t.values),
        }
    if isinstance(t, mi.ListType):
        return {"widget": "lines"}
    if isinstance(t, mi.StrType):
        long = t.max_length is None or t.max_length > LONG_TEXT
        free = t.pattern in (None, r"\S")
        widget = "textarea" if long and free and t.max_length is not None else "text"
        return {"widget": widget, "max_length": t.max_length}
    return {"widget": "text"}


def _with_case_knowledge(
    tag: str, f: FormField, regime: Regime, case: CaseDetail
) -> FormField | None:
    """``f`` with what the regime and the case know: choices, suggestions, defaults;
    None for an optional choice with nothing to choose (no penalty to tie a deadline to)."""
    choices = _choices(tag, f.name, regime, case)
    if choices == [] and (tag, f.name) in PICKS_THE_ONLY:
        return _replace(f, widget="select", choices=(), required=True)  # nothing to act on
    if choices == [] and not f.required:
        return None
    if choices is not None:
        return _replace(f, widget="select", choices=tuple(choices))
    suggestions = _suggestions(tag, f.name, regime, case)
    if suggestions:
        f = _replace(f, suggestions=tuple(suggestions))
    default = _default(tag, f.name, regime, case)
    if default:
        f = _replace(f, default=default)
    return f


def _replace(f: FormField, **changes: Any) -> FormField:
    values = {name: getattr(f, name) for name in f.__dataclass_fields__}
    values.update(changes)
    return FormField(**values)


def _choices(tag: str, name: str, regime: Regime, case: CaseDetail) -> list[Choice] | None:
    if name == "party" and tag == "deadline_set":
        return [Choice(p, humanize(p)) for p in regime.parties()]
    if name == "notice_kind":
        return [
            Choice(n.code, f"{n.name} ({n.section})" if n.section else n.name)
            for n in regime.notice_kinds
        ]
    if name == "penalty_kind" and regime.penalty_caps:
        return [
            Choice(c.penalty_kind, _cap_label(c.penalty_kind, c.section))
            for c in regime.penalty_caps
        ]
    if name == "notice_id" and tag != "notice_issued":
        return [
            Choice(str(n["notice_id"]), f"{n['notice_id']}: {humanize(str(n['kind']))}")
            for n in case.notices
            if n.get("status") == "issued"
        ]
    if name == "penalty_id" and tag == "deadline_set":
        return [Choice(str(p["penalty_id"]), str(p["penalty_id"])) for p in case.penalties]
    if name == "penalty_id" and tag == "penalty_paid":
        return [
            Choice(str(p["penalty_id"]), f"{p['penalty_id']}: {p['currency']} {p['amount']}")
            for p in case.penalties
            if not p.get("paid")
        ]
    if name == "appeal_id" and tag == "appeal_decided":
        return [
            Choice(str(a["appeal_id"]), str(a["appeal_id"]))
            for a in case.appeals
            if not a.get("outcome")
        ]
    if name == "daily_until":
        return [Choice(d.deadline_id, f"{d.label} ({d.deadline_id})") for d in case.deadlines]
    return None


def _cap_label(kind: str, section: str) -> str:
    return f"{humanize(kind)} ({section})" if section else humanize(kind)


def _suggestions(tag: str, name: str, regime: Regime, case: CaseDetail) -> list[Choice]:
    if name == "kind" and tag == "deadline_set":
        declared = [
            Choice(code, k.description or humanize(code))
            for code, k in regime.deadline_kinds.items()
        ]
        return declared or [Choice(k, humanize(k)) for k in regime.rule_kinds()]
    if name == "channel":
        return [Choice(c, humanize(c)) for c in _CHANNELS]
    if name == "against":
        ids = [str(n["notice_id"]) for n in case.notices] + [
            str(p["penalty_id"]) for p in case.penalties
        ]
        return [Choice(i, i) for i in ids]
    return []


def _default(tag: str, name: str, regime: Regime, case: CaseDetail) -> str:
    if name == "currency" and tag == "penalty_imposed":
        return regime.penalty_currency or ""
    if name == "notice_id" and tag == "notice_issued":
        return _next_id("notice", [str(n["notice_id"]) for n in case.notices])
    if name == "deadline_id" and tag == "deadline_set":
        return _next_id("deadline", [d.deadline_id for d in case.deadlines])
    return ""


def _next_id(prefix: str, taken: Sequence[str]) -> str:
    n = len(taken) + 1
    while f"{prefix}-{n}" in taken:
        n += 1
    return f"{prefix}-{n}"


# -- posted form -> API body ----------------------------------------------------------------

_WHOLE = re.compile(r"-?[0-9]{1,6}")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:\-]{0,119}$")


def form_body(form: ActionForm, posted: Mapping[str, str]) -> dict[str, Any]:
    """The JSON body the API would take for ``posted`` (empty inputs are left out)."""
    body: dict[str, Any] = {"type": form.event_type}
    for f in form.fields:
        raw = posted.get(f.name, "").replace("\r\n", "\n")  # browsers send CRLF
        value = raw.strip() if f.widget != "textarea" else raw.strip("\n")
        if f.widget == "hidden" and f.name == "deadline_id":
            value = f.default  # the form's own deadline, whatever was posted
        parsed = _parse(f, value)
        if parsed is None:
            continue
        head, _, sub = f.name.partition(".")
        if sub:
            body.setdefault(head, {})[sub] = parsed
        else:
            body[head] = parsed
    return body


def _parse(f: FormField, value: str) -> Any:
    if f.widget == "checkbox":
        return True if value else None
    if not value.strip():
        return None
    if f.widget == "lines":
        return [line.strip() for line in value.splitlines() if line.strip()]
    if f.widget == "number":
        if not _WHOLE.fullmatch(value):
            raise ValidationFailed(
                f"{f.name} must be a whole number, not {value[:20]!r}", field=f.name
            )
        return int(value)
    return value


# -- the case page's context ------------------------------------------------------------


@dataclass
class ActState:
    """What the action forms show besides their defaults: the form just posted (``key``)
    with its ``values``, its ``errors`` by field and a ``message`` for the whole form; a
    ``conflict`` or ``recorded`` message for the page."""

    version: int
    key: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str = ""
    conflict: str = ""
    recorded: str = ""
    kept_event_id: str = ""

    def mine(self, form: ActionForm) -> bool:
        return form.key == self.key

    def values_for(self, form: ActionForm) -> dict[str, str]:
        return self.values if self.mine(form) else form.defaults()

    def errors_for(self, form: ActionForm) -> dict[str, str]:
        return self.errors if self.mine(form) else {}

    def event_id(self, form: ActionForm) -> str:
        """The id the form's event gets: kept across a refusal (nothing was written), so
        submitting the same form twice records it once."""
        if self.mine(form) and self.kept_event_id:
            return self.kept_event_id
        return f"dash-{uuid.uuid4().hex}"


def regime_of(regimes: RegimeRegistry, case: CaseDetail) -> Regime | None:
    try:
        return regimes.get(case.regulator, case.regime)
    except UnknownRegime:
        return None


def local_today(sources: Sources, regime: Regime) -> date:
    return sources.clock.now().astimezone(ZoneInfo(regime.timezone)).date()


def _recorded(query: Mapping[str, str]) -> str:
    tag = query.get("recorded", "")
    if tag not in EVENT_TYPES:
        return ""
    deadline = query.get("deadline", "")
    on = f" on deadline {deadline}" if _ID.match(deadline) else ""
    return f"Recorded: {humanize(tag)}{on}."


def actions_context(
    sources: Sources,
    principal: Principal,
    page: Mapping[str, Any],
    query: Mapping[str, str] | None = None,
    state: ActState | None = None,
) -> dict[str, Any]:
    """``actions`` (None: no forms: a reader, a past view, nothing to act on) and ``act``
    for the case page ``page`` (the context ``case_page`` built)."""
    case: CaseDetail | None = page.get("case")
    if case is None or page.get("as_of") is not None or not principal.has_role(Role.WRITER):
        return {"actions": None, "act": None}
    regime = regime_of(sources.regimes, case)
    if regime is None:
        return {"actions": None, "act": None}
    actions = case_actions(regime, case, local_today(sources, regime))
    act = state or ActState(version=case.version, recorded=_recorded(query or {}))
    return {"actions": actions, "act": act}
