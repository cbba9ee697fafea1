"""Instants as the log stores them: ISO 8601 text with the offset, and ns since the epoch.

The text keeps the offset the instant was given at (where in the world it happened); the integer is
what columnar reads and ordering use. Both are derived once per event when it is appended, so they
are computed here from the datetime's fields with C-level methods: the text is exactly what
``isoformat`` writes (and the library's converter stores), the integer exactly ``to_epoch_ns``.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
import typing
from collections.abc import Callable, Sequence
from functools import cache

import numpy as np
import pendulum

__all__ = ["instant_text", "instant_texts", "parse_epoch_ns", "parse_instant", "parse_instants"]

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


_ZONE = operator.attrgetter("tzinfo")
_CLOCK = operator.attrgetter("hour", "minute", "second", "microsecond")
_ordinal_of = dt.datetime.toordinal
# The days (since the epoch) whose instants fit int64 ns with room for any UTC offset.
_FIRST_DAY = dt.date(1678, 1, 2).toordinal() - _EPOCH_ORDINAL
_LAST_DAY = dt.date(2262, 4, 10).toordinal() - _EPOCH_ORDINAL
_BULK = 16  # below this many instants, numpy's fixed cost exceeds what it saves
# The texts of a time of day as isoformat writes it, in two parts looked up by index.
_MINUTES = np.array([f"{m // 60:02d}:{m % 60:02d}" for m in range(1_440)], dtype=object)
_SECONDS = np.array([f":{s:02d}" for s in range(60)], dtype=object)


def instant_texts(instants: Sequence[dt.datetime]) -> tuple[list[str], list[int]]:
    """``instant_text`` of many instants: their texts, and their ns since the epoch.

    Equal to ``instant_text`` of each (a test checks). Instants at pendulum's fixed offsets (what
    ``NewEvent`` holds) within the int64 range are done with numpy from fields read by C-level
    getters, and their texts put together from tables of the few distinct days, offsets and times
    of day; others one at a time.
    """
    count = len(instants)
    zones = list(map(_ZONE, instants))
    days = None
    if count >= _BULK and set(map(type, zones)) == {pendulum.FixedTimezone}:
        days = np.fromiter(map(_ordinal_of, instants), dtype=np.int64, count=count)
        days -= _EPOCH_ORDINAL
        if int(days.min()) < _FIRST_DAY or int(days.max()) > _LAST_DAY:
            days = None
    if days is None:
        if not count:
            return [], []
        texts, ns_list = zip(*map(instant_text, instants), strict=True)
        return list(texts), list(ns_list)
    # A zone's offset is a Python property and its hash a Python method: the few distinct zone
    # objects (to_instant shares one per offset) are found by identity and read once each.
    by_id = dict(zip(map(id, zones), zones, strict=True))
    offset_of_zone = {key: zone.offset for key, zone in by_id.items()}
    offsets = np.fromiter(map(offset_of_zone.__getitem__, map(id, zones)), np.int64, count)
    clock = np.fromiter(
        itertools.chain.from_iterable(map(_CLOCK, instants)), dtype=np.int64, count=4 * count
    ).reshape(count, 4)
    minute = clock[:, 0] * 60 + clock[:, 1]
    local = (days * 1_440 + minute) * 60 + clock[:, 2]
    micro = clock[:, 3]
    ns = ((local - offsets) * _NS + micro * 1_000).tolist()
    distinct_days, day_of = np.unique(days, return_inverse=True)
    day_texts = np.array(
        [f"{dt.date.fromordinal(int(day) + _EPOCH_ORDINAL).isoformat()}T" for day in distinct_days],
        dtype=object,
    )
    distinct_offsets, offset_of = np.unique(offsets, return_inverse=True)
    offset_texts = np.array([_offset_text(int(s)) for s in distinct_offsets], dtype=object)
    parts = [day_texts[day_of], _MINUTES[minute], _SECONDS[clock[:, 2]]]
    if micro.any():  # isoformat shows microseconds only when there are some
        parts.append(np.array([f".{us:06d}" if us else "" for us in micro.tolist()], dtype=object))
    parts.append(offset_texts[offset_of])
    return list(map("".join, zip(*(part.tolist() for part in parts), strict=True))), ns


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
        if len(_ZONES) < 1_000:  # offsets in use are few; bound the table all the same
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


# A datetime (or pendulum.DateTime) is built from its pickle state by the C constructor.
_from_state = typing.cast(Callable[[bytes, dt.tzinfo], pendulum.DateTime], pendulum.DateTime)
_state = dt.datetime.__reduce__  # (datetime, (its fields packed in bytes, its tzinfo))
_packed = operator.itemgetter(1)
_fields = operator.itemgetter(0)


def parse_instants(texts: Sequence[str]) -> list[pendulum.DateTime]:
    """``parse_instant`` of many texts, with C-level passes over them (equal results, a test checks).

    Each text is parsed by ``datetime.fromisoformat``, as ``parse_instant`` does; its fields, packed
    by the datetime's C ``__reduce__`` (its pickle state), build the ``pendulum.DateTime`` with the
    pendulum zone of its offset, found once per distinct offset: no Python call per text.

    Raises:
        ValueError: A text that is not an ISO 8601 instant with a UTC offset (the first such one).
    """
    try:
        parsed = list(map(_fromisoformat, texts))
    except ValueError:
        return list(map(parse_instant, texts))  # raises for the first text that does not parse
    zones = list(map(_ZONE, parsed))
    for zone in set(zones).difference(_ZONES):  # the few offsets not seen yet (or a naive text)
        if zone is None or len(_ZONES) >= 1_000:
            return list(map(parse_instant, texts))  # raises for the naive one, as it says
        _ZONES[zone] = parse_instant(texts[zones.index(zone)]).tzinfo  # type: ignore[assignment]
    return list(
        map(
            _from_state,
            map(_fields, map(_packed, map(_state, parsed))),
            map(_ZONES.__getitem__, zones),
        )
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
