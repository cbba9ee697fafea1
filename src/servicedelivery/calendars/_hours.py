"""Weekdays and working hours: the local wall-clock shape of a working day.

A :class:`WorkingHours` is one stretch of local time, such as 09:00-12:30. It belongs to the local
date it starts on; an end at or before its start means the next day, so 22:00-06:00 is a night
shift and 00:00-00:00 a whole day. Which instants a stretch covers is the calendar's business: see
:mod:`servicedelivery.calendars._zone` for how local bounds become instants across DST.
"""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum, unique

import attrs

from servicedelivery.errors import ValidationError
from servicedelivery.model import NS_PER_DAY, NS_PER_SECOND
from servicedelivery.model._validation import Validated, checked

__all__ = ["Weekday", "WorkingHours"]


@unique
class Weekday(StrEnum):
    """A day of the week, Monday first, as ``datetime.date.weekday()`` counts them."""

    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @classmethod
    def of(cls, day: dt.date) -> Weekday:
        """The weekday of a date."""
        return WEEKDAYS[day.weekday()]


WEEKDAYS: tuple[Weekday, ...] = tuple(Weekday)

_CLOCK = re.compile(r"(?P<h>[0-9]{2}):(?P<m>[0-9]{2})(?::(?P<s>[0-9]{2}))?")
_RANGE_EXPECTED = "working hours such as '09:00-17:30' (HH:MM or HH:MM:SS; '24:00' as an end)"


def _time_of_day(value: object) -> str | None:
    if isinstance(value, dt.time) and value.tzinfo is None and value.microsecond == 0:
        return None
    return "a naive datetime.time in whole seconds"


def _seconds(value: dt.time) -> int:
    return value.hour * 3600 + value.minute * 60 + value.second


@attrs.frozen
class WorkingHours(Validated):
    """One stretch of local working time, belonging to the local date it starts on.

    An ``end`` at or before ``start`` falls on the next day: 22:00-06:00 is a night shift, and
    ``end == start`` is 24 hours (00:00-00:00 is a whole day). The local length is at most 24
    hours; how long the stretch really lasts on a given date is decided by the zone's DST rules.

    Attributes:
        start: When it starts, local wall-clock time in whole seconds.
        end: When it ends (excluded), local wall-clock time in whole seconds.
    """

    start: dt.time = checked(_time_of_day)
    end: dt.time = checked(_time_of_day)

    @property
    def overnight(self) -> bool:
        """Whether it ends on the next local date (an end of 00:00 counts: it is midnight)."""
        return self.end <= self.start

    @property
    def start_ns(self) -> int:
        """Its start, in nanoseconds after local midnight of its date."""
        return _seconds(self.start) * NS_PER_SECOND

    @property
    def end_ns(self) -> int:
        """Its end, in nanoseconds after local midnight of its date (up to 48 hours)."""
        end = _seconds(self.end) * NS_PER_SECOND
        return end + NS_PER_DAY if self.overnight else end

    @property
    def nominal(self) -> dt.timedelta:
        """Its length on the wall clock; a DST change makes the real length differ by the shift."""
        return dt.timedelta(microseconds=(self.end_ns - self.start_ns) // 1_000)

    def __str__(self) -> str:
        end = "24:00" if self.end == dt.time(0) else _clock(self.end)
        return f"{_clock(self.start)}-{end}"

    def __repr__(self) -> str:
        return f"WorkingHours.parse({str(self)!r})"

    @classmethod
    def parse(cls, text: object) -> WorkingHours:
        """Read ``"09:00-17:30"`` (or with seconds, ``"09:00:00-17:30:00"``; ``"24:00"`` as an end).

        Raises:
            ValidationError: The text is not of that form, or a time does not exist.
        """
        if isinstance(text, str) and text.count("-") == 1:
            first, second = (part.strip() for part in text.split("-"))
            start = _parse_clock(first, allow_24=False)
            end = _parse_clock(second, allow_24=True)
            if start is not None and end is not None:
                return cls(start=start, end=end)
        raise ValidationError.single("", text, _RANGE_EXPECTED)


def _clock(value: dt.time) -> str:
    text = f"{value.hour:02d}:{value.minute:02d}"
    return f"{text}:{value.second:02d}" if value.second else text


def _parse_clock(text: str, *, allow_24: bool) -> dt.time | None:
    match = _CLOCK.fullmatch(text)
    if match is None:
        return None
    hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"] or 0)
    if allow_24 and (hour, minute, second) == (24, 0, 0):
        return dt.time(0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return dt.time(hour, minute, second)
