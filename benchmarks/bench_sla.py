"""SLA clocks: every item's clock at once, in working time, against one item at a time in Python."""

from __future__ import annotations

import time

import numpy as np

from benchmarks._harness import Result, best_of, peak_bytes
from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.metrics import EventFrame
from servicedelivery.sla import SLA, sla_clock, sla_clocks
from servicedelivery.synthetic import REGIONS, synthetic_event_columns

SEED = 2026
EVENTS_PER_ITEM = 5.45  # what synthetic_event_columns draws, on average
YEARS = range(2021, 2028)


def regional_calendars() -> CalendarSet:
    """Office hours with a lunch break in each region's first zone, with its country's holidays."""
    by_region = {}
    for region, places in REGIONS.items():
        zone, country = places[0]
        office = BusinessCalendar.from_data(
            {
                "name": f"office_{region}",
                "timezone": zone,
                "hours": {
                    day: ["09:00-12:30", "13:30-18:00"]
                    for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
                },
            }
        )
        by_region[region] = office.with_public_holidays(country, years=YEARS)
    return CalendarSet(default=by_region["france"], by_region=by_region)


INSTALL = SLA.from_data(
    {
        "name": "install",
        "description": "Install within 10 business days, stopped while the customer holds it up",
        "target": "90h",
        "calendar": "item",
        "start": {"state": ["in_progress", "blocked"]},
        "pause": {"state": ["blocked"], "owner": ["customer"]},
        "stop": {"state": ["done"]},
        "cancel": {"state": ["cancelled"]},
        "reopened": "continue",
    }
)


def run(*, quick: bool) -> list[Result]:
    items = 100_000 if quick else 1_000_000
    sample = 300 if quick else 1_000
    columns = synthetic_event_columns(events=int(items * EVENTS_PER_ITEM), seed=SEED)
    now = columns.pop("now")
    frame = EventFrame.from_columns(
        columns, owner="owner", reason="reason", attributes=["region", "step"]
    )
    del columns
    calendars = regional_calendars()

    began = time.perf_counter()
    clocks = sla_clocks(INSTALL, frame, now=now, calendars=calendars)
    first = time.perf_counter() - began
    fast = best_of(lambda: sla_clocks(INSTALL, frame, now=now, calendars=calendars))
    peak = peak_bytes(lambda: sla_clocks(INSTALL, frame, now=now, calendars=calendars))

    # One item at a time, as a service checking one milestone would: timed on a sample spread over
    # the frame, scaled to every item; it must give the same answers.
    chosen = np.linspace(0, frame.item_count - 1, sample).astype(np.int64)
    ids = frame.items[chosen].tolist()
    sla_clock(INSTALL, frame, ids[0], now=now, calendars=calendars)  # the frame's item index
    began = time.perf_counter()
    singles = [sla_clock(INSTALL, frame, item, now=now, calendars=calendars) for item in ids]
    slow = (time.perf_counter() - began) / sample * frame.item_count
    if singles != [clocks.clock(item) for item in ids]:
        raise AssertionError("sla_clock disagrees with sla_clocks")

    label = (
        f"{frame.item_count:,} items ({len(frame):,} events), 8 regional calendars, "
        f"{int(clocks.paused.sum()):,} paused, {int((clocks.met == 0).sum()):,} missed"
    )
    return [
        Result(
            f"sla_clocks over {label}",
            fast,
            items=frame.item_count,
            reference=f"sla_clock per item in Python ({sample:,} timed, scaled)",
            reference_seconds=slow,
            aim=">= 50x",
            extra={
                "first call": f"{first * 1e3:.0f} ms",
                "peak": f"{peak / 2**20:.0f} MiB",
            },
        )
    ]
