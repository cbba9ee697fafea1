"""A calendar's working time laid out as instants, and the kernels that answer questions with it.

A :class:`Timeline` holds the working intervals of a range of local years as sorted, disjoint
``int64`` ns bounds, with the working time before each interval. Working time up to an instant,
``W(t)``, is then one ``searchsorted`` and a clip; the working time in ``[a, b)`` is
``W(b) - W(a)``; the instant at which a given amount of work is done is the inverse look-up. Every
kernel is a pure function of arrays; none loops over elements.
"""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.calendars._lookup import SortedLookup
from servicedelivery.calendars._zone import zone_segments
from servicedelivery.model import NS_PER_DAY

__all__ = ["ScalarTimeline", "Timeline", "build_timeline", "day_number"]

Shift = tuple[int, int]
"""A working interval of one local date: (start, end) in ns after local midnight; end <= 48 h."""

_EPOCH_ORDINAL = 719_163  # date(1970, 1, 1).toordinal()
_MARGIN_DAYS = 2


def day_number(year: int, month: int = 1, day: int = 1) -> int:
    """Days from 1970-01-01 to a date (negative before it)."""
    return dt.date(year, month, day).toordinal() - _EPOCH_ORDINAL


@attrs.frozen(eq=False)
class Timeline:
    """The working intervals of local years ``first_year`` to ``last_year``, as instants.

    Index 0 is an empty interval before everything, so every instant has an interval at or before
    it. Answers are exact for instants in UTC years ``first_year + 1`` to ``last_year - 1``: a
    working interval of the local year before or after cannot reach into them.

    Attributes:
        first_year: The first local year whose working days are laid out.
        last_year: The last local year whose working days are laid out.
        start: ``int64`` ns, each interval's first instant; sorted.
        end: ``int64`` ns, each interval's end (excluded); ``end[i] < start[i + 1]``.
        before: ``int64`` ns of working time from the first interval up to each start.
        after: ``int64`` ns of working time from the first interval up to each end.
    """

    first_year: int
    last_year: int
    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    before: npt.NDArray[np.int64]
    after: npt.NDArray[np.int64] = attrs.field(init=False)
    _starts: SortedLookup = attrs.field(init=False)
    _ends: SortedLookup = attrs.field(init=False)
    _afters: SortedLookup = attrs.field(init=False)
    _scalar: ScalarTimeline | None = attrs.field(init=False, default=None)

    def __attrs_post_init__(self) -> None:
        after = self.before + (self.end - self.start)
        object.__setattr__(self, "after", after)
        object.__setattr__(self, "_starts", SortedLookup.of(self.start))
        object.__setattr__(self, "_ends", SortedLookup.of(self.end))
        object.__setattr__(self, "_afters", SortedLookup.of(after))

    def scalar(self) -> ScalarTimeline:
        """The same timeline as Python lists, for one instant at a time (made once, on first use)."""
        if self._scalar is None:
            object.__setattr__(self, "_scalar", ScalarTimeline(self))
        assert self._scalar is not None
        return self._scalar

    @property
    def total(self) -> int:
        """All the working time laid out."""
        return int(self.after[-1])

    def worked(self, at: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """``W(at)``: the working time from the timeline's beginning up to each instant."""
        # The last interval starting at or before `at` holds all the work done by then except
        # the part of it after `at`, which the clip removes (and a gap after it adds nothing).
        i = np.maximum(self._starts.count_at_or_before(at) - 1, 0)
        done: npt.NDArray[np.int64] = self.before[i] + np.clip(
            at - self.start[i], 0, self.end[i] - self.start[i]
        )
        return done

    def reach(
        self, target: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """The first instant at which ``W`` reaches each ``target`` > 0, and whether it is laid out.

        ``W`` rises only inside intervals, one ns per ns, so the first interval whose end has
        ``W >= target`` holds the answer, ``target - before`` into it.
        """
        i = self._afters.count_before(target)
        found = i < len(self.after)
        i = np.minimum(i, len(self.after) - 1)
        at: npt.NDArray[np.int64] = self.start[i] + (target - self.before[i])
        return at, found

    def is_working(self, at: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Whether each instant is inside a working interval (starts included, ends excluded)."""
        i = self._starts.count_at_or_before(at) - 1
        working: npt.NDArray[np.bool_] = (i >= 0) & (at < self.end[np.maximum(i, 0)])
        return working

    def next_opening(
        self, at: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """The latest instant ``t >= at`` with no working time in ``[at, t)``, and whether found.

        That is ``at`` itself during working time, else the start of the next interval.
        """
        i = self._ends.count_at_or_before(at)
        found = i < len(self.end)
        opening: npt.NDArray[np.int64] = np.maximum(
            self.start[np.minimum(i, len(self.end) - 1)], at
        )
        return opening, found

    def previous_closing(
        self, at: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """The earliest instant ``t <= at`` with no working time in ``[t, at)``, and whether found.

        That is ``at`` itself when the instant just before it is working time, else the end of the
        last interval before it. Index 0 is the empty interval before everything: not an answer.
        """
        j = self._starts.count_before(at) - 1
        found = j >= 1
        closing: npt.NDArray[np.int64] = np.minimum(self.end[np.maximum(j, 0)], at)
        return closing, found


class ScalarTimeline:
    """A :class:`Timeline`'s kernels for one instant: ``bisect`` over Python lists of ints.

    Each kernel computes what the array kernel of the same name computes for a one-element array
    (``bisect_right`` is ``searchsorted(..., "right")``, ``bisect_left`` is ``"left"``), in Python
    integers, without the fixed cost of numpy calls.

    Attributes:
        low: The first instant the timeline answers exactly for (UTC year ``first_year + 1``).
        high: The end (excluded) of the instants it answers exactly for (UTC ``last_year``).
    """

    __slots__ = ("_after", "_before", "_end", "_start", "high", "low")

    def __init__(self, timeline: Timeline) -> None:
        self.low = day_number(timeline.first_year + 1) * NS_PER_DAY
        self.high = day_number(timeline.last_year) * NS_PER_DAY
        self._start: list[int] = timeline.start.tolist()
        self._end: list[int] = timeline.end.tolist()
        self._before: list[int] = timeline.before.tolist()
        self._after: list[int] = timeline.after.tolist()

    def covers(self, at: int) -> bool:
        """Whether the timeline answers exactly for the instant ``at``."""
        return self.low <= at < self.high

    def worked(self, at: int) -> int:
        """``W(at)``; see :meth:`Timeline.worked`."""
        i = max(bisect_right(self._start, at) - 1, 0)
        start = self._start[i]
        return self._before[i] + min(max(at - start, 0), self._end[i] - start)

    def reach(self, target: int) -> tuple[int, bool]:
        """The first instant ``W`` reaches ``target`` > 0, and whether found; see :meth:`Timeline.reach`."""
        i = bisect_left(self._after, target)
        found = i < len(self._after)
        i = min(i, len(self._after) - 1)
        return self._start[i] + (target - self._before[i]), found

    def is_working(self, at: int) -> bool:
        """Whether ``at`` is inside a working interval; see :meth:`Timeline.is_working`."""
        i = bisect_right(self._start, at) - 1
        return i >= 0 and at < self._end[max(i, 0)]

    def next_opening(self, at: int) -> tuple[int, bool]:
        """The next opening at or after ``at``, and whether found; see :meth:`Timeline.next_opening`."""
        i = bisect_right(self._end, at)
        found = i < len(self._end)
        return max(self._start[min(i, len(self._end) - 1)], at), found


def build_timeline(
    *,
    timezone: str,
    week: Sequence[Sequence[Shift]],
    closed: npt.NDArray[np.int64],
    special: Mapping[int, Sequence[Shift]],
    first_year: int,
    last_year: int,
) -> Timeline:
    """Lay out the working intervals of local years ``first_year`` to ``last_year``.

    Args:
        timezone: The IANA zone whose wall clock the shifts are read on.
        week: For each weekday, Monday first, its shifts in order.
        closed: Day numbers (see :func:`day_number`) on which no shift starts.
        special: Day numbers whose shifts replace the weekday's.
        first_year: The first local year.
        last_year: The last local year.
    """
    first_day = day_number(first_year)
    last_day = day_number(last_year + 1)  # excluded
    days = np.arange(first_day, last_day, dtype=np.int64)
    # 1970-01-01 was a Thursday, weekday 3 when Monday is 0.
    weekday = (days + 3) % 7
    replaced = np.fromiter(special, dtype=np.int64, count=len(special))
    regular = ~np.isin(days, closed) & ~np.isin(days, replaced)
    starts: list[npt.NDArray[np.int64]] = []
    ends: list[npt.NDArray[np.int64]] = []
    for index, shifts in enumerate(week):  # seven weekdays, a few shifts each
        midnight = days[regular & (weekday == index)] * NS_PER_DAY
        for shift_start, shift_end in shifts:
            starts.append(midnight + shift_start)
            ends.append(midnight + shift_end)
    for day, shifts in special.items():  # the declared exceptions, not elements
        if first_day <= day < last_day:
            starts.append(np.array([day * NS_PER_DAY + s for s, _ in shifts], dtype=np.int64))
            ends.append(np.array([day * NS_PER_DAY + e for _, e in shifts], dtype=np.int64))
    local_start = np.concatenate([np.empty(0, dtype=np.int64), *starts])
    local_end = np.concatenate([np.empty(0, dtype=np.int64), *ends])
    order = np.argsort(local_start, kind="stable")
    # Local bounds of every shift, in UTC years wide enough for any offset (at most a day).
    zone = zone_segments(timezone, first_year - 1, last_year + 1)
    start = zone.to_instants(local_start[order])
    end = zone.to_instants(local_end[order])
    return _merged(start, end, first_year=first_year, last_year=last_year, floor=first_day)


def _merged(
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
    *,
    first_year: int,
    last_year: int,
    floor: int,
) -> Timeline:
    # Shifts are disjoint in local time (the definition is checked), and mapping local times to
    # instants never reverses them, so sorted shifts stay sorted and disjoint. Shifts emptied by a
    # DST gap go; shifts that touch (Monday until 24:00, Tuesday from 00:00) become one interval.
    keep = end > start
    start, end = start[keep], end[keep]
    opens = np.ones(len(start), dtype=bool)
    opens[1:] = start[1:] != end[:-1]
    closes = np.ones(len(start), dtype=bool)
    closes[:-1] = opens[1:]
    sentinel = np.array([(floor - _MARGIN_DAYS) * NS_PER_DAY], dtype=np.int64)
    start = np.concatenate([sentinel, start[opens]])
    end = np.concatenate([sentinel, end[closes]])
    before = np.zeros(len(start), dtype=np.int64)
    np.cumsum((end - start)[:-1], out=before[1:])
    return Timeline(first_year=first_year, last_year=last_year, start=start, end=end, before=before)
