"""Instants as the log stores them: ISO 8601 text with the offset, and ns since the epoch.

The text keeps the offset the instant was given at (where in the world it happened); the integer is
what columnar reads and ordering use. Both are derived once per event when it is appended, so they
are computed here from the datetime's fields with C-level methods: the text is exactly what
``isoformat`` writes (and the library's converter stores), the integer exactly ``to_epoch_ns``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import cache
from itertools import repeat
from operator import itemgetter

import pendulum

__all__ = ["instant_text", "parse_epoch_ns", "parse_instant", "parse_instants"]

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_NS = 1_000_000_000
_date_text = dt.date.isoformat
_time_text = dt.time.isoformat
_time_of = dt.datetime.time
_ordinal = dt.date.toordinal


@cache
def _offset_text(seconds: int) -> str:
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds_left = divmod(rest, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return f"{text}:{seconds_left:02d}" if seconds_left else text


def instant_text(instant: dt.datetime) -> tuple[str, int]:
    """The stored text of an aware instant (its ``isoformat``) and its ns since the epoch."""
    zone = instant.tzinfo
    if type(zone) is pendulum.FixedTimezone:
        seconds = zone.offset
    else:
        offset = instant.utcoffset()
        assert offset is not None
        if offset.microseconds:  # never in practice; isoformat shows them, so defer to it
            return dt.datetime.isoformat(instant), _ns(instant, offset.total_seconds())
        seconds = offset.days * 86_400 + offset.seconds
    text = f"{_date_text(instant)}T{_time_text(_time_of(instant))}{_offset_text(seconds)}"
    return text, _ns(instant, seconds)


def _ns(instant: dt.datetime, offset_seconds: float) -> int:
    days = _ordinal(instant) - _EPOCH_ORDINAL
    seconds = days * 86_400 + instant.hour * 3_600 + instant.minute * 60 + instant.second
    return (seconds - int(offset_seconds)) * _NS + instant.microsecond * 1_000


@cache
def _fixed(offset_seconds: int) -> pendulum.FixedTimezone:
    return pendulum.FixedTimezone(offset_seconds)


def instant_at(instant: dt.datetime) -> pendulum.DateTime:
    """The same instant as a ``pendulum.DateTime`` at its fixed UTC offset, built from fields.

    What the library's converter gives for the instant's text, without ``pendulum.instance``, which
    costs ten times more.
    """
    offset = instant.utcoffset()
    if offset is None:
        raise ValueError(f"{instant!r} has no UTC offset")
    return pendulum.DateTime(
        instant.year,
        instant.month,
        instant.day,
        instant.hour,
        instant.minute,
        instant.second,
        instant.microsecond,
        tzinfo=_fixed(int(offset.total_seconds())),
    )


_fromisoformat = dt.datetime.fromisoformat
_DateTime = pendulum.DateTime
_ZONES: dict[dt.tzinfo, pendulum.FixedTimezone] = {}
_MAX_ZONES = 1_000


def parse_instant(text: str) -> pendulum.DateTime:
    """The instant a stored text names, as a ``pendulum.DateTime`` at its fixed offset.

    Raises:
        ValueError: The text is not an ISO 8601 instant with a UTC offset.
    """
    parsed = _fromisoformat(text)
    # The parsed offset (a ``datetime.timezone``, equal for equal offsets) finds its pendulum zone.
    zone = _ZONES.get(parsed.tzinfo)  # type: ignore[arg-type]
    if zone is None:
        instant = instant_at(parsed)
        if len(_ZONES) < _MAX_ZONES:  # offsets in use are few; bound the table all the same
            _ZONES[parsed.tzinfo] = instant.tzinfo  # type: ignore[index,assignment]
        return instant
    return _DateTime(
        parsed.year,
        parsed.month,
        parsed.day,
        parsed.hour,
        parsed.minute,
        parsed.second,
        parsed.microsecond,
        zone,
    )


def parse_epoch_ns(text: str) -> int:
    """The ns since the epoch of the instant a stored text names: ``parse_instant``'s, cheaper.

    Raises:
        ValueError: The text is not an ISO 8601 instant with a UTC offset.
    """
    parsed = _fromisoformat(text)
    offset = parsed.utcoffset()
    if offset is None:
        raise ValueError(f"{parsed!r} has no UTC offset")  # as parse_instant says
    # At the whole seconds of the offset, as ``parse_instant``'s fixed zone keeps it.
    return _ns(parsed, int(offset.total_seconds()))


_state = dt.datetime.__reduce__
_new_datetime: Callable[..., pendulum.DateTime] = dt.datetime.__new__
_first, _second = itemgetter(0), itemgetter(1)


def parse_instants(texts: Sequence[str]) -> list[pendulum.DateTime]:
    """``parse_instant`` of every text, in order, with no Python step per text.

    Each text is parsed by datetime's C parser; the ``pendulum.DateTime`` is then made from the
    parsed value's compact state (what pickling stores) and its offset's pendulum zone, the cheapest
    way to make an instance of a subclass of ``datetime``.

    Raises:
        ValueError: A text is not an ISO 8601 instant with a UTC offset.
    """
    try:
        states = list(map(_state, map(_fromisoformat, texts)))  # (datetime, (bytes, tzinfo))
    except ValueError:
        states = []
    arguments = list(map(_second, states))  # (bytes,) for a naive datetime
    if len(states) != len(texts) or set(map(len, arguments)) - {2}:
        return list(map(parse_instant, texts))  # raises for the first bad text, as one parse does
    missing = set(map(_second, arguments)) - _ZONES.keys()
    if len(_ZONES) + len(missing) > _MAX_ZONES:
        return list(map(parse_instant, texts))
    for offset in missing:
        _ZONES[offset] = instant_at(_DateTime(2000, 1, 1, tzinfo=offset)).tzinfo  # type: ignore[assignment]
    return list(
        map(
            _new_datetime,
            repeat(_DateTime, len(texts)),
            map(_first, arguments),
            map(_ZONES.__getitem__, map(_second, arguments)),
        )
    )
