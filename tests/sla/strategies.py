"""Random SLA scenarios: histories on whole minutes around a change of UTC offset, with calendars.

Each scenario places a few items' histories within days of a DST change of a random zone (or a
random date), with ties, reopened work, blocks that change owner, and steps, sites and regions
that change, and random business calendars in the same zone with holidays around the same dates.
Times fall on whole minutes, so that a minute walk counts exactly.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from servicedelivery.calendars import CalendarSet
from servicedelivery.metrics import EventFrame
from servicedelivery.model import NS_PER_MINUTE, OWNERS
from servicedelivery.sla import SLA
from servicedelivery.testing import TIMEZONES, business_calendars, slas
from tests.calendars.reference import EPOCH, MINUTE, MinuteWalk, offset_changes
from tests.sla import reference as ref

STATES = ("planned", "in_progress", "blocked", "done", "cancelled")
# Weighted so that blocks, owner changes and reopened work are common.
DRAWN = (*STATES, "in_progress", "blocked", "blocked", "done")
REASONS = ("site_access", "awaiting_provider", "noc_configuration", "change_window")
STEPS = ("survey", "install")
SITES = ("s1", "s2")
REGIONS_DRAWN = ("r1", "r2")
ATTRIBUTES = {"step": STEPS}
BEFORE_DAYS = 3
AFTER_DAYS = 12

cached_changes = functools.lru_cache(maxsize=None)(offset_changes)


@dataclass
class Scenario:
    columns: dict[str, list[object]]
    now: int
    sla: SLA
    calendars: CalendarSet
    window: tuple[int, int]  # the UTC minutes the reference walks
    walked: dict[str, MinuteWalk] = field(default_factory=dict)

    def walk(self, name: str) -> MinuteWalk:
        """The minute walk of a calendar of the set, laid out the first time it is needed."""
        if name not in self.walked:
            self.walked[name] = MinuteWalk(self.calendars[name], *self.window)
        return self.walked[name]

    def frame(self) -> EventFrame:
        return EventFrame.from_columns(
            self.columns,
            owner="owner",
            reason="reason",
            event_id="event",
            attributes=["step", "site", "region"],
        )

    def item_events(self) -> dict[str, list[ref.Event]]:
        """Each item's events at or before now, in time order (ties as recorded)."""
        order = sorted(range(len(self.columns["item"])), key=lambda i: self.columns["time"][i])
        found: dict[str, list[ref.Event]] = {}
        for i in order:
            time = self.columns["time"][i]
            assert isinstance(time, int)
            if time > self.now:
                continue
            state = self.columns["state"][i]
            reason = self.columns["reason"][i]
            owner = self.columns["owner"][i]
            if state == "blocked" and owner is None:
                owner = _default_owner(str(reason))
            found.setdefault(str(self.columns["item"][i]), []).append(
                ref.Event(
                    time=time,
                    state=str(state),
                    owner=owner,  # type: ignore[arg-type]
                    reason=reason,  # type: ignore[arg-type]
                    attributes={
                        name: self.columns[name][i]  # type: ignore[misc]
                        for name in ("step", "site", "region")
                    },
                    event=self.columns["event"][i],
                )
            )
        return found

    def counter(self, item: str) -> ref.Counter:
        """The item's reference counter: its calendar's minute walk, or elapsed time."""
        name = self.sla.calendar
        if name is None:
            return ref.Counter(None)
        if name == "item":
            # The chain, written out: the site's own calendar, else the region's, else the default,
            # from the last site and region recorded at or before now.
            events = self.item_events().get(item, [])
            last = {}
            for label in ("site", "region"):
                known = [e.attributes[label] for e in events if e.attributes[label] is not None]
                last[label] = known[-1] if known else None
            if last["site"] == "s2":
                return ref.Counter(self.walk("office"))
            if last["region"] == "r1":
                return ref.Counter(self.walk("site_two"))
            return ref.Counter(self.walk("office"))
        return ref.Counter(self.walk(name))


