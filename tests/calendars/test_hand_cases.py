"""Cases computed by hand: DST both ways, holidays, starts and due instants outside working hours."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pendulum
import pytest

from servicedelivery.calendars import BusinessCalendar, Weekday, WorkingHours
from servicedelivery.model import NS_PER_HOUR, NS_PER_MINUTE, to_epoch_ns

WORKDAYS = (Weekday.MONDAY, Weekday.TUESDAY, Weekday.WEDNESDAY, Weekday.THURSDAY, Weekday.FRIDAY)


def paris(*args: int) -> pendulum.DateTime:
    return pendulum.datetime(*args, tz="Europe/Paris")


def hours(
    text: str, days: tuple[Weekday, ...] = tuple(Weekday)
) -> dict[Weekday, tuple[WorkingHours, ...]]:
    shifts = tuple(WorkingHours.parse(part) for part in text.split())
    return dict.fromkeys(days, shifts)


@pytest.fixture
def office() -> BusinessCalendar:
    """09:00-17:00, Monday to Friday, in Paris; Easter Monday, 1 May and Christmas 2024 off, and
    a short Christmas Eve."""
    return BusinessCalendar(
        name="office",
        timezone="Europe/Paris",
        hours=hours("09:00-17:00", WORKDAYS),
        holidays=[
            pendulum.Date(2024, 4, 1),
            pendulum.Date(2024, 5, 1),
            pendulum.Date(2024, 12, 25),
        ],
        exceptions={pendulum.Date(2024, 12, 24): (WorkingHours.parse("09:00-12:00"),)},
    )


@pytest.fixture
def nights() -> BusinessCalendar:
    """A night shift, 22:00-06:00 every day, in Paris, with 1 May 2024 off."""
    return BusinessCalendar(
        name="nights",
        timezone="Europe/Paris",
        hours=hours("22:00-06:00"),
        holidays=[pendulum.Date(2024, 5, 1)],
    )


# --- a night shift across both DST changes -------------------------------------------------------


def test_the_spring_night_is_seven_hours(nights: BusinessCalendar) -> None:
    # Saturday 22:00 at +01:00 to Sunday 06:00 at +02:00: the clock skips 02:00-03:00.
    assert nights.working_time(paris(2024, 3, 30, 12), paris(2024, 3, 31, 12)) == pendulum.duration(
        hours=7
    )
    assert nights.due(paris(2024, 3, 30, 22), pendulum.duration(hours=7)) == paris(2024, 3, 31, 6)
    # One minute more is due one minute into the next night.
    assert nights.due(paris(2024, 3, 30, 22), pendulum.duration(hours=7, minutes=1)) == paris(
        2024, 3, 31, 22, 1
    )
    # 01:30 UTC is 03:30 local, after the gap: working.
    assert nights.is_open(pendulum.datetime(2024, 3, 31, 1, 30, tz="UTC"))


def test_the_autumn_night_is_nine_hours(nights: BusinessCalendar) -> None:
    # Saturday 22:00 at +02:00 to Sunday 06:00 at +01:00: the clock repeats 02:00-03:00.
    assert nights.working_time(
        paris(2024, 10, 26, 12), paris(2024, 10, 27, 12)
    ) == pendulum.duration(hours=9)
    due = nights.due(paris(2024, 10, 26, 22), pendulum.duration(hours=4, minutes=30))
    # 4.5 hours after 22:00 CEST is 00:30 UTC: 02:30 the first time round.
    assert due.isoformat() == "2024-10-27T02:30:00+02:00"


# --- office hours with DST between two working days ----------------------------------------------


def test_office_hours_across_the_spring_change_and_a_holiday(office: BusinessCalendar) -> None:
    start, end = paris(2024, 3, 29, 16), paris(2024, 4, 2, 10)
    assert (end - start).in_hours() == 89  # 90 wall-clock hours, less the skipped one
    # Friday 16:00-17:00, Monday is Easter Monday, Tuesday 09:00-10:00.
    assert office.working_time(start, end) == pendulum.duration(hours=2)
    assert office.due(start, pendulum.duration(hours=2)) == end
    plain = BusinessCalendar(
        name="plain", timezone="Europe/Paris", hours=hours("09:00-17:00", WORKDAYS)
    )
    assert plain.working_time(start, end) == pendulum.duration(hours=10)
    assert plain.due(start, pendulum.duration(hours=2)) == paris(2024, 4, 1, 10)


def test_office_hours_across_the_autumn_change(office: BusinessCalendar) -> None:
    start, end = paris(2024, 10, 25, 16), paris(2024, 10, 28, 10)
    assert (end - start).in_hours() == 67  # 66 wall-clock hours, plus the repeated one
    assert office.working_time(start, end) == pendulum.duration(hours=2)


# --- bounds that fall in the gap or the fold ---------------------------------------------------------


@pytest.mark.parametrize(
    ("shift", "day", "expected"),
    [
        # 02:30 does not exist on 31 March: the shift starts when the gap ends, at 03:00 +02:00.
        ("02:30-04:00", (2024, 3, 31), dt.timedelta(hours=1)),
        # Wholly inside the gap: no working time at all that day.
        ("02:10-02:50", (2024, 3, 31), dt.timedelta(0)),
        # 02:30 happens twice on 27 October: a bound is the first occurrence, at +02:00.
        ("01:30-02:30", (2024, 10, 27), dt.timedelta(hours=1)),
        ("02:30-03:30", (2024, 10, 27), dt.timedelta(hours=2)),
        # A shift across the whole repeated hour lasts an hour longer than on the wall clock.
        ("01:00-04:00", (2024, 10, 27), dt.timedelta(hours=4)),
    ],
)
def test_bounds_in_a_gap_or_a_fold(
    shift: str, day: tuple[int, int, int], expected: dt.timedelta
) -> None:
    calendar = BusinessCalendar(name="x", timezone="Europe/Paris", hours=hours(shift))
    assert calendar.working_time(paris(*day), paris(*day, 12)) == expected


def test_a_half_hour_change_at_lord_howe() -> None:
    # On 6 October 2024 Lord Howe Island goes from +10:30 to +11:00 at 02:00: 02:00-02:30 is skipped.
    calendar = BusinessCalendar(
        name="lhi", timezone="Australia/Lord_Howe", hours=hours("01:45-02:15")
    )
    day = pendulum.datetime(2024, 10, 6, tz="Australia/Lord_Howe")
    assert calendar.working_time(day, day.add(hours=12)) == pendulum.duration(minutes=15)


# --- holidays --------------------------------------------------------------------------------------


def test_a_holiday_inside_a_pause(office: BusinessCalendar) -> None:
    # Blocked on the customer from Tuesday 15:00 to Thursday 11:00, with Wednesday 1 May off.
    assert office.working_time(paris(2024, 4, 30, 15), paris(2024, 5, 2, 11)) == pendulum.duration(
        hours=4
    )


def test_a_night_shift_belongs_to_the_date_it_starts_on(nights: BusinessCalendar) -> None:
    # Tuesday's shift runs into the holiday until 06:00; the holiday's own shift does not happen.
    assert nights.working_time(paris(2024, 4, 30, 12), paris(2024, 5, 2, 12)) == pendulum.duration(
        hours=8
    )
    assert nights.is_open(paris(2024, 5, 1, 5))
    assert not nights.is_open(paris(2024, 5, 1, 23))


def test_an_exception_replaces_the_days_hours(office: BusinessCalendar) -> None:
    assert office.working_time(paris(2024, 12, 24), paris(2024, 12, 25)) == pendulum.duration(
        hours=3
    )
    assert office.due(paris(2024, 12, 24, 11), pendulum.duration(hours=2)) == paris(
        2024, 12, 26, 10
    )


# --- starts and due instants outside working hours --------------------------------------------------


def test_an_item_that_starts_outside_working_hours(office: BusinessCalendar) -> None:
    saturday = paris(2024, 6, 8, 10)
    assert office.due(saturday, pendulum.duration(hours=4)) == paris(2024, 6, 10, 13)
    assert office.working_time(saturday, paris(2024, 6, 10, 10)) == pendulum.duration(hours=1)


def test_work_that_ends_at_closing_is_due_at_closing(office: BusinessCalendar) -> None:
    friday = paris(2024, 6, 7, 9)
    assert office.due(friday, pendulum.duration(hours=8)) == paris(2024, 6, 7, 17)
    assert office.due(friday.add(hours=7), pendulum.duration(hours=1)) == paris(2024, 6, 7, 17)
    # No work is due at once, even outside working hours.
    assert office.due(paris(2024, 6, 8, 10), dt.timedelta(0)) == paris(2024, 6, 8, 10)


def test_half_open_intervals(office: BusinessCalendar) -> None:
    assert office.is_open(paris(2024, 6, 7, 9))
    assert not office.is_open(paris(2024, 6, 7, 17))
    assert office.working_time(paris(2024, 6, 7, 17), paris(2024, 6, 10, 9)) == dt.timedelta(0)
    assert office.working_time(paris(2024, 6, 7, 12), paris(2024, 6, 7, 11)) == dt.timedelta(0)


def test_openings_and_closings(office: BusinessCalendar) -> None:
    ns = to_epoch_ns
    at = np.array(
        [ns(paris(2024, 6, 7, 17)), ns(paris(2024, 6, 10, 8)), ns(paris(2024, 6, 10, 10))]
    )
    assert office.next_opening(at).tolist() == [
        ns(paris(2024, 6, 10, 9)),
        ns(paris(2024, 6, 10, 9)),
        ns(paris(2024, 6, 10, 10)),
    ]
    assert office.previous_closing(at).tolist() == [
        ns(paris(2024, 6, 7, 17)),
        ns(paris(2024, 6, 7, 17)),
        ns(paris(2024, 6, 10, 10)),
    ]
    # At an opening no work has been done yet: the closing before it is the day before's.
    assert office.previous_closing(ns(paris(2024, 6, 10, 9))) == ns(paris(2024, 6, 7, 17))


def test_twenty_four_seven_is_elapsed_time() -> None:
    always = BusinessCalendar.twenty_four_seven(timezone="Europe/Paris")
    start, end = to_epoch_ns(paris(2024, 3, 30, 12)), to_epoch_ns(paris(2024, 3, 31, 12))
    assert always.working_ns(start, end) == 23 * NS_PER_HOUR
    assert always.add_working(start, 90 * NS_PER_MINUTE) == start + 90 * NS_PER_MINUTE
    assert always.is_working(start)


def test_results_keep_the_broadcast_shape(office: BusinessCalendar) -> None:
    start = np.full((2, 3), to_epoch_ns(paris(2024, 6, 7, 9)))
    end = to_epoch_ns(paris(2024, 6, 7, 10))
    assert office.working_ns(start, end).shape == (2, 3)
    assert office.working_ns(start, end).tolist() == [[NS_PER_HOUR] * 3] * 2
    assert office.add_working(start[0], [0, NS_PER_HOUR, 2 * NS_PER_HOUR]).tolist() == [
        to_epoch_ns(paris(2024, 6, 7, h)) for h in (9, 10, 11)
    ]
    assert office.working_ns([], []).shape == (0,)
