"""Local wall-clock times to instants, for whole arrays, with one rule for DST gaps and folds.

The rule: a local time ``w`` on a date maps to **the first instant at which the local clock shows
``w`` or later**. Where ``w`` exists once, that is the usual instant. In a spring-forward gap (02:30
in Paris on the last Sunday of March) it is the instant the gap ends (03:00 at the new offset); in a
fall-back fold (02:30 on the last Sunday of October happens twice) it is the first occurrence. The
map is non-decreasing in ``w``, so intervals of local time keep their order and never overlap once
mapped; an interval that lies wholly inside a gap becomes empty.

A zone is held as its *segments* over a range of years: the instants where its UTC offset changes,
found by sampling the zone every few hours and bisecting to the second. zoneinfo offers no public
list of transitions, and sampling is exact as long as two changes of offset never cancel out within
one sampling step, which no zone has done.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from typing import cast

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.model import NS_PER_SECOND

__all__ = ["ZoneSegments", "zone_segments"]

_STEP_SECONDS = 6 * 3600
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NEVER = np.iinfo(np.int64).min
_FOREVER = np.iinfo(np.int64).max


@attrs.frozen(eq=False)
class ZoneSegments:
    """A zone's UTC offset as a step function of the instant, over a range of years.

    Segment ``k`` runs from ``start[k]`` (inclusive) to ``start[k + 1]``; the first begins at the
    dawn of time and the last never ends. During segment ``k`` the local wall clock reads
    ``instant + offset[k]``.

    Attributes:
        start: ``int64`` ns, the instant each segment begins; ``start[0]`` is the int64 minimum.
        offset: ``int64`` ns, the UTC offset during each segment.
        local_end: ``int64`` ns, the running maximum of the local wall-clock time (as ns since the
            local epoch) each segment reaches just before it ends; the int64 maximum for the last.
    """

    start: npt.NDArray[np.int64]
    offset: npt.NDArray[np.int64]
    local_end: npt.NDArray[np.int64]

    def to_instants(self, local: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The first instant at which the local clock shows each of ``local`` or later.

        Args:
            local: Local wall-clock times as ``int64`` ns since 1970-01-01T00:00 *local*.
        """
        # Segment k contains a qualifying instant exactly when its local clock reaches past w, and
        # no earlier segment does: the first k whose (running maximum of) local end exceeds w.
        # Within it, the clock shows w at w - offset, unless w fell before the segment began (a
        # gap), when the segment's first instant is the first that shows a later time.
        k = np.searchsorted(self.local_end, local, side="right")
        instants: npt.NDArray[np.int64] = np.maximum(self.start[k], local - self.offset[k])
        return instants


def zone_segments(timezone: str, first_year: int, last_year: int) -> ZoneSegments:
    """The segments of ``timezone`` covering UTC years ``first_year`` to ``last_year`` inclusive.

    Outside that range the first and last offsets are taken to hold forever.
    """
    changes: list[tuple[int, int]] = []
    for year in range(first_year, last_year + 1):
        changes.extend(_changes_in_year(timezone, year))
    initial = _offset(zoneinfo.ZoneInfo(timezone), _year_start(first_year))
    starts = [_NEVER] + [second * NS_PER_SECOND for second, _ in changes]
    offsets = [initial] + [offset for _, offset in changes]
    start = np.array(starts, dtype=np.int64)
    offset = np.array(offsets, dtype=np.int64) * NS_PER_SECOND
    local_end = np.empty_like(start)
    local_end[:-1] = start[1:] + offset[:-1]
    local_end[-1] = _FOREVER
    return ZoneSegments(start=start, offset=offset, local_end=np.maximum.accumulate(local_end))


def _year_start(year: int) -> int:
    return int((dt.datetime(year, 1, 1, tzinfo=dt.UTC) - _EPOCH).total_seconds())


def _offset(zone: zoneinfo.ZoneInfo, second: int) -> int:
    # An aware datetime always has an offset.
    offset = cast(
        dt.timedelta, (_EPOCH + dt.timedelta(seconds=second)).astimezone(zone).utcoffset()
    )
    return int(offset.total_seconds())


@functools.lru_cache(maxsize=4096)
def _changes_in_year(timezone: str, year: int) -> tuple[tuple[int, int], ...]:
    """Each change of offset in UTC year ``year``: (first second at the new offset, new offset)."""
    zone = zoneinfo.ZoneInfo(timezone)
    begin, end = _year_start(year), _year_start(year + 1)
    changes: list[tuple[int, int]] = []
    left = begin - 1
    left_offset = _offset(zone, left)
    for right in [*range(begin + _STEP_SECONDS - 1, end - 1, _STEP_SECONDS), end - 1]:
        right_offset = _offset(zone, right)
        # Bisect to the first second at a new offset, again while the step holds more than one.
        while right_offset != left_offset:
            low, high = left, right
            while high - low > 1:
                middle = (low + high) // 2
                if _offset(zone, middle) == left_offset:
                    low = middle
                else:
                    high = middle
            left, left_offset = high, _offset(zone, high)
            changes.append((left, left_offset))
        left = right
    return tuple(changes)
