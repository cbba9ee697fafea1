"""SLA clocks computed by hand: DST both ways, a holiday inside a pause, work that starts outside
working hours, a pause over a weekend, a target instant outside working hours, reopened work.

Each case is checked on both paths (all items at once, one item at a time), which must agree.
"""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from servicedelivery.calendars import BusinessCalendar, CalendarSet, Weekday, WorkingHours
from servicedelivery.metrics import EventFrame
from servicedelivery.model import NS_PER_HOUR, OWNERS, Owner, to_epoch_ns
from servicedelivery.sla import SLA, SLAClock, sla_clock, sla_clocks

PARIS = "Europe/Paris"
OFFICE = BusinessCalendar(
    name="office",
    timezone=PARIS,
    hours={day: (WorkingHours.parse("09:00-17:00"),) for day in list(Weekday)[:5]},
    holidays=[pendulum.Date(2024, 5, 1)],
)
NIGHTS = BusinessCalendar(
    name="nights",
    timezone=PARIS,
    hours={day: (WorkingHours.parse("22:00-06:00"),) for day in Weekday},
)
CALENDARS = CalendarSet(default=OFFICE, by_site={"night_shift": NIGHTS})
H = NS_PER_HOUR
CUSTOMER = OWNERS.index(Owner.CUSTOMER)


def ns(text: str) -> int:
    """An ISO 8601 instant with its offset, as ns since the epoch."""
    instant = pendulum.parse(text)
    assert isinstance(instant, pendulum.DateTime)
    return to_epoch_ns(instant)


def restore(target: str = "8h", calendar: str = "office", reopened: str = "continue") -> SLA:
    """Counts from work starting until done, paused while the customer holds the work up."""
    return SLA.from_data(
        {
            "name": "restore",
            "target": target,
            "calendar": calendar,
            "start": {"state": ["in_progress", "blocked"]},
            "pause": {"state": ["blocked"], "owner": ["customer"]},
            "stop": {"state": ["done"]},
            "cancel": {"state": ["cancelled"]},
            "reopened": reopened,
        }
    )


def frame(*rows: tuple[str, str, str] | tuple[str, str, str, str]) -> EventFrame:
    """Rows of (time, state[, reason]) of item ``m1``; blocked rows take the reason's owner."""
    return EventFrame.from_columns(
        {
            "item": ["m1"] * len(rows),
            "time": [ns(row[0]) for row in rows],
            "state": [row[1] for row in rows],
            "reason": [row[2] if len(row) > 2 else None for row in rows],
            "event": [f"e{n}" for n in range(len(rows))],
        },
        reason="reason",
        event_id="event",
    )


def clock_of(sla: SLA, events: EventFrame, now: str) -> SLAClock:
    """Item m1's clock, the same on both paths."""
    one = sla_clock(sla, events, "m1", now=ns(now), calendars=CALENDARS)
    assert sla_clocks(sla, events, now=ns(now), calendars=CALENDARS).clock("m1") == one
    return one


def fields(clock: SLAClock, *names: str) -> dict[str, Any]:
    return {name: getattr(clock, name) for name in names}


# --- daylight-saving changes ---------------------------------------------------------------------


def test_the_spring_night_has_seven_working_hours() -> None:
    # Night shifts 22:00-06:00 in Paris; clocks go forward at 02:00 on 31 March 2024.
    started = frame(("2024-03-30T20:00:00+01:00", "in_progress"))
    clock = clock_of(restore(calendar="nights"), started, "2024-03-31T12:00:00+02:00")
    assert fields(clock, "running", "elapsed_ns", "remaining_ns", "stage_name") == {
        "running": True,
        "elapsed_ns": 7 * H,
        "remaining_ns": 1 * H,
        "stage_name": "at_risk_75",  # 7h > 6h (75%), not > 7h12 (90%)
    }
    # The last hour is worked on the next night, which starts at 22:00 (+02:00).
    assert clock.breach_ns == ns("2024-03-31T23:00:00+02:00")
    done = frame(
        ("2024-03-30T20:00:00+01:00", "in_progress"), ("2024-03-31T12:00:00+02:00", "done")
    )
    clock = clock_of(restore(calendar="nights"), done, "2024-04-02T00:00:00+02:00")
    assert fields(clock, "stopped", "stop_ns", "elapsed_ns", "met") == {
        "stopped": True,
        "stop_ns": ns("2024-03-31T12:00:00+02:00"),
        "elapsed_ns": 7 * H,
        "met": 1,
    }


