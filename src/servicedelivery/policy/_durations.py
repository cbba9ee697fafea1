"""Durations in policies: calendar time or working time, written the way operators write them.

A duration is read from text and keeps that text, so a policy written as data comes back as the
same data. The forms:

- calendar time: ``"5d"``, ``"36h"``, ``"1d12h"``, ``"90m"``, ``"30s"``, ``"2w"``, or ISO 8601
  ``"P5D"``, ``"PT36H"``, ``"P1DT12H"`` (no years or months: they have no fixed length);
- working time under the item's business calendar: ``{"working": "40h"}`` (any calendar form
  inside), ``"8 business hours"``, or ``"5 business days"``.

A *business day* is the average working day of the item's calendar: its weekly working time (the
wall-clock length of every stretch of its week) divided by the number of weekdays that have working
hours. Monday to Friday 09:00-17:00 gives 8 hours, so ``"5 business days"`` is 40 hours of working
time there; holidays do not shorten a business day, they only push back when it is done. A leading
``-`` makes a duration negative, which only thresholds on time to target and SLA time remaining use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from enum import StrEnum, unique
from fractions import Fraction
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.errors import ValidationError
from servicedelivery.model import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND

__all__ = ["Clock", "Duration", "business_day_ns", "format_iso_duration"]

_UNITS = {"w": 7 * NS_PER_DAY, "d": NS_PER_DAY, "h": NS_PER_HOUR, "m": NS_PER_MINUTE}
_UNITS["s"] = NS_PER_SECOND
_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_COMPACT_PART = re.compile(rf"\s*({_NUMBER})\s*([wdhms])")
_COMPACT = re.compile(rf"(?:\s*{_NUMBER}\s*[wdhms])+\s*")
_ISO = re.compile(
    rf"P(?:({_NUMBER})W)?(?:({_NUMBER})D)?(?:T(?:({_NUMBER})H)?(?:({_NUMBER})M)?(?:({_NUMBER})S)?)?"
)
_ISO_DATE_PART = re.compile(r"-?P([^T]*)")
_BUSINESS = re.compile(rf"({_NUMBER})\s+business\s+(day|days|hour|hours)")

EXPECTED = (
    "a duration: calendar time such as '5d', '36h', '1d12h' or ISO 8601 'P5D', 'PT36H'; "
    "working time such as '5 business days', '8 business hours' or {'working': '40h'}"
)


@unique
class Clock(StrEnum):
    """Which time a duration counts."""

    CALENDAR = "calendar"
    """Elapsed time, whatever the hour: the difference of two instants."""
    WORKING = "working"
    """Working time under the item's business calendar (see ``servicedelivery.calendars``)."""


@attrs.frozen
class Duration:
    """A duration as written in a policy: its text, its clock and its amount.

    Build one with :meth:`parse` (any data form), :meth:`working` or :meth:`business_days`.

    Attributes:
        text: The text it was written as, such as ``"5d"`` or ``"5 business days"``.
        clock: Calendar or working time.
        ns: Its fixed length in nanoseconds; 0 for business days, whose length depends on the
            item's calendar.
        days: How many business days, or ``None`` for a fixed length.
        wrapped: Whether it was written ``{"working": text}``.
    """

    text: str
    clock: Clock
    ns: int
    days: Fraction | None = None
    wrapped: bool = False

    @classmethod
    def parse(cls, value: object) -> Duration:
        """Read a duration from its data form (see the module docstring).

        Raises:
            ValidationError: The value is none of the accepted forms.
        """
        if isinstance(value, Duration):
            return value
        if isinstance(value, Mapping):
            if list(value) != ["working"] or not isinstance(value["working"], str):
                raise ValidationError.single("", value, EXPECTED)
            text = value["working"]
            ns = _fixed_ns(text)
            if ns is None:
                raise ValidationError.single(
                    "working", text, "a calendar-style duration such as '40h' or 'PT40H'"
                )
            return cls(text=text, clock=Clock.WORKING, ns=ns, wrapped=True)
        if not isinstance(value, str):
            raise ValidationError.single("", value, EXPECTED)
        ns = _fixed_ns(value)
        if ns is not None:
            return cls(text=value, clock=Clock.CALENDAR, ns=ns)
        sign, body = _signed(value.strip())
        match = _BUSINESS.fullmatch(body)
        if match is None:
            date_part = _ISO_DATE_PART.match(value.strip())
            if date_part is not None and re.search("[YM]", date_part[1]):
                raise ValidationError.single(
                    "",
                    value,
                    "an ISO 8601 duration in weeks, days, hours, minutes and seconds "
                    "(years and months have no fixed length)",
                )
            raise ValidationError.single("", value, EXPECTED)
        amount = Fraction(Decimal(match[1])) * sign
        if match[2].startswith("day"):
            return cls(text=value, clock=Clock.WORKING, ns=0, days=amount)
        hours_ns = amount * NS_PER_HOUR
        if hours_ns.denominator != 1:
            raise ValidationError.single("", value, "a whole number of nanoseconds")
        return cls(text=value, clock=Clock.WORKING, ns=int(hours_ns))

    @classmethod
    def working(cls, text: str) -> Duration:
        """Working time written like calendar time: ``Duration.working("40h")``."""
        return cls.parse({"working": text})

    @classmethod
    def business_days(cls, days: int | str) -> Duration:
        """``days`` business days of the item's calendar: ``Duration.business_days(5)``."""
        return cls.parse(f"{days} business day{'' if str(days) == '1' else 's'}")

    def to_data(self) -> str | dict[str, str]:
        """The duration as it was written."""
        return {"working": self.text} if self.wrapped else self.text

    @property
    def negative(self) -> bool:
        """Whether it is shorter than nothing (only thresholds may be)."""
        return self.ns < 0 or (self.days is not None and self.days < 0)

    @property
    def in_business_days(self) -> bool:
        """Whether its length depends on the item's calendar."""
        return self.days is not None

    def per_item(self, day_ns: npt.NDArray[np.int64] | None) -> npt.NDArray[np.int64] | int:
        """Its length in ns: a fixed ``int``, or per item from each item's business-day length.

        Args:
            day_ns: Each item's business-day length (needed for business days only).
        """
        if self.days is None:
            return self.ns
        if day_ns is None:
            raise ValidationError.single(
                "calendars", None, f"business calendars to count {self.text!r} in"
            )
        # Exact: an integer product, then one division rounding half to even.
        numerator, denominator = self.days.numerator, self.days.denominator
        scaled = day_ns.astype(np.int64) * numerator
        return np.asarray(_round_div(scaled, denominator), dtype=np.int64)

    def one(self, day_ns: int | None) -> int:
        """Its length in ns for one item whose business day lasts ``day_ns`` (scalar path)."""
        if self.days is None:
            return self.ns
        if day_ns is None:
            raise ValidationError.single(
                "calendars", None, f"business calendars to count {self.text!r} in"
            )
        return int(_round_div(np.int64(day_ns * self.days.numerator), self.days.denominator))

    def __str__(self) -> str:
        return self.text if not self.wrapped else f"{self.text} of working time"