def _default_owner(reason: str) -> str:
    from servicedelivery.model import DEFAULT_TAXONOMY

    return DEFAULT_TAXONOMY.require(reason).owner.value


@st.composite
def histories(
    draw: st.DrawFn, *, anchor: int, max_items: int = 4, max_rows: int = 14
) -> tuple[dict[str, list[object]], int]:
    """Columns of rows within days of ``anchor`` (a UTC minute), and a ``now``."""
    items = draw(st.integers(1, max_items))
    count = draw(st.integers(1, max_rows))
    columns: dict[str, list[object]] = {
        name: []
        for name in ("item", "time", "state", "owner", "reason", "step", "site", "region", "event")
    }
    for row in range(count):
        state = draw(st.sampled_from(DRAWN))
        reason = owner = None
        if state == "blocked":
            reason = draw(st.sampled_from(REASONS))
            owner = draw(st.none() | st.sampled_from([o.value for o in OWNERS]))
        columns["item"].append(f"m{draw(st.integers(0, items - 1))}")
        # Half-hours within the days around the anchor: ties within an item are common.
        minute = anchor + draw(st.integers(-2 * 48, 2 * 48)) * 30
        columns["time"].append(minute * NS_PER_MINUTE)
        columns["state"].append(state)
        columns["owner"].append(owner)
        columns["reason"].append(reason)
        columns["step"].append(draw(st.none() | st.sampled_from(STEPS)))
        columns["site"].append(draw(st.none() | st.sampled_from(SITES)))
        columns["region"].append(draw(st.none() | st.sampled_from(REGIONS_DRAWN)))
        columns["event"].append(f"e{row}")
    last = max(columns["time"])  # type: ignore[type-var]
    minutes = draw(st.integers(0, 3 * 48)) * 30
    now = (
        last + minutes * NS_PER_MINUTE
        if draw(st.booleans())
        else draw(
            st.sampled_from(sorted(columns["time"]))  # type: ignore[type-var]
        )
    )
    return columns, int(now)  # type: ignore[call-overload]


@st.composite
def scenarios(draw: st.DrawFn, *, max_target_minutes: int = 2 * 24 * 60) -> Scenario:
    """A history, an SLA and calendars, around a change of UTC offset most of the time."""
    year = draw(st.integers(2022, 2026))
    if draw(st.booleans()):
        zone = draw(st.sampled_from([z for z in TIMEZONES if cached_changes(z, year)]))
        day = draw(st.sampled_from(cached_changes(zone, year)))
    else:
        zone = draw(st.sampled_from(TIMEZONES))
        day = dt.date(year, 1, 1) + dt.timedelta(days=draw(st.integers(0, 364)))
    near = {
        "timezones": st.just(zone),
        "min_date": day - dt.timedelta(days=BEFORE_DAYS + 1),
        "max_date": day + dt.timedelta(days=BEFORE_DAYS + 1),
        "max_shifts": 8,
    }
    first = draw(business_calendars(**near, names=st.just("office")))  # type: ignore[arg-type]
    second = draw(business_calendars(**near, names=st.just("site_two")))  # type: ignore[arg-type]
    # Site s2 counts in the default calendar even in region r1, which has the second one.
    calendars = CalendarSet(default=first, by_region={"r1": second}, by_site={"s2": first})
    anchor = (dt.datetime.combine(day, dt.time(), dt.UTC) - EPOCH) // MINUTE
    columns, now = draw(histories(anchor=anchor))
    sla = draw(
        slas(
            calendars=st.sampled_from([None, "item", "office"]),
            max_target_minutes=max_target_minutes,
            attributes=ATTRIBUTES,
            reasons=REASONS,
        )
    )
    window = (anchor - BEFORE_DAYS * 1_440, anchor + AFTER_DAYS * 1_440)
    return Scenario(columns, now, sla, calendars, window)


def plain(value: Any) -> Any:
    """numpy scalars as Python values."""
    return value.item() if hasattr(value, "item") else value
