"""Durations written as text in definitions: ``"8h"``, ``"1h30m"``, ``"2d"``, or ISO 8601 ``"PT8H"``.

A day is 24 hours and a week 7 days, whatever the calendar: in working time, ``"80h"`` is ten days
of eight working hours, and ``"10d"`` is 240 working hours. Months and years have no fixed length
and are refused. Written back, a duration is always in hours, minutes and seconds (``"80h"``), so
that nobody reads ``"10d"`` as ten business days.
"""

from __future__ import annotations

import re

from servicedelivery.model import NS_PER_DAY, NS_PER_HOUR, NS_PER_MINUTE, NS_PER_SECOND

__all__ = ["DURATION_TEXT", "format_duration", "parse_duration"]

DURATION_TEXT = "a duration such as '8h', '1h30m', '45m', '2d' (24 hours a day) or ISO 8601 'PT8H'"

_SHORT = re.compile(
    r"(?:(?P<w>\d+)w)?(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?"
    r"(?:(?P<s>\d+)(?:\.(?P<f>\d{1,9}))?s)?"
)
_ISO = re.compile(
    r"P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+)H)?(?:(?P<m>\d+)M)?(?:(?P<s>\d+)(?:[.,](?P<f>\d{1,9}))?S)?)?"
)
_UNITS = {"w": 7 * NS_PER_DAY, "d": NS_PER_DAY, "h": NS_PER_HOUR, "m": NS_PER_MINUTE}


def parse_duration(text: object) -> int | None:
    """The nanoseconds a duration text stands for, or ``None`` when it is not one."""
    if not isinstance(text, str):
        return None
    compact = text.replace(" ", "")
    match = _SHORT.fullmatch(compact) or _ISO.fullmatch(compact.upper())
    if match is None or not any(match.groupdict().values()) or compact.upper().endswith("T"):
        return None
    parts = match.groupdict()
    total = sum(int(parts[unit] or 0) * size for unit, size in _UNITS.items())
    total += int(parts["s"] or 0) * NS_PER_SECOND
    fraction = parts["f"] or ""
    return total + int(fraction.ljust(9, "0") or 0)


def format_duration(ns: int) -> str:
    """A duration as text that :func:`parse_duration` reads back: hours, minutes, seconds."""
    hours, rest = divmod(ns, NS_PER_HOUR)
    minutes, rest = divmod(rest, NS_PER_MINUTE)
    seconds, fraction = divmod(rest, NS_PER_SECOND)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    if seconds or fraction:
        decimals = f".{fraction:09d}".rstrip("0") if fraction else ""
        text += f"{seconds}{decimals}s"
    return text or "0s"
