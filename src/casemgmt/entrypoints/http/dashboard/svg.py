"""Server-rendered SVG for the dashboard: a case at a glance, and the overview's charts.

No JavaScript and no inline styles (the dashboard's CSP has ``style-src 'self'``): every
element carries classes that ``static/dashboard.css`` styles, and the SVG is inline in the
page. Each chart is ``role="img"`` with a ``<title>`` and ``<desc>``, each shape a
``<title>`` (a tooltip), and the pages print the same facts as text next to it.

Two layers, so that the geometry can be tested without parsing SVG:

* the facts: ``case_timeline`` folds a case's events and deadlines into a
  ``CaseTimeline`` (stages as a band, deadlines as bars from the day they were set to
  their due day, clock stops as gaps in those bars, notices and penalties as marks);
* the drawing: ``Scale`` maps days to x, ``timeline_layout`` places every shape
  (``Shape`` rectangles, lines and marks in user units of a fixed ``viewBox``), and
  ``render_*`` writes them out as SVG markup.

A day ``d`` occupies ``[x(d), x(d + 1))``: a deadline's bar ends at the end of its due
day, and the today line runs through the middle of today.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from markupsafe import Markup, escape

from casemgmt.application.views import DeadlineView, EnvelopeView

__all__ = [
    "Band",
    "Bar",
    "CaseTimeline",
    "Mark",
    "Scale",
    "Shape",
    "StageCount",
    "Stop",
    "WeekCount",
    "case_timeline",
    "render_stage_chart",
    "render_timeline",
    "render_week_chart",
    "stage_chart_layout",
    "timeline_layout",
    "week_chart_layout",
    "weeks_ahead",
]

WIDTH = 960.0
CHART_WIDTH = 560.0  # the overview's charts, half a page wide
LEFT = 10.0
RIGHT = WIDTH - 10.0
FONT = 12.0
CHAR = 6.6  # an estimate of one character's advance at FONT, in user units
AXIS_Y = 18.0
BAND_Y = 28.0
BAND_H = 24.0
MARK_Y = 60.0
MARK_H = 22.0
LANE_H = 34.0
BAR_H = 12.0
MAX_LABEL = 64


# -- the facts ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Band:
    """A stage the case was in from ``start`` until ``end`` (exclusive)."""

    code: str
    name: str
    start: date
    end: date
    index: int


@dataclass(frozen=True)
class Stop:
    """A deadline's clock stopped from ``start``; ``end`` the day it ran again (exclusive),
    or None while it is still stopped."""

    deadline_id: str
    kind: str  # clarification, fees or other
    reason: str
    start: date
    end: date | None


@dataclass(frozen=True)
class Bar:
    """A deadline from the day it was set to the end of its due day."""

    deadline_id: str
    label: str
    start: date
    due: date
    status: str
    ours: bool
    party: str
    obligation: str
    state: str = ""  # the dashboard's highlight (``present.deadline_state``)
    settled_on: date | None = None
    stops: tuple[Stop, ...] = ()


@dataclass(frozen=True)
class Mark:
    """A notice, a penalty, an appeal or the closure, on its day."""

    kind: str
    on: date
    label: str


@dataclass(frozen=True)
class CaseTimeline:
    start: date
    end: date  # exclusive
    today: date
    today_label: str
    bands: tuple[Band, ...]
    bars: tuple[Bar, ...]
    marks: tuple[Mark, ...]

    @property
    def stops(self) -> tuple[Stop, ...]:
        return tuple(s for b in self.bars for s in b.stops)


_SETTLING = {
    "deadline_met": "met",
    "deadline_missed": "missed",
    "deadline_closed": "closed",
    "deadline_cancelled": "cancelled",
}


def _day(event: EnvelopeView) -> date:
    value = event.data.get("occurred_on")
    return date.fromisoformat(value) if isinstance(value, str) else date.min


def _stop_kind(reason: str) -> str:
    if reason.startswith("clarification"):
        return "clarification"
    if reason.startswith("fee"):
        return "fees"
    return "other"


def case_timeline(
    events: Sequence[EnvelopeView],
    deadlines: Iterable[DeadlineView],
    today: date,
    *,
    stage_name: Mapping[str, str] | None = None,
    initial_stage: str = "",
    state: Mapping[str, str] | None = None,
    today_label: str = "today",
) -> CaseTimeline:
    """The facts of the picture: ``events`` in case order (those that had occurred by
    ``today``), the case's ``deadlines`` as of ``today``, and a name for each stage code."""
    names = stage_name or {}
    opened = _day(events[0]) if events else today
    # stages
    changes: list[tuple[date, str]] = []
    first = initial_stage
    for e in events:
        if e.type == "case_opened" and e.data.get("stage"):
            first = str(e.data["stage"])
        if e.type == "stage_changed":
            if not changes and not first:
                first = str(e.data.get("from_stage", ""))
            changes.append((_day(e), str(e.data["stage"])))
    # deadlines: set, paused and settled days
    set_on: dict[str, date] = {}
    settled: dict[str, date] = {}
    paused: dict[str, list[tuple[date, str]]] = {}
    stops: dict[str, list[Stop]] = {}
    for e in events:
        did = e.data.get("deadline_id")
        if not isinstance(did, str):
            continue
        day = _day(e)
        if e.type == "deadline_set":
            set_on.setdefault(did, day)
        if e.type in _SETTLING:
            settled[did] = day
        if e.type == "deadline_paused":
            paused.setdefault(did, []).append((day, str(e.data.get("reason", ""))))
        elif did in paused and paused[did] and e.type != "reminder_sent":
            start, reason = paused[did].pop()
            stops.setdefault(did, []).append(Stop(did, _stop_kind(reason), reason, start, day))
    for did, open_pauses in paused.items():
        for start, reason in open_pauses:
            stops.setdefault(did, []).append(Stop(did, _stop_kind(reason), reason, start, None))
    bars = []
    for d in deadlines:
        start = min(set_on.get(d.deadline_id, opened), d.due_on)
        bars.append(
            Bar(
                deadline_id=d.deadline_id,
                label=d.label,
                start=start,
                due=d.due_on,
                status=d.status,
                ours=d.ours,
                party=d.party,
                obligation=d.obligation,
                state=(state or {}).get(d.deadline_id, ""),
                settled_on=settled.get(d.deadline_id) if d.status in _SETTLING.values() else None,
                stops=tuple(sorted(stops.get(d.deadline_id, ()), key=lambda s: s.start)),
            )
        )
    bars.sort(key=lambda b: (b.start, b.due, b.deadline_id))
    marks = []
    for e in events:
        if e.type == "notice_issued":
            kind = str(e.data.get("notice_kind", "notice")).replace("_", " ")
            marks.append(Mark("notice", _day(e), f"Notice issued: {kind}"))
        elif e.type == "penalty_imposed":
            amount = f"{e.data.get('currency', '')} {e.data.get('amount', '')}".strip()
            marks.append(Mark("penalty", _day(e), f"Penalty imposed: {amount}"))
        elif e.type == "appeal_lodged":
            marks.append(Mark("appeal", _day(e), "Appeal lodged"))
        elif e.type == "case_closed":
            marks.append(Mark("closed", _day(e), "Case closed"))
    last = max(
        [today, opened]
        + [b.due for b in bars]
        + [_day(e) for e in events]
        + [s.end for b in bars for s in b.stops if s.end]
    )
    start = min([opened] + [b.start for b in bars])
    end = last + timedelta(days=1)
    bands: list[Band] = []
    stage_days = [(opened, first), *changes] if first else changes
    for i, (since, code) in enumerate(stage_days):
        until = stage_days[i + 1][0] if i + 1 < len(stage_days) else end
        if code:
            bands.append(Band(code, names.get(code, code), since, max(until, since), i))
    return CaseTimeline(
        start=start,
        end=end,
        today=today,
        today_label=today_label,
        bands=tuple(bands),
        bars=tuple(bars),
        marks=tuple(marks),
    )


