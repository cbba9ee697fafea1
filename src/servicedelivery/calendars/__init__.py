"""Business calendars: working hours, holidays and time zones; working time and due dates in bulk.

A :class:`BusinessCalendar` answers, for whole ``int64`` ns arrays of instants, how much working
time lies between two instants and when a given amount of working time after an instant is done,
exactly across DST changes and holidays. A :class:`CalendarSet` picks each item's calendar through
a declared chain: the site's, else the region's, else a default.

This package imports only :mod:`servicedelivery.model` and :mod:`servicedelivery.errors`.
"""

from servicedelivery.calendars._calendar import BusinessCalendar
from servicedelivery.calendars._holidays import public_holidays
from servicedelivery.calendars._hours import Weekday, WorkingHours
from servicedelivery.calendars._instants import EARLIEST, LATEST
from servicedelivery.calendars._set import CalendarSet

__all__ = [
    "EARLIEST",
    "LATEST",
    "BusinessCalendar",
    "CalendarSet",
    "Weekday",
    "WorkingHours",
    "public_holidays",
]
