"""A slow, obvious reference for business calendars: walk UTC time minute by minute.

Each UTC minute's local wall-clock minute comes straight from zoneinfo. The rule for DST reads: a
minute is working when the local clock's *high-water mark* (the latest local time shown so far)
falls inside a shift that starts on a working local date. In a spring-forward gap the mark jumps
past the missing times; in a fall-back fold it holds still while the clock repeats an hour. That is
the library's "first instant at which the clock shows the bound or later" stated another way, and
computed here without transitions, search or numpy.

Works for calendars whose hours are whole minutes in zones whose offsets are whole minutes (every
zone in ``servicedelivery.testing.TIMEZONES`` after 1900).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from servicedelivery.calendars import BusinessCalendar
from servicedelivery.model import NS_PER_MINUTE

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
NAIVE_EPOCH = dt.datetime(1970, 1, 1)
MINUTE = dt.timedelta(minutes=1)
DAY_MINUTES = 1_440
SETTLE_MINUTES = 2 * DAY_MINUTES


def local_minute(utc_minute: int, zone: zoneinfo.ZoneInfo) -> int:
    """The local wall-clock minute (counted from 1970-01-01T00:00 local) at a UTC minute."""
    local = (EPOCH + utc_minute * MINUTE).astimezone(zone).replace(tzinfo=None)
    return (local - NAIVE_EPOCH) // MINUTE


def _minutes(value: dt.time) -> int:
    assert value.second == 0, "the reference walks whole minutes"
    return value.hour * 60 + value.minute


class MinuteWalk:
    """Which UTC minutes in ``[first, last)`` are working time under ``calendar``."""

    def __init__(self, calendar: BusinessCalendar, first: int, last: int) -> None:
        self.first = first
        self.last = last
        zone = zoneinfo.ZoneInfo(calendar.timezone)
        begin = first - SETTLE_MINUTES
        base_day = (EPOCH + begin * MINUTE).date() - dt.timedelta(days=2)
        end_day = (EPOCH + last * MINUTE).date() + dt.timedelta(days=2)
        base = (dt.datetime.combine(base_day, dt.time()) - NAIVE_EPOCH) // MINUTE
        mask = bytearray((end_day - base_day).days * DAY_MINUTES + 2 * DAY_MINUTES)
        day = base_day
        while day <= end_day:
            midnight = (dt.datetime.combine(day, dt.time()) - NAIVE_EPOCH) // MINUTE - base
            for shift in calendar.hours_on(day):
                start = _minutes(shift.start)
                length = (_minutes(shift.end) - start) % DAY_MINUTES or DAY_MINUTES
                for minute in range(midnight + start, midnight + start + length):
                    mask[minute] = 1
            day += dt.timedelta(days=1)
        self.flags: list[bool] = []
        high = -(10**12)
        for minute in range(begin, last):
            high = max(high, local_minute(minute, zone))
            if minute >= first:
                self.flags.append(bool(mask[high - base]))

    def flag(self, minute: int) -> bool:
        assert self.first <= minute < self.last, "outside the walked window"
        return self.flags[minute - self.first]

    def working_ns(self, start: int, end: int) -> int:
        """Working ns in [start, end): each minute adds its overlap with the interval if working."""
        if end <= start:
            return 0
        total = 0
        minute = start // NS_PER_MINUTE
        while minute * NS_PER_MINUTE < end:
            low = max(start, minute * NS_PER_MINUTE)
            high = min(end, (minute + 1) * NS_PER_MINUTE)
            if self.flag(minute):
                total += high - low
            minute += 1
        return total

    def due(self, start: int, work: int) -> int | None:
        """The earliest t >= start with working_ns(start, t) == work; None past the window."""
        if work == 0:
            return start
        remaining = work
        minute = start // NS_PER_MINUTE
        while minute < self.last:
            if self.flag(minute):
                low = max(start, minute * NS_PER_MINUTE)
                available = (minute + 1) * NS_PER_MINUTE - low
                if remaining <= available:
                    return low + remaining
                remaining -= available
            minute += 1
        return None

    def next_opening(self, at: int) -> int | None:
        """``at`` if working, else the start of the next working minute; None past the window."""
        minute = at // NS_PER_MINUTE
        if self.flag(minute):
            return at
        for later in range(minute + 1, self.last):
            if self.flag(later):
                return later * NS_PER_MINUTE
        return None

    def previous_closing(self, at: int) -> int | None:
        """``at`` if the ns before it is working, else the end of the last working minute."""
        minute = (at - 1) // NS_PER_MINUTE
        if self.flag(minute):
            return at
        for earlier in range(minute - 1, self.first - 1, -1):
            if self.flag(earlier):
                return (earlier + 1) * NS_PER_MINUTE
        return None


def affordable_work(calendar: BusinessCalendar, *, years: int = 60) -> int:
    """Working ns that the calendar surely holds within ``years`` years of any start.

    Its weekly hours on the wall clock, for that many years, less four weeks a year for holidays,
    special days and shifts lost in DST gaps: a calendar of one minute a week cannot do 40 days
    of work before 2150, and asking it to is an error, not a property.
    """
    weekly = sum(
        (shift.end_ns - shift.start_ns) for shifts in calendar.hours.values() for shift in shifts
    )
    return weekly * 48 * years


def offset_changes(timezone: str, year: int) -> list[dt.date]:
    """Local dates in ``year`` whose noon has a different UTC offset from the day before's."""
    zone = zoneinfo.ZoneInfo(timezone)
    day = dt.date(year, 1, 1)
    changes = []
    previous = dt.datetime.combine(day, dt.time(12), zone).utcoffset()
    while day.year == year:
        day += dt.timedelta(days=1)
        offset = dt.datetime.combine(day, dt.time(12), zone).utcoffset()
        if offset != previous:
            changes.append(day)
        previous = offset
    return changes
