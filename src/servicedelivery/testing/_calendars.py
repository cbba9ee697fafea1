"""Hypothesis strategies for business calendars: random weekly hours, holidays and special days.

Every calendar generated is valid by construction (no filtering): the week's working hours are
drawn as disjoint stretches of one cyclic week, so night shifts, whole days and shifts that touch
across midnight all occur, and special days fit after the longest night shift of the week.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from hypothesis import strategies as st

from servicedelivery.calendars import BusinessCalendar, Weekday, WorkingHours
from servicedelivery.testing._strategies import timezones as all_timezones

__all__ = ["business_calendars"]

_DAY = 1_440  # minutes
_WEEK = 7 * _DAY
_WEEKDAYS = tuple(Weekday)


def _clock(minutes: int) -> dt.time:
    return dt.time(minutes // 60, minutes % 60)


def _shift(start: int, length: int) -> WorkingHours:
    return WorkingHours(start=_clock(start % _DAY), end=_clock((start + length) % _DAY))


@st.composite
def _week(draw: st.DrawFn, *, max_shifts: int) -> dict[Weekday, tuple[WorkingHours, ...]]:
    # Distinct starts on the week's cycle, each shift ending by the next one's start (touching is
    # allowed) and lasting at most a day, so that it can be written as local clock times.
    starts = sorted(draw(st.sets(st.integers(0, _WEEK - 1), min_size=1, max_size=max_shifts)))
    week: dict[Weekday, list[WorkingHours]] = {day: [] for day in _WEEKDAYS}
    for index, start in enumerate(starts):
        following = starts[(index + 1) % len(starts)] + (_WEEK if index == len(starts) - 1 else 0)
        length = draw(st.integers(1, min(_DAY, following - start)))
        week[_WEEKDAYS[start // _DAY]].append(_shift(start, length))
    return {day: tuple(shifts) for day, shifts in week.items()}


@st.composite
def business_calendars(
    draw: st.DrawFn,
    *,
    timezones: st.SearchStrategy[str] | None = None,
    min_date: dt.date = dt.date(2020, 1, 1),
    max_date: dt.date = dt.date(2030, 12, 31),
    max_shifts: int = 12,
    max_holidays: int = 8,
    max_exceptions: int = 3,
    names: st.SearchStrategy[str] | None = None,
) -> BusinessCalendar:
    """Valid business calendars: random hours on minute boundaries, holidays and special days.

    Args:
        timezones: Zone names to draw from; :data:`TIMEZONES` (with awkward DST rules) by default.
        min_date: The earliest holiday or special day.
        max_date: The latest holiday or special day.
        max_shifts: At most this many working stretches in the week (at least one).
        max_holidays: At most this many holidays.
        max_exceptions: At most this many dates with special hours (some closed).
        names: Calendar names to draw from; short slugs by default.
    """
    week = draw(_week(max_shifts=max_shifts))
    dates = st.dates(min_value=min_date, max_value=max_date).map(
        lambda day: pendulum.Date(day.year, day.month, day.day)
    )
    # Distinct dates, split into holidays and special days: no date is both, without filtering.
    chosen = draw(st.lists(dates, max_size=max_holidays + max_exceptions, unique=True))
    split = draw(st.integers(max(len(chosen) - max_exceptions, 0), min(len(chosen), max_holidays)))
    holidays, special_days = chosen[:split], chosen[split:]
    # Special hours stay within their date and start after any night shift from the eve ends.
    spill = max(
        (
            shift.end.hour * 60 + shift.end.minute
            for shifts in week.values()
            for shift in shifts
            if shift.overnight
        ),
        default=0,
    )
    exceptions: dict[pendulum.Date, tuple[WorkingHours, ...]] = {}
    for day in special_days:
        room = _DAY - spill
        bounds = draw(st.lists(st.integers(spill, _DAY - 1), max_size=min(4, room), unique=True))
        bounds.sort()
        exceptions[day] = tuple(
            WorkingHours(start=_clock(bounds[i]), end=_clock(bounds[i + 1]))
            for i in range(0, len(bounds) - 1, 2)
        )
    return BusinessCalendar(
        name=draw(
            names if names is not None else st.from_regex(r"[a-z][a-z0-9_]{0,11}", fullmatch=True)
        ),
        timezone=draw(timezones if timezones is not None else all_timezones()),
        hours=week,
        holidays=holidays,
        exceptions=exceptions,
    )