# -- geometry ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """Days ``start`` .. ``end`` (exclusive) onto ``x0`` .. ``x1``."""

    start: date
    end: date
    x0: float = LEFT
    x1: float = RIGHT

    @property
    def day_width(self) -> float:
        return (self.x1 - self.x0) / max((self.end - self.start).days, 1)

    def x(self, day: date) -> float:
        """The left edge of ``day`` (clamped to the axis)."""
        days = (day - self.start).days
        total = max((self.end - self.start).days, 1)
        return self.x0 + (self.x1 - self.x0) * min(max(days, 0), total) / total

    def mid(self, day: date) -> float:
        return min(self.x(day) + self.day_width / 2, self.x1)


@dataclass(frozen=True)
class Shape:
    """One element: ``kind`` rect / line / mark / text, its box (a line: from (x, y) to
    (x + w, y + h)), CSS classes, an optional tooltip, text and link."""

    kind: str
    x: float
    y: float
    w: float = 0.0
    h: float = 0.0
    css: str = ""
    title: str = ""
    text: str = ""
    anchor: str = "start"
    href: str = ""
    meta: dict[str, str] = field(default_factory=dict)


def _fmt(day: date) -> str:
    return f"{day:%a} {day.isoformat()}"


def _ticks(start: date, end: date) -> list[tuple[date, str]]:
    """Axis ticks: Mondays for a short range, first days of months (or quarters) else."""
    days = (end - start).days
    out: list[tuple[date, str]] = []
    if days <= 56:
        d = start + timedelta(days=(7 - start.weekday()) % 7)
        while d < end:
            out.append((d, f"{d.day} {d:%b}"))
            d += timedelta(days=7)
        return out
    step = 1 if days <= 550 else 3
    y, m = start.year, start.month
    while True:
        m += 1
        if m > 12:
            y, m = y + 1, 1
        d = date(y, m, 1)
        if d >= end:
            return out
        if (m - 1) % step == 0:
            out.append((d, f"{d:%b} {d.year}" if m == 1 or not out else f"{d:%b}"))


