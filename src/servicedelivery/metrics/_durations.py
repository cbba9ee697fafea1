"""Durations per item: cycle time, lead time, work item age and time in the current state.

Every definition is to the instant, on episodes (see :mod:`servicedelivery.metrics._episodes`):

- An item is *committed* from its first episode in a start state or an end state (reaching the end
  without passing through a start state still means the work was done).
- An item *completes* when it enters an end state: an end-state episode whose previous episode (of
  the same item) is not in an end state. Consecutive end-state episodes (done, then cancelled) are one
  completion.
- Reopened work has several completions. ``reopened`` says which pass counts:

  ``"span"``
      from the first commitment to the final completion; the item must be in an end state at
      ``now``. Time spent done before a reopening counts.
  ``"first"``
      from the first commitment to the first completion, whatever happened after.
  ``"last"``
      from the first commitment after the previous completion to the final completion; the item
      must be in an end state at ``now``.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError
from servicedelivery.metrics._episodes import Episodes, FromEpisodes, Marked, resolve_source
from servicedelivery.metrics._frame import EventFrame
from servicedelivery.metrics._options import (
    REOPENED,
    Reopened,
    check_choice,
    in_states,
    state_lut,
)
from servicedelivery.metrics._percentiles import nearest_rank
from servicedelivery.metrics._reading import STATE_NAMES
from servicedelivery.metrics._table import Column, Kind, Tabular, status_columns
from servicedelivery.metrics._timescale import Calendar, TimeScale

__all__ = [
    "DEFAULT_END",
    "DEFAULT_START",
    "ItemDurations",
    "Passes",
    "cycle_time",
    "lead_time",
    "passes",
    "time_in_current_state",
    "work_item_age",
]

DEFAULT_START: tuple[str, ...] = ("in_progress", "blocked")
"""Cycle time starts when work starts: the first episode in progress or blocked."""

DEFAULT_END: tuple[str, ...] = ("done",)
"""Cycle time ends when work is done; cancelled work is not delivered."""


@attrs.frozen(eq=False, repr=False)
class ItemDurations(FromEpisodes, Tabular):
    """One duration per item, with the instants and the events that define it.

    Attributes:
        metric: What the durations measure, such as ``"cycle time"``.
        episodes: The episodes they were computed from (with the frame and ``now``).
        item: ``int32`` item code per row (into ``episodes.frame.items``).
        start: ``int64`` instant each duration starts.
        end: ``int64`` instant each duration ends (``now`` for open items).
        start_episode: ``int64`` episode whose first event set ``start``.
        end_episode: ``int64`` episode whose first event set ``end``; ``-1`` when ``end`` is
            ``now``.
        at_episode: ``int64`` episode the item is in at ``end``: the completing one, or the
            current one for open items; ``state``, ``owner`` and ``reason`` are its.
        scale: How ``duration`` counts the time from ``start`` to ``end``: elapsed time, or
            working time under the ``calendar`` option the metric was given.
    """

    metric: str
    episodes: Episodes
    item: npt.NDArray[np.int32]
    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]
    start_episode: npt.NDArray[np.int64]
    end_episode: npt.NDArray[np.int64]
    at_episode: npt.NDArray[np.int64]
    scale: TimeScale = TimeScale()

    def __len__(self) -> int:
        return len(self.item)

    @property
    def calendar(self) -> Calendar | None:
        """The calendar durations are counted in (``None``: elapsed time)."""
        return self.scale.calendar

    @cached_property
    def state(self) -> npt.NDArray[np.int8]:
        """``int8`` state at ``end``: the completing state, or the current one for open items."""
        return self.episodes.state[self.at_episode]

    @cached_property
    def owner(self) -> npt.NDArray[np.int8]:
        """``int8`` owner at ``end`` (``-1`` unless blocked)."""
        return self.episodes.owner[self.at_episode]

    @cached_property
    def reason(self) -> npt.NDArray[np.int16]:
        """``int16`` reason at ``end`` (``-1`` unless blocked)."""
        return self.episodes.reason[self.at_episode]

    @cached_property
    def duration(self) -> npt.NDArray[np.int64]:
        """``int64`` nanoseconds from ``start`` to ``end``, exact: elapsed or working time."""
        return self.scale.between(self.start, self.end, self.item)

    def percentile(self, q: float) -> int:
        """The q-th percentile of the durations, by nearest rank: an exact ``int`` of ns.

        Raises:
            ValidationError: There are no durations, or ``q`` is outside ``[0, 100]``.
        """
        return int(nearest_rank(self.duration, q))

    def evidence(self, item_id: object) -> tuple[object, object]:
        """The events that set an item's start and end: event ids (or positions without ids).

        The end is ``None`` when the duration runs to ``now``.

        Raises:
            ValidationError: The item has no duration here.
        """
        code = int(self.frame.codes_of([item_id])[0])
        rows = np.flatnonzero(self.item == code)
        if not len(rows):
            raise ValidationError.single("item_id", item_id, f"an item with a {self.metric}")
        start_event, end_event = self._events()
        return _plain(start_event[rows[0]]), _plain(end_event[rows[0]])

    def _events(self) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
        frame = self.frame
        evidence = frame.position if frame.event_id is None else frame.event_id
        first_row = self.episodes.first_row
        start_event = evidence[first_row[self.start_episode]]
        has_end = self.end_episode >= 0
        end_event = np.full(len(self), None, dtype=object)
        end_event[has_end] = evidence[first_row[self.end_episode[has_end]]]
        return start_event, end_event

    def _title(self) -> str:
        counted = f" in {self.scale.describe()}" if self.scale.working else ""
        return f"{self.metric.capitalize()}{counted}: {len(self):,} items"

    def _columns(self) -> list[Column]:
        start_event, end_event = self._events()
        columns = [
            Column("item", self.item_ids),
            Column("start", self.start, Kind.INSTANT),
            Column("end", self.end, Kind.INSTANT),
            Column("duration", self.duration, Kind.DURATION),
            *status_columns(self.state, self.owner, self.reason, reasons=self.frame.taxonomy.codes),
            Column("start_event", start_event),
            Column("end_event", end_event),
        ]
        columns.extend(
            Column(name, column.take(self.item).labels())
            for name, column in self.frame.item_attributes.items()
        )
        return columns


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


@attrs.frozen(eq=False)
class Passes:
    """Per item, the episodes that start and end the pass a metric counts.

    Attributes:
        counted: ``bool`` per item: whether the item has such a pass.
        start: ``int64`` per item: the episode that starts it (meaningful where ``counted``).
        end: ``int64`` per item: the episode that completes it (meaningful where ``counted``).
    """

    counted: npt.NDArray[np.bool_]
    start: npt.NDArray[np.int64]
    end: npt.NDArray[np.int64]


def passes(
    episodes: Episodes,
    *,
    start: npt.NDArray[np.bool_],
    end: npt.NDArray[np.bool_],
    reopened: str,
    require_end: bool = True,
) -> Passes:
    """Find each item's counted pass (see the module docstring for the rules).

    Args:
        episodes: The episodes.
        start: Per state code, whether it is a start state.
        end: Per state code, whether it is an end state.
        reopened: ``"span"``, ``"first"`` or ``"last"``.
        require_end: Whether the pass must be complete. Without it (for open work) the pass is the
            current one and its end is meaningless.
    """
    offsets = episodes.offsets
    items = len(offsets) - 1
    if not items:
        empty = np.empty(0, dtype=np.int64)
        return Passes(np.empty(0, dtype=np.bool_), empty, empty)
    is_end = in_states(episodes.state, end)
    completion = np.full(items, -1, dtype=np.int64)
    if require_end or reopened == "last":
        # An episode enters the end when it is an end state and the previous episode of the same
        # item is not: the start of a run of end states.
        entry = is_end.copy()
        entry[1:] &= ~is_end[:-1]
        entry[offsets[:-1]] = is_end[offsets[:-1]]
        entries = Marked(entry, offsets)
        if reopened == "first":
            completion = entries.first()
        else:
            completion = np.where(is_end[offsets[1:] - 1], entries.last(), -1)
    if reopened == "last":
        # The counted pass starts at the first commitment after the previous pass ended, that is
        # after the last end-state episode before the final completion (for open work, after the
        # last end-state episode of all).
        ends = Marked(is_end, offsets)
        previous = ends.last_before(completion) if require_end else ends.last()
        committed = Marked(in_states(episodes.state, start | end), offsets)
        began = committed.first_after(previous)
    else:
        began = episodes.first_in(start | end)
    counted = began >= 0
    if require_end:
        counted &= completion >= 0
    return Passes(counted, began, completion)


def _durations(
    metric: str,
    episodes: Episodes,
    chosen: Passes,
    *,
    until_now: bool,
    calendar: object,
) -> ItemDurations:
    items = np.flatnonzero(chosen.counted).astype(np.int32)
    start_episode = chosen.start[items]
    if until_now:
        at_episode = episodes.offsets[1:][items] - 1
        end_episode = np.full(len(items), -1, dtype=np.int64)
        end = np.full(len(items), episodes.now, dtype=np.int64)
    else:
        at_episode = chosen.end[items]
        end_episode = at_episode
        end = episodes.start[at_episode]
    return ItemDurations(
        metric=metric,
        episodes=episodes,
        item=items,
        start=episodes.start[start_episode],
        end=end,
        start_episode=start_episode,
        end_episode=end_episode,
        at_episode=at_episode,
        scale=TimeScale.of(calendar, episodes.frame),
    )


def cycle_time(
    source: EventFrame | Episodes,
    *,
    start: Iterable[object] = DEFAULT_START,
    end: Iterable[object] = DEFAULT_END,
    reopened: Reopened = "span",
    now: object | None = None,
    calendar: Calendar | None = None,
) -> ItemDurations:
    """Cycle time of every completed item: from commitment to completion.

    ``start`` is the first instant of the item's first episode in a ``start`` (or ``end``) state of
    the counted pass; ``end`` is the first instant of the episode that completes it (enters an
    ``end`` state). The duration is ``end - start``, in exact nanoseconds (or the working time of
    ``[start, end)`` under ``calendar``); an item that completes in its first event has a cycle
    time of 0.

    Args:
        source: The events, or episodes already computed.
        start: The states that mean work has started.
        end: The states that mean work is finished.
        reopened: Which pass counts when work is reopened: ``"span"`` (first start to final
            completion), ``"first"`` (to the first completion) or ``"last"`` (the final pass only).
        now: Only events at or before this instant count (default: all of the frame's).
        calendar: Count working time instead of elapsed time: under one ``BusinessCalendar``, or
            under each item's calendar picked by a ``CalendarSet`` from its ``site`` and
            ``region`` attributes.

    Returns:
        One row per item that has a counted pass, in item order.

    Raises:
        ValidationError: An unknown state or ``reopened`` value, a bad ``now`` or ``calendar``.
    """
    episodes = resolve_source(source, now)
    chosen = passes(
        episodes,
        start=state_lut(start, path="start"),
        end=state_lut(end, path="end"),
        reopened=check_choice(reopened, REOPENED, path="reopened"),
    )
    return _durations("cycle time", episodes, chosen, until_now=False, calendar=calendar)


def lead_time(
    source: EventFrame | Episodes,
    *,
    end: Iterable[object] = DEFAULT_END,
    reopened: Reopened = "span",
    now: object | None = None,
    calendar: Calendar | None = None,
) -> ItemDurations:
    """Lead time of every completed item: from its first event (the request) to completion.

    The same as :func:`cycle_time` with every state a start state: the start is the item's first
    episode (for ``reopened="last"``, its first episode after the previous completion). With
    ``calendar``, in working time.

    Raises:
        ValidationError: As :func:`cycle_time`.
    """
    episodes = resolve_source(source, now)
    chosen = passes(
        episodes,
        start=np.ones(len(STATE_NAMES), dtype=np.bool_),
        end=state_lut(end, path="end"),
        reopened=check_choice(reopened, REOPENED, path="reopened"),
    )
    return _durations("lead time", episodes, chosen, until_now=False, calendar=calendar)


def work_item_age(
    source: EventFrame | Episodes,
    *,
    now: object | None = None,
    start: Iterable[object] = DEFAULT_START,
    end: Iterable[object] = DEFAULT_END,
    reopened: Reopened = "span",
    calendar: Calendar | None = None,
) -> ItemDurations:
    """Age of every open item that has started: from commitment to ``now``.

    An item is open when its state at ``now`` is open (not done, not cancelled). Its age runs from
    the start of its counted pass (as in :func:`cycle_time`) to ``now``; ``end`` states only serve
    to find earlier passes of reopened work. Items not yet started (still planned) have no age.

    Args:
        source: The events, or episodes already computed.
        now: The instant the age is measured at; required with a frame.
        start: The states that mean work has started.
        end: The states that mean work is finished.
        reopened: ``"span"`` ages reopened work from its first start; ``"last"`` from its restart.
            ``"first"`` does not apply to open work.
        calendar: Count working time: see :func:`cycle_time`.

    Raises:
        ValidationError: ``now`` is missing for a frame, or an option is not one described.
    """
    episodes = resolve_source(source, now, now_required=True)
    mode = check_choice(reopened, ("span", "last"), path="reopened")
    chosen = passes(
        episodes,
        start=state_lut(start, path="start"),
        end=state_lut(end, path="end"),
        reopened=mode,
        require_end=False,
    )
    counted = chosen.counted & episodes.open_items()
    return _durations(
        "work item age",
        episodes,
        attrs.evolve(chosen, counted=counted),
        until_now=True,
        calendar=calendar,
    )


def time_in_current_state(
    source: EventFrame | Episodes,
    *,
    now: object | None = None,
    calendar: Calendar | None = None,
) -> ItemDurations:
    """How long every open item has been in its current episode, at ``now``.

    The current episode is the item's last: it began at the last change of state, owner or reason.
    A milestone blocked on the customer and then on the provider has been in its current state since
    the switch. With ``calendar``, in working time (see :func:`cycle_time`).

    Raises:
        ValidationError: ``now`` is missing for a frame, or is not an instant; a bad ``calendar``.
    """
    episodes = resolve_source(source, now, now_required=True)
    counted = episodes.open_items()
    current = episodes.offsets[1:] - 1
    chosen = Passes(counted, current, current)
    return _durations("time in current state", episodes, chosen, until_now=True, calendar=calendar)
