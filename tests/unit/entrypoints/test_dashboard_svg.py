"""Geometry of the dashboard's server-rendered SVG (``dashboard/svg.py``): bars within the
axis, the today line through today, clock stops as gaps, stages as a band, and markup
that parses, names itself and carries no inline style (the CSP forbids it)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from casemgmt.application.views import DeadlineView, EnvelopeView
from casemgmt.entrypoints.http.dashboard.svg import (
    CHAR,
    CHART_WIDTH,
    LEFT,
    NARROW,
    RIGHT,
    WEEK_PLOT_BOTTOM,
    WEEK_PLOT_TOP,
    CaseTimeline,
    Scale,
    Shape,
    StageCount,
    WeekCount,
    case_timeline,
    render_stage_chart,
    render_timeline,
    render_week_chart,
    stage_chart_layout,
    timeline_layout,
    week_chart_layout,
    weeks_ahead,
)

SVG = "{http://www.w3.org/2000/svg}"


def ev(type_: str, day: str, **data: Any) -> EnvelopeView:
    at = datetime.combine(date.fromisoformat(day), datetime.min.time(), UTC)
    return EnvelopeView(
        event_id=f"e-{type_}-{day}",
        case_id="c",
        regulator="ofcom",
        version=1,
        position=1,
        type=type_,
        schema_version=1,
        occurred_at=at,
        recorded_at=at,
        actor="test",
        correlation_id=None,
        causation_id=None,
        data={"occurred_on": day, **data},
    )


def deadline(did: str, due: str, status: str = "open", **kw: Any) -> DeadlineView:
    due_on = date.fromisoformat(due)
    return DeadlineView(
        deadline_id=did,
        case_id="c",
        regulator="ofcom",
        kind="response_due",
        label=kw.pop("label", f"deadline {did}"),
        due_on=due_on,
        due_at=datetime.combine(due_on + timedelta(1), datetime.min.time(), UTC),
        status=status,
        days_remaining=None,
        working_days_remaining=None,
        overdue=False,
        **kw,
    )


FOI = [
    ev("case_opened", "2026-03-02", stage="received"),
    ev("deadline_set", "2026-03-02", deadline_id="resp", kind="response_due"),
    ev("clarification_requested", "2026-03-05"),
    ev(
        "deadline_paused",
        "2026-03-05",
        deadline_id="resp",
        reason="clarification_requested: the clock stops",
    ),
    ev("clarification_received", "2026-03-12"),
    ev("deadline_extended", "2026-03-12", deadline_id="resp", due_on="2026-04-09"),
    ev(
        "stage_changed",
        "2026-03-20",
        stage="responded",
        from_stage="received",
        trigger="response_sent",
    ),
    ev("deadline_met", "2026-03-20", deadline_id="resp"),
    ev("notice_issued", "2026-03-25", notice_id="n1", notice_kind="information_notice"),
    ev("deadline_set", "2026-03-25", deadline_id="win", kind="internal_review_window"),
]
FOI_DEADLINES = [
    deadline("resp", "2026-04-09", "met", ours=True, party="regulator", obligation="duty"),
    deadline("win", "2026-05-25", ours=False, party="requester", obligation="window"),
]
TODAY = date(2026, 4, 20)


def foi() -> CaseTimeline:
    return case_timeline(
        FOI, FOI_DEADLINES, TODAY, stage_name={"received": "Received", "responded": "Responded"}
    )


def shapes(t: CaseTimeline, css: str) -> list[Shape]:
    return [s for s in timeline_layout(t)[0] if css in s.css.split()]


def test_the_scale_maps_the_first_day_to_the_left_and_the_end_to_the_right() -> None:
    scale = Scale(date(2026, 1, 1), date(2026, 1, 11))
    assert scale.x(date(2026, 1, 1)) == LEFT
    assert scale.x(date(2026, 1, 11)) == RIGHT
    assert scale.day_width == pytest.approx((RIGHT - LEFT) / 10)
    assert scale.mid(date(2026, 1, 6)) == pytest.approx(LEFT + 5.5 * scale.day_width)
    assert scale.x(date(2025, 12, 1)) == LEFT  # clamped
    assert scale.x(date(2027, 1, 1)) == RIGHT


def test_facts_stages_bars_stops_and_marks_come_from_the_events() -> None:
    t = foi()
    assert [(b.code, b.name, b.start) for b in t.bands] == [
        ("received", "Received", date(2026, 3, 2)),
        ("responded", "Responded", date(2026, 3, 20)),
    ]
    assert t.bands[0].end == t.bands[1].start
    assert t.bands[-1].end == t.end
    resp, win = t.bars
    assert (resp.start, resp.due, resp.settled_on) == (
        date(2026, 3, 2),
        date(2026, 4, 9),
        date(2026, 3, 20),
    )
    assert [(s.kind, s.start, s.end) for s in resp.stops] == [
        ("clarification", date(2026, 3, 5), date(2026, 3, 12))
    ]
    assert (win.start, win.ours, win.obligation, win.stops) == (
        date(2026, 3, 25),
        False,
        "window",
        (),
    )
    assert [(m.kind, m.on) for m in t.marks] == [("notice", date(2026, 3, 25))]
    assert t.start == date(2026, 3, 2)
    assert t.end == date(2026, 5, 26)


def test_every_bar_lies_within_the_axis_from_set_day_to_the_end_of_its_due_day() -> None:
    t = foi()
    scale = Scale(t.start, t.end)
    bars = shapes(t, "tl-bar")
    assert bars
    for s in bars:
        assert s.x >= LEFT
        assert s.x + s.w <= RIGHT + 1e-9
        assert s.w > 0
    win = [s for s in bars if s.meta["deadline"] == "win"]
    assert len(win) == 1
    assert win[0].x == pytest.approx(scale.x(date(2026, 3, 25)))
    assert win[0].x + win[0].w == pytest.approx(scale.x(date(2026, 5, 26)))
    assert "tl-theirs-window" in win[0].css.split()
    resp = [s for s in bars if s.meta["deadline"] == "resp"]
    assert all("tl-ours-duty" in s.css.split() and "tl-status-met" in s.css.split() for s in resp)


def test_a_clock_stop_is_a_gap_in_its_bar() -> None:
    t = foi()
    scale = Scale(t.start, t.end)
    pieces = sorted((s.x, s.x + s.w) for s in shapes(t, "tl-bar") if s.meta["deadline"] == "resp")
    gap = (scale.x(date(2026, 3, 5)), scale.x(date(2026, 3, 12)))
    assert pieces == [
        (pytest.approx(scale.x(date(2026, 3, 2))), pytest.approx(gap[0])),
        (pytest.approx(gap[1]), pytest.approx(scale.x(date(2026, 4, 10)))),
    ]
    (stop,) = shapes(t, "tl-stop")
    assert (stop.x, stop.x + stop.w) == (pytest.approx(gap[0]), pytest.approx(gap[1]))
    assert "tl-stop-clarification" in stop.css.split()
    assert "Clock stopped" in stop.title


def test_a_clock_still_stopped_leaves_the_rest_of_its_bar_empty() -> None:
    events = FOI[:4]
    t = case_timeline(
        events, [deadline("resp", "2026-03-31", "paused", ours=True, party="regulator")], TODAY
    )
    (stop,) = t.bars[0].stops
    assert stop.end is None
    scale = Scale(t.start, t.end)
    pieces = [(s.x, s.x + s.w) for s in shapes(t, "tl-bar")]
    assert pieces == [
        (pytest.approx(scale.x(date(2026, 3, 2))), pytest.approx(scale.x(date(2026, 3, 5))))
    ]
    (gap,) = shapes(t, "tl-stop")
    assert gap.x + gap.w == pytest.approx(scale.x(date(2026, 4, 1)))


def test_the_today_line_runs_through_the_middle_of_today_across_every_lane() -> None:
    t = foi()
    layout, height = timeline_layout(t)
    (line,) = [s for s in layout if "tl-today" in s.css.split()]
    scale = Scale(t.start, t.end)
    assert line.x == pytest.approx(scale.mid(TODAY))
    assert line.w == 0
    assert line.y + line.h == pytest.approx(height)
    lanes = [s for s in layout if s.kind == "rect"]
    assert max(s.y + s.h for s in lanes) <= height


def test_an_overdue_duty_draws_its_lateness_up_to_today() -> None:
    events = [ev("case_opened", "2026-03-02"), ev("deadline_set", "2026-03-02", deadline_id="d")]
    t = case_timeline(
        events, [deadline("d", "2026-04-01", ours=True)], TODAY, state={"d": "overdue"}
    )
    (late,) = shapes(t, "tl-late")
    scale = Scale(t.start, t.end)
    assert late.x == pytest.approx(scale.x(date(2026, 4, 2)))
    assert late.x + late.w == pytest.approx(scale.mid(TODAY))
    assert "tl-overdue" in shapes(t, "tl-bar")[0].css.split()


def test_marks_sit_on_their_day() -> None:
    t = foi()
    (mark,) = shapes(t, "tl-mark")
    assert mark.x == pytest.approx(Scale(t.start, t.end).mid(date(2026, 3, 25)))
    assert "tl-mark-notice" in mark.css.split()


def _parse(markup: str) -> ET.Element:
    root = ET.fromstring(markup)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    ids = (root.get("aria-labelledby") or "").split()
    found = {e.get("id") for e in root.iter() if e.get("id")}
    assert ids
    assert set(ids) <= found
    assert root.find(f"{SVG}title") is not None
    assert root.find(f"{SVG}desc") is not None
    assert not [e for e in root.iter() if e.get("style") is not None]
    return root


def test_the_markup_parses_names_itself_escapes_text_and_has_no_inline_style() -> None:
    bad = [deadline("x", "2026-04-01", label="<script>alert(1)</script> & co")]
    t = case_timeline(FOI[:2], bad, TODAY)
    root = _parse(str(render_timeline(t, "A <case>")))
    assert root.find(f"{SVG}title").text == "A <case>"  # type: ignore[union-attr]
    assert not list(root.iter(f"{SVG}script"))
    assert "<script>alert(1)</script> & co" in (root.find(f"{SVG}desc").text or "")  # type: ignore[union-attr]
    _parse(
        str(
            render_stage_chart([StageCount("ofcom · Investigation", 3, "/dashboard/cases?a=1&b=2")])
        )
    )
    _parse(str(render_week_chart(weeks_ahead(TODAY, 4, []), TODAY)))


def test_stage_bars_are_proportional_and_within_the_axis() -> None:
    rows = [StageCount("a", 10), StageCount("b", 5), StageCount("c", 0)]
    layout, height = stage_chart_layout(rows)
    bars = [s for s in layout if s.kind == "rect"]
    assert [s.x for s in bars] == [LEFT] * 3
    assert bars[0].w == pytest.approx(2 * bars[1].w)
    assert all(s.x + s.w <= CHART_WIDTH - LEFT and s.y + s.h <= height for s in bars)


def test_deadlines_due_per_week_are_counted_and_stacked_within_the_plot() -> None:
    monday = date(2026, 4, 20)
    due = [
        (monday, True),
        (monday + timedelta(2), False),
        (monday + timedelta(8), True),
        (monday - timedelta(1), True),
        (monday + timedelta(28), True),
    ]
    weeks = weeks_ahead(monday + timedelta(3), 4, due)
    assert weeks == [
        WeekCount(monday, 1, 1),
        WeekCount(monday + timedelta(7), 1, 0),
        WeekCount(monday + timedelta(14), 0, 0),
        WeekCount(monday + timedelta(21), 0, 0),
    ]
    layout, _ = week_chart_layout(weeks, monday)
    bars = [s for s in layout if s.kind == "rect"]
    assert len(bars) == 3
    for s in bars:
        assert s.y >= WEEK_PLOT_TOP - 1e-9
        assert s.y + s.h <= WEEK_PLOT_BOTTOM + 1e-9
        assert s.x >= LEFT
        assert s.x + s.w <= CHART_WIDTH - LEFT
    ours, theirs = bars[0], bars[1]
    assert theirs.y + theirs.h == pytest.approx(ours.y)  # stacked
    assert ours.h + theirs.h == pytest.approx(
        WEEK_PLOT_BOTTOM - WEEK_PLOT_TOP
    )  # the tallest week fills it


def test_the_phone_layout_keeps_every_shape_within_its_narrower_axis() -> None:
    t = foi()
    wide, _ = timeline_layout(t)
    narrow, _ = timeline_layout(t, NARROW)
    assert len(narrow) == len(wide)
    scale = Scale(t.start, t.end, LEFT, NARROW - LEFT)
    for s in narrow:
        if s.kind == "rect":
            assert s.x >= LEFT
            assert s.x + s.w <= NARROW - LEFT + 1e-9
    (today,) = [s for s in narrow if "tl-today" in s.css.split()]
    assert today.x == pytest.approx(scale.mid(TODAY))
    labels = [s for s in narrow if "tl-bar-label" in s.css.split()]
    assert all(len(s.text) * CHAR <= NARROW for s in labels)
    root = _parse(str(render_timeline(t, "narrow", NARROW)))
    assert root.get("id") == "case-timeline-narrow"
    assert root.get("viewBox", "").startswith(f"0 0 {int(NARROW)} ")
