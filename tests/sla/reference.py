"""A slow, obvious SLA clock: follow an item's events one by one and count time minute by minute.

Written from docs/explanation/sla-clocks.md without numpy and without the library's conditions: the
SLA is read from its plain data, the clock is a small state machine driven by each change of state,
owner or reason, and time is counted by a MinuteWalk (tests/calendars/reference.py) that knows, for
every UTC minute, whether the calendar works then. With no calendar, time is elapsed time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.calendars.reference import MinuteWalk

NONE = -(2**63)


@dataclass(frozen=True)
class Event:
    time: int
    state: str
    owner: str | None
    reason: str | None
    attributes: dict[str, str | None]
    event: object


@dataclass
class Clock:
    started: bool = False
    start_ns: int = NONE
    stopped: bool = False
    stop_ns: int = NONE
    cancelled: bool = False
    running: bool = False
    paused: bool = False
    elapsed_ns: int = 0
    paused_ns: int = 0
    paused_by_owner: dict[str, int] = field(default_factory=dict)
    passes: int = 0
    evidence: list[tuple[str, object]] = field(default_factory=list)
    runs: list[tuple[int, int]] = field(default_factory=list)  # running stretches [start, end)


def matches(condition: dict[str, Any] | None, event: Event) -> bool:
    if condition is None:
        return False
    if "state" in condition and event.state not in condition["state"]:
        return False
    if "owner" in condition and event.owner not in condition["owner"]:
        return False
    if "reason" in condition and event.reason not in condition["reason"]:
        return False
    return all(
        event.attributes.get(name) in values
        for name, values in condition.get("attributes", {}).items()
    )


class Counter:
    """Time in [start, end): elapsed, or working minutes of a walk."""

    def __init__(self, walk: MinuteWalk | None) -> None:
        self.walk = walk

    def between(self, start: int, end: int) -> int:
        if self.walk is None:
            return end - start
        return self.walk.working_ns(start, end)

    def due(self, start: int, work: int) -> int | None:
        if self.walk is None:
            return start + work
        return self.walk.due(start, work)


def episodes(events: list[Event]) -> list[Event]:
    """The events that change state, owner or reason; attributes carried forward to each."""
    found: list[Event] = []
    known: dict[str, str | None] = {}
    for event in events:
        known.update({name: value for name, value in event.attributes.items() if value is not None})
        key = (event.state, event.owner, event.reason)
        if found and (found[-1].state, found[-1].owner, found[-1].reason) == key:
            continue
        found.append(Event(event.time, *key, attributes=dict(known), event=event.event))
    return found


def find_passes(sla: dict[str, Any], changes: list[Event]) -> list[dict[str, Any]]:
    """Every pass of the clock: the changes it counts (running or paused) and how it ended."""
    passes: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for index, change in enumerate(changes):
        if current is None:
            if matches(sla["start"], change):
                current = {"start": index, "counted": [], "end": None}
                passes.append(current)
        elif matches(sla["stop"], change) or matches(sla.get("cancel"), change):
            current["end"] = (index, "stop" if matches(sla["stop"], change) else "cancel")
            current = None
        if current is not None:
            current["counted"].append(index)
    return passes


def clock(sla: dict[str, Any], events: list[Event], now: int, counter: Counter) -> Clock:
    """The clock of one item whose events (at or before ``now``, in order) are given."""
    changes = episodes(events)
    ends = [change.time for change in changes[1:]] + [now]
    passes = find_passes(sla, changes)
    mode = sla["reopened"]
    kept = passes[:1] if mode == "first" else passes[-1:] if mode == "restart" else passes
    result = Clock(passes=len(passes))
    if not kept:
        return result
    result.started = True
    result.start_ns = changes[kept[0]["start"]].time
    for one in kept:
        result.evidence.append(("start", changes[one["start"]].event))
        held_before = False
        for index in one["counted"]:
            change = changes[index]
            held = matches(sla.get("pause"), change)
            spent = counter.between(change.time, ends[index])
            if held:
                result.paused_ns += spent
                if change.owner is not None:
                    result.paused_by_owner[change.owner] = (
                        result.paused_by_owner.get(change.owner, 0) + spent
                    )
                if not held_before:
                    result.evidence.append(("pause", change.event))
            else:
                result.elapsed_ns += spent
                result.runs.append((change.time, ends[index]))
                if held_before:
                    result.evidence.append(("resume", change.event))
            held_before = held
        if one["end"] is not None:
            index, kind = one["end"]
            result.evidence.append((kind, changes[index].event))
    end = kept[-1]["end"]
    if end is not None:
        result.stopped = True
        result.stop_ns = changes[end[0]].time
        result.cancelled = end[1] == "cancel"
    else:
        held = matches(sla.get("pause"), changes[-1])
        result.paused, result.running = held, not held
    return result


def reached_at(result: Clock, level: int, now: int, counter: Counter) -> int | None:
    """When counted time reaches ``level``: walked through the running stretches, then onwards
    from now (or from the stop). None when the walk's window ends first."""
    if not result.started:
        return NONE
    if level <= 0:
        return result.start_ns
    counted = 0
    for start, end in result.runs:
        spent = counter.between(start, end)
        if counted + spent >= level and spent > 0:
            return counter.due(start, level - counted)
        counted += spent
    origin = result.stop_ns if result.stopped else now
    return counter.due(origin, level - counted)
