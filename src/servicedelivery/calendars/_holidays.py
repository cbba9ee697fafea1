"""Public holidays from the optional ``holidays`` package, as plain dates.

The package is imported only when asked for, so the rest of the library works without it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import cast

import pendulum

from servicedelivery.errors import FieldError, OptionalDependencyError, ValidationError

__all__ = ["public_holidays"]


def public_holidays(
    country: str, *, years: Iterable[int], subdivision: str | None = None
) -> tuple[pendulum.Date, ...]:
    """The public holidays of a country (or one of its subdivisions) in some years, sorted.

    Dates come from the ``holidays`` package (install the ``holidays`` extra), with its defaults:
    observed days included.

    Args:
        country: ISO 3166-1 alpha-2 code, such as ``"FR"``.
        years: The years wanted, such as ``range(2024, 2027)``.
        subdivision: A state, province or region code the package knows, such as ``"BY"`` for
            Bavaria in ``"DE"``; ``None`` for the national holidays.

    Raises:
        OptionalDependencyError: The ``holidays`` package is not installed.
        ValidationError: The package does not know the country or subdivision, or a year is bad.
    """
    try:
        import holidays  # noqa: PLC0415 - an optional package, imported when used
    except ImportError:
        raise OptionalDependencyError(
            "holidays", extra="holidays", purpose="public holidays"
        ) from None
    wanted: list[object] = list(years)
    supported = holidays.list_supported_countries()
    errors: list[FieldError] = []
    if country not in supported:
        errors.append(
            FieldError("country", country, "an ISO 3166-1 alpha-2 code the holidays package knows")
        )
    elif subdivision is not None and subdivision not in supported[country]:
        known = ", ".join(supported[country]) or "none"
        errors.append(
            FieldError("subdivision", subdivision, f"a subdivision of {country} ({known})")
        )
    errors.extend(
        FieldError(f"years[{index}]", year, "a year from 1900 to 2149")
        for index, year in enumerate(wanted)
        if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2149
    )
    if errors:
        raise ValidationError(errors, title="cannot look up public holidays")
    found = holidays.country_holidays(country, subdiv=subdivision, years=cast(list[int], wanted))
    return tuple(sorted(pendulum.Date(day.year, day.month, day.day) for day in found))
