"""Field checks for frozen attrs classes that report every bad field at once.

attrs runs validators one by one and stops at the first failure. A user fixing a payload wants the
whole list, so instead each field carries a *check* in its metadata (a function that returns what was
expected when the value is bad, else ``None``), and :class:`Validated` runs all of them, plus the
class's checks across fields, after ``__init__`` and after every ``attrs.evolve``.
"""

from __future__ import annotations

import datetime as _dt
import re
import zoneinfo
from collections.abc import Callable, Iterable
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any, cast

import attrs
import pendulum

from servicedelivery.errors import FieldError, ValidationError

Check = Callable[[Any], str | None]
"""Return what was expected when the value is bad, else ``None``."""

_SLUG = re.compile(r"[a-z][a-z0-9_]*")
_MAX_ID_LENGTH = 200


class Validated:
    """Mixin for attrs classes whose fields carry checks; runs them all after ``__init__``."""

    __slots__ = ()

    def __attrs_post_init__(self) -> None:
        errors = [
            FieldError(field.name, value, expected)
            for field, check in _checks_of(self)
            if (expected := check(value := getattr(self, field.name))) is not None
        ]
        # Checks across fields only make sense once every field is individually sound.
        if not errors:
            errors.extend(self._check_together())
        if errors:
            raise ValidationError(errors, title=f"invalid {type(self).__name__}")

    def _check_together(self) -> Iterable[FieldError]:
        """Yield errors that involve several fields; the fields each passed their own checks."""
        return ()


_CHECKS: dict[type, tuple[tuple[attrs.Attribute[Any], Check], ...]] = {}


def _checks_of(instance: object) -> tuple[tuple[attrs.Attribute[Any], Check], ...]:
    # Looked up once per class: validation runs on every construction and every evolve.
    cls = type(instance)
    checks = _CHECKS.get(cls)
    if checks is None:
        checks = tuple(
            (field, field.metadata["check"])
            for field in attrs.fields(cast(Any, cls))
            if "check" in field.metadata
        )
        _CHECKS[cls] = checks
    return checks


def checked(check: Check, **kwargs: Any) -> Any:
    """An ``attrs.field`` whose value :class:`Validated` checks with ``check``."""
    metadata = dict(kwargs.pop("metadata", {}))
    metadata["check"] = check
    return attrs.field(metadata=metadata, **kwargs)


def identifier(value: object) -> str | None:
    """An id: a non-empty string without surrounding whitespace, at most 200 characters."""
    if isinstance(value, str) and value and value == value.strip() and len(value) <= _MAX_ID_LENGTH:
        return None
    return "a non-empty string without surrounding whitespace, at most 200 characters"


def text(value: object) -> str | None:
    """Free text: any string, possibly empty."""
    return None if isinstance(value, str) else "a string"


def label(value: object) -> str | None:
    """A label for people: a string with at least one non-blank character."""
    return None if isinstance(value, str) and value.strip() else "a non-blank string"


def slug(value: object) -> str | None:
    """A code: lowercase letters, digits and underscores, starting with a letter."""
    if isinstance(value, str) and _SLUG.fullmatch(value):
        return None
    return "a code of lowercase letters, digits and underscores, starting with a letter"


def member_of(enum: type[Enum]) -> Check:
    """A member of ``enum`` (not its value: strings are converted at the data boundary)."""
    expected = f"a {enum.__name__} (one of {', '.join(repr(m.value) for m in enum)})"

    def check(value: object) -> str | None:
        return None if isinstance(value, enum) else expected

    return check


def instance_of(cls: type, *, name: str | None = None) -> Check:
    """An instance of ``cls``."""
    expected = f"a {name or cls.__name__}"

    def check(value: object) -> str | None:
        return None if isinstance(value, cls) else expected

    return check


