"""Working hours and calendars as definitions: checks with paths, data round trips, equality."""

from __future__ import annotations

import datetime as dt
import json
import pickle

import attrs
import pendulum
import pytest
from hypothesis import given

from servicedelivery.calendars import BusinessCalendar, Weekday, WorkingHours
from servicedelivery.errors import DefinitionError, ValidationError
from servicedelivery.model import NS_PER_HOUR
from servicedelivery.testing import business_calendars

NINE_TO_FIVE = (WorkingHours.parse("09:00-17:00"),)


def paths(error: ValidationError) -> list[str]:
    return [field.path for field in error.errors]


# --- working hours -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "start", "end", "overnight", "hours"),
    [
        ("09:00-17:30", dt.time(9), dt.time(17, 30), False, 8.5),
        ("22:00-06:00", dt.time(22), dt.time(6), True, 8),
        ("00:00-24:00", dt.time(0), dt.time(0), True, 24),
        ("07:00-07:00", dt.time(7), dt.time(7), True, 24),
        ("18:00-24:00", dt.time(18), dt.time(0), True, 6),
        ("08:00:30-08:00:45", dt.time(8, 0, 30), dt.time(8, 0, 45), False, 15 / 3600),
    ],
)
def test_working_hours_read_and_write(
    text: str, start: dt.time, end: dt.time, overnight: bool, hours: float
) -> None:
    shift = WorkingHours.parse(text)
    assert (shift.start, shift.end, shift.overnight) == (start, end, overnight)
    assert shift.nominal == dt.timedelta(hours=hours)
    assert shift.end_ns - shift.start_ns == round(hours * NS_PER_HOUR)
    assert WorkingHours.parse(str(shift)) == shift
    assert repr(shift) == f"WorkingHours.parse({str(shift)!r})"
    assert str(WorkingHours.parse("00:00-00:00")) == "00:00-24:00"


@pytest.mark.parametrize(
    "text",
    ["25:00-26:00", "9:00-17:00", "24:00-01:00", "09:00", "09:60-10:00", "09:00-17:00-18:00", 9],
)
def test_bad_working_hours_are_refused(text: object) -> None:
    with pytest.raises(ValidationError) as info:
        WorkingHours.parse(text)
    assert "expected working hours such as '09:00-17:30'" in str(info.value)


def test_working_hours_are_naive_whole_seconds() -> None:
    with pytest.raises(ValidationError) as info:
        WorkingHours(start=dt.time(9, tzinfo=dt.UTC), end=dt.time(9, 0, 0, 5))  # type: ignore[arg-type]
    assert paths(info.value) == ["start", "end"]


# --- calendars ---------------------------------------------------------------------------------------


def test_missing_weekdays_are_closed_and_hours_on_picks_the_days_hours() -> None:
    calendar = BusinessCalendar(
        name="c",
        timezone="Europe/Paris",
        hours={Weekday.MONDAY: NINE_TO_FIVE},
        holidays=[dt.date(2024, 6, 17)],
        exceptions={dt.date(2024, 6, 24): ()},
    )
    assert list(calendar.hours) == list(Weekday)
    assert calendar.hours[Weekday.SUNDAY] == ()
    assert calendar.holidays == (pendulum.Date(2024, 6, 17),)
    assert calendar.hours_on(dt.date(2024, 6, 10)) == NINE_TO_FIVE
    assert calendar.hours_on(dt.date(2024, 6, 17)) == ()
    assert calendar.hours_on(pendulum.Date(2024, 6, 24)) == ()
    assert calendar.hours_on(dt.date(2024, 6, 11)) == ()
    assert Weekday.of(dt.date(2024, 6, 10)) is Weekday.MONDAY