def test_the_autumn_night_has_nine_working_hours() -> None:
    # Clocks go back at 03:00 on 27 October 2024: the night is an hour longer.
    done = frame(
        ("2024-10-26T20:00:00+02:00", "in_progress"), ("2024-10-27T12:00:00+01:00", "done")
    )
    clock = clock_of(restore(calendar="nights"), done, "2024-10-28T00:00:00+01:00")
    assert fields(clock, "elapsed_ns", "remaining_ns", "fraction_used", "stage_name", "met") == {
        "elapsed_ns": 9 * H,
        "remaining_ns": -1 * H,
        "fraction_used": 1.125,
        "stage_name": "breached",
        "met": 0,
    }
    # Eight hours after 22:00 (+02:00) the wall clock shows 05:00 (+01:00), not 06:00.
    assert clock.breach_ns == ns("2024-10-27T05:00:00+01:00")


def test_office_hours_across_the_spring_change_are_unaffected() -> None:
    # Friday 16:00 (+01:00) to Monday 11:00 (+02:00): 1 + 2 working hours.
    started = frame(("2024-03-29T16:00:00+01:00", "in_progress"))
    clock = clock_of(restore(), started, "2024-04-01T11:00:00+02:00")
    assert clock.elapsed_ns == 3 * H
    assert clock.breach_ns == ns("2024-04-01T16:00:00+02:00")


# --- pauses ---------------------------------------------------------------------------------------


def test_a_holiday_inside_a_pause_costs_nothing() -> None:
    # Blocked on the customer from Tuesday 15:00 to Thursday 11:00, across 1 May (a holiday).
    events = frame(
        ("2024-04-30T10:00:00+02:00", "in_progress"),
        ("2024-04-30T15:00:00+02:00", "blocked", "customer_approval"),
        ("2024-05-02T11:00:00+02:00", "in_progress"),
        ("2024-05-02T15:00:00+02:00", "done"),
    )
    clock = clock_of(restore(), events, "2024-05-03T12:00:00+02:00")
    assert fields(clock, "elapsed_ns", "paused_ns", "stopped", "met", "stage_name") == {
        "elapsed_ns": 5 * H + 4 * H,
        "paused_ns": 2 * H + 2 * H,  # Tuesday 15-17 and Thursday 09-11; nothing on 1 May
        "stopped": True,
        "met": 0,
        "stage_name": "breached",
    }
    assert clock.paused_by_owner[CUSTOMER] == 4 * H
    # Five hours on Tuesday, then three more after the pause: Thursday 14:00.
    assert clock.breach_ns == ns("2024-05-02T14:00:00+02:00")
    assert [(event.kind, event.event) for event in clock.evidence] == [
        ("start", "e0"),
        ("pause", "e1"),
        ("resume", "e2"),
        ("stop", "e3"),
    ]


def test_a_pause_over_a_weekend_costs_the_working_hours_either_side() -> None:
    events = frame(
        ("2024-06-07T13:00:00+02:00", "in_progress"),
        ("2024-06-07T15:00:00+02:00", "blocked", "site_access"),
        ("2024-06-10T11:00:00+02:00", "in_progress"),
    )
    clock = clock_of(restore(target="10h"), events, "2024-06-10T14:00:00+02:00")
    assert fields(clock, "running", "elapsed_ns", "paused_ns", "remaining_ns") == {
        "running": True,
        "elapsed_ns": 2 * H + 3 * H,
        "paused_ns": 2 * H + 2 * H,  # Friday 15-17 and Monday 09-11
        "remaining_ns": 5 * H,
    }
    # Five more hours from Monday 14:00: three on Monday, two on Tuesday.
    assert clock.breach_ns == ns("2024-06-11T11:00:00+02:00")


def test_a_clock_paused_at_now_projects_its_breach_as_if_it_resumed_now() -> None:
    events = frame(
        ("2024-06-07T13:00:00+02:00", "in_progress"),
        ("2024-06-07T15:00:00+02:00", "blocked", "site_access"),
    )
    clock = clock_of(restore(target="10h"), events, "2024-06-08T12:00:00+02:00")
    assert fields(clock, "running", "paused", "elapsed_ns", "paused_ns") == {
        "running": False,
        "paused": True,
        "elapsed_ns": 2 * H,
        "paused_ns": 2 * H,  # the pause still open at now counts up to now: Friday 15-17
    }
    # Eight hours from Saturday noon, were it to resume now: Monday 09:00 to 17:00.
    assert clock.breach_ns == ns("2024-06-10T17:00:00+02:00")


def test_a_block_on_the_provider_does_not_pause_the_clock() -> None:
    events = frame(
        ("2024-06-10T09:00:00+02:00", "in_progress"),
        ("2024-06-10T10:00:00+02:00", "blocked", "awaiting_provider"),
    )
    clock = clock_of(restore(), events, "2024-06-10T13:00:00+02:00")
    assert fields(clock, "running", "elapsed_ns", "paused_ns") == {
        "running": True,
        "elapsed_ns": 4 * H,
        "paused_ns": 0,
    }


