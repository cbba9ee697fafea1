"""The one-instant forms (``*_one``) give the array forms' answers and errors, on random calendars."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.calendars import EARLIEST, LATEST, BusinessCalendar, Weekday, WorkingHours
from servicedelivery.errors import ValidationError
from servicedelivery.model import NS_PER_DAY, NS_PER_MINUTE, to_epoch_ns
from servicedelivery.testing import business_calendars

EARLIEST_NS = to_epoch_ns(EARLIEST)
LATEST_NS = to_epoch_ns(LATEST)
MIDDLE = st.integers(to_epoch_ns(dt.datetime(1995, 1, 1, tzinfo=dt.UTC)),
                     to_epoch_ns(dt.datetime(2035, 1, 1, tzinfo=dt.UTC)))  # fmt: skip
# Near the supported range's limits, and a little beyond them.
EARLY = st.integers(EARLIEST_NS - 2 * NS_PER_DAY, EARLIEST_NS + 20 * NS_PER_DAY)
LATE = st.integers(LATEST_NS - 20 * NS_PER_DAY, LATEST_NS + NS_PER_DAY)
works = st.one_of(st.integers(0, 40 * NS_PER_DAY), st.integers(-NS_PER_DAY, 0))


def outcome(ask: Callable[..., object], *args: int) -> object:
    """The answer, or the error as its type and message: errors must agree too."""
    try:
        answer = ask(*args)
        return answer.item() if isinstance(answer, np.ndarray) else answer
    except ValidationError as error:
        return (type(error), str(error))


@given(business_calendars(), st.data())
def test_the_one_instant_forms_agree_with_the_array_forms(
    calendar: BusinessCalendar, data: st.DataObject
) -> None:
    # Another copy answers with the array forms, from timelines laid out on its own.
    arrays = BusinessCalendar.from_data(calendar.to_data())
    if data.draw(st.booleans(), label="laid out before"):
        calendar.working_ns(data.draw(MIDDLE), data.draw(MIDDLE))
    # One part of the range per example: laying out 250 years at once is slow to test.
    instants = data.draw(st.sampled_from([MIDDLE, MIDDLE, EARLY, LATE]), label="range")
    for _ in range(4):
        a, b = data.draw(instants, label="a"), data.draw(instants, label="b")
        # Openings and closings and the ns either side, where off-by-one searches go wrong.
        points = [a]
        for bound in (arrays.next_opening, arrays.previous_closing):
            found = outcome(bound, a)
            if isinstance(found, int):
                points.append(found + data.draw(st.integers(-1, 1), label="nudge"))
        for at in points:
            # Work that fits, or that is refused: negative, or reaching 2150 or beyond.
            too_much = st.integers(LATEST_NS - at + 1, LATEST_NS - at + NS_PER_DAY)
            work = data.draw(works | too_much, label="work")
            for one, array, args in (
                (calendar.working_ns_one, arrays.working_ns, (at, b)),
                (calendar.working_ns_one, arrays.working_ns, (b, at)),
                (calendar.add_working_one, arrays.add_working, (at, work)),
                (calendar.is_working_one, arrays.is_working, (at,)),
                (calendar.next_opening_one, arrays.next_opening, (at,)),
            ):
                answer = outcome(one, *args)
                assert answer == outcome(array, *args)
                assert type(answer) in (int, bool, tuple)  # not a numpy value


def test_laid_out_instants_are_answered_without_the_array_forms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Paris, two shifts, a holiday and a short day, across the autumn DST change of 2024.
    calendar = BusinessCalendar.from_data({
        "name": "paris", "timezone": "Europe/Paris",
        "hours": {day: ["09:00-12:30", "13:30-18:00"]
                  for day in ("monday", "tuesday", "wednesday", "thursday", "friday")},
        "holidays": ["2024-11-01"], "exceptions": {"2024-10-31": ["09:00-12:00"]},
    })  # fmt: skip
    start = to_epoch_ns(dt.datetime(2024, 10, 25, 10, tzinfo=dt.UTC))
    end = to_epoch_ns(dt.datetime(2024, 11, 5, 10, tzinfo=dt.UTC))
    expected = (
        int(calendar.working_ns(start, end)),
        int(calendar.add_working(start, 30 * 60 * NS_PER_MINUTE)),
        bool(calendar.is_working(end)),
        int(calendar.next_opening(start - 9 * 3600 * 10**9)),
    )

    def refuse(*args: object) -> None:
        raise AssertionError("the array form was asked")

    for name in ("working_ns", "add_working", "is_working", "next_opening"):
        monkeypatch.setattr(BusinessCalendar, name, refuse)
    answers = (
        calendar.working_ns_one(start, end),
        calendar.add_working_one(start, 30 * 60 * NS_PER_MINUTE),
        calendar.is_working_one(end),
        calendar.next_opening_one(start - 9 * 3600 * 10**9),
    )
    assert answers == expected
    # 25 Oct 12:00-12:30 and 13:30-18:00 (5 h), 28-30 Oct (3 x 8 h), 31 Oct (3 h), 4 Nov (8 h)
    # and 5 Nov 09:00-11:00 Paris (2 h; 10:00 UTC is 11:00 in winter).
    assert answers[0] == (5 + 24 + 3 + 8 + 2) * 60 * NS_PER_MINUTE


def test_the_one_instant_forms_lay_out_later_years_and_refuse_what_the_arrays_refuse() -> None:
    sparse = BusinessCalendar(
        name="sparse", timezone="UTC", hours={Weekday.MONDAY: (WorkingHours.parse("09:00-09:01"),)}
    )
    start = to_epoch_ns(dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    assert sparse.working_ns_one(start, start + NS_PER_DAY) == NS_PER_MINUTE  # lays out 2023-25
    # 300 minutes of work take 300 Mondays, well past the years laid out.
    due = sparse.add_working_one(start, 300 * NS_PER_MINUTE)
    assert due == int(sparse.add_working(start, 300 * NS_PER_MINUTE))
    assert sparse.working_ns_one(start, due) == 300 * NS_PER_MINUTE
    late = to_epoch_ns(dt.datetime(2149, 12, 1, tzinfo=dt.UTC))
    with pytest.raises(ValidationError, match="before 2150-01-01 under calendar 'sparse'"):
        sparse.add_working_one(late, 100 * NS_PER_MINUTE)
    with pytest.raises(ValidationError, match="at: expected an instant from 1900-01-01"):
        sparse.is_working_one(LATEST_NS)
    with pytest.raises(ValidationError, match="work: expected"):
        sparse.add_working_one(start, -1)
    # Not plain ints: the array forms read them, numpy integers included.
    assert sparse.working_ns_one(np.int64(start), start + 7 * NS_PER_DAY) == NS_PER_MINUTE