def _clip(text: str, most: int = MAX_LABEL) -> str:
    return text if len(text) <= most else text[: most - 1] + "…"


def _label_x(text: str, left: float, right: float, x0: float, x1: float) -> tuple[float, str]:
    """Where a label for the span [left, right] goes without leaving the axis."""
    width = len(text) * CHAR
    if left + width <= x1:
        return left, "start"
    if right - width >= x0:
        return right, "end"
    return x0, "start"


def _segments(bar: Bar, scale: Scale) -> list[tuple[float, float]]:
    """The bar's pieces between its clock stops (the stops are the gaps)."""
    pieces: list[tuple[float, float]] = []
    cursor = scale.x(bar.start)
    end = scale.x(bar.due + timedelta(days=1))
    for stop in bar.stops:
        gap_from = scale.x(stop.start)
        gap_to = scale.x(stop.end) if stop.end else end
        if gap_from > cursor:
            pieces.append((cursor, min(gap_from, end)))
        cursor = max(cursor, gap_to)
    if cursor < end:
        pieces.append((cursor, end))
    return [(a, b) for a, b in pieces if b > a]


def _late_until(bar: Bar, today: date) -> date | None:
    """A duty past due: late until it was met (met late) or, still unmet, until today."""
    if bar.obligation != "duty" or bar.due >= today:
        return None
    if bar.status == "met_late":
        return bar.settled_on
    if bar.status == "missed" or (bar.status == "open" and bar.due < today):
        return today
    return None


def _late_word(bar: Bar) -> str:
    return "met" if bar.status == "met_late" else "still not met on"


def _bar_css(bar: Bar) -> str:
    side = "ours" if bar.ours else "theirs"
    css = f"tl-bar tl-{side}-{bar.obligation} tl-status-{bar.status}"
    return css + (f" tl-{bar.state}" if bar.state else "")


