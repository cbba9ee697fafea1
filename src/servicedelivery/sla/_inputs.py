"""What both clock paths check first: the SLA, the frame and ``now``, and which calendar counts."""

from __future__ import annotations

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.metrics import EventFrame
from servicedelivery.metrics._options import as_instant
from servicedelivery.sla._definition import ITEM_CALENDAR, SLA

__all__ = ["clock_calendar", "clock_inputs"]


def clock_inputs(
    sla: object, frame: object, now: object, calendars: object
) -> tuple[SLA, EventFrame, int, BusinessCalendar | CalendarSet | None]:
    """The SLA, the frame, ``now`` in ns and the calendar to count in, once checked.

    Raises:
        ValidationError: ``sla`` or ``frame`` is not one; a bad ``now`` or ``calendars`` (see
            :func:`clock_calendar`); conditions that name reasons not in the frame's taxonomy or
            attributes the frame does not have, all listed.
    """
    if not isinstance(sla, SLA):
        raise ValidationError.single("sla", sla, "an SLA")
    if not isinstance(frame, EventFrame):
        raise ValidationError.single("frame", frame, "an EventFrame")
    at = as_instant(now, path="now")
    errors: list[FieldError] = []
    codes = frame.taxonomy.codes
    for role, condition in sla.conditions.items():
        errors.extend(
            FieldError(
                f"sla.{role}.reasons[{index}]",
                code,
                f"a reason code of the frame's taxonomy ({', '.join(codes)})",
            )
            for index, code in enumerate(condition.reasons)
            if code not in frame.taxonomy
        )
        errors.extend(
            FieldError(
                f"sla.{role}.attributes",
                name,
                f"an attribute the frame has ({', '.join(frame.attributes) or 'none'})",
            )
            for name in condition.attributes
            if name not in frame.attributes
        )
    if errors:
        raise ValidationError(errors)
    return sla, frame, at, clock_calendar(sla, calendars)


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
