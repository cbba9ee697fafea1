"""How durations are counted: elapsed time, or working time under each item's business calendar.

Every metric that measures time turns half-open intervals ``[start, end)`` into nanoseconds here, so
that "cycle time in working hours" and "time blocked in working hours" mean the same thing
everywhere. With no calendar a duration is ``end - start``. With a
:class:`~servicedelivery.calendars.BusinessCalendar` it is the working time of the interval under
that calendar; with a :class:`~servicedelivery.calendars.CalendarSet`, under each item's own
calendar, picked by the set's chain from the item's ``site`` and ``region`` attributes (the last
value recorded for the item, as every per-item attribute is).
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.calendars import BusinessCalendar, CalendarSet
from servicedelivery.calendars._instants import invalid_positions
from servicedelivery.errors import ValidationError
from servicedelivery.metrics._frame import EventFrame

__all__ = ["CALENDAR_ATTRIBUTES", "Calendar", "TimeScale"]

Calendar = BusinessCalendar | CalendarSet
"""What a ``calendar=`` option takes: one calendar for every item, or a set that picks per item."""

CALENDAR_ATTRIBUTES: tuple[str, str] = ("site", "region")
"""The item attributes a calendar set's chain reads: the site's calendar, else the region's."""


@attrs.frozen(eq=False)
class TimeScale:
    """Durations in elapsed time, or in working time under a calendar per item.

    Build one with :meth:`of`; its operations take, per element, the code of the item it belongs to.

    Attributes:
        calendar: ``None`` for elapsed time, else the calendar or calendar set.
        item_calendar: With a set, each item's index into ``calendar.calendars``; else ``None``.
    """

    calendar: Calendar | None = None
    item_calendar: npt.NDArray[np.int32] | None = None

    @classmethod
    def of(cls, calendar: object, frame: EventFrame, *, path: str = "calendar") -> TimeScale:
        """The time scale a ``calendar=`` option asks for, resolved for the items of ``frame``.

        Raises:
            ValidationError: ``calendar`` is not ``None``, a calendar or a calendar set.
        """
        if calendar is None or isinstance(calendar, BusinessCalendar):
            return cls(calendar)
        if not isinstance(calendar, CalendarSet):
            raise ValidationError.single(
                path, calendar, "None (elapsed time), a BusinessCalendar or a CalendarSet"
            )
        return cls(calendar, item_calendars(calendar, frame))

    @property
    def working(self) -> bool:
        """Whether durations are working time."""
        return self.calendar is not None

    def describe(self) -> str:
        """How durations are counted, for titles: ``"working time (fr-paris)"``."""
        if self.calendar is None:
            return "elapsed time"
        if isinstance(self.calendar, BusinessCalendar):
            return f"working time ({self.calendar.name})"
        return "working time (each item's calendar)"

    def between(
        self,
        start: npt.NDArray[np.int64],
        end: npt.NDArray[np.int64],
        item: npt.NDArray[np.integer[Any]],
    ) -> npt.NDArray[np.int64]:
        """The duration of each half-open interval ``[start, end)`` of an item.

        Elapsed time is ``end - start``; working time is 0 where ``end <= start``.

        Args:
            start: Instants, ns since the epoch.
            end: Instants, the same length.
            item: The item code of each interval (reads its calendar from a set).
        """
        calendar = self.calendar
        if calendar is None:
            elapsed: npt.NDArray[np.int64] = end - start
            return elapsed
        if isinstance(calendar, BusinessCalendar):
            return calendar.working_ns(start, end)
        return calendar.working_ns(start, end, calendar=self._calendars_of(item))

    def after(
        self,
        start: npt.NDArray[np.int64],
        work: npt.NDArray[np.int64],
        item: npt.NDArray[np.integer[Any]],
    ) -> npt.NDArray[np.int64]:
        """The earliest instant ``t >= start`` with ``work`` of time in ``[start, t)``, per item.

        In elapsed time it is ``start + work``; in working time the calendar's due instant.

        Args:
            start: Instants, ns since the epoch.
            work: Durations >= 0, the same length.
            item: The item code of each element.

        Raises:
            ValidationError: An instant that ``int64`` ns cannot hold (after 2262-04-11) in
                elapsed time, or after 2150 under a calendar.
        """
        calendar = self.calendar
        if calendar is None:
            with np.errstate(over="ignore"):
                due: npt.NDArray[np.int64] = start + work
            wrapped = due < start  # work is never negative: a smaller sum went past int64
            if wrapped.any():
                raise invalid_positions(
                    "work", work, wrapped, "elapsed time that ends by 2262-04-11 (int64 ns)"
                )
            return due
        if isinstance(calendar, BusinessCalendar):
            return calendar.add_working(start, work)
        return calendar.add_working(start, work, calendar=self._calendars_of(item))

    def _calendars_of(self, item: npt.NDArray[np.integer[Any]]) -> npt.NDArray[np.int32]:
        assert self.item_calendar is not None, "a set's time scale is built by TimeScale.of"
        chosen: npt.NDArray[np.int32] = self.item_calendar[item]
        return chosen


def item_calendars(calendars: CalendarSet, frame: EventFrame) -> npt.NDArray[np.int32]:
    """Each item's index into ``calendars.calendars``: its site's, else its region's, else 0."""
    columns: dict[str, Any] = {}
    for link, name in zip(("site", "region"), CALENDAR_ATTRIBUTES, strict=True):
        column = frame.item_attributes.get(name)
        if column is not None:
            columns[f"{link}_codes"] = column.codes
            columns[f"{link}_names"] = column.categories.astype(str)
    if not columns:
        return np.zeros(frame.item_count, dtype=np.int32)
    return calendars.resolve_codes(**columns)