# --- working hours --------------------------------------------------------------------------------


def test_work_that_starts_outside_working_hours_counts_from_the_next_opening() -> None:
    events = frame(("2024-06-08T10:00:00+02:00", "in_progress"))  # a Saturday
    sla = restore()
    clock = clock_of(sla, events, "2024-06-10T11:00:00+02:00")
    # The clock started on Saturday, but counts from Monday 09:00.
    assert clock.start_ns == ns("2024-06-08T10:00:00+02:00")
    assert clock.elapsed_ns == 2 * H
    assert clock.reached_at(4 * H) == ns("2024-06-10T13:00:00+02:00")  # at risk (50%)
    clocks = sla_clocks(sla, events, now=ns("2024-06-10T11:00:00+02:00"), calendars=CALENDARS)
    assert clocks.stage_ns[0].tolist() == [
        ns(f"2024-06-10T{hour}+02:00") for hour in ("13:00:00", "15:00:00", "16:12:00", "17:00:00")
    ]
    # Still before any working time: nothing counted, nothing reached.
    clock = clock_of(sla, events, "2024-06-09T18:00:00+02:00")
    assert fields(clock, "running", "elapsed_ns", "stage") == {
        "running": True,
        "elapsed_ns": 0,
        "stage": -1,
    }


@pytest.mark.parametrize(
    ("done", "extra_ns", "met", "stage"),
    [
        ("2024-06-10T17:00:00+02:00", 0, 1, "at_risk_90"),  # done at the breach instant: met
        ("2024-06-10T17:30:00+02:00", 0, 1, "at_risk_90"),  # after closing: no more working time
        ("2024-06-11T09:00:00+02:00", 0, 1, "at_risk_90"),  # at the next opening: still met
        ("2024-06-11T09:00:00+02:00", 1, 0, "breached"),  # one ns of work later: missed
    ],
)
def test_a_target_instant_outside_working_hours(
    done: str, extra_ns: int, met: int, stage: str
) -> None:
    # Eight working hours from Monday 09:00 are reached at 17:00, the closing instant.
    events = EventFrame.from_columns(
        {
            "item": ["m1", "m1"],
            "time": [ns("2024-06-10T09:00:00+02:00"), ns(done) + extra_ns],
            "state": ["in_progress", "done"],
        }
    )
    clock = clock_of(restore(), events, "2024-06-12T12:00:00+02:00")
    assert clock.breach_ns == ns("2024-06-10T17:00:00+02:00")
    assert (clock.elapsed_ns, clock.met, clock.stage_name) == (8 * H + extra_ns, met, stage)


# --- reopened work --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reopened", "expected"),
    [
        ("first", {"start": "09:00", "stopped": True, "elapsed_ns": 2 * H, "met": 1}),
        ("continue", {"start": "09:00", "stopped": False, "elapsed_ns": 3 * H, "met": -1}),
        ("restart", {"start": "15:00", "stopped": False, "elapsed_ns": 1 * H, "met": -1}),
    ],
)
def test_reopened_work(reopened: str, expected: dict[str, Any]) -> None:
    events = frame(
        ("2024-06-10T09:00:00+02:00", "in_progress"),
        ("2024-06-10T11:00:00+02:00", "done"),
        ("2024-06-10T15:00:00+02:00", "in_progress"),
    )
    clock = clock_of(restore(reopened=reopened), events, "2024-06-10T16:00:00+02:00")
    assert clock.passes == 2
    assert {
        "start": pendulum.from_timestamp(clock.start_ns // 10**9, tz=PARIS).format("HH:mm"),
        "stopped": clock.stopped,
        "elapsed_ns": clock.elapsed_ns,
        "met": clock.met,
    } == expected


def test_each_item_counts_in_its_sites_calendar() -> None:
    events = EventFrame.from_columns(
        {
            "item": ["day", "night"],
            "time": [ns("2024-06-10T08:00:00+02:00")] * 2,
            "state": ["in_progress"] * 2,
            "site": ["paris", "night_shift"],
        },
        attributes=["site"],
    )
    now = ns("2024-06-10T12:00:00+02:00")
    clocks = sla_clocks(restore(calendar="item"), events, now=now, calendars=CALENDARS)
    # The office has worked 09:00-12:00; the night shift 08:00 is after its 06:00 closing.
    assert clocks.elapsed_ns.tolist() == [3 * H, 0]
    assert clocks.breach_ns.tolist() == [
        ns("2024-06-10T17:00:00+02:00"),
        ns("2024-06-11T06:00:00+02:00"),  # 22:00 to 06:00: eight hours
    ]