def timeline_layout(t: CaseTimeline, width: float = WIDTH) -> tuple[list[Shape], float]:
    """Every shape of the timeline ``width`` user units wide, and its height."""
    scale = Scale(t.start, t.end, LEFT, width - LEFT)
    most = min(MAX_LABEL, int((width - 2 * LEFT) / CHAR * 0.66))
    shapes: list[Shape] = []
    shown = -1e9
    today_x = scale.mid(t.today)
    for day, label in _ticks(t.start, t.end):
        x = scale.x(day)
        if x < shown or today_x - 50 < x < today_x + 6:  # no overlapping labels
            continue
        shown = x + len(label) * CHAR * 0.9 + 8
        shapes.append(Shape("text", x + 3, AXIS_Y - 6, css="tl-tick-label", text=label))
    for band in t.bands:
        x, right = scale.x(band.start), scale.x(band.end)
        title = f"Stage: {band.name}, {_fmt(band.start)} to {_fmt(band.end - timedelta(1))}"
        shapes.append(
            Shape(
                "rect", x, BAND_Y, right - x, BAND_H, f"tl-stage tl-stage-{band.index % 6}", title
            )
        )
        if len(band.name) * CHAR + 8 <= right - x:
            shapes.append(Shape("text", x + 4, BAND_Y + 16, css="tl-stage-label", text=band.name))
    lanes_y = BAND_Y + BAND_H + 8
    if t.marks:
        for m in t.marks:
            shapes.append(
                Shape(
                    "mark",
                    scale.mid(m.on),
                    MARK_Y + MARK_H / 2,
                    css=f"tl-mark tl-mark-{m.kind}",
                    title=f"{m.label}, {_fmt(m.on)}",
                )
            )
        lanes_y = MARK_Y + MARK_H + 6
    for i, bar in enumerate(t.bars):
        y = lanes_y + i * LANE_H
        left, right = scale.x(bar.start), scale.x(bar.due + timedelta(days=1))
        whose = f"{'our' if bar.ours else 'their'} {bar.obligation}"
        title = (
            f"{bar.label} ({whose}, {bar.party}): set {_fmt(bar.start)}, "
            f"due {_fmt(bar.due)}, {bar.status.replace('_', ' ')}"
        )
        text = _clip(f"{bar.label} · due {bar.due:%d %b}", most)
        tx, anchor = _label_x(text, left, right, scale.x0, scale.x1)
        shapes.append(Shape("text", tx, y + 11, css="tl-bar-label", text=text, anchor=anchor))
        for a, b in _segments(bar, scale):
            shapes.append(
                Shape(
                    "rect",
                    a,
                    y + 15,
                    b - a,
                    BAR_H,
                    _bar_css(bar),
                    title,
                    meta={"deadline": bar.deadline_id},
                )
            )
        for stop in bar.stops:
            a = scale.x(stop.start)
            b = scale.x(stop.end) if stop.end else right
            until = f" to {_fmt(stop.end - timedelta(1))}" if stop.end else ", still stopped"
            shapes.append(
                Shape(
                    "rect",
                    a,
                    y + 15,
                    max(b - a, 1.0),
                    BAR_H,
                    f"tl-stop tl-stop-{stop.kind}",
                    f"Clock stopped ({stop.reason}): {_fmt(stop.start)}{until}",
                    meta={"deadline": bar.deadline_id},
                )
            )
        late_until = _late_until(bar, t.today)
        if late_until is not None:
            x = scale.mid(late_until)
            shapes.append(
                Shape(
                    "line",
                    right,
                    y + 15 + BAR_H / 2,
                    max(x - right, 0.0),
                    0,
                    "tl-late",
                    f"late: due {_fmt(bar.due)}, {_late_word(bar)} {_fmt(late_until)}",
                )
            )
        if bar.settled_on is not None:
            x = scale.mid(bar.settled_on)
            shapes.append(
                Shape(
                    "line",
                    x,
                    y + 12,
                    0,
                    BAR_H + 6,
                    f"tl-settled tl-settled-{bar.status}",
                    f"{bar.status.replace('_', ' ')} on {_fmt(bar.settled_on)}",
                )
            )
    height = lanes_y + len(t.bars) * LANE_H + 6
    x = scale.mid(t.today)
    shapes.append(
        Shape(
            "line",
            x,
            AXIS_Y - 2,
            0,
            height - AXIS_Y + 2,
            "tl-today",
            f"{t.today_label}: {_fmt(t.today)}",
        )
    )
    tx, anchor = (x - 4, "end") if x > scale.x0 + 60 else (x + 4, "start")
    shapes.append(
        Shape("text", tx, AXIS_Y - 6, css="tl-today-label", text=t.today_label, anchor=anchor)
    )
    return shapes, height


# -- markup ------------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _title(text: str) -> str:
    return f"<title>{escape(text)}</title>" if text else ""


