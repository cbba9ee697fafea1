"""One item's SLA clock, for services that check one milestone at a time.

A separate path from the bulk kernel of :mod:`servicedelivery.sla._clocks`: plain Python over the
item's few events, in the order the explanation page "SLA clocks" states the rules, so that the two
can be checked against each other. It reads only the item's own rows of the frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import attrs
import numpy as np

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.metrics import EventFrame
from servicedelivery.metrics._table import NONE_NS
from servicedelivery.metrics._timescale import CALENDAR_ATTRIBUTES, TimeScale
from servicedelivery.model import OWNERS, STATES
from servicedelivery.sla._conditions import Condition
from servicedelivery.sla._definition import SLA, Reopening
from servicedelivery.sla._evidence import ClockEvent
from servicedelivery.sla._inputs import clock_inputs

__all__ = ["SLAClock", "sla_clock"]


@attrs.frozen(kw_only=True)
class SLAClock:
    """One item's clock under one SLA at ``now``: the fields of :class:`SLAClocks`, as scalars.

    Attributes:
        sla: The SLA.
        item_id: The item.
        now: The instant the clock was computed at, ns since the epoch.
        calendar: The calendar its time was counted in (``None``: elapsed time).
        started: The clock has started.
        start_ns: When (the counted pass's first start); ``NONE_NS`` if not started.
        stopped: It stopped for good: met, missed or cancelled.
        stop_ns: When; ``NONE_NS`` if not stopped.
        cancelled: It was cancelled (stopped without a verdict).
        running: It is counting at ``now``.
        paused: It is paused at ``now``.
        elapsed_ns: Time counted while running.
        paused_ns: Time spent paused.
        paused_by_owner: Paused time by owner, in ``OWNERS`` order.
        remaining_ns: ``target_ns - elapsed_ns``.
        fraction_used: ``elapsed_ns / target_ns`` (as floats).
        stage: Index into ``sla.stages`` of the last stage reached, ``-1`` before the first.
        breach_ns: When the time counted reaches the target (see :meth:`reached_at`).
        met: 1 met, 0 missed, -1 no verdict.
        passes: How many times the clock started.
        evidence: The events that started, paused, resumed, stopped or cancelled it.
    """

    sla: SLA = attrs.field(eq=False, repr=False)
    item_id: object
    now: int
    calendar: BusinessCalendar | None = attrs.field(repr=False)
    started: bool
    start_ns: int
    stopped: bool
    stop_ns: int
    cancelled: bool
    running: bool
    paused: bool
    elapsed_ns: int
    paused_ns: int
    paused_by_owner: tuple[int, ...]
    remaining_ns: int
    fraction_used: float
    stage: int
    breach_ns: int
    met: int
    passes: int
    evidence: tuple[ClockEvent, ...] = attrs.field(repr=False)
    segments: tuple[tuple[int, int], ...] = attrs.field(repr=False)
    """The episodes that counted running time: (start, time counted), in order."""

    @property
    def stage_name(self) -> str | None:
        """The name of the stage reached, or ``None`` before the first."""
        return self.sla.stages[self.stage].name if self.stage >= 0 else None

    def reached_at(self, counted_ns: int) -> int:
        """When the time counted reaches ``counted_ns``: see :meth:`SLAClocks.reached_at`."""
        if not self.started:
            return NONE_NS
        if counted_ns <= 0:
            return self.start_ns
        through = 0
        for start, work in self.segments:
            if through + work >= counted_ns:
                return self._after(start, counted_ns - through)
            through += work
        origin = self.stop_ns if self.stopped else self.now
        return self._after(origin, counted_ns - self.elapsed_ns)

    def _after(self, start: int, work: int) -> int:
        # The time scale of the bulk path, so that both refuse instants past what time can hold.
        one = np.zeros(1, dtype=np.int64)
        return int(TimeScale(self.calendar).after(one + start, one + work, one)[0])


class _Episode(NamedTuple):
    row: int
    start: int
    state: int
    owner: int
    reason: int
    attributes: dict[str, str | None]


class _Pass:
    """One pass of the clock: from a start episode to a stop or cancel, if any."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.episodes: list[int] = []
        self.end: tuple[int, str] | None = None


def sla_clock(
    sla: SLA, frame: EventFrame, item_id: object, *, now: object, calendars: object = None
) -> SLAClock:
    """One item's clock under ``sla`` at ``now``: the same answers as :func:`sla_clocks`.

    Args:
        sla: The SLA.
        frame: The events; only the item's own, at or before ``now``, are read.
        item_id: The item.
        now: The instant: an aware datetime or ns since the epoch.
        calendars: As for :func:`sla_clocks`.

    Raises:
        ValidationError: As :func:`sla_clocks`, or the item is not in the frame.
    """
    sla, frame, at, chosen = clock_inputs(sla, frame, now, calendars)
    code = int(frame.codes_of([item_id])[0])
    low = int(frame.offsets[code])
    high = low + int(np.searchsorted(frame.time[low : frame.offsets[code + 1]], at, side="right"))
    calendar = _item_calendar(chosen, frame, low, high)
    found = _episodes(sla, frame, low, high)
    passes = _passes(sla, frame, found)
    chosen_passes = {
        Reopening.FIRST: passes[:1],
        Reopening.CONTINUE: passes,
        Reopening.RESTART: passes[-1:],
    }[sla.reopened]
    ends = [episode.start for episode in found[1:]] + [at]
    counted = [index for one in chosen_passes for index in one.episodes]
    pause = sla.pause
    held = [
        pause is not None and _matches(pause, frame, found[index]) for index in range(len(found))
    ]
    starts_at = [found[index].start for index in counted]
    ends_at = [ends[index] for index in counted]
    if calendar is None:
        work = [end - start for start, end in zip(starts_at, ends_at, strict=True)]
    else:
        work = calendar.working_ns(
            np.array(starts_at, dtype=np.int64), np.array(ends_at, dtype=np.int64)
        ).tolist()
    elapsed = paused_time = 0
    by_owner = [0] * len(OWNERS)
    segments = []
    for index, amount in zip(counted, work, strict=True):
        if held[index]:
            paused_time += amount
            if found[index].owner >= 0:
                by_owner[found[index].owner] += amount
        else:
            elapsed += amount
            if amount > 0:
                segments.append((found[index].start, amount))
    started = bool(chosen_passes)
    end = chosen_passes[-1].end if started else None
    stopped = end is not None
    live = started and not stopped
    target = sla.target_ns
    clock = SLAClock(
        sla=sla,
        item_id=item_id,
        now=at,
        calendar=calendar,
        started=started,
        start_ns=found[chosen_passes[0].start].start if started else NONE_NS,
        stopped=stopped,
        stop_ns=found[end[0]].start if end is not None else NONE_NS,
        cancelled=end is not None and end[1] == "cancel",
        running=live and not held[-1],
        paused=live and held[-1],
        elapsed_ns=elapsed,
        paused_ns=paused_time,
        paused_by_owner=tuple(by_owner),
        remaining_ns=target - elapsed,
        fraction_used=float(elapsed) / float(target),
        stage=sum(threshold < elapsed for threshold in sla.thresholds_ns()) - 1,
        breach_ns=NONE_NS,
        met=(1 if elapsed <= target else 0) if end is not None and end[1] == "stop" else -1,
        passes=len(passes),
        evidence=_evidence(frame, found, chosen_passes, held),
        segments=tuple(segments),
    )
    return attrs.evolve(clock, breach_ns=clock.reached_at(target))


def _item_calendar(
    chosen: BusinessCalendar | CalendarSet | None, frame: EventFrame, low: int, high: int
) -> BusinessCalendar | None:
    """The calendar the item counts in: the set's pick from its site and region as of now."""
    if not isinstance(chosen, CalendarSet):
        return chosen
    labels: dict[str, str | None] = {}
    for link, name in zip(("site", "region"), CALENDAR_ATTRIBUTES, strict=True):
        column = frame.attributes.get(name)
        value = None
        if column is not None:
            recorded = [code for code in column.codes[low:high].tolist() if code >= 0]
            value = str(column.categories[recorded[-1]]) if recorded else None
        labels[link] = value
    return chosen.calendar_for(**labels)


def _episodes(sla: SLA, frame: EventFrame, low: int, high: int) -> list[_Episode]:
    """The item's episodes: each change of (state, owner, reason), with its attributes then."""
    names = sorted({name for c in sla.conditions.values() for name in c.attributes})
    columns = {name: frame.attributes[name] for name in names}
    in_force: dict[str, str | None] = dict.fromkeys(names)
    found: list[_Episode] = []
    for row in range(low, high):
        for name, column in columns.items():
            value = int(column.codes[row])
            if value >= 0:
                in_force[name] = str(column.categories[value])
        key = (int(frame.state[row]), int(frame.owner[row]), int(frame.reason[row]))
        if found and (found[-1].state, found[-1].owner, found[-1].reason) == key:
            continue
        found.append(_Episode(row, int(frame.time[row]), *key, attributes=dict(in_force)))
    return found


def _matches(condition: Condition, frame: EventFrame, episode: _Episode) -> bool:
    codes: Sequence[str] = frame.taxonomy.codes
    return bool(
        condition.matches(
            state=STATES[episode.state],
            owner=OWNERS[episode.owner] if episode.owner >= 0 else None,
            reason=codes[episode.reason] if episode.reason >= 0 else None,
            attributes=episode.attributes,
        )
    )


def _passes(sla: SLA, frame: EventFrame, found: list[_Episode]) -> list[_Pass]:
    """Every pass of the clock over the item's episodes, in order."""
    passes: list[_Pass] = []
    current: _Pass | None = None
    for index, episode in enumerate(found):
        if current is None:
            if _matches(sla.start, frame, episode):
                current = _Pass(index)
                passes.append(current)
        else:
            for role in ("stop", "cancel"):
                condition = getattr(sla, role)
                if condition is not None and _matches(condition, frame, episode):
                    current.end = (index, role)
                    current = None
                    break
        if current is not None:
            current.episodes.append(index)
    return passes


def _evidence(
    frame: EventFrame, found: list[_Episode], passes: list[_Pass], held: list[bool]
) -> tuple[ClockEvent, ...]:
    ids = frame.position if frame.event_id is None else frame.event_id
    events = []

    def add(kind: str, index: int) -> None:
        row = found[index].row
        # tolist() gives plain Python values, as the bulk evidence does.
        events.append(ClockEvent(kind, row, found[index].start, ids[row : row + 1].tolist()[0]))

    for one in passes:
        add("start", one.start)
        was_held = False
        for index in one.episodes:
            if held[index] and not was_held:
                add("pause", index)
            elif was_held and not held[index]:
                add("resume", index)
            was_held = held[index]
        if one.end is not None:
            index, kind = one.end
            add(kind, index)
    return tuple(events)
