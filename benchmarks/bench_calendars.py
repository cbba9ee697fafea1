"""Business calendars: working time and due dates for millions of intervals, against Python."""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
import pendulum

from benchmarks._harness import Result, best_of
from servicedelivery.calendars import BusinessCalendar
from servicedelivery.model import NS_PER_DAY, from_epoch_ns, to_epoch_ns

SEED = 20240331
FIRST = pendulum.datetime(2022, 1, 1, tz="Europe/Paris")
LAST = pendulum.datetime(2027, 1, 1, tz="Europe/Paris")


def office() -> BusinessCalendar:
    """Paris office hours with a lunch break and French public holidays, 2022-2027."""
    calendar = BusinessCalendar.from_data(
        {
            "name": "fr-paris",
            "timezone": "Europe/Paris",
            "hours": {
                day: ["09:00-12:30", "13:30-18:00"]
                for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
            },
            "exceptions": {"2024-12-24": ["09:00-12:00"], "2025-12-24": ["09:00-12:00"]},
        }
    )
    return calendar.with_public_holidays("FR", years=range(2022, 2028))


def intervals(count: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Seeded intervals starting anywhere in 2022-2026, lasting up to 30 days, a few reversed."""
    rng = np.random.default_rng(SEED)
    start = rng.integers(to_epoch_ns(FIRST), to_epoch_ns(LAST), size=count, dtype=np.int64)
    length = rng.integers(-NS_PER_DAY, 30 * NS_PER_DAY, size=count, dtype=np.int64)
    return start, start + length


def local_shifts(calendar: BusinessCalendar, day: pendulum.Date) -> list[tuple[int, int]]:
    """The shifts that start on a local date, as instants (pendulum resolves the zone's rules)."""
    zone = calendar.timezone
    shifts = []
    for shift in calendar.hours_on(day):
        ends_on = day.add(days=1) if shift.overnight else day
        opens = pendulum.datetime(day.year, day.month, day.day, tz=zone).at(
            shift.start.hour, shift.start.minute, shift.start.second
        )
        closes = pendulum.datetime(ends_on.year, ends_on.month, ends_on.day, tz=zone).at(
            shift.end.hour, shift.end.minute, shift.end.second
        )
        shifts.append((to_epoch_ns(opens), to_epoch_ns(closes)))
    return shifts


def python_working_ns(calendar: BusinessCalendar, start: int, end: int) -> int:
    """The per-interval way: walk the local days from the start's eve, clip each shift."""
    if end <= start:
        return 0
    day = from_epoch_ns(start, tz=calendar.timezone).date().subtract(days=1)
    last = from_epoch_ns(end, tz=calendar.timezone).date()
    total = 0
    while day <= last:
        for opens, closes in local_shifts(calendar, day):
            total += max(0, min(closes, end) - max(opens, start))
        day = day.add(days=1)
    return total


def python_due(calendar: BusinessCalendar, start: int, work: int) -> int:
    """The per-interval way: walk the local days from the start's eve until the work is done."""
    if work == 0:
        return start
    day = from_epoch_ns(start, tz=calendar.timezone).date().subtract(days=1)
    remaining = work
    while True:
        for opens, closes in local_shifts(calendar, day):
            available = closes - max(opens, start)
            if available > 0:
                if remaining <= available:
                    return max(opens, start) + remaining
                remaining -= available
        day = day.add(days=1)


def bisect_working_ns(
    timeline_start: list[int], timeline_end: list[int], before: list[int], start: int, end: int
) -> int:
    """The same algorithm as the library, one interval at a time: W(end) - W(start) by bisection."""

    def worked(at: int) -> int:
        i = max(bisect.bisect_right(timeline_start, at) - 1, 0)
        return before[i] + min(max(at - timeline_start[i], 0), timeline_end[i] - timeline_start[i])

    return max(worked(end) - worked(start), 0)


def run(*, quick: bool) -> list[Result]:
    count = 1_000_000 if quick else 10_000_000
    sample = 500 if quick else 2_000
    calendar = office()
    start, end = intervals(count)
    work = np.clip(end - start, 0, None) // 3

    began = time.perf_counter()
    BusinessCalendar.from_data(calendar.to_data()).working_ns(start[:1], end[:1])
    cold = time.perf_counter() - began

    fast = best_of(lambda: calendar.working_ns(start, end))
    due_fast = best_of(lambda: calendar.add_working(start, work))

    # The Python way, timed on a sample and scaled per interval; it must give the same answers.
    def per_interval(
        python: Callable[[BusinessCalendar, int, int], int],
        vectorized: Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64]], npt.NDArray[np.int64]],
        first: npt.NDArray[np.int64],
        second: npt.NDArray[np.int64],
    ) -> float:
        pairs = list(zip(first[:sample].tolist(), second[:sample].tolist(), strict=True))
        began = time.perf_counter()
        answers = [python(calendar, a, b) for a, b in pairs]
        seconds = (time.perf_counter() - began) / sample * count
        if answers != vectorized(first[:sample], second[:sample]).tolist():
            raise AssertionError(f"{python.__name__} disagrees with the library")
        return seconds

    slow = per_interval(python_working_ns, calendar.working_ns, start, end)
    slow_due = per_interval(python_due, calendar.add_working, start, work)

    # The library's own timeline, walked one interval at a time: what vectorizing alone gains.
    timeline = calendar._timeline(int(start.min()), int(end.max()))
    bounds = (timeline.start.tolist(), timeline.end.tolist(), timeline.before.tolist())
    a_list, b_list = start.tolist(), end.tolist()
    bisected = best_of(
        lambda: [bisect_working_ns(*bounds, a, b) for a, b in zip(a_list, b_list, strict=True)],
        repeat=1,
    )

    label = f"{count:,} intervals, Paris, 2 shifts a day, FR holidays"
    reference = f"Python per interval (pendulum, day by day; {sample:,} timed, scaled)"
    return [
        Result(
            f"working_ns over {label}",
            fast,
            items=count,
            unit="intervals",
            reference=reference,
            reference_seconds=slow,
            aim=">= 50x",
            extra={"first call (lays out 2021-2027)": f"{cold * 1e3:.0f} ms"},
        ),
        Result(
            f"working_ns over {label}",
            fast,
            items=count,
            unit="intervals",
            reference="the same timeline bisected per interval in Python (all of them)",
            reference_seconds=bisected,
        ),
        Result(
            f"add_working over {label}",
            due_fast,
            items=count,
            unit="intervals",
            reference=reference,
            reference_seconds=slow_due,
            aim=">= 50x",
        ),
    ]