def _shape(s: Shape) -> str:
    css = escape(s.css)
    if s.kind == "rect":
        body = (
            f'<rect class="{css}" x="{_n(s.x)}" y="{_n(s.y)}" width="{_n(s.w)}" '
            f'height="{_n(s.h)}">{_title(s.title)}</rect>'
        )
    elif s.kind == "line":
        body = (
            f'<line class="{css}" x1="{_n(s.x)}" y1="{_n(s.y)}" x2="{_n(s.x + s.w)}" '
            f'y2="{_n(s.y + s.h)}">{_title(s.title)}</line>'
        )
    elif s.kind == "mark":  # a diamond centred on (x, y)
        r = 7.0
        corners = ((s.x, s.y - r), (s.x + r, s.y), (s.x, s.y + r), (s.x - r, s.y))
        points = " ".join(f"{_n(a)},{_n(b)}" for a, b in corners)
        body = f'<polygon class="{css}" points="{points}">{_title(s.title)}</polygon>'
    else:
        anchor = "" if s.anchor == "start" else f' text-anchor="{s.anchor}"'
        body = (
            f'<text class="{css}" x="{_n(s.x)}" y="{_n(s.y)}"{anchor}>{escape(s.text)}'
            f"{_title(s.title)}</text>"
        )
    if s.href:
        return f'<a href="{escape(s.href)}">{body}</a>'
    return body


def _svg(
    ident: str,
    css: str,
    height: float,
    title: str,
    desc: str,
    shapes: list[Shape],
    width: float = WIDTH,
) -> Markup:
    head = (
        f'<svg class="{escape(css)}" id="{escape(ident)}" viewBox="0 0 {_n(width)} {_n(height)}" '
        f'role="img" aria-labelledby="{escape(ident)}-title {escape(ident)}-desc" '
        f'xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{escape(ident)}-title">{escape(title)}</title>'
        f'<desc id="{escape(ident)}-desc">{escape(desc)}</desc>'
    )
    return Markup(head + "".join(_shape(s) for s in shapes) + "</svg>")


def describe_timeline(t: CaseTimeline) -> str:
    """The picture in one paragraph (the SVG's ``<desc>``)."""
    parts = [f"From {_fmt(t.start)} to {_fmt(t.end - timedelta(1))}."]
    if t.bands:
        parts.append(
            "Stages: " + "; ".join(f"{b.name} from {_fmt(b.start)}" for b in t.bands) + "."
        )
    for b in t.bars:
        whose = f"{'our' if b.ours else 'their'} {b.obligation}"
        parts.append(
            f"{b.label} ({whose}): set {_fmt(b.start)}, due {_fmt(b.due)}, "
            f"{b.status.replace('_', ' ')}"
            + "".join(f", clock stopped from {_fmt(s.start)}" for s in b.stops)
            + "."
        )
    parts += [f"{m.label} on {_fmt(m.on)}." for m in t.marks]
    parts.append(f"{t.today_label.capitalize()}: {_fmt(t.today)}.")
    return " ".join(parts)


#: The phone layout of the timeline: half as wide, so its text stays legible at 390 px.
NARROW = 400.0


def render_timeline(t: CaseTimeline, title: str, width: float = WIDTH) -> Markup:
    """The timeline; ``width`` NARROW gives the phone layout (``#case-timeline-narrow``)."""
    shapes, height = timeline_layout(t, width)
    narrow = width < WIDTH
    ident = "case-timeline-narrow" if narrow else "case-timeline"
    css = "chart timeline-chart " + ("timeline-narrow" if narrow else "timeline-wide")
    return _svg(ident, css, height, title, describe_timeline(t), shapes, width)


# -- the overview's charts ---------------------------------------------------------------


@dataclass(frozen=True)
class StageCount:
    label: str
    count: int
    href: str = ""
    group: str = ""


@dataclass(frozen=True)
class WeekCount:
    """Open deadlines due in the week starting ``start`` (a Monday): ours and theirs."""

    start: date
    ours: int
    theirs: int

    @property
    def total(self) -> int:
        return self.ours + self.theirs


STAGE_ROW = 30.0
STAGE_BAR = 14.0


def stage_chart_layout(
    rows: Sequence[StageCount], width: float = CHART_WIDTH
) -> tuple[list[Shape], float]:
    """Horizontal bars, one per stage, label above, count at the bar's end."""
    most = max((r.count for r in rows), default=0) or 1
    room = width - 2 * LEFT - 40
    shapes: list[Shape] = []
    groups: list[str] = []
    for i, r in enumerate(rows):
        y = 6 + i * STAGE_ROW
        w = room * r.count / most
        if r.group not in groups:
            groups.append(r.group)
        css = f"ch-bar ch-group-{groups.index(r.group) % 6}"
        shapes.append(Shape("text", LEFT, y + 10, css="ch-label", text=_clip(r.label), href=r.href))
        shapes.append(
            Shape(
                "rect",
                LEFT,
                y + 14,
                max(w, 1.0),
                STAGE_BAR,
                css,
                f"{r.label}: {r.count} open",
                href=r.href,
            )
        )
        shapes.append(Shape("text", LEFT + w + 6, y + 25, css="ch-value", text=str(r.count)))
    return shapes, 10 + len(rows) * STAGE_ROW


