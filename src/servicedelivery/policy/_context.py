"""What one bulk evaluation reads: the frame at ``now``, its episodes, calendars and targets.

Everything here is computed once per evaluation, as arrays over the frame's items, and shared by
every leaf of every policy. The two clocks (calendar and working time) are used through
:class:`Clocks`, so that a measure is written once for both.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.metrics import Categorical, EventFrame, episodes
from servicedelivery.metrics._durations import DEFAULT_END, DEFAULT_START
from servicedelivery.metrics._episodes import Episodes, Marked
from servicedelivery.metrics._instants import epoch_ns_column
from servicedelivery.metrics._objects import object_array
from servicedelivery.metrics._options import OPEN_STATES, as_instant, state_lut
from servicedelivery.metrics._problems import RowProblems
from servicedelivery.model import STATES as _STATES
from servicedelivery.model import MilestoneState
from servicedelivery.policy._durations import Clock, Duration, calendar_day_ns
from servicedelivery.policy._escalations import ItemIndex

__all__ = [
    "BLOCKED",
    "COMMITTED",
    "NONE",
    "Clocks",
    "Context",
    "Shared",
    "TargetMapping",
    "as_calendar_set",
    "item_targets",
]

NONE = np.iinfo(np.int64).min
"""No instant (``INT64_MIN``, numpy's NaT)."""
LATEST = np.iinfo(np.int64).max
"""After every instant: a condition that has not started holding yet."""
BLOCKED = _STATES.index(MilestoneState.BLOCKED)
COMMITTED = state_lut((*DEFAULT_START, *DEFAULT_END), path="start")
"""The states that commit an item (work item age starts at the first of them)."""


def as_calendar_set(calendars: object) -> CalendarSet | None:
    """A :class:`CalendarSet` from a set, one calendar (every item's), or ``None``.

    Raises:
        ValidationError: Anything else.
    """
    if calendars is None or isinstance(calendars, CalendarSet):
        return calendars
    if isinstance(calendars, BusinessCalendar):
        return CalendarSet(default=calendars)
    raise ValidationError.single(
        "calendars", calendars, "a CalendarSet, a BusinessCalendar or None"
    )


class Clocks:
    """Calendar time and working time over arrays of instants, one calendar per element.

    Args:
        calendars: The set the items' calendars come from (``None``: no working time).
        calendar: Each item's index into ``calendars.calendars``.
    """

    def __init__(
        self, calendars: CalendarSet | None, calendar: npt.NDArray[np.int32] | None
    ) -> None:
        self.calendars = calendars
        self.calendar = calendar
        self.day_ns = (
            None if calendars is None or calendar is None else calendar_day_ns(calendars)[calendar]
        )

    def _set(self, path: str) -> tuple[CalendarSet, npt.NDArray[np.int32]]:
        if self.calendars is None or self.calendar is None:
            raise ValidationError.single(
                path, None, "business calendars (calendars=) to count working time in"
            )
        return self.calendars, self.calendar

    def amount(
        self, duration: Duration, items: npt.NDArray[np.intp], *, path: str
    ) -> npt.NDArray[np.int64]:
        """A duration's length for each of ``items`` (business days use each item's calendar)."""
        if duration.in_business_days:
            self._set(path)
        day_ns = None if self.day_ns is None else self.day_ns[items]
        return np.broadcast_to(np.asarray(duration.per_item(day_ns), dtype=np.int64), len(items))

    def elapsed(
        self,
        clock: Clock,
        start: npt.NDArray[np.int64],
        end: npt.NDArray[np.int64] | int,
        items: npt.NDArray[np.intp],
        *,
        path: str,
    ) -> npt.NDArray[np.int64]:
        """Time from ``start`` to ``end`` (0 when ``end <= start``), in ``clock``."""
        if clock is Clock.CALENDAR:
            elapsed: npt.NDArray[np.int64] = np.maximum(np.subtract(end, start), 0)
            return elapsed
        calendars, calendar = self._set(path)
        return calendars.working_ns(start, end, calendar=calendar[items])

    def reach(
        self,
        clock: Clock,
        start: npt.NDArray[np.int64],
        amount: npt.NDArray[np.int64],
        items: npt.NDArray[np.intp],
        *,
        strict: bool,
        path: str,
    ) -> npt.NDArray[np.int64]:
        """When the time elapsed from ``start`` first exceeds ``amount`` (reaches it, unless strict).

        The infimum of the instants ``t >= start`` with ``elapsed(start, t) > amount`` (``>=``
        unless ``strict``); ``start`` itself for a negative amount.

        In working time the elapsed time reaches ``amount`` at the due instant; it exceeds it only
        once work runs again, from the next opening on.
        """
        if clock is Clock.CALENDAR:
            reached: npt.NDArray[np.int64] = start + np.maximum(amount, 0)
            return reached
        calendars, calendar = self._set(path)
        mine = calendar[items]
        due = calendars.add_working(start, np.maximum(amount, 0), calendar=mine)
        if strict:
            due = calendars.next_opening(due, calendar=mine)
        # Below zero, the comparison already holds at the start itself.
        result: npt.NDArray[np.int64] = np.where(amount < 0, start, due)
        return result


class Context:
    """The frame seen at ``now``, with what every measure and field reads, computed once.

    Args:
        frame: The events.
        now: The instant of the evaluation, ns since the epoch.
        calendars: Each item's business calendar: a set (resolved per item from its ``site`` and
            ``region`` attributes) or one calendar for all.
        targets: Each item's target date (see :func:`item_targets`).
        slas: SLA clock results by SLA name, for the SLA measures.
        forecast: A completion forecast, for ``target_miss_probability``.
        shared: What evaluations of this frame with these targets at other instants share (a
            backtest's); the targets are read through it.
    """

    def __init__(
        self,
        frame: EventFrame,
        *,
        now: int,
        calendars: CalendarSet | None,
        targets: object,
        slas: object = None,
        forecast: object = None,
        shared: Shared | None = None,
    ) -> None:
        self.now = now
        self._shared = shared
        self.slas = slas
        self.forecast = forecast
        self.episodes: Episodes = episodes(frame, now=now)
        self.frame: EventFrame = self.episodes.frame
        self.count = self.frame.item_count
        offsets = self.episodes.offsets
        self.current = offsets[1:] - 1
        self.calendars = calendars
        self.clocks = Clocks(calendars, self._calendar_index(calendars))
        given = targets if shared is None else shared.targets
        # A mapping's ids are looked up in the index every lookup of this evaluation shares.
        index = self.item_index if isinstance(given, (Mapping, TargetMapping)) else None
        self.targets = item_targets(given, self.frame, index=index)

    def _calendar_index(self, calendars: CalendarSet | None) -> npt.NDArray[np.int32] | None:
        if calendars is None:
            return None
        attributes = self.frame.item_attributes
        chain: dict[str, Any] = {}
        for name, key in (("site", "site"), ("region", "region")):
            if name in attributes:
                column = attributes[name]
                chain[f"{key}_codes"] = column.codes
                chain[f"{key}_names"] = [str(value) for value in column.categories.tolist()]
        if not chain:
            return np.zeros(self.count, dtype=np.int32)
        return calendars.resolve_codes(**chain)

    @cached_property
    def first_time(self) -> npt.NDArray[np.int64]:
        """Each item's first instant (its first event at or before ``now``)."""
        return self.episodes.start[self.episodes.offsets[:-1]]

    @cached_property
    def item_index(self) -> ItemIndex:
        """The frame's item ids sorted once, for every lookup of ids during this evaluation."""
        if self._shared is not None:
            return self._shared.item_index(self.now)
        return ItemIndex(self.frame.items)

    @cached_property
    def first_row(self) -> npt.NDArray[np.int64]:
        """Each item's first frame row."""
        return self.frame.offsets[:-1]

    @cached_property
    def current_start(self) -> npt.NDArray[np.int64]:
        """When each item's current episode began."""
        return self.episodes.start[self.current]

    @cached_property
    def current_row(self) -> npt.NDArray[np.int64]:
        """The frame row that began each item's current episode."""
        return self.episodes.first_row[self.current]

    @cached_property
    def is_open(self) -> npt.NDArray[np.bool_]:
        """Whether each item is open at ``now`` (its current state is open)."""
        return OPEN_STATES[self.episodes.state[self.current]]

    @cached_property
    def closed_since(self) -> npt.NDArray[np.int64]:
        """For a closed item, since when it has been closed (``NONE`` for open items).

        That is the start of its last run of closed episodes.
        """
        ep = self.episodes
        last_open = Marked(OPEN_STATES[ep.state], ep.offsets).last()
        # The closed run begins right after the last open episode, or with the item itself.
        run_start = np.where(last_open >= 0, last_open + 1, ep.offsets[:-1])
        run_start = np.minimum(run_start, ep.offsets[1:] - 1)
        since: npt.NDArray[np.int64] = np.where(self.is_open, NONE, ep.start[run_start])
        return since

    @cached_property
    def commit_episode(self) -> npt.NDArray[np.int64]:
        """Each item's first committed episode (``-1`` if none): where its age starts."""
        return self.episodes.first_in(COMMITTED)

    def episode_at(
        self, items: npt.NDArray[np.intp], instants: npt.NDArray[np.int64]
    ) -> npt.NDArray[np.int64]:
        """For each item, its episode in force at the instant: the last that began at or before.

        An item's episodes start in order, so those at or before the instant are a prefix of its
        episodes; counting them locates the last one without a search per item.
        """
        ep = self.episodes
        if not len(items):
            return np.zeros(0, dtype=np.int64)
        # Every item has at least one episode, so each group below is non-empty.
        counts = np.diff(ep.offsets)[items]
        starts = np.cumsum(counts) - counts
        rows = np.repeat(ep.offsets[:-1][items] - starts, counts) + np.arange(int(counts.sum()))
        before = (ep.start[rows] <= np.repeat(instants, counts)).astype(np.int64)
        taken = np.add.reduceat(before, starts)
        episode: npt.NDArray[np.int64] = ep.offsets[:-1][items] + np.maximum(taken, 1) - 1
        return episode

    @cached_property
    def _evidence_table(self) -> npt.NDArray[Any]:
        """Every frame row's event id (or position), and ``None`` last, for row -1."""
        frame = self.frame
        source = frame.position if frame.event_id is None else frame.event_id
        table = np.empty(len(source) + 1, dtype=object)
        table[:-1] = source
        return table

    def evidence(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
        """The event id (or position, without ids) of each frame row; ``None`` for row -1."""
        result: npt.NDArray[Any] = self._evidence_table[rows]
        return result


class Shared:
    """What the evaluations of one frame at instant after instant share, worked out on first use.

    Each evaluation cuts the frame at its instant: items without an event by then drop out, and
    an item's attributes are those known then. So its episodes, the calendars its items' sites
    and regions resolve to, and target dates read from an attribute are worked out at each
    instant; the index of the item ids and target dates given as a mapping are worked out once,
    for the whole frame, and cut like it.

    Args:
        frame: The whole frame.
        targets: The ``targets`` option (see :func:`item_targets`).
    """

    def __init__(self, frame: EventFrame, targets: object) -> None:
        self.frame = frame
        self._targets = targets

    @cached_property
    def targets(self) -> object:
        """The ``targets`` option, a mapping read into a :class:`TargetMapping`."""
        given = self._targets
        return TargetMapping.of(given) if isinstance(given, Mapping) else given

    @cached_property
    def _item_index(self) -> ItemIndex:
        return ItemIndex(self.frame.items)

    @cached_property
    def _first_time(self) -> npt.NDArray[np.int64]:
        """Each item's first instant (rows are sorted by time); ``LATEST`` for an item without."""
        frame = self.frame
        first = np.full(frame.item_count, LATEST, dtype=np.int64)
        has_rows = np.diff(frame.offsets) > 0
        first[has_rows] = frame.time[frame.offsets[:-1][has_rows]]
        return first

    def item_index(self, now: int) -> ItemIndex:
        """The index of the items of the frame cut at ``now``, as ``EventFrame.as_of`` cuts it."""
        last = self.frame.last_time
        if last is None or last <= now:  # as_of keeps the frame whole
            return self._item_index
        # as_of keeps the rows at or before now, and the items left with one.
        return self._item_index.subset(self._first_time <= now)


@attrs.frozen(eq=False)
class TargetMapping:
    """Target dates given as a mapping of item id to instant, read into arrays.

    Attributes:
        keys: The item ids, as the text :class:`ItemIndex` finds them by.
        instants: Each id's target date, ns since the epoch.
    """

    keys: npt.NDArray[np.str_]
    instants: npt.NDArray[np.int64]

    @classmethod
    def of(cls, targets: Mapping[Any, Any]) -> TargetMapping:
        """Read a mapping: integers (ns) convert in one numpy call, other values one by one.

        Raises:
            ValidationError: Values that are not instants, each under its item id.
        """
        keys = object_array(targets.keys())
        values = list(targets.values())
        if not values:
            return cls(keys.astype(str), np.zeros(0, dtype=np.int64))
        try:
            instants = np.array(values, dtype=np.int64)
            exact = np.array_equal(np.array(values, dtype=object), instants.astype(object))
        except (TypeError, ValueError, OverflowError):
            exact = False
        if not exact:
            problems: list[FieldError] = []
            converted = []
            for key, value in zip(keys.tolist(), values, strict=True):
                try:
                    converted.append(as_instant(value, path="target"))
                except ValidationError:
                    problems.append(
                        FieldError(f"targets[{key!r}]", value, "an aware datetime or int64 ns")
                    )
                    converted.append(NONE)
            if problems:
                raise ValidationError(problems)
            instants = np.array(converted, dtype=np.int64)
        return cls(keys.astype(str), instants)

    def place(self, frame: EventFrame, index: ItemIndex | None) -> npt.NDArray[np.int64]:
        """Each item's target date (``NONE`` for none); ids not in the frame are ignored.

        Args:
            frame: The frame whose items the dates are for.
            index: The index of ``frame``'s items (built when ``None``).
        """
        result = np.full(frame.item_count, NONE, dtype=np.int64)
        if not len(self.keys):
            return result
        codes = (ItemIndex(frame.items) if index is None else index).codes(self.keys)
        found = codes >= 0  # items not (yet) in the frame have nothing to evaluate
        result[codes[found]] = self.instants[found]
        return result


def item_targets(
    targets: object, frame: EventFrame, *, index: ItemIndex | None = None
) -> npt.NDArray[np.int64]:
    """Each item's target date as ns since the epoch (``NONE`` for none).

    Args:
        targets: ``None``; an ``int64`` array aligned with ``frame.items``; a mapping of item id
            to an aware datetime or ns (or one read already, a :class:`TargetMapping`); or the
            name of an attribute of the frame whose values are ISO 8601 instants (each item's
            last recorded value counts).
        frame: The frame whose items the dates are for.
        index: The index of ``frame``'s items, when the caller has one (a mapping's ids are
            looked up in it); built when needed otherwise.

    Raises:
        ValidationError: Anything else, or values that are not instants.
    """
    count = frame.item_count
    if targets is None:
        return np.full(count, NONE, dtype=np.int64)
    if isinstance(targets, str):
        if targets not in frame.item_attributes:
            known = ", ".join(frame.item_attributes) or "none"
            raise ValidationError.single(
                "targets", targets, f"an attribute of the frame (it has {known})"
            )
        column: Categorical = frame.item_attributes[targets]
        problems = RowProblems(len(column.categories))
        parsed = epoch_ns_column(
            np.asarray(column.categories, dtype=object), column=targets, problems=problems
        )
        problems.raise_if_any()
        table = np.append(parsed, NONE)
        result: npt.NDArray[np.int64] = table[column.codes]
        return result
    if isinstance(targets, Mapping):
        targets = TargetMapping.of(targets)
    if isinstance(targets, TargetMapping):
        return targets.place(frame, index)
    array = np.asarray(targets)
    if array.shape != (count,) or array.dtype.kind not in "iu":
        raise ValidationError.single(
            "targets",
            f"{array.dtype} array of shape {array.shape}",
            f"None, an attribute name, a mapping of item id to instant, or an int64 array of "
            f"{count} instants aligned with frame.items",
        )
    return array.astype(np.int64)