def test_every_problem_of_a_calendar_is_listed_with_its_path() -> None:
    with pytest.raises(DefinitionError) as info:
        BusinessCalendar(
            name="",
            timezone="Europe/Pariss",
            hours={
                Weekday.MONDAY: (
                    WorkingHours.parse("09:00-12:00"),
                    WorkingHours.parse("11:00-13:00"),
                ),
                Weekday.TUESDAY: (
                    WorkingHours.parse("13:00-14:00"),
                    WorkingHours.parse("09:00-10:00"),
                ),
                Weekday.WEDNESDAY: ("09:00-17:00",),  # type: ignore[dict-item]
            },
        )
    assert paths(info.value) == [
        "name",
        "timezone",
        "hours['monday'][1]",
        "hours['tuesday'][1]",
        "hours['wednesday'][0]",
    ]
    assert info.value.title == "invalid business calendar ''"
    assert "working hours that start after 09:00-12:00 ends" in str(info.value)


def test_night_shifts_may_not_run_into_the_next_days_hours() -> None:
    with pytest.raises(DefinitionError) as info:
        BusinessCalendar(
            name="c",
            timezone="UTC",
            hours={
                Weekday.MONDAY: (WorkingHours.parse("05:00-09:00"),),
                Weekday.TUESDAY: (WorkingHours.parse("22:00-06:00"),),
                Weekday.WEDNESDAY: (WorkingHours.parse("05:59-07:00"),),
                Weekday.SUNDAY: (WorkingHours.parse("20:00-05:30"),),
            },
        )
    # Each day against the next, Monday first; Sunday's night runs into Monday.
    assert paths(info.value) == ["hours['wednesday'][0]", "hours['monday'][0]"]
    assert "night shift 22:00-06:00 ends on tuesday" in str(info.value)
    # Touching is fine: Monday until midnight, Tuesday from midnight.
    BusinessCalendar(
        name="c",
        timezone="UTC",
        hours={
            Weekday.MONDAY: (WorkingHours.parse("18:00-24:00"),),
            Weekday.TUESDAY: (WorkingHours.parse("00:00-06:00"),),
        },
    )


def test_a_week_without_working_hours_is_refused() -> None:
    with pytest.raises(DefinitionError) as info:
        BusinessCalendar(name="c", timezone="UTC", hours={})
    assert paths(info.value) == ["hours"]
    assert "working hours on at least one day of the week" in str(info.value)


def test_exceptions_must_fit_their_neighbours() -> None:
    nights = {day: (WorkingHours.parse("22:00-06:00"),) for day in Weekday}
    with pytest.raises(DefinitionError) as info:
        BusinessCalendar(
            name="c",
            timezone="UTC",
            hours=nights,
            holidays=[dt.date(2024, 12, 25)],
            exceptions={
                dt.date(2024, 12, 24): (WorkingHours.parse("05:00-12:00"),),
                dt.date(2024, 12, 25): (),
                dt.date(2024, 12, 30): (WorkingHours.parse("20:00-23:00"),),
            },
        )
    assert paths(info.value) == ["exceptions['2024-12-25']"]
    assert "not also a holiday" in str(info.value)
    with pytest.raises(DefinitionError) as info:
        BusinessCalendar(
            name="c",
            timezone="UTC",
            hours=nights,
            exceptions={
                dt.date(2024, 12, 24): (WorkingHours.parse("05:00-12:00"),),
                dt.date(2024, 12, 30): (WorkingHours.parse("20:00-23:00"),),
            },
        )
    # The eve's night shift runs until 06:00, after the 24th's special hours start; the 30th's
    # special hours start after the 29th's night shift ends and stay within the day.
    assert paths(info.value) == ["exceptions['2024-12-24'][0]"]
    with pytest.raises(DefinitionError) as info:
        BusinessCalendar(
            name="c",
            timezone="UTC",
            hours={Weekday.TUESDAY: (WorkingHours.parse("01:00-02:00"),)},
            exceptions={dt.date(2024, 12, 23): (WorkingHours.parse("20:00-03:00"),)},
        )
    assert paths(info.value) == ["exceptions['2024-12-23'][0]"]
    assert "before 2024-12-24's first working hours (01:00-02:00) start" in str(info.value)


