"""Definitions from plain data: every problem collected with its path before anything is built.

The readers turn JSON-shaped data into the typed values a calendar is built from, and report all
that is wrong at once (``hours['monday'][1]``, ``holidays[3]``), as ``ValidationError`` whose
paths the caller places under its own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import pendulum

from servicedelivery.calendars._hours import WEEKDAYS, Weekday, WorkingHours
from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.model._definitions import read_json, unknown_keys

__all__ = [
    "read",
    "read_dates",
    "read_exceptions",
    "read_json",
    "read_week",
    "unknown_keys",
]

_WEEKDAY_NAMES = tuple(day.value for day in WEEKDAYS)


def read(
    errors: list[FieldError], path: str, value: object, reader: Callable[[object], Any]
) -> Any:
    """``reader(value)``, or ``None`` with its problems added to ``errors`` under ``path``."""
    try:
        return reader(value)
    except ValidationError as error:
        errors.extend(error.with_prefix(path).errors)
        return None


def _each(items: Iterable[tuple[str, Any]], read: Callable[[Any], Any]) -> list[Any]:
    """``read`` of every (path, item), or one error listing every item's problems at its path."""
    results: list[Any] = []
    errors: list[FieldError] = []
    for path, item in items:
        try:
            results.append(read(item))
        except ValidationError as error:
            errors.extend(error.with_prefix(path).errors)
    if errors:
        raise ValidationError(errors)
    return results


def _read_list(value: object, read: Callable[[Any], Any], expected: str) -> list[Any]:
    if not isinstance(value, list):
        raise ValidationError.single("", value, expected)
    return _each(((f"[{index}]", item) for index, item in enumerate(value)), read)


def _read_mapping(value: object, read: Callable[[Any], Any], expected: str) -> dict[Any, Any]:
    if not isinstance(value, Mapping):
        raise ValidationError.single("", value, expected)
    return dict(_each(((f"[{key!r}]", (key, item)) for key, item in value.items()), read))


def _read_hours(value: object) -> tuple[WorkingHours, ...]:
    expected = "a list of working hours such as '09:00-17:00'"
    return tuple(_read_list(value, WorkingHours.parse, expected))


def _read_day(item: tuple[object, object]) -> tuple[Weekday, tuple[WorkingHours, ...]]:
    name, shifts = item
    if name not in _WEEKDAY_NAMES:
        raise ValidationError.single("", name, f"a weekday name ({', '.join(_WEEKDAY_NAMES)})")
    return Weekday(name), _read_hours(shifts)


def read_week(value: object) -> dict[Weekday, tuple[WorkingHours, ...]]:
    return _read_mapping(value, _read_day, "a mapping of weekday names to working hours")


def _read_special_day(
    item: tuple[object, object],
) -> tuple[pendulum.Date, tuple[WorkingHours, ...]]:
    return _read_date(item[0]), _read_hours(item[1])


def read_exceptions(value: object) -> dict[pendulum.Date, tuple[WorkingHours, ...]]:
    return _read_mapping(value, _read_special_day, "a mapping of ISO 8601 dates to working hours")


def _read_date(value: object) -> pendulum.Date:
    if isinstance(value, str):
        try:
            day = dt.date.fromisoformat(value)
        except ValueError:
            pass
        else:
            if len(value) == 10:
                return pendulum.Date(day.year, day.month, day.day)
    raise ValidationError.single("", value, "an ISO 8601 date such as '2024-05-01'")


def read_dates(value: object) -> list[pendulum.Date]:
    return _read_list(value, _read_date, "a list of ISO 8601 dates")
