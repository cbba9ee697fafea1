"""SLA clocks for every item of a frame at once: numpy over episodes, no Python loop per item.

The rules are those of the explanation page "SLA clocks". Over each item's episodes in order, a
clock is a latch: a *pass* begins at a start episode when the clock is not already in one, and ends
at the next stop or cancel episode. Start and stop (or cancel) never match the same episode (the
definition is refused otherwise), so whether an episode lies inside a pass is whether the item's
last start episode at or before it comes after its last stop or cancel episode: two running
maxima, no loop. Which passes count follows from ``reopened``; time counts in the episodes of the
counted passes, as running time or, where they match the pause, as paused time.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cached_property
from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.metrics import Episodes, EventFrame, episodes
from servicedelivery.metrics._episodes import Marked
from servicedelivery.metrics._order import fill_forward
from servicedelivery.metrics._table import NONE_NS, Column, Kind, Tabular, iso_instant
from servicedelivery.metrics._timescale import TimeScale
from servicedelivery.model import OWNERS
from servicedelivery.sla._conditions import Condition
from servicedelivery.sla._definition import SLA, Reopening
from servicedelivery.sla._evidence import CLOCK_EVENTS, ClockEvidence
from servicedelivery.sla._inputs import clock_inputs

if TYPE_CHECKING:
    from servicedelivery.sla._clock import SLAClock

__all__ = ["SLAClocks", "sla_clocks"]

_START, _PAUSE, _RESUME, _STOP, _CANCEL = range(len(CLOCK_EVENTS))


@attrs.frozen(eq=False)
class _Counted:
    """The episodes that counted running time, kept to find when counted time reached a level.

    Attributes:
        item: ``int32`` item code (into the frame's items) of each such episode, in item order.
        start: ``int64`` each episode's start.
        through: ``int64`` time counted by the item up to the end of each episode.
        work: ``int64`` time each episode counted.
    """

    item: npt.NDArray[np.int32]
    start: npt.NDArray[np.int64]
    through: npt.NDArray[np.int64]
    work: npt.NDArray[np.int64]


@attrs.frozen(eq=False, repr=False)
class SLAClocks(Tabular):
    """Every item's clock under one SLA at ``now``: aligned numpy columns, one row per item.

    Rows follow ``frame.items``; an item without events at or before ``now`` has a clock that has
    not started. Instants are ns since the epoch (``NONE_NS``, numpy's NaT, where there is none);
    durations are ns of counted time: working time under the SLA's calendar, else elapsed time.

    Attributes:
        sla: The SLA.
        frame: The frame the clocks were computed from.
        now: The instant they were computed at.
        started: ``bool``, the clock has started.
        start_ns: When it started (the counted pass's first start); ``NONE_NS`` if not.
        stopped: ``bool``, it stopped for good: met, missed or cancelled.
        stop_ns: When; ``NONE_NS`` if not stopped.
        cancelled: ``bool``, it was cancelled (stopped without a verdict).
        running: ``bool``, it is counting at ``now``.
        paused: ``bool``, it is paused at ``now``.
        elapsed_ns: Time counted while running, up to ``now`` or the stop.
        paused_ns: Time the clock spent paused, counted the same way.
        paused_by_owner: ``int64[items, len(OWNERS)]``: paused time by the owner of the blocked
            episode (columns in ``OWNERS`` order); pauses outside blocked states have no owner.
        remaining_ns: ``target_ns - elapsed_ns``; negative when over.
        fraction_used: ``float64`` ``elapsed_ns / target_ns``.
        stage: ``int8`` index into ``sla.stages`` of the last stage reached, ``-1`` before the first.
        breach_ns: When the time counted reaches the target: past, or projected (see
            :meth:`reached_at`); ``NONE_NS`` if not started.
        met: ``int8`` 1 met, 0 missed (stopped over the target), -1 no verdict (running, paused,
            cancelled or not started).
        passes: ``int32`` how many times the clock started (more than once for reopened work).
        evidence: The events that started, paused, resumed, stopped and cancelled each clock.
    """

    sla: SLA
    frame: EventFrame
    now: int
    started: npt.NDArray[np.bool_]
    start_ns: npt.NDArray[np.int64]
    stopped: npt.NDArray[np.bool_]
    stop_ns: npt.NDArray[np.int64]
    cancelled: npt.NDArray[np.bool_]
    running: npt.NDArray[np.bool_]
    paused: npt.NDArray[np.bool_]
    elapsed_ns: npt.NDArray[np.int64]
    paused_ns: npt.NDArray[np.int64]
    paused_by_owner: npt.NDArray[np.int64]
    remaining_ns: npt.NDArray[np.int64]
    fraction_used: npt.NDArray[np.float64]
    stage: npt.NDArray[np.int8]
    breach_ns: npt.NDArray[np.int64]
    met: npt.NDArray[np.int8]
    passes: npt.NDArray[np.int32]
    evidence: ClockEvidence
    _counted: _Counted = attrs.field(repr=False)
    _scale: TimeScale = attrs.field(repr=False)

    def __len__(self) -> int:
        return len(self.started)

    @property
    def item_ids(self) -> npt.NDArray[Any]:
        """The item id of each row: ``frame.items``."""
        return self.frame.items

    @property
    def stage_names(self) -> npt.NDArray[Any]:
        """The name of each clock's stage (``None`` before the first)."""
        names = np.array([*(stage.name for stage in self.sla.stages), None], dtype=object)
        stage_names: npt.NDArray[Any] = names[self.stage]
        return stage_names

    @cached_property
    def stage_ns(self) -> npt.NDArray[np.int64]:
        """``int64[items, len(sla.stages)]``: when each clock reaches (or reached) each stage.

        Each stage's instant is :meth:`reached_at` its threshold: the clock is in the stage from
        that instant on, as soon as any more time is counted.
        """
        columns = [self.reached_at(threshold) for threshold in self.sla.thresholds_ns()]
        if not columns:
            return np.empty((len(self), 0), dtype=np.int64)
        return np.stack(columns, axis=1)

    def reached_at(self, counted_ns: int) -> npt.NDArray[np.int64]:
        """When each clock's counted time reaches ``counted_ns``.

        In the past, the earliest instant at which it had counted that much. Otherwise projected:
        from ``now`` for a running clock (assuming nothing pauses it) and for a paused one
        (assuming it resumes now), from its stop for a stopped one (as if it had run on).
        ``NONE_NS`` for clocks that have not started; their start for ``counted_ns <= 0``.

        Raises:
            ValidationError: An instant after 2150 under a calendar, or after 2262 in elapsed time.
        """
        counted = self._counted
        level = int(counted_ns)
        result = np.full(len(self), NONE_NS, dtype=np.int64)
        if level <= 0:
            return np.where(self.started, self.start_ns, NONE_NS)
        # Past: the first episode of each item through which the counted time reached the level.
        hit = np.flatnonzero(counted.through >= level)
        first = (
            hit[np.r_[True, counted.item[hit][1:] != counted.item[hit][:-1]]] if len(hit) else hit
        )
        items = counted.item[first]
        before = counted.through[first] - counted.work[first]
        result[items] = self._scale.after(counted.start[first], level - before, items)
        # Future: from where the clock stands, for the started clocks below the level.
        ahead = np.flatnonzero(self.started & (self.elapsed_ns < level)).astype(np.int32)
        origin = np.where(self.stopped[ahead], self.stop_ns[ahead], self.now)
        result[ahead] = self._scale.after(origin, level - self.elapsed_ns[ahead], ahead)
        return result

    def clock(self, item_id: object) -> SLAClock:
        """One item's clock, as the single-item path returns it.

        Raises:
            ValidationError: The item is not in the frame.
        """
        from servicedelivery.sla._clock import SLAClock  # noqa: PLC0415

        code = int(self.frame.codes_of([item_id])[0])
        counted = self._counted
        rows = np.flatnonzero(counted.item == code)
        return SLAClock(
            sla=self.sla,
            item_id=item_id,
            now=self.now,
            started=bool(self.started[code]),
            start_ns=int(self.start_ns[code]),
            stopped=bool(self.stopped[code]),
            stop_ns=int(self.stop_ns[code]),
            cancelled=bool(self.cancelled[code]),
            running=bool(self.running[code]),
            paused=bool(self.paused[code]),
            elapsed_ns=int(self.elapsed_ns[code]),
            paused_ns=int(self.paused_ns[code]),
            paused_by_owner=tuple(self.paused_by_owner[code].tolist()),
            remaining_ns=int(self.remaining_ns[code]),
            fraction_used=float(self.fraction_used[code]),
            stage=int(self.stage[code]),
            breach_ns=int(self.breach_ns[code]),
            met=int(self.met[code]),
            passes=int(self.passes[code]),
            evidence=self.evidence.events_of(code),
            segments=tuple(
                zip(counted.start[rows].tolist(), counted.work[rows].tolist(), strict=True)
            ),
            calendar=self._calendar_of(code),
        )

    def _calendar_of(self, code: int) -> BusinessCalendar | None:
        calendar = self._scale.calendar
        if isinstance(calendar, CalendarSet):
            assert self._scale.item_calendar is not None, "a set's scale has each item's calendar"
            return calendar.calendars[int(self._scale.item_calendar[code])]
        return calendar

    def _title(self) -> str:
        return (
            f"SLA clocks of {self.sla.name!r}: {len(self):,} items, "
            f"{int(self.running.sum()):,} running, {int(self.paused.sum()):,} paused, "
            f"{int((self.met == 1).sum()):,} met, {int((self.met == 0).sum()):,} missed, "
            f"as of {iso_instant(self.now)}"
        )

    def _columns(self) -> list[Column]:
        return [
            Column("item", self.item_ids),
            Column("started", self.started),
            Column("start", self.start_ns, Kind.INSTANT),
            Column("running", self.running),
            Column("paused", self.paused),
            Column("stopped", self.stopped),
            Column("cancelled", self.cancelled),
            Column("stop", self.stop_ns, Kind.INSTANT),
            Column("elapsed", self.elapsed_ns, Kind.DURATION),
            Column("paused_time", self.paused_ns, Kind.DURATION),
            *(
                Column(f"paused_{owner.value}", self.paused_by_owner[:, index], Kind.DURATION)
                for index, owner in enumerate(OWNERS)
            ),
            Column("remaining", self.remaining_ns, Kind.DURATION),
            Column("fraction_used", self.fraction_used),
            Column("stage", self.stage_names),
            Column("breach", self.breach_ns, Kind.INSTANT),
            Column("met", self.met),
            Column("passes", self.passes),
        ]


def sla_clocks(sla: SLA, frame: EventFrame, *, now: object, calendars: object = None) -> SLAClocks:
    """Every item's clock under ``sla`` at ``now``, computed for all items at once.

    Args:
        sla: The SLA.
        frame: The events; only those at or before ``now`` count.
        now: The instant to compute the clocks at: an aware datetime or ns since the epoch.
        calendars: The calendars working time is counted in: a ``CalendarSet`` (or one
            ``BusinessCalendar``); needed when the SLA has a ``calendar``. Each item's own calendar
            (``calendar="item"``) is picked from its ``site``, else ``region`` attribute.

    Returns:
        One clock per item of ``frame``, in its item order.

    Raises:
        ValidationError: ``sla`` or ``frame`` is not one, a bad ``now`` or ``calendars``, a
            condition that names a reason or an attribute the frame does not have, or a projected
            instant past what the calendar answers for.
    """
    sla, frame, at, chosen = clock_inputs(sla, frame, now, calendars)
    seen = episodes(frame, now=at)
    scale = TimeScale.of(chosen, seen.frame)
    # Per item of the frame, whether it has events by now; the episodes' items are those, in order.
    count = frame.item_count
    present = np.flatnonzero(frame.time[frame.offsets[:-1]] <= at).astype(np.int32)
    kept_rows = None if seen.frame is frame else np.flatnonzero(frame.time <= at)
    flags = _flags(sla, seen)
    clocks = _Kernel(sla, seen, flags, scale).run()
    # Each item's calendar as of now, placed on the frame's items (absent ones never count).
    full_scale = scale
    if scale.item_calendar is not None and seen.frame is not frame:
        item_calendar = np.zeros(count, dtype=np.int32)
        item_calendar[present] = scale.item_calendar
        full_scale = TimeScale(scale.calendar, item_calendar)
    return _spread(
        sla=sla,
        frame=frame,
        now=at,
        scale=full_scale,
        present=present,
        count=count,
        kept_rows=kept_rows,
        seen=seen,
        clocks=clocks,
    )


def _flags(sla: SLA, seen: Episodes) -> dict[str, npt.NDArray[np.bool_]]:
    """Per role, which episodes its condition matches (all ``False`` for a role not declared)."""
    frame = seen.frame
    taxonomy = frame.taxonomy
    needed = {name for condition in sla.conditions.values() for name in condition.attributes}
    values = {name: _attribute_at_start(frame, seen, name) for name in sorted(needed)}
    flags = {}
    for role in ("start", "stop", "pause", "cancel"):
        condition: Condition | None = getattr(sla, role)
        if condition is None:
            flags[role] = np.zeros(len(seen), dtype=np.bool_)
            continue
        reason_codes = np.array(
            [taxonomy.codes.index(code) for code in condition.reasons], dtype=np.int16
        )
        attributes = {}
        for name, allowed in condition.attributes.items():
            codes, categories = values[name]
            lut = np.append(np.isin(categories.astype(str), np.array(allowed, dtype=str)), False)
            # Code -1 (no value) reads the trailing False.
            attributes[name] = lut[codes]
        flags[role] = condition.mask(
            state=seen.state,
            owner=seen.owner,
            reason=seen.reason,
            reason_codes=reason_codes,
            attributes=attributes,
        )
    return flags


def _attribute_at_start(
    frame: EventFrame, seen: Episodes, name: str
) -> tuple[npt.NDArray[np.int32], npt.NDArray[Any]]:
    """An attribute's code in force when each episode begins, and the attribute's categories."""
    column = frame.attributes[name]
    # The value in force at a row: the row's own, else the last one recorded before it.
    filled = fill_forward(column.codes, column.codes >= 0, frame.item, default=-1)
    codes: npt.NDArray[np.int32] = filled[seen.first_row].astype(np.int32)
    return codes, column.categories


@attrs.frozen(eq=False)
class _PerItem:
    """The clocks of the episodes' items (before spreading to every item of the frame)."""

    started: npt.NDArray[np.bool_]
    start_ns: npt.NDArray[np.int64]
    stopped: npt.NDArray[np.bool_]
    stop_ns: npt.NDArray[np.int64]
    cancelled: npt.NDArray[np.bool_]
    running: npt.NDArray[np.bool_]
    paused: npt.NDArray[np.bool_]
    elapsed_ns: npt.NDArray[np.int64]
    paused_ns: npt.NDArray[np.int64]
    paused_by_owner: npt.NDArray[np.int64]
    passes: npt.NDArray[np.int32]
    counted: _Counted
    evidence_episode: npt.NDArray[np.int64]
    evidence_kind: npt.NDArray[np.int8]


class _Kernel:
    """The clock over whole columns of episodes; see the module docstring."""

    def __init__(
        self,
        sla: SLA,
        seen: Episodes,
        flags: Mapping[str, npt.NDArray[np.bool_]],
        scale: TimeScale,
    ) -> None:
        self.sla = sla
        self.seen = seen
        self.flags = flags
        self.scale = scale

    def run(self) -> _PerItem:
        seen, flags = self.seen, self.flags
        size = len(seen)
        index = np.arange(size, dtype=np.int64)
        first = seen.offsets[:-1]
        first_of = first[seen.item]
        starts, pauses = flags["start"], flags["pause"]
        ends = flags["stop"] | flags["cancel"]
        # Inside a pass: the last start at or before the episode (within the item) is later than
        # the last stop or cancel. The running maxima cross item boundaries, so a start from an
        # earlier item is discarded by comparing it with the item's first episode.
        last_start = np.maximum.accumulate(np.where(starts, index, -1)) if size else index
        last_end = np.maximum.accumulate(np.where(ends, index, -1)) if size else index
        inside = (last_start >= first_of) & (last_start > last_end)
        before = np.zeros(size, dtype=np.bool_)
        before[1:] = inside[:-1]
        before[first] = False
        opens = starts & ~before
        closes = ends & before
        # Passes numbered from 1 within each item: opens up to and including the episode.
        running_count = np.cumsum(opens, dtype=np.int64)
        number = running_count - (running_count - opens)[first_of]
        last = seen.offsets[1:] - 1
        passes = number[last].astype(np.int32) if size else np.zeros(0, dtype=np.int32)
        mode = self.sla.reopened
        if mode is Reopening.FIRST:
            selected = number == 1
        elif mode is Reopening.RESTART:
            selected = (number == passes[seen.item]) & (number >= 1)
        else:
            selected = number >= 1
        counted = inside & selected
        running_episode = counted & ~pauses
        paused_episode = counted & pauses
        # When the clock started: the counted pass's first start (the latest pass's, restarting).
        opened = opens & selected
        marked_opens = Marked(opened, seen.offsets)
        start_episode = marked_opens.last() if mode is Reopening.RESTART else marked_opens.first()
        stop_episode = Marked(closes & selected, seen.offsets).last()
        started = start_episode >= 0
        stopped = (stop_episode >= 0) & ~counted[last]
        cancelled = stopped & flags["cancel"][np.maximum(stop_episode, 0)]
        # Time counted per episode of the counted passes, in the SLA's time.
        work = np.zeros(size, dtype=np.int64)
        inside_rows = np.flatnonzero(counted)
        work[inside_rows] = self.scale.between(
            seen.start[inside_rows], seen.ends(inside_rows), seen.item[inside_rows]
        )
        elapsed = _per_item(np.where(running_episode, work, 0), first)
        paused_time = np.where(paused_episode, work, 0)
        by_owner = np.stack(
            [
                _per_item(np.where(seen.owner == code, paused_time, 0), first)
                for code in range(len(OWNERS))
            ],
            axis=1,
        )
        evidence_episode, evidence_kind = self._evidence(
            opened=opened,
            counted=counted,
            closes=closes & selected,
        )
        return _PerItem(
            started=started,
            start_ns=np.where(started, seen.start[np.maximum(start_episode, 0)], NONE_NS),
            stopped=stopped,
            stop_ns=np.where(stopped, seen.start[np.maximum(stop_episode, 0)], NONE_NS),
            cancelled=cancelled,
            running=running_episode[last],
            paused=paused_episode[last],
            elapsed_ns=elapsed,
            paused_ns=_per_item(paused_time, first),
            paused_by_owner=by_owner,
            passes=passes,
            counted=self._counted(running_episode, work),
            evidence_episode=evidence_episode,
            evidence_kind=evidence_kind,
        )

    def _counted(
        self, running_episode: npt.NDArray[np.bool_], work: npt.NDArray[np.int64]
    ) -> _Counted:
        seen = self.seen
        rows = np.flatnonzero(running_episode & (work > 0))
        item = seen.item[rows]
        amounts = work[rows]
        # Counted time up to each episode, per item: a running sum less the sum before the item.
        # The sum over all items may wrap around int64; the difference is taken modulo 2**64 too,
        # and it is exact, because the true per-item sums fit in int64.
        total = np.cumsum(amounts, dtype=np.int64)
        begins = np.r_[True, item[1:] != item[:-1]] if len(rows) else np.zeros(0, np.bool_)
        base = np.maximum.accumulate(np.where(begins, np.arange(len(rows)), 0))
        through = total - (total - amounts)[base] if len(rows) else total
        return _Counted(item=item, start=seen.start[rows], through=through, work=amounts)

    def _evidence(
        self,
        *,
        opened: npt.NDArray[np.bool_],
        counted: npt.NDArray[np.bool_],
        closes: npt.NDArray[np.bool_],
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8]]:
        """The episodes that changed a clock and what they did, sorted by episode then kind."""
        seen, flags = self.seen, self.flags
        pauses = flags["pause"]
        holding = counted & pauses
        counting = counted & ~pauses
        # What the clock did in the previous episode of the same item.
        held_before = np.zeros(len(seen), dtype=np.bool_)
        held_before[1:] = holding[:-1]
        counting_before = np.zeros(len(seen), dtype=np.bool_)
        counting_before[1:] = counting[:-1]
        first = seen.offsets[:-1]
        held_before[first] = False
        counting_before[first] = False
        kinds = {
            _START: opened,
            _PAUSE: holding & ~held_before,
            _RESUME: counting & held_before,
            _STOP: closes & flags["stop"],
            _CANCEL: closes & flags["cancel"],
        }
        found = [np.flatnonzero(mask) for mask in kinds.values()]
        episode = np.concatenate(found)
        kind = np.concatenate(
            [
                np.full(len(rows), code, dtype=np.int8)
                for code, rows in zip(kinds, found, strict=True)
            ]
        )
        # Episodes are in item and time order; within one, kinds in CLOCK_EVENTS order.
        order = np.argsort(episode * len(CLOCK_EVENTS) + kind, kind="stable")
        return episode[order], kind[order]


def _per_item(values: npt.NDArray[np.int64], first: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The sum of each item's episodes' values (every item has at least one episode)."""
    if not len(values):
        return np.zeros(len(first), dtype=np.int64)
    totals: npt.NDArray[np.int64] = np.add.reduceat(values, first).astype(np.int64)
    return totals


def _spread(
    *,
    sla: SLA,
    frame: EventFrame,
    now: int,
    scale: TimeScale,
    present: npt.NDArray[np.int32],
    count: int,
    kept_rows: npt.NDArray[np.intp] | None,
    seen: Episodes,
    clocks: _PerItem,
) -> SLAClocks:
    """The clocks of the episodes' items, placed on every item of the frame."""

    def spread(values: npt.NDArray[Any], fill: object) -> npt.NDArray[Any]:
        result = np.full((count, *values.shape[1:]), fill, dtype=values.dtype)
        result[present] = values
        return result

    elapsed = spread(clocks.elapsed_ns, 0)
    started = spread(clocks.started, False)
    stopped = spread(clocks.stopped, False)
    cancelled = spread(clocks.cancelled, False)
    target = sla.target_ns
    # Frame rows of the episodes' first events, in the frame given.
    rows = seen.first_row[clocks.evidence_episode]
    if kept_rows is not None:
        rows = kept_rows[rows]
    items = present[seen.item[clocks.evidence_episode]]
    offsets = np.zeros(count + 1, dtype=np.int64)
    np.cumsum(np.bincount(items, minlength=count), out=offsets[1:])
    counted = clocks.counted
    result = SLAClocks(
        sla=sla,
        frame=frame,
        now=now,
        scale=scale,
        started=started,
        start_ns=spread(clocks.start_ns, NONE_NS),
        stopped=stopped,
        stop_ns=spread(clocks.stop_ns, NONE_NS),
        cancelled=cancelled,
        running=spread(clocks.running, False),
        paused=spread(clocks.paused, False),
        elapsed_ns=elapsed,
        paused_ns=spread(clocks.paused_ns, 0),
        paused_by_owner=spread(clocks.paused_by_owner, 0),
        remaining_ns=target - elapsed,
        fraction_used=elapsed.astype(np.float64) / float(target),
        stage=(np.searchsorted(np.array(sla.thresholds_ns()), elapsed, side="left") - 1).astype(
            np.int8
        ),
        breach_ns=np.zeros(0, dtype=np.int64),
        met=np.where(stopped & ~cancelled, (elapsed <= target).astype(np.int8), -1).astype(np.int8),
        passes=spread(clocks.passes, 0),
        evidence=ClockEvidence(
            frame=frame,
            item=items.astype(np.int32),
            row=rows.astype(np.int64),
            kind=clocks.evidence_kind,
            offsets=offsets,
        ),
        counted=_Counted(
            item=present[counted.item],
            start=counted.start,
            through=counted.through,
            work=counted.work,
        ),
    )
    # The breach instant reads the finished clocks: set once, before anyone sees the result.
    object.__setattr__(result, "breach_ns", result.reached_at(target))
    return result
