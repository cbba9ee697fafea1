"""The array operations agree with a minute-by-minute walk on random calendars and intervals.

Windows of a few days are placed on a DST change of the zone most of the time, and the calendar's
holidays and special days are drawn around the same dates, so gaps, folds, holidays and night
shifts all meet the intervals.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import zoneinfo
from collections.abc import Callable

import attrs
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.calendars import BusinessCalendar, Weekday, WorkingHours
from servicedelivery.model import NS_PER_MINUTE
from servicedelivery.testing import TIMEZONES, business_calendars, timezones
from tests.calendars.reference import DAY_MINUTES, EPOCH, MINUTE, MinuteWalk, offset_changes

WINDOW_DAYS = 6

cached_changes = functools.lru_cache(maxsize=None)(offset_changes)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[BusinessCalendar, MinuteWalk]:
    """A calendar and the walk of a window: on a random date, or on a change of UTC offset with
    random hours, or on a change with hours whose bounds crowd the change (a third each)."""
    kind = draw(st.sampled_from(["any day", "offset change", "bounds at the change"]))
    year = draw(st.integers(2021, 2027))
    if kind == "any day":
        zone = draw(timezones())
        anchor = dt.date(year, 1, 1) + dt.timedelta(days=draw(st.integers(0, 364)))
    else:
        zone = draw(st.sampled_from([z for z in TIMEZONES if cached_changes(z, year)]))
        anchor = draw(st.sampled_from(cached_changes(zone, year)))
    calendar = draw(
        business_calendars(
            timezones=st.just(zone),
            min_date=anchor - dt.timedelta(days=WINDOW_DAYS + 1),
            max_date=anchor + dt.timedelta(days=WINDOW_DAYS + 1),
        )
    )
    if kind == "bounds at the change":
        # Some bounds fall in the gap or the fold: the cases that need the DST rule.
        calendar = attrs.evolve(calendar, hours=draw(hours_around(zone, anchor)), exceptions={})
    middle = dt.datetime.combine(anchor, dt.time(), dt.UTC)
    first = (middle - dt.timedelta(days=WINDOW_DAYS) - EPOCH) // MINUTE
    last = (middle + dt.timedelta(days=WINDOW_DAYS) - EPOCH) // MINUTE
    return calendar, MinuteWalk(calendar, first, last)


@st.composite
def hours_around(
    draw: st.DrawFn, zone: str, day: dt.date
) -> dict[Weekday, tuple[WorkingHours, ...]]:
    """The same hours every day, with bounds in the skipped or repeated times, or near them."""
    before, after = clock_change(zone, day)
    skipped_or_repeated = st.integers(min(before, after), max(before, after) - 1)
    nearby = st.integers(max(min(before, after) - 90, 0), min(max(before, after) + 90, 1_439))
    bounds = sorted(draw(st.sets(skipped_or_repeated | nearby, min_size=2, max_size=6)))
    shifts = tuple(
        WorkingHours(start=clock(bounds[i]), end=clock(bounds[i + 1]))
        for i in range(0, len(bounds) - 1, 2)
    )
    return dict.fromkeys(Weekday, shifts)


def clock(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


@functools.cache
def clock_change(zone: str, day: dt.date) -> tuple[int, int]:
    """The local clock minutes-of-day just before and just after the offset changes on ``day``."""
    info = zoneinfo.ZoneInfo(zone)
    start = (dt.datetime.combine(day, dt.time(), dt.UTC) - EPOCH) // MINUTE - DAY_MINUTES
    offsets = [(EPOCH + (start + i) * MINUTE).astimezone(info) for i in range(3 * DAY_MINUTES)]
    for earlier, later in itertools.pairwise(offsets):
        if earlier.utcoffset() != later.utcoffset() and later.date() >= day:
            tick = earlier + MINUTE
            return (
                tick.replace(tzinfo=None).hour * 60 + tick.minute,
                later.hour * 60 + later.minute,
            )
    raise AssertionError(f"no change of offset near {day} in {zone}")


def instants(walk: MinuteWalk) -> st.SearchStrategy[int]:
    """Instants in the window, on minute boundaries half of the time."""
    minutes = st.integers(walk.first, walk.last - 1)
    within = st.one_of(st.just(0), st.integers(0, NS_PER_MINUTE - 1))
    return st.builds(lambda m, ns: m * NS_PER_MINUTE + ns, minutes, within)


@given(scenarios(), st.data())
def test_working_ns_matches_the_walk(
    scenario: tuple[BusinessCalendar, MinuteWalk], data: st.DataObject
) -> None:
    calendar, walk = scenario
    pairs = data.draw(st.lists(st.tuples(instants(walk), instants(walk)), min_size=1, max_size=12))
    start = np.array([a for a, _ in pairs], dtype=np.int64)
    end = np.array([b for _, b in pairs], dtype=np.int64)
    expected = [walk.working_ns(a, b) for a, b in pairs]
    assert calendar.working_ns(start, end).tolist() == expected


@given(scenarios(), st.data())
def test_add_working_matches_the_walk(
    scenario: tuple[BusinessCalendar, MinuteWalk], data: st.DataObject
) -> None:
    calendar, walk = scenario
    starts = data.draw(st.lists(instants(walk), min_size=1, max_size=8))
    end = walk.last * NS_PER_MINUTE
    # Work that the window can hold, so that the walk finds every answer.
    works = [data.draw(st.integers(0, walk.working_ns(s, end))) for s in starts]
    expected = [walk.due(s, w) for s, w in zip(starts, works, strict=True)]
    assert calendar.add_working(starts, works).tolist() == expected


@given(scenarios(), st.data())
def test_is_working_and_openings_match_the_walk(
    scenario: tuple[BusinessCalendar, MinuteWalk], data: st.DataObject
) -> None:
    calendar, walk = scenario
    at = data.draw(st.lists(instants(walk), min_size=1, max_size=12))
    assert calendar.is_working(at).tolist() == [walk.flag(t // NS_PER_MINUTE) for t in at]
    assert_agree_where_known(calendar.next_opening, walk.next_opening, at)
    inside = [t for t in at if t > walk.first * NS_PER_MINUTE]
    assert_agree_where_known(calendar.previous_closing, walk.previous_closing, inside)


def assert_agree_where_known(
    operation: Callable[[np.ndarray], np.ndarray],
    reference: Callable[[int], int | None],
    at: list[int],
) -> None:
    """The operation gives the walk's answers wherever they lie inside the walked window."""
    answers = {t: reference(t) for t in at}
    known = [t for t, answer in answers.items() if answer is not None]
    assert operation(np.array(known, dtype=np.int64)).tolist() == [answers[t] for t in known]
