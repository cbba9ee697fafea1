"""A slow, obvious reference for every metric: plain Python loops over each item's sorted events.

Written from the definitions in docs/explanation/metric-definitions.md, without numpy and without
looking at the vectorized code, so that agreement means something.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass
from fractions import Fraction

import pendulum

from servicedelivery.model import DEFAULT_TAXONOMY

OPEN = {"planned", "in_progress", "blocked"}


@dataclass(frozen=True)
class Row:
    item: str
    time: int
    state: str
    owner: str | None
    reason: str | None
    position: int
    provider: str | None = None


@dataclass(frozen=True)
class Episode:
    state: str
    owner: str | None
    reason: str | None
    start: int
    end: int
    first_position: int
    events: int
    last: bool


def rows_from_columns(columns: dict[str, list[object]]) -> list[Row]:
    rows = []
    for position in range(len(columns["item"])):
        reason = columns["reason"][position]
        owner = columns["owner"][position]
        if columns["state"][position] == "blocked" and owner is None:
            owner = DEFAULT_TAXONOMY.require(reason).owner.value  # the reason's default owner
        rows.append(
            Row(
                item=columns["item"][position],
                time=columns["time"][position],
                state=columns["state"][position],
                owner=owner,
                reason=reason,
                position=position,
                provider=columns["provider"][position],
            )
        )
    return rows


def histories(rows: list[Row], now: int) -> dict[str, list[Row]]:
    """Each item's rows at or before now, by time; ties keep their input order (stable sort)."""
    by_item: dict[str, list[Row]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: r.time):
        if row.time <= now:
            by_item[row.item].append(row)
    return dict(sorted(by_item.items()))


def episodes(rows: list[Row], now: int) -> dict[str, list[Episode]]:
    result = {}
    for item, history in histories(rows, now).items():
        found: list[dict[str, object]] = []
        for row in history:
            key = (row.state, row.owner, row.reason)
            if found and found[-1]["key"] == key:
                found[-1]["events"] += 1  # same state, owner and reason: the episode goes on
                continue
            found.append({"key": key, "start": row.time, "position": row.position, "events": 1})
        item_episodes = []
        for index, part in enumerate(found):
            last = index == len(found) - 1
            state, owner, reason = part["key"]
            item_episodes.append(
                Episode(
                    state=state,
                    owner=owner,
                    reason=reason,
                    start=part["start"],
                    end=now if last else found[index + 1]["start"],
                    first_position=part["position"],
                    events=part["events"],
                    last=last,
                )
            )
        result[item] = item_episodes
    return result


def counted_pass(
    eps: list[Episode], start: set[str], end: set[str], reopened: str
) -> tuple[int, int] | None:
    """(index of the start episode, index of the completing episode), or None."""
    completions = [
        i for i, ep in enumerate(eps) if ep.state in end and (i == 0 or eps[i - 1].state not in end)
    ]
    committed = [i for i, ep in enumerate(eps) if ep.state in start or ep.state in end]
    if reopened == "first":
        if not completions:
            return None
        done = completions[0]
        return min(i for i in committed if i <= done), done
    if eps[-1].state not in end:
        return None
    done = completions[-1]
    if reopened == "span":
        return committed[0], done
    previous = max((i for i in range(done) if eps[i].state in end), default=-1)
    return min(i for i in committed if i > previous), done


def cycle_times(
    rows: list[Row], now: int, *, start: set[str], end: set[str], reopened: str
) -> dict[str, tuple[int, int]]:
    result = {}
    for item, eps in episodes(rows, now).items():
        found = counted_pass(eps, start, end, reopened)
        if found is not None:
            result[item] = (eps[found[0]].start, eps[found[1]].start)
    return result


def ages(
    rows: list[Row], now: int, *, start: set[str], end: set[str], reopened: str
) -> dict[str, tuple[int, str]]:
    """Open, started items: (start instant, current state)."""
    result = {}
    for item, eps in episodes(rows, now).items():
        if eps[-1].state not in OPEN:
            continue
        previous = -1
        if reopened == "last":
            previous = max((i for i, ep in enumerate(eps) if ep.state in end), default=-1)
        starts = [
            i for i, ep in enumerate(eps) if i > previous and (ep.state in start or ep.state in end)
        ]
        if starts:
            result[item] = (eps[starts[0]].start, eps[-1].state)
    return result


def current_states(rows: list[Row], now: int) -> dict[str, tuple[int, str, str | None]]:
    return {
        item: (eps[-1].start, eps[-1].state, eps[-1].owner)
        for item, eps in episodes(rows, now).items()
        if eps[-1].state in OPEN
    }


def time_in_states(
    rows: list[Row], now: int, *, split: tuple[str, ...]
) -> dict[tuple[object, ...], tuple[int, int]]:
    """(item, state, owner or None, reason or None) -> (total duration, episodes)."""
    totals: dict[tuple[object, ...], tuple[int, int]] = {}
    for item, eps in episodes(rows, now).items():
        for ep in eps:
            key = (
                item,
                ep.state,
                ep.owner if "owner" in split else None,
                ep.reason if "reason" in split else None,
            )
            total, count = totals.get(key, (0, 0))
            totals[key] = (total + ep.end - ep.start, count + 1)
    return totals


def flow_efficiencies(rows: list[Row], now: int) -> dict[str, tuple[int, int]]:
    """(active ns in progress, cycle time ns) per completed item, default options."""
    result = {}
    for item, eps in episodes(rows, now).items():
        found = counted_pass(eps, {"in_progress", "blocked"}, {"done"}, "span")
        if found is None:
            continue
        first, done = found
        active = sum(ep.end - ep.start for ep in eps[first:done] if ep.state == "in_progress")
        result[item] = (active, eps[done].start - eps[first].start)
    return result


def state_at(rows: list[Row], at: int) -> dict[str, str]:
    """Each item's state at an instant: that of its last event at or before it."""
    result = {}
    for item, history in histories(rows, at).items():
        result[item] = history[-1].state
    return result


def percentile(values: list[int], q: float) -> int:
    ordered = sorted(values)
    rank = math.ceil(Fraction(str(q)) * len(ordered) / 100)
    return ordered[max(rank, 1) - 1]


def provider_of(rows: list[Row], now: int) -> dict[str, str | None]:
    """Each item's provider: the last one recorded (rows without one skipped)."""
    result: dict[str, str | None] = {}
    for item, history in histories(rows, now).items():
        known = [row.provider for row in history if row.provider is not None]
        result[item] = known[-1] if known else None
    return result


def local_period(instant: int, *, freq: str, tz: str) -> str:
    """The ISO date a period starts on, for the period holding ``instant``."""
    day = pendulum.from_timestamp(instant // 10**9, tz="UTC").add(
        microseconds=(instant % 10**9) // 1000
    )
    local = day.in_timezone(tz).date()
    if freq == "week":
        local = local.subtract(days=local.weekday())
    elif freq == "month":
        local = local.replace(day=1)
    return local.isoformat()
