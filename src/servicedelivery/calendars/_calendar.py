"""Business calendars: when work counts, and the working time between instants, for whole arrays.

A :class:`BusinessCalendar` declares weekly working hours in a time zone, closed dates (holidays)
and dates with special hours (exceptions). Its operations take ``int64`` ns arrays and answer with
numpy only, from a :class:`~servicedelivery.calendars._timeline.Timeline` of the years they touch,
built on first use and kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, cast

import attrs
import numpy as np
import numpy.typing as npt
import pendulum

from servicedelivery.calendars._holidays import public_holidays
from servicedelivery.calendars._hours import WEEKDAYS, Weekday, WorkingHours
from servicedelivery.calendars._instants import (
    EARLIEST_NS,
    LATEST_NS,
    as_durations,
    as_instants,
    broadcast,
    invalid_positions,
    year_of,
)
from servicedelivery.calendars._reading import (
    read,
    read_dates,
    read_exceptions,
    read_json,
    read_week,
    unknown_keys,
)
from servicedelivery.calendars._timeline import (
    ScalarTimeline,
    Shift,
    Timeline,
    build_timeline,
    day_number,
)
from servicedelivery.errors import MISSING, DefinitionError, FieldError, ValidationError
from servicedelivery.model import NS_PER_DAY, from_epoch_ns, to_epoch_ns
from servicedelivery.model._validation import iana_timezone, identifier, to_date, to_tuple

__all__ = ["BusinessCalendar"]

_FIRST_YEAR = year_of(EARLIEST_NS)
_LAST_YEAR = year_of(LATEST_NS - 1)
_KEYS = ("name", "timezone", "hours", "holidays", "exceptions")

Hours = Mapping[Weekday, tuple[WorkingHours, ...]]


def _week(value: object) -> object:
    """Every weekday in order, closed ones with no hours; anything else is left for the checks."""
    if not isinstance(value, Mapping):
        return value
    days = {key: to_tuple(shifts) for key, shifts in value.items()}
    if all(isinstance(key, Weekday) for key in days):
        days = {day: days.get(day, ()) for day in WEEKDAYS}
    return MappingProxyType(days)


def _dates(value: object) -> object:
    """Distinct dates, sorted; anything else is left for the checks."""
    if not isinstance(value, (list, tuple, set, frozenset)):
        return value
    days = [to_date(day) for day in value]
    if all(_is_date(day) for day in days):
        return tuple(sorted(set(cast(list[pendulum.Date], days))))
    return tuple(days)


def _exceptions(value: object) -> object:
    """Dates in order with their hours; anything else is left for the checks."""
    if not isinstance(value, Mapping):
        return value
    days = {to_date(key): to_tuple(shifts) for key, shifts in value.items()}
    if all(_is_date(key) for key in days):
        days = dict(sorted(days.items()))
    return MappingProxyType(days)


def _is_date(value: object) -> bool:
    return isinstance(value, pendulum.Date) and not isinstance(value, dt.datetime)


def _mapping_repr(value: object) -> str:
    # Keys as their data form and closed weekdays left out: a calendar's repr stays readable.
    if not isinstance(value, Mapping):
        return repr(value)
    return repr({str(key): list(shifts) for key, shifts in value.items() if shifts != ()})


class _Cache:
    """The one mutable part of a calendar: the timeline laid out so far (replaced, never changed)."""

    __slots__ = ("timeline",)

    def __init__(self) -> None:
        self.timeline: Timeline | None = None


@attrs.frozen(kw_only=True)
class BusinessCalendar:
    """Working hours in a time zone, with holidays and special days; answers over numpy arrays.

    Each :class:`WorkingHours` belongs to the local date it starts on: a holiday closes the
    shifts that start on it (a night shift from the evening before still runs past midnight into
    it), and an exception replaces that date's weekly hours. Working time is measured over
    half-open intervals ``[start, end)`` and is exact to the nanosecond across DST changes; see
    the explanation page "Business time" for every definition.

    Attributes:
        name: The calendar's name, by which SLA definitions and calendar sets refer to it.
        timezone: The IANA zone whose wall clock the hours are read on.
        hours: Each weekday's working hours, in order; every weekday is present (closed days
            with no hours).
        holidays: Local dates on which no shift starts, sorted, without repeats.
        exceptions: Local dates whose hours replace the weekday's (no hours: closed), by date.
    """

    name: str
    timezone: str
    hours: Hours = attrs.field(converter=_week, hash=False, repr=_mapping_repr)
    holidays: tuple[pendulum.Date, ...] = attrs.field(default=(), converter=_dates)
    exceptions: Mapping[pendulum.Date, tuple[WorkingHours, ...]] = attrs.field(
        factory=dict, converter=_exceptions, hash=False, repr=_mapping_repr
    )
    _cache: _Cache = attrs.field(init=False, factory=_Cache, eq=False, hash=False, repr=False)

    def __attrs_post_init__(self) -> None:
        errors = list(self._problems())
        if errors:
            raise DefinitionError(errors, title=f"invalid business calendar {self.name!r}")

    def __reduce__(self) -> tuple[Any, ...]:
        # The mappings are read-only views, which do not pickle; rebuild from the fields instead.
        return (
            _restore,
            (self.name, self.timezone, dict(self.hours), self.holidays, dict(self.exceptions)),
        )

    # --- definition checks -------------------------------------------------------------------

    def _problems(self) -> Iterator[FieldError]:
        if (expected := identifier(self.name)) is not None:
            yield FieldError("name", self.name, expected)
        if (expected := iana_timezone(self.timezone)) is not None:
            yield FieldError("timezone", self.timezone, expected)
        week_problems = list(self._week_problems())
        yield from week_problems
        # Typed as objects: the constructor may have been handed anything.
        holidays: object = self.holidays
        holidays_ok = isinstance(holidays, tuple) and all(map(_is_date, holidays))
        if not holidays_ok:
            yield FieldError("holidays", holidays, "a collection of dates")
        exceptions: object = self.exceptions
        if not isinstance(exceptions, Mapping):
            yield FieldError("exceptions", exceptions, "a mapping of dates to WorkingHours")
            return
        exception_problems = []
        for day, shifts in exceptions.items():
            if not _is_date(day):
                exception_problems.append(FieldError(f"exceptions[{day!r}]", day, "a date"))
                continue
            path = f"exceptions[{day.isoformat()!r}]"
            exception_problems.extend(_day_problems(path, shifts))
            if holidays_ok and day in self.holidays:
                exception_problems.append(
                    FieldError(path, day, "a date that is not also a holiday (a holiday closes "
                               "the whole day; an exception gives the day its own hours)")
                )  # fmt: skip
        yield from exception_problems
        if not (week_problems or exception_problems or not holidays_ok):
            yield from self._exception_overlaps()

    def _week_problems(self) -> Iterator[FieldError]:
        hours: object = self.hours
        if not isinstance(hours, Mapping):
            yield FieldError("hours", hours, "a mapping of Weekday to WorkingHours")
            return
        problems: list[FieldError] = []
        for day, shifts in hours.items():
            if not isinstance(day, Weekday):
                problems.append(FieldError(f"hours[{day!r}]", day, "a Weekday"))
                continue
            problems.extend(_day_problems(f"hours[{day.value!r}]", shifts))
        yield from problems
        if problems:
            return
        if not any(self.hours.values()):
            yield FieldError("hours", {}, "working hours on at least one day of the week")
        for index, day in enumerate(WEEKDAYS):
            after = WEEKDAYS[(index + 1) % 7]
            clash = _spill_clash(self.hours[day], self.hours[after])
            if clash is not None:
                yield FieldError(
                    f"hours[{after.value!r}][0]", str(self.hours[after][0]), clash + f" on {day}"
                )

    def _exception_overlaps(self) -> Iterator[FieldError]:
        for day, shifts in self.exceptions.items():
            eve = day.subtract(days=1)
            clash = _spill_clash(self.hours_on(eve), shifts)
            if clash is not None:
                yield FieldError(
                    f"exceptions[{day.isoformat()!r}][0]", str(shifts[0]), f"{clash} on {eve}"
                )
            morrow = day.add(days=1)
            if morrow not in self.exceptions:
                clash = _spill_clash(shifts, self.hours_on(morrow))
                if clash is not None:
                    yield FieldError(
                        f"exceptions[{day.isoformat()!r}][{len(shifts) - 1}]",
                        str(shifts[-1]),
                        f"working hours that end before {morrow}'s first working hours "
                        f"({self.hours_on(morrow)[0]}) start",
                    )

    # --- construction --------------------------------------------------------------------------

    @classmethod
    def twenty_four_seven(cls, *, timezone: str = "UTC", name: str = "24x7") -> BusinessCalendar:
        """A calendar in which every instant is working time: working time is elapsed time."""
        whole_day = (WorkingHours(start=dt.time(0), end=dt.time(0)),)
        return cls(name=name, timezone=timezone, hours=dict.fromkeys(WEEKDAYS, whole_day))

    def with_public_holidays(
        self, country: str, *, years: Iterable[int], subdivision: str | None = None
    ) -> BusinessCalendar:
        """This calendar with a country's public holidays added (needs the ``holidays`` extra).

        Args:
            country: ISO 3166-1 alpha-2 code, such as ``"FR"``.
            years: The years to add holidays for.
            subdivision: A subdivision code the ``holidays`` package knows, or ``None``.

        Raises:
            OptionalDependencyError: The ``holidays`` package is not installed.
            ValidationError: The package does not know the country or the subdivision.
            DefinitionError: A new holiday falls on a date that has an exception.
        """
        found = public_holidays(country, years=years, subdivision=subdivision)
        return attrs.evolve(self, holidays=(*self.holidays, *found))

    def hours_on(self, day: dt.date) -> tuple[WorkingHours, ...]:
        """The working hours that start on a local date.

        They are the date's exception's if it has one, none on a holiday, else its weekday's.
        """
        date = cast(pendulum.Date, to_date(day))
        if date in self.exceptions:
            return self.exceptions[date]
        if date in self.holidays:
            return ()
        return self.hours[Weekday.of(day)]

    # --- array operations ----------------------------------------------------------------------

    def working_ns(self, start: npt.ArrayLike, end: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Working time in each half-open interval ``[start, end)``, 0 where ``end <= start``.

        Args:
            start: Instants, ``int64`` ns since the epoch.
            end: Instants, broadcastable with ``start``.

        Returns:
            ``int64`` ns of working time, in the broadcast shape.

        Raises:
            ValidationError: Not integers, shapes that do not broadcast, or instants outside
                1900-01-01 to 2150-01-01.
        """
        a, b = broadcast(start=as_instants(start, path="start"), end=as_instants(end, path="end"))
        shape, a, b = a.shape, a.ravel(), b.ravel()
        if not a.size:
            return np.zeros(shape, dtype=np.int64)
        timeline = self._timeline(min(a.min(), b.min()), max(a.max(), b.max()))
        # W never decreases, so W(b) - W(a) is the work in [a, b) and is 0 or less when b <= a.
        worked: npt.NDArray[np.int64] = np.maximum(timeline.worked(b) - timeline.worked(a), 0)
        return worked.reshape(shape)

    def add_working(self, start: npt.ArrayLike, work: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """The due instants: the earliest ``t >= start`` with ``working_ns(start, t) == work``.

        Unless ``work`` is 0 (then it is ``start``), the instant just before a due instant is
        working time: work that finishes exactly at a closing time is due at that closing time, not
        at the next opening (take :meth:`next_opening` of it for that).

        Args:
            start: Instants, ``int64`` ns since the epoch.
            work: Working time to add, ``int64`` ns >= 0, broadcastable with ``start``.

        Returns:
            ``int64`` ns since the epoch, in the broadcast shape.

        Raises:
            ValidationError: Bad input as for :meth:`working_ns`, negative work, or a due instant
                that would fall on or after 2150-01-01.
        """
        s, w = broadcast(
            start=as_instants(start, path="start"), work=as_durations(work, path="work")
        )
        shape, s, w = s.shape, s.ravel(), w.ravel()
        if not s.size:
            return np.zeros(shape, dtype=np.int64)
        idle = w == 0
        # Working time never exceeds the time elapsed: more than is left before 2150 is refused
        # at once (and the look-up below never adds past int64).
        expected = "working time that ends before 2150-01-01"
        self._require(w <= LATEST_NS - s, "work", w, shape, expected)

        def search(timeline: Timeline) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
            # With no work the answer is the start itself, wherever the look-up would point.
            due, found = timeline.reach(timeline.worked(s) + w)
            return np.where(idle, s, due), found | idle

        due, found = self._search_forward(search, s)
        self._require(found, "work", w, shape, expected)
        return due.reshape(shape)

    def is_working(self, at: npt.ArrayLike) -> npt.NDArray[np.bool_]:
        """Whether each instant is working time (an opening instant is, a closing one is not).

        Raises:
            ValidationError: Not integers, or instants outside 1900-01-01 to 2150-01-01.
        """
        t, shape = _flat_instants(at)
        if not t.size:
            return np.zeros(shape, dtype=bool)
        return self._timeline(t.min(), t.max()).is_working(t).reshape(shape)

    def next_opening(self, at: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """When working time next runs: ``at`` itself during working time, else the next opening.

        Formally the latest ``t >= at`` with no working time in ``[at, t)``.

        Raises:
            ValidationError: Bad input as for :meth:`is_working`, or no opening before 2150.
        """
        t, shape = _flat_instants(at)
        if not t.size:
            return np.zeros(shape, dtype=np.int64)
        opening, found = self._search_forward(lambda timeline: timeline.next_opening(t), t)
        self._require(found, "at", t, shape, "an instant with an opening after it before 2150")
        return opening.reshape(shape)

    def previous_closing(self, at: npt.ArrayLike) -> npt.NDArray[np.int64]:
        """Since when working time has not run: ``at`` itself, or the last closing before it.

        ``at`` itself when the instant just before it is working time. Formally the earliest
        ``t <= at`` with no working time in ``[t, at)``.

        Raises:
            ValidationError: Bad input as for :meth:`is_working`, or no closing since 1900.
        """
        t, shape = _flat_instants(at)
        if not t.size:
            return np.zeros(shape, dtype=np.int64)
        timeline = self._timeline(t.min(), t.max())
        closing, found = timeline.previous_closing(t)
        while not found.all() and timeline.first_year > _FIRST_YEAR - 1:
            span = timeline.last_year - timeline.first_year + 1
            first = max(timeline.first_year - span, _FIRST_YEAR - 1)
            timeline = self._laid_out(first, timeline.last_year)
            closing, found = timeline.previous_closing(t)
        self._require(
            found & (closing >= EARLIEST_NS),
            "at",
            t,
            shape,
            "an instant with working time before it since 1900",
        )
        return closing.reshape(shape)

    # --- scalar conveniences -------------------------------------------------------------------

    def working_time(self, start: dt.datetime, end: dt.datetime) -> pendulum.Duration:
        """Working time in ``[start, end)``, zero if ``end <= start``; see :meth:`working_ns`."""
        worked = self.working_ns(to_epoch_ns(start, path="start"), to_epoch_ns(end, path="end"))
        return pendulum.duration(microseconds=int(worked) // 1_000)

    def due(self, start: dt.datetime, work: dt.timedelta) -> pendulum.DateTime:
        """When ``work`` of working time after ``start`` is done, in the calendar's zone.

        See :meth:`add_working`.

        Raises:
            ValidationError: ``start`` is naive, or ``work`` is negative or not a timedelta.
        """
        if not isinstance(work, dt.timedelta):
            raise ValidationError.single("work", work, "a timedelta")
        work_ns = ((work.days * 86_400 + work.seconds) * 1_000_000 + work.microseconds) * 1_000
        due = self.add_working(to_epoch_ns(start, path="start"), work_ns)
        return from_epoch_ns(int(due), tz=self.timezone)

    def is_open(self, at: dt.datetime) -> bool:
        """Whether an instant is working time; see :meth:`is_working`."""
        return bool(self.is_working(to_epoch_ns(at, path="at")))

    # --- one instant at a time ----------------------------------------------------------------

    def working_ns_one(self, start: int, end: int) -> int:
        """:meth:`working_ns` of one interval, as an ``int``, without the fixed cost of numpy calls.

        The answer, and every error, is the array method's: instants the timeline laid out so far
        does not cover, and anything that is not a plain ``int``, go through it.
        """
        timeline = self._scalar()
        if (
            timeline is None
            or type(start) is not int
            or type(end) is not int
            or not (timeline.covers(start) and timeline.covers(end))
        ):
            return int(self.working_ns(start, end))
        return max(timeline.worked(end) - timeline.worked(start), 0)

    def add_working_one(self, start: int, work: int) -> int:
        """:meth:`add_working` of one instant and amount, as an ``int``; see :meth:`working_ns_one`."""
        timeline = self._scalar()
        if (
            timeline is None
            or type(start) is not int
            or type(work) is not int
            or not timeline.covers(start)
            or not 0 <= work <= LATEST_NS - start
        ):
            return int(self.add_working(start, work))
        if work == 0:
            return start
        due, found = timeline.reach(timeline.worked(start) + work)
        if not found or due >= LATEST_NS:  # later years to lay out, or an error to raise
            return int(self.add_working(start, work))
        return due

    def is_working_one(self, at: int) -> bool:
        """:meth:`is_working` of one instant, as a ``bool``; see :meth:`working_ns_one`."""
        timeline = self._scalar()
        if timeline is None or type(at) is not int or not timeline.covers(at):
            return bool(self.is_working(at))
        return timeline.is_working(at)

    def next_opening_one(self, at: int) -> int:
        """:meth:`next_opening` of one instant, as an ``int``; see :meth:`working_ns_one`."""
        timeline = self._scalar()
        if timeline is None or type(at) is not int or not timeline.covers(at):
            return int(self.next_opening(at))
        opening, found = timeline.next_opening(at)
        if not found or opening >= LATEST_NS:
            return int(self.next_opening(at))
        return opening

    # --- timelines -------------------------------------------------------------------------

    def _scalar(self) -> ScalarTimeline | None:
        """The timeline laid out so far, for one instant at a time (``None`` before the first)."""
        timeline = self._cache.timeline
        return None if timeline is None else timeline.scalar()

    def _timeline(self, low: int, high: int) -> Timeline:
        """A timeline that answers exactly for instants from ``low`` to ``high``."""
        first = max(year_of(int(low)) - 1, _FIRST_YEAR - 1)
        last = min(year_of(int(high)) + 1, _LAST_YEAR + 1)
        return self._laid_out(first, last)

    def _laid_out(self, first: int, last: int) -> Timeline:
        current = self._cache.timeline
        if current is not None:
            if current.first_year <= first and last <= current.last_year:
                return current
            first, last = min(first, current.first_year), max(last, current.last_year)
        week = [[(shift.start_ns, shift.end_ns) for shift in self.hours[day]] for day in WEEKDAYS]
        special: dict[int, list[Shift]] = {
            _day(date): [(shift.start_ns, shift.end_ns) for shift in shifts]
            for date, shifts in self.exceptions.items()
        }
        closed = np.array([_day(date) for date in self.holidays], dtype=np.int64)
        timeline = build_timeline(
            timezone=self.timezone,
            week=week,
            closed=closed,
            special=special,
            first_year=first,
            last_year=last,
        )
        self._cache.timeline = timeline
        return timeline

    def _search_forward(
        self,
        search: Callable[[Timeline], tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]],
        start: npt.NDArray[np.int64],
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
        """Run a search whose answers may lie in later years than ``start``, laying them out."""
        timeline = self._timeline(start.min(), start.max())
        result, found = search(timeline)
        # Each round doubles the years laid out, so a few rounds reach any answer there is.
        while not found.all() and timeline.last_year < _LAST_YEAR + 1:
            span = timeline.last_year - timeline.first_year + 1
            last = min(timeline.last_year + span, _LAST_YEAR + 1)
            timeline = self._laid_out(timeline.first_year, last)
            result, found = search(timeline)
        return result, found & (result < LATEST_NS)

    def _require(
        self,
        found: npt.NDArray[np.bool_],
        path: str,
        values: npt.NDArray[np.int64],
        shape: tuple[int, ...],
        expected: str,
    ) -> None:
        if not found.all():
            raise invalid_positions(
                path,
                values.reshape(shape),
                ~found.reshape(shape),
                f"{expected} under calendar {self.name!r}",
            )

    # --- data ------------------------------------------------------------------------------

    @classmethod
    def from_data(cls, data: object) -> BusinessCalendar:
        """Load a calendar from plain data (as parsed from JSON).

        The data is::

            {"name": "fr-paris", "timezone": "Europe/Paris",
             "hours": {"monday": ["09:00-12:30", "13:30-18:00"], "saturday": []},
             "holidays": ["2024-05-01"],
             "exceptions": {"2024-12-24": ["09:00-12:00"]}}

        A weekday left out of ``hours`` is closed. ``holidays`` and ``exceptions`` are optional.

        Raises:
            DefinitionError: Listing every problem with its path, such as ``hours['monday'][1]``.
        """
        if not isinstance(data, Mapping):
            raise DefinitionError.single("", data, "a mapping with 'name', 'timezone' and 'hours'")
        errors = unknown_keys(data, _KEYS)
        fields: dict[str, Any] = {}
        for key, check in (("name", identifier), ("timezone", iana_timezone)):
            value = data.get(key, MISSING)
            if (expected := check(value)) is None:
                fields[key] = value
            else:
                errors.append(FieldError(key, value, expected))
        fields["hours"] = read(errors, "hours", data.get("hours", MISSING), read_week)
        fields["holidays"] = read(errors, "holidays", data.get("holidays", []), read_dates)
        fields["exceptions"] = read(
            errors, "exceptions", data.get("exceptions", {}), read_exceptions
        )
        if errors:
            raise DefinitionError(errors, title="invalid business calendar")
        return cls(**fields)

    @classmethod
    def from_json(cls, text: str) -> BusinessCalendar:
        """Load a calendar from a JSON document; see :meth:`from_data`."""
        return cls.from_data(read_json(text))

    def to_data(self) -> dict[str, Any]:
        """The calendar as plain data that :meth:`from_data` reads back unchanged."""
        return {
            "name": self.name,
            "timezone": self.timezone,
            "hours": {day.value: [str(s) for s in shifts] for day, shifts in self.hours.items()},
            "holidays": [day.isoformat() for day in self.holidays],
            "exceptions": {
                day.isoformat(): [str(s) for s in shifts] for day, shifts in self.exceptions.items()
            },
        }


def _restore(
    name: str,
    timezone: str,
    hours: Hours,
    holidays: tuple[pendulum.Date, ...],
    exceptions: Mapping[pendulum.Date, tuple[WorkingHours, ...]],
) -> BusinessCalendar:
    return BusinessCalendar(
        name=name, timezone=timezone, hours=hours, holidays=holidays, exceptions=exceptions
    )


def _flat_instants(at: npt.ArrayLike) -> tuple[npt.NDArray[np.int64], tuple[int, ...]]:
    """The instants ``at`` checked and flattened, with the shape to give the answer."""
    t = as_instants(at, path="at")
    return t.ravel(), t.shape


def _day(date: dt.date) -> int:
    return day_number(date.year, date.month, date.day)


def _day_problems(path: str, shifts: object) -> Iterator[FieldError]:
    """What is wrong with one day's hours: not WorkingHours, or out of order, or overlapping."""
    if not isinstance(shifts, tuple):
        yield FieldError(path, shifts, "a tuple of WorkingHours")
        return
    for index, shift in enumerate(shifts):
        if not isinstance(shift, WorkingHours):
            yield FieldError(f"{path}[{index}]", shift, "a WorkingHours")
            return
    for index in range(1, len(shifts)):
        earlier, later = shifts[index - 1], shifts[index]
        if later.start_ns < earlier.end_ns:
            yield FieldError(
                f"{path}[{index}]",
                str(later),
                f"working hours that start after {earlier} ends: a day's hours are listed in "
                "order without overlaps, and only the last may run past midnight",
            )


def _spill_clash(day: tuple[WorkingHours, ...], after: tuple[WorkingHours, ...]) -> str | None:
    """Why the next day's first hours clash with a day's last hours running past midnight."""
    if not day or not after:
        return None
    last, first = day[-1], after[0]
    if last.end_ns > NS_PER_DAY + first.start_ns:
        return f"working hours that start after the night shift {last} ends"
    return None
