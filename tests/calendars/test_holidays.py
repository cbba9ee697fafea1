"""Public holidays from the optional ``holidays`` package, and what happens without it."""

from __future__ import annotations

import sys

import pendulum
import pytest

from servicedelivery.calendars import BusinessCalendar, Weekday, WorkingHours, public_holidays
from servicedelivery.errors import DefinitionError, OptionalDependencyError, ValidationError

OFFICE = BusinessCalendar(
    name="fr",
    timezone="Europe/Paris",
    hours=dict.fromkeys(list(Weekday)[:5], (WorkingHours.parse("09:00-17:00"),)),
)


def test_french_public_holidays_in_2024() -> None:
    assert public_holidays("FR", years=[2024]) == tuple(
        pendulum.Date(2024, month, day)
        for month, day in [
            (1, 1), (4, 1), (5, 1), (5, 8), (5, 9), (5, 20), (7, 14), (8, 15), (11, 1), (11, 11), (12, 25),
        ]
    )  # fmt: skip


def test_a_subdivision_adds_its_own() -> None:
    epiphany = pendulum.Date(2024, 1, 6)
    assert epiphany not in public_holidays("DE", years=[2024])
    assert epiphany in public_holidays("DE", years=[2024], subdivision="BY")


def test_a_calendar_with_public_holidays_does_not_count_them() -> None:
    calendar = OFFICE.with_public_holidays("FR", years=range(2024, 2026))
    assert len(calendar.holidays) == 22
    start = pendulum.datetime(2024, 4, 30, 9, tz="Europe/Paris")
    assert calendar.working_time(start, start.add(days=2)) == pendulum.duration(hours=8)
    # Adding the same holidays again changes nothing.
    assert calendar.with_public_holidays("FR", years=[2024]) == calendar


def test_a_holiday_on_a_date_with_special_hours_is_a_contradiction() -> None:
    special = BusinessCalendar(
        name="fr",
        timezone="Europe/Paris",
        hours=OFFICE.hours,
        exceptions={pendulum.Date(2024, 5, 1): (WorkingHours.parse("09:00-12:00"),)},
    )
    with pytest.raises(DefinitionError, match="not also a holiday"):
        special.with_public_holidays("FR", years=[2024])


def test_unknown_countries_subdivisions_and_years_are_refused() -> None:
    with pytest.raises(ValidationError) as info:
        public_holidays("XX", years=[2024, 1800, True])  # type: ignore[list-item]
    assert [error.path for error in info.value.errors] == ["country", "years[1]", "years[2]"]
    with pytest.raises(
        ValidationError, match=r"subdivision: expected a subdivision of DE \(BB, BE"
    ):
        public_holidays("DE", years=[2024], subdivision="ZZ")


def test_without_the_package_the_error_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "holidays", None)  # makes `import holidays` fail
    with pytest.raises(OptionalDependencyError) as info:
        OFFICE.with_public_holidays("FR", years=[2024])
    assert isinstance(info.value, ImportError)
    assert "pip install 'servicedelivery[holidays]'" in str(info.value)