def test_fields_of_the_wrong_kind_are_reported() -> None:
    with pytest.raises(DefinitionError) as info:
        BusinessCalendar(
            name="c",
            timezone="UTC",
            hours={"monday": NINE_TO_FIVE},  # type: ignore[dict-item]
            holidays="2024-05-01",  # type: ignore[arg-type]
            exceptions=[],  # type: ignore[arg-type]
        )
    assert paths(info.value) == ["hours['monday']", "holidays", "exceptions"]


def test_equal_calendars_are_interchangeable() -> None:
    one = BusinessCalendar(
        name="c",
        timezone="UTC",
        hours={Weekday.MONDAY: NINE_TO_FIVE},
        holidays=[dt.date(2024, 5, 1)],
    )
    two = BusinessCalendar(
        name="c",
        timezone="UTC",
        hours={Weekday.MONDAY: NINE_TO_FIVE, Weekday.FRIDAY: ()},
        holidays=(pendulum.Date(2024, 5, 1), pendulum.Date(2024, 5, 1)),
    )
    assert one == two
    assert hash(one) == hash(two)
    assert one != attrs.evolve(one, timezone="Europe/Paris")
    with pytest.raises(DefinitionError):
        attrs.evolve(one, timezone="Mars/Olympus")


@given(business_calendars())
def test_calendars_round_trip_through_data_json_and_pickle(calendar: BusinessCalendar) -> None:
    data = calendar.to_data()
    assert BusinessCalendar.from_data(data) == calendar
    assert BusinessCalendar.from_json(json.dumps(data)) == calendar
    assert pickle.loads(pickle.dumps(calendar)) == calendar


def test_data_errors_are_all_listed_with_their_paths() -> None:
    with pytest.raises(DefinitionError) as info:
        BusinessCalendar.from_data(
            {
                "name": "",
                "hours": {
                    "monday": ["09:00-12:00", "25:00-26:00"],
                    "mondya": [],
                    "friday": "09:00",
                },
                "holidays": ["2024-05-01", "2024-13-01", "2024-05-08T00:00"],
                "exceptions": {"24 Dec": ["09:00-12:00"], "2024-12-31": ["9-12"]},
                "zone": "Europe/Paris",
            }
        )
    assert paths(info.value) == [
        "zone",
        "name",
        "timezone",
        "hours['monday'][1]",
        "hours['mondya']",
        "hours['friday']",
        "holidays[1]",
        "holidays[2]",
        "exceptions['24 Dec']",
        "exceptions['2024-12-31'][0]",
    ]
    assert info.value.title == "invalid business calendar"


def test_data_that_reads_but_contradicts_itself() -> None:
    with pytest.raises(DefinitionError) as info:
        BusinessCalendar.from_data(
            {"name": "c", "timezone": "UTC", "hours": {"monday": ["09:00-12:00", "11:00-13:00"]}}
        )
    assert paths(info.value) == ["hours['monday'][1]"]
    for bad in ("{", "[]"):
        with pytest.raises(DefinitionError):
            BusinessCalendar.from_json(bad)


def test_the_data_form() -> None:
    calendar = BusinessCalendar.from_data(
        {
            "name": "fr-paris",
            "timezone": "Europe/Paris",
            "hours": {"monday": ["09:00-12:30", "13:30-18:00"], "saturday": []},
            "holidays": ["2024-05-01"],
            "exceptions": {"2024-12-24": ["09:00-12:00"]},
        }
    )
    assert calendar.to_data() == {
        "name": "fr-paris",
        "timezone": "Europe/Paris",
        "hours": {
            "monday": ["09:00-12:30", "13:30-18:00"],
            "tuesday": [],
            "wednesday": [],
            "thursday": [],
            "friday": [],
            "saturday": [],
            "sunday": [],
        },
        "holidays": ["2024-05-01"],
        "exceptions": {"2024-12-24": ["09:00-12:00"]},
    }