def _round_div(numerator: Any, denominator: int) -> Any:
    """``numerator / denominator`` rounded half to even, on integers (arrays or scalars)."""
    if denominator == 1:
        return numerator
    quotient, remainder = np.divmod(numerator, denominator)
    twice = 2 * remainder
    up = (twice > denominator) | ((twice == denominator) & (quotient % 2 == 1))
    return quotient + up


def _signed(text: str) -> tuple[int, str]:
    if text.startswith("-"):
        return -1, text[1:].lstrip()
    return 1, text


def _fixed_ns(value: str) -> int | None:
    """Nanoseconds of a compact or ISO 8601 duration, ``None`` if the text is neither."""
    sign, body = _signed(value.strip())
    total = Fraction(0)
    if _COMPACT.fullmatch(body):
        for number, unit in _COMPACT_PART.findall(body):
            total += Fraction(Decimal(number)) * _UNITS[unit]
    else:
        match = _ISO.fullmatch(body)
        if match is None or body in ("P", "PT") or body.endswith("T"):
            return None
        weeks, days, hours, minutes, seconds = match.groups()
        for amount, unit in (
            (weeks, 7 * NS_PER_DAY),
            (days, NS_PER_DAY),
            (hours, NS_PER_HOUR),
            (minutes, NS_PER_MINUTE),
            (seconds, NS_PER_SECOND),
        ):
            if amount is not None:
                total += Fraction(Decimal(amount)) * unit
    if total.denominator != 1:
        return None
    return sign * int(total)


_DAY_NS: dict[int, tuple[BusinessCalendar, int]] = {}


def business_day_ns(calendar: BusinessCalendar) -> int:
    """The length of a business day in ``calendar``: weekly working time / working weekdays.

    Each stretch counts its wall-clock length (:attr:`WorkingHours.nominal`); the result is rounded
    to the nanosecond, half to even. Remembered per calendar object.
    """
    known = _DAY_NS.get(id(calendar))
    if known is not None and known[0] is calendar:
        return known[1]
    if len(_DAY_NS) > 256:
        _DAY_NS.clear()
    week = sum(hours.end_ns - hours.start_ns for day in calendar.hours.values() for hours in day)
    days = sum(1 for day in calendar.hours.values() if day)
    result = int(_round_div(np.int64(week), days))
    _DAY_NS[id(calendar)] = (calendar, result)
    return result


def calendar_day_ns(calendars: CalendarSet) -> npt.NDArray[np.int64]:
    """The business-day length of every calendar of a set, by calendar index."""
    return np.array([business_day_ns(c) for c in calendars.calendars], dtype=np.int64)


def format_iso_duration(ns: int) -> str:
    """An exact ISO 8601 duration for people and tools: ``P6DT2H``, ``-PT30M``, ``PT0S``.

    Days are 24 hours; seconds carry a fraction when there is one.
    """
    sign = "-" if ns < 0 else ""
    days, rest = divmod(abs(int(ns)), NS_PER_DAY)
    hours, rest = divmod(rest, NS_PER_HOUR)
    minutes, rest = divmod(rest, NS_PER_MINUTE)
    seconds, fraction = divmod(rest, NS_PER_SECOND)
    time = ""
    if hours:
        time += f"{hours}H"
    if minutes:
        time += f"{minutes}M"
    if seconds or fraction:
        digits = f".{fraction:09d}".rstrip("0") if fraction else ""
        time += f"{seconds}{digits}S"
    text = f"{sign}P{days}D" if days else f"{sign}P"
    if time:
        text += "T" + time
    elif not days:
        text += "T0S"
    return text