def render_stage_chart(rows: Sequence[StageCount], width: float = CHART_WIDTH) -> Markup:
    shapes, height = stage_chart_layout(rows, width)
    desc = "; ".join(f"{r.label}: {r.count}" for r in rows) or "No open cases."
    return _svg(
        "stage-chart", "chart stage-chart", height, "Open cases by stage", desc, shapes, width
    )


WEEK_PLOT_TOP = 20.0
WEEK_PLOT_BOTTOM = 190.0
WEEK_HEIGHT = 222.0


def weeks_ahead(today: date, weeks: int, due: Iterable[tuple[date, bool]]) -> list[WeekCount]:
    """``weeks`` weeks from the Monday of ``today``: how many of ``due`` (due day, ours)
    fall in each (days outside them are left out)."""
    monday = today - timedelta(days=today.weekday())
    counts = [[0, 0] for _ in range(weeks)]
    for day, ours in due:
        i = (day - monday).days // 7
        if 0 <= i < weeks:
            counts[i][0 if ours else 1] += 1
    return [
        WeekCount(monday + timedelta(weeks=i), ours, theirs)
        for i, (ours, theirs) in enumerate(counts)
    ]


def week_chart_layout(
    weeks: Sequence[WeekCount], today: date, width: float = CHART_WIDTH
) -> tuple[list[Shape], float]:
    """Vertical stacked bars (ours below, theirs above) per week on a shared count axis."""
    most = max((w.total for w in weeks), default=0) or 1
    plot = WEEK_PLOT_BOTTOM - WEEK_PLOT_TOP
    slot = (width - 2 * LEFT - 30) / max(len(weeks), 1)
    shapes: list[Shape] = [
        Shape("line", LEFT + 30, WEEK_PLOT_BOTTOM, width - 2 * LEFT - 30, 0, "ch-axis"),
        Shape("text", LEFT + 24, WEEK_PLOT_TOP + 4, css="ch-value", text=str(most), anchor="end"),
        Shape("text", LEFT + 24, WEEK_PLOT_BOTTOM, css="ch-value", text="0", anchor="end"),
    ]
    for i, w in enumerate(weeks):
        x = LEFT + 30 + i * slot + slot * 0.15
        bw = slot * 0.7
        h_ours = plot * w.ours / most
        h_theirs = plot * w.theirs / most
        week = f"week of {_fmt(w.start)}"
        if w.ours:
            shapes.append(
                Shape(
                    "rect",
                    x,
                    WEEK_PLOT_BOTTOM - h_ours,
                    bw,
                    h_ours,
                    "ch-bar ch-ours",
                    f"{week}: {w.ours} of ours due",
                )
            )
        if w.theirs:
            shapes.append(
                Shape(
                    "rect",
                    x,
                    WEEK_PLOT_BOTTOM - h_ours - h_theirs,
                    bw,
                    h_theirs,
                    "ch-bar ch-theirs",
                    f"{week}: {w.theirs} of theirs due",
                )
            )
        current = w.start <= today < w.start + timedelta(days=7)
        label = "this week" if current else f"{w.start.day} {w.start:%b}"
        shapes.append(
            Shape(
                "text",
                x + bw / 2,
                WEEK_PLOT_BOTTOM + 16,
                css="ch-tick" + (" ch-now" if current else ""),
                text=label,
                anchor="middle",
            )
        )
        if w.total:
            shapes.append(
                Shape(
                    "text",
                    x + bw / 2,
                    WEEK_PLOT_BOTTOM - h_ours - h_theirs - 4,
                    css="ch-value",
                    text=str(w.total),
                    anchor="middle",
                )
            )
    return shapes, WEEK_HEIGHT


def render_week_chart(
    weeks: Sequence[WeekCount], today: date, width: float = CHART_WIDTH
) -> Markup:
    shapes, height = week_chart_layout(weeks, today, width)
    desc = "; ".join(f"week of {_fmt(w.start)}: {w.ours} ours, {w.theirs} theirs" for w in weeks)
    return _svg(
        "week-chart", "chart week-chart", height, "Open deadlines due per week", desc, shapes, width
    )
