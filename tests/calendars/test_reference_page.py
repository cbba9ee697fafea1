"""The reference page names every public name, field and method of the package."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from servicedelivery import calendars
from servicedelivery.calendars import BusinessCalendar, CalendarSet, Weekday, WorkingHours

PAGE = (Path(__file__).resolve().parents[2] / "docs/reference/calendars.md").read_text(
    encoding="utf-8"
)


@pytest.mark.parametrize("name", calendars.__all__)
def test_every_public_name_has_a_section(name: str) -> None:
    assert re.search(rf"^## .*`{name}\b", PAGE, re.MULTILINE), name


@pytest.mark.parametrize("cls", [BusinessCalendar, CalendarSet, WorkingHours])
def test_every_public_member_is_described(cls: type) -> None:
    members = [name for name in dir(cls) if not name.startswith("_")]
    assert members
    for member in members:
        assert re.search(rf"`[^`]*\b{member}\b[^`]*`", PAGE), f"{cls.__name__}.{member}"


def test_every_weekday_is_listed() -> None:
    for day in Weekday:
        assert day.name in PAGE