def optional(check: Check) -> Check:
    """``None``, or a value that passes ``check``."""

    def optional_check(value: object) -> str | None:
        if value is None:
            return None
        expected = check(value)
        return None if expected is None else f"None or {expected}"

    return optional_check


def tuple_of(check: Check, *, unique: bool = False) -> Check:
    """A tuple whose items all pass ``check`` (and are distinct, if ``unique``)."""

    def tuple_check(value: object) -> str | None:
        if not isinstance(value, tuple):
            return "a tuple"
        for item in value:
            expected = check(item)
            if expected is not None:
                return f"a tuple of {expected}"
        if unique and len(set(value)) != len(value):
            return "a tuple without repeated items"
        return None

    return tuple_check


def non_negative_int(value: object) -> str | None:
    """An integer >= 0 (``bool`` is not an integer here)."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return "an integer >= 0"


def aware_datetime(value: object) -> str | None:
    """A timezone-aware ``pendulum.DateTime``."""
    if isinstance(value, pendulum.DateTime) and value.utcoffset() is not None:
        return None
    return "a timezone-aware datetime"


def date(value: object) -> str | None:
    """A calendar date (``pendulum.Date``), not a datetime."""
    if isinstance(value, pendulum.Date) and not isinstance(value, pendulum.DateTime):
        return None
    return "a date"


def finite_decimal(value: object) -> str | None:
    """A finite ``Decimal``."""
    if isinstance(value, Decimal) and value.is_finite():
        return None
    return "a finite Decimal"


def iana_timezone(value: object) -> str | None:
    """The name of an IANA time zone, such as ``"Europe/Paris"``."""
    if isinstance(value, str) and _is_timezone(value):
        return None
    return "an IANA time zone name such as 'Europe/Paris'"


@cache
def _is_timezone(name: str) -> bool:
    if not name or name != name.strip():
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe", too long
        return False
    return True


def to_instant(value: object) -> object:
    """Normalize an aware datetime to a ``pendulum.DateTime`` at the UTC offset then in effect.

    Entities hold instants. A named zone is presentation (a site's zone says how to show and count
    local time), and keeping it would make equality depend on it: Python compares a wall time that
    falls in a DST fold unequal to the same instant in any other zone. A fixed offset is exactly what
    ISO 8601 carries, so entities also round-trip through data unchanged.

    A naive datetime, or anything else, is returned as is for the field's check to report.
    """
    if not isinstance(value, _dt.datetime):
        return value
    offset = value.utcoffset()
    if offset is None:
        return value
    if isinstance(value, pendulum.DateTime) and isinstance(value.tzinfo, pendulum.FixedTimezone):
        return value
    if offset.microseconds:  # pragma: no cover - no zone has such offsets; keep the general path
        fixed = value.astimezone(pendulum.FixedTimezone(int(offset.total_seconds())))
        return pendulum.instance(fixed)
    # At the offset in effect the wall time is unchanged, so the fields are the value's own (with
    # ``fold`` resolved by ``utcoffset`` above). Built directly: ``astimezone`` followed by
    # ``pendulum.instance`` costs ten times more, and every entity and event goes through here.
    return pendulum.DateTime(
        value.year,
        value.month,
        value.day,
        value.hour,
        value.minute,
        value.second,
        value.microsecond,
        tzinfo=_fixed_zone(offset.days * 86_400 + offset.seconds),
    )


@cache
def _fixed_zone(seconds: int) -> pendulum.FixedTimezone:
    return pendulum.FixedTimezone(seconds)


def to_date(value: object) -> object:
    """Convert a stdlib ``date`` to ``pendulum.Date``; leave anything else as is."""
    if isinstance(value, _dt.date) and not isinstance(value, (_dt.datetime, pendulum.Date)):
        return pendulum.Date(value.year, value.month, value.day)
    return value


def to_tuple(value: object) -> object:
    """Convert a list to a tuple so that frozen classes hold immutable sequences."""
    return tuple(value) if isinstance(value, list) else value
