"""Which calendar an SLA's clocks count in: none, one calendar of a set, or each item's own."""

from __future__ import annotations

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.errors import ValidationError
from servicedelivery.sla._definition import ITEM_CALENDAR, SLA

__all__ = ["clock_calendar"]


def clock_calendar(sla: SLA, calendars: object) -> BusinessCalendar | CalendarSet | None:
    """The calendar (or the set, for each item's own) that ``sla``'s clocks count working time in.

    Args:
        sla: The SLA.
        calendars: The ``calendars`` option: a ``CalendarSet``, one ``BusinessCalendar`` (a set of
            one), or ``None``.

    Returns:
        ``None`` for elapsed time, a calendar for every item, or the set to pick one per item.

    Raises:
        ValidationError: ``calendars`` is not a calendar, a set or ``None``; or the SLA counts
            working time and ``calendars`` does not hold the calendar it names.
    """
    given = calendars
    if given is not None and not isinstance(given, (BusinessCalendar, CalendarSet)):
        raise ValidationError.single(
            "calendars", given, "None, a BusinessCalendar or a CalendarSet"
        )
    name = sla.calendar
    if name is None:
        return None
    if given is None:
        raise ValidationError.single(
            "calendars",
            None,
            f"the calendars SLA {sla.name!r} counts working time in (its calendar is {name!r})",
        )
    if isinstance(given, BusinessCalendar):
        given = CalendarSet(default=given)
    if name == ITEM_CALENDAR:
        return given
    names = [calendar.name for calendar in given.calendars]
    if name not in names:
        raise ValidationError.single(
            "calendars",
            names,
            f"calendars that include {name!r}, the calendar of SLA {sla.name!r}",
        )
    return given[name]
