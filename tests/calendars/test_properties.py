"""Invariants of the array operations on random calendars over decades, and of the scalar forms."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pendulum
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from servicedelivery.calendars import EARLIEST, LATEST, BusinessCalendar, Weekday, WorkingHours
from servicedelivery.errors import ValidationError
from servicedelivery.model import NS_PER_DAY, NS_PER_MINUTE, from_epoch_ns, to_epoch_ns
from servicedelivery.testing import aware_datetimes, business_calendars
from tests.calendars.reference import affordable_work

LOW = to_epoch_ns(dt.datetime(1995, 1, 1, tzinfo=dt.UTC))
HIGH = to_epoch_ns(dt.datetime(2035, 1, 1, tzinfo=dt.UTC))
instants = st.integers(LOW, HIGH)
works = st.integers(0, 40 * NS_PER_DAY)


def arrays(elements: st.SearchStrategy[int], size: int) -> st.SearchStrategy[np.ndarray]:
    return st.lists(elements, min_size=size, max_size=size).map(
        lambda values: np.array(values, dtype=np.int64)
    )


@given(business_calendars(), st.data())
def test_add_working_is_the_least_inverse_of_working_ns(
    calendar: BusinessCalendar, data: st.DataObject
) -> None:
    start = data.draw(arrays(instants, 16))
    work = np.minimum(data.draw(arrays(works, 16)), affordable_work(calendar))
    due = calendar.add_working(start, work)
    assert (due >= start).all()
    assert calendar.working_ns(start, due).tolist() == work.tolist()
    # Least: one ns earlier is one ns of work short, so the ns before the due instant is working.
    busy = work > 0
    assert calendar.working_ns(start[busy], due[busy] - 1).tolist() == (work[busy] - 1).tolist()
    assert calendar.is_working(due[busy] - 1).all()


@given(business_calendars(), st.data())
def test_working_time_adds_up_over_consecutive_intervals(
    calendar: BusinessCalendar, data: st.DataObject
) -> None:
    a, b, c = np.sort(data.draw(arrays(instants, 3 * 8)).reshape(3, 8), axis=0)
    assert (
        calendar.working_ns(a, c) == calendar.working_ns(a, b) + calendar.working_ns(b, c)
    ).all()
    assert (calendar.working_ns(a, c) <= c - a).all()
    assert (calendar.working_ns(c, a)[c > a] == 0).all()


@given(business_calendars(), st.data())
def test_openings_and_closings_bound_the_idle_time(
    calendar: BusinessCalendar, data: st.DataObject
) -> None:
    at = data.draw(arrays(instants, 16))
    opening = calendar.next_opening(at)
    assert (opening >= at).all()
    assert (calendar.working_ns(at, opening) == 0).all()
    assert calendar.is_working(opening).all()
    closing = calendar.previous_closing(at)
    assert (closing <= at).all()
    assert (calendar.working_ns(closing, at) == 0).all()
    assert calendar.is_working(closing - 1).all()
    # An instant is working exactly when the nanosecond from it is.
    assert (calendar.is_working(at) == (calendar.working_ns(at, at + 1) == 1)).all()


@given(
    business_calendars(),
    aware_datetimes(min_value=dt.datetime(1995, 1, 1), max_value=dt.datetime(2034, 12, 31)),
    st.integers(0, 60 * 86_400 * 1_000_000),
    st.integers(0, 60 * 86_400 * 1_000_000),
)
def test_scalar_forms_agree_with_the_arrays(
    calendar: BusinessCalendar, start: pendulum.DateTime, length_us: int, work_us: int
) -> None:
    end = start.add(microseconds=length_us)
    work_us = min(work_us, affordable_work(calendar) // 1_000)
    start_ns, end_ns = to_epoch_ns(start), to_epoch_ns(end)
    worked = calendar.working_time(start, end)
    assert isinstance(worked, pendulum.Duration)
    assert to_ns(worked) == calendar.working_ns(start_ns, end_ns)
    due = calendar.due(start, dt.timedelta(microseconds=work_us))
    assert due.timezone_name == calendar.timezone
    assert to_epoch_ns(due) == calendar.add_working(start_ns, work_us * 1_000)
    assert calendar.is_open(start) == bool(calendar.is_working(start_ns))


def to_ns(duration: dt.timedelta) -> int:
    return ((duration.days * 86_400 + duration.seconds) * 1_000_000 + duration.microseconds) * 1_000


@given(st.sampled_from(["UTC", "Europe/Paris", "Pacific/Chatham"]), st.data())
def test_a_calendar_open_all_the_time_counts_elapsed_time(zone: str, data: st.DataObject) -> None:
    always = BusinessCalendar.twenty_four_seven(timezone=zone)
    start, end = np.sort(data.draw(arrays(instants, 2 * 8)).reshape(2, 8), axis=0)
    assert (always.working_ns(start, end) == end - start).all()
    assert (always.add_working(start, end - start) == end).all()


def test_a_sparse_calendar_lays_out_later_years_as_needed() -> None:
    # One minute a week: 300 minutes of work take almost six years.
    sparse = BusinessCalendar(
        name="sparse",
        timezone="America/New_York",
        hours={Weekday.WEDNESDAY: (WorkingHours.parse("12:00-12:01"),)},
    )
    start = to_epoch_ns(pendulum.datetime(2024, 1, 1, tz="America/New_York"))
    due = sparse.add_working(start, 300 * NS_PER_MINUTE)
    # The 300th Wednesday from 1 January 2024 (a Monday), at 12:01 New York time.
    expected = pendulum.datetime(2024, 1, 3, 12, 1, tz="America/New_York").add(weeks=299)
    assert from_epoch_ns(int(due), tz="America/New_York") == expected
    assert sparse.working_ns(start, due) == 300 * NS_PER_MINUTE
    # And back: the last closing before 2024 is the last Wednesday of 2023.
    closing = sparse.previous_closing(start)
    assert from_epoch_ns(int(closing), tz="America/New_York") == pendulum.datetime(
        2023, 12, 27, 12, 1, tz="America/New_York"
    )


def test_answers_beyond_the_supported_range_are_refused() -> None:
    sparse = BusinessCalendar(
        name="sparse", timezone="UTC", hours={Weekday.MONDAY: (WorkingHours.parse("09:00-09:01"),)}
    )
    late = to_epoch_ns(dt.datetime(2149, 12, 1, tzinfo=dt.UTC))
    with pytest.raises(ValidationError) as info:
        sparse.add_working([late, late], [NS_PER_MINUTE, 100 * NS_PER_MINUTE])
    assert [error.path for error in info.value.errors] == ["work[1]"]
    assert "before 2150-01-01 under calendar 'sparse'" in str(info.value)
    # Work that int64 could only add by wrapping around is refused, not turned into a past instant.
    always = BusinessCalendar.twenty_four_seven(name="always")
    june = to_epoch_ns(dt.datetime(2024, 6, 10, tzinfo=dt.UTC))
    with pytest.raises(ValidationError) as info:
        always.add_working([june, 0], [15_250 * 7 * NS_PER_DAY, np.iinfo(np.int64).max])
    assert [error.path for error in info.value.errors] == ["work[0]", "work[1]"]
    # 1 January 1900 was a Monday: nothing closed before 09:01 that day since 1900 began.
    with pytest.raises(ValidationError, match="at: expected an instant with working time before"):
        sparse.previous_closing(to_epoch_ns(dt.datetime(1900, 1, 1, 8, tzinfo=dt.UTC)))


def test_bad_arrays_are_refused_with_their_positions() -> None:
    calendar = BusinessCalendar.twenty_four_seven()
    early = to_epoch_ns(EARLIEST) - 1
    with pytest.raises(ValidationError) as info:
        calendar.working_ns([0, early, early, 5], 10)
    assert [error.path for error in info.value.errors] == ["start[1]", "start[2]"]
    assert info.value.title == "2 invalid values in start"
    with pytest.raises(ValidationError, match="end: expected instants in ns since the epoch"):
        calendar.working_ns(0, [1.5])
    with pytest.raises(ValidationError) as info:
        calendar.add_working(np.zeros((2, 2), dtype=np.int64), [[1, -1], [-2, 3]])
    assert [error.path for error in info.value.errors] == ["work[0, 1]", "work[1, 0]"]
    with pytest.raises(ValidationError, match="broadcast"):
        calendar.working_ns([0, 1, 2], [0, 1])
    with pytest.raises(ValidationError) as info:
        calendar.is_working(np.full(9, to_epoch_ns(LATEST)))
    assert len(info.value.errors) == 5
    assert info.value.title == "9 invalid values in at (the first 5 shown)"
    with pytest.raises(ValidationError, match="start: expected a timezone-aware datetime"):
        calendar.working_time(dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 2, tzinfo=dt.UTC))
    with pytest.raises(ValidationError, match="work: expected a timedelta"):
        calendar.due(dt.datetime(2024, 1, 1, tzinfo=dt.UTC), 5)  # type: ignore[arg-type]


class LaidOutYears(RuleBasedStateMachine):
    """Whatever years a calendar has laid out before, its answers are those of a fresh copy."""

    @initialize(calendar=business_calendars())
    def start(self, calendar: BusinessCalendar) -> None:
        self.calendar = calendar
        self.asked = 0

    @rule(
        year=st.integers(1990, 2060),
        offsets=st.lists(st.integers(0, 400 * NS_PER_DAY), min_size=1, max_size=4),
        work=st.integers(0, 30 * NS_PER_DAY),
    )
    def ask(self, year: int, offsets: list[int], work: int) -> None:
        base = to_epoch_ns(dt.datetime(year, 1, 1, tzinfo=dt.UTC))
        work = min(work, affordable_work(self.calendar, years=80))
        at = np.array([base + offset for offset in offsets], dtype=np.int64)
        fresh = BusinessCalendar.from_data(self.calendar.to_data())
        assert (
            self.calendar.working_ns(at, at + work).tolist()
            == fresh.working_ns(at, at + work).tolist()
        )
        assert self.calendar.add_working(at, work).tolist() == fresh.add_working(at, work).tolist()
        assert self.calendar.next_opening(at).tolist() == fresh.next_opening(at).tolist()
        assert self.calendar.previous_closing(at).tolist() == fresh.previous_closing(at).tolist()
        self.asked += 1

    @invariant()
    def equal_to_its_data(self) -> None:
        assert BusinessCalendar.from_data(self.calendar.to_data()) == self.calendar


TestLaidOutYears = LaidOutYears.TestCase
TestLaidOutYears.settings = TestLaidOutYears.settings.__class__(
    TestLaidOutYears.settings, max_examples=10, stateful_step_count=6
)
