"""Metrics in working time: equal to elapsed time round the clock, and to a minute walk otherwise.

Histories straddle the change to summer time in Europe (2024-03-31); calendars are random, in zones
with DST rules of every kind, with holidays around the same dates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery import metrics
from servicedelivery.calendars import BusinessCalendar, CalendarSet, Weekday, WorkingHours
from servicedelivery.errors import ValidationError
from servicedelivery.metrics import EventFrame
from servicedelivery.model import NS_PER_HOUR, NS_PER_MINUTE
from servicedelivery.testing import business_calendars
from tests.calendars.reference import MinuteWalk
from tests.metrics import reference as ref
from tests.metrics.strategies import BASE, History, histories

ROUND_THE_CLOCK = BusinessCalendar.twenty_four_seven()
FIRST_DAY = dt.date(2024, 3, 25)
LAST_DAY = dt.date(2024, 4, 12)
WINDOW = (BASE // NS_PER_MINUTE - 3 * 1_440, BASE // NS_PER_MINUTE + 14 * 1_440)

Span = Callable[[str, int, int], int]
"""The reference duration of [start, end) for an item."""


def frame_of(columns: dict[str, list[object]]) -> EventFrame:
    # The provider column doubles as the site, so that a calendar set picks calendars per item.
    columns = {**columns, "site": columns["provider"]}
    return EventFrame.from_columns(
        columns, owner="owner", reason="reason", attributes=["provider", "site"]
    )


def every_duration(
    frame: EventFrame, now: int, calendar: object
) -> dict[str, list[tuple[object, ...]]]:
    """Each duration metric's (item, duration) rows, the same options as the reference's."""
    found = {
        "cycle time": metrics.cycle_time(frame, now=now, calendar=calendar),  # type: ignore[arg-type]
        "lead time": metrics.lead_time(frame, now=now, calendar=calendar),  # type: ignore[arg-type]
        "age": metrics.work_item_age(frame, now=now, calendar=calendar),  # type: ignore[arg-type]
        "current": metrics.time_in_current_state(frame, now=now, calendar=calendar),  # type: ignore[arg-type]
    }
    result: dict[str, list[tuple[object, ...]]] = {
        name: list(zip(r.item_ids.tolist(), r.duration.tolist(), strict=True))
        for name, r in found.items()
    }
    in_state = metrics.time_in_state(frame, now=now, by=("owner",), calendar=calendar)  # type: ignore[arg-type]
    table = in_state.to_pandas()
    result["in state"] = sorted(
        (row.item, row.state, row.owner, int(row.duration.value))
        for row in table.itertuples(index=False)
    )
    efficiency = metrics.flow_efficiency(frame, now=now, calendar=calendar)  # type: ignore[arg-type]
    result["efficiency"] = list(
        zip(
            efficiency.item_ids.tolist(),
            efficiency.active.tolist(),
            efficiency.total.tolist(),
            strict=True,
        )
    )
    return result


def expected_durations(
    columns: dict[str, list[object]], now: int, span: Span
) -> dict[str, list[tuple[object, ...]]]:
    """The same rows from the slow reference, each interval measured with ``span``."""
    rows = ref.rows_from_columns(columns)
    default = {"start": {"in_progress", "blocked"}, "end": {"done"}, "reopened": "span"}
    every = {"planned", "in_progress", "blocked", "done", "cancelled"}
    by_item = ref.episodes(rows, now)
    result: dict[str, list[tuple[object, ...]]] = {
        "cycle time": [
            (item, span(item, start, end))
            for item, (start, end) in ref.cycle_times(rows, now, **default).items()  # type: ignore[arg-type]
        ],
        "lead time": [
            (item, span(item, start, end))
            for item, (start, end) in ref.cycle_times(
                rows, now, start=every, end={"done"}, reopened="span"
            ).items()
        ],
        "age": [
            (item, span(item, start, now))
            for item, (start, _) in ref.ages(rows, now, **default).items()  # type: ignore[arg-type]
        ],
        "current": [
            (item, span(item, start, now))
            for item, (start, _, _) in ref.current_states(rows, now).items()
        ],
    }
    totals: dict[tuple[object, ...], int] = {}
    for item, eps in by_item.items():
        for ep in eps:
            key = (item, ep.state, ep.owner)
            totals[key] = totals.get(key, 0) + span(item, ep.start, ep.end)
    result["in state"] = sorted((*key, total) for key, total in totals.items())
    efficiency = []
    for item, eps in by_item.items():
        found = ref.counted_pass(eps, {"in_progress", "blocked"}, {"done"}, "span")
        if found is not None:
            first, done = found
            active = sum(
                span(item, ep.start, ep.end) for ep in eps[first:done] if ep.state == "in_progress"
            )
            efficiency.append((item, active, span(item, eps[first].start, eps[done].start)))
    result["efficiency"] = efficiency
    return result


@given(histories())
def test_a_round_the_clock_calendar_in_utc_changes_nothing(history: History) -> None:
    columns, now = history
    frame = frame_of(columns)
    elapsed = every_duration(frame, now, None)
    assert every_duration(frame, now, ROUND_THE_CLOCK) == elapsed
    # The same through a set, whichever round-the-clock calendar each item picks.
    other = BusinessCalendar.twenty_four_seven(name="other")
    per_site = CalendarSet(default=ROUND_THE_CLOCK, by_site={"p1": other, "p2": other})
    assert every_duration(frame, now, per_site) == elapsed


def calendars_near_the_change() -> st.SearchStrategy[BusinessCalendar]:
    return business_calendars(min_date=FIRST_DAY, max_date=LAST_DAY, max_shifts=8)


@given(histories(max_items=4, max_rows=16), calendars_near_the_change())
def test_working_time_matches_the_minute_walk(history: History, calendar: BusinessCalendar) -> None:
    columns, now = history
    walk = MinuteWalk(calendar, *WINDOW)
    expected = expected_durations(columns, now, lambda _, a, b: walk.working_ns(a, b))
    assert every_duration(frame_of(columns), now, calendar) == expected


@given(
    histories(max_items=4, max_rows=16),
    calendars_near_the_change(),
    calendars_near_the_change(),
)
def test_a_calendar_set_counts_each_item_in_its_own_calendar(
    history: History, first: BusinessCalendar, second: BusinessCalendar
) -> None:
    columns, now = history
    second = BusinessCalendar.from_data({**second.to_data(), "name": first.name + "_2"})
    walks = {first.name: MinuteWalk(first, *WINDOW), second.name: MinuteWalk(second, *WINDOW)}
    chain = CalendarSet(default=first, by_site={"p2": second})
    sites = ref.provider_of(ref.rows_from_columns(columns), now)

    def span(item: str, start: int, end: int) -> int:
        calendar = chain.calendar_for(site=sites[item])
        return walks[calendar.name].working_ns(start, end)

    expected = expected_durations(columns, now, span)
    assert every_duration(frame_of(columns), now, chain) == expected


def test_a_block_over_a_weekend_costs_only_working_hours() -> None:
    office = BusinessCalendar(
        name="office",
        timezone="Europe/Paris",
        hours={day: (WorkingHours.parse("09:00-17:00"),) for day in list(Weekday)[:5]},
    )
    friday = 1_717_743_600 * 10**9  # 2024-06-07T09:00+02:00
    frame = EventFrame.from_columns(
        {
            "item": ["m1"] * 4,
            "time": [
                friday,
                friday + 6 * NS_PER_HOUR,  # blocked on the customer, Friday 15:00
                friday + 74 * NS_PER_HOUR,  # unblocked, Monday 11:00
                friday + 77 * NS_PER_HOUR,  # done, Monday 14:00
            ],
            "state": ["in_progress", "blocked", "in_progress", "done"],
            "reason": [None, "site_access", None, None],
        },
        reason="reason",
    )
    cycle = metrics.cycle_time(frame, calendar=office)
    assert cycle.duration.tolist() == [(6 + 2 + 2 + 3) * NS_PER_HOUR]
    assert "working time (office)" in repr(cycle)
    blocked = metrics.time_in_state(
        frame, now=friday + 77 * NS_PER_HOUR, states=["blocked"], calendar=office
    )
    assert blocked.duration.tolist() == [4 * NS_PER_HOUR]
    efficiency = metrics.flow_efficiency(frame, calendar=office)
    assert (efficiency.active.tolist(), efficiency.total.tolist()) == (
        [9 * NS_PER_HOUR],
        [13 * NS_PER_HOUR],
    )
    # In elapsed time the weekend counts.
    assert metrics.cycle_time(frame).duration.tolist() == [77 * NS_PER_HOUR]


@pytest.mark.parametrize(
    "metric",
    [
        metrics.cycle_time,
        metrics.lead_time,
        metrics.work_item_age,
        metrics.time_in_current_state,
        metrics.time_in_state,
        metrics.flow_efficiency,
    ],
)
def test_a_calendar_option_that_is_not_a_calendar_is_refused(metric: Callable[..., object]) -> None:
    frame = EventFrame.from_columns(
        {"item": ["m1", "m1"], "time": [BASE, BASE + NS_PER_HOUR], "state": ["in_progress", "done"]}
    )
    with pytest.raises(ValidationError, match="calendar: expected None"):
        metric(frame, now=BASE + 2 * NS_PER_HOUR, calendar="fr-paris")


def test_elapsed_durations_are_unchanged_in_type_and_value() -> None:
    frame = EventFrame.from_columns(
        {"item": ["m1", "m1"], "time": [BASE, BASE + NS_PER_HOUR], "state": ["in_progress", "done"]}
    )
    cycle = metrics.cycle_time(frame)
    assert cycle.calendar is None
    assert cycle.duration.dtype == np.int64
    assert cycle.duration.tolist() == [NS_PER_HOUR]
