"""Calendar periods (days, ISO weeks, months) in a time zone, as instants.

A day in ``Europe/Paris`` runs from one local midnight to the next, so it lasts 23 or 25 hours when
the clocks change; weeks start on Monday (ISO 8601). Periods are half-open: ``[start, next start)``.
"""

from __future__ import annotations

from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pendulum

from servicedelivery.errors import ValidationError
from servicedelivery.metrics._options import check_choice
from servicedelivery.model import NS_PER_DAY, from_epoch_ns, to_epoch_ns

__all__ = ["FREQUENCIES", "Periods", "periods_covering"]

FREQUENCIES: tuple[str, ...] = ("day", "week", "month")


@attrs.frozen(eq=False)
class Periods:
    """Consecutive calendar periods.

    Attributes:
        freq: ``"day"``, ``"week"`` or ``"month"``.
        tz: The IANA zone whose calendar they follow.
        bounds: ``int64`` instants: the start of every period, then the end of the last one.
        labels: ``datetime64[D]``: the local date each period starts on.
    """

    freq: str
    tz: str
    bounds: npt.NDArray[np.int64]
    labels: npt.NDArray[np.datetime64]

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def starts(self) -> npt.NDArray[np.int64]:
        """``int64`` instant each period starts."""
        starts: npt.NDArray[np.int64] = self.bounds[:-1]
        return starts

    def index_of(self, instants: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The period each instant falls in; ``-1`` before the first, ``len(self)`` after the last."""
        index: npt.NDArray[np.int64] = np.searchsorted(self.bounds, instants, side="right") - 1
        return np.where(index >= len(self), len(self), index)


def _check_zone(tz: object) -> str:
    if isinstance(tz, str):
        try:
            pendulum.timezone(tz)
        except Exception:  # pendulum raises several kinds for a bad name
            pass
        else:
            return tz
    raise ValidationError.single("tz", tz, "an IANA time zone name such as 'Europe/Paris'")


def periods_covering(first: int, last: int, *, freq: str, tz: str) -> Periods:
    """The periods from the one holding ``first`` to the one holding ``last`` (both instants).

    One step per period, each computed by pendulum in the zone: the calendar decides where days,
    weeks and months begin, which no fixed arithmetic can do across daylight-saving changes.

    Raises:
        ValidationError: An unknown frequency or zone, or ``last`` before ``first``.
    """
    check_choice(freq, FREQUENCIES, path="freq")
    zone = _check_zone(tz)
    if last < first:
        raise ValidationError.single("last", last, f"an instant not before {first}")
    day = from_epoch_ns(first, tz=zone).date()
    if freq == "week":
        day = day.subtract(days=day.weekday())
    elif freq == "month":
        day = day.replace(day=1)
    labels: list[pendulum.Date] = []
    bounds: list[int] = []
    step: dict[str, Any] = {"day": {"days": 1}, "week": {"weeks": 1}, "month": {"months": 1}}[freq]
    while True:
        boundary = _local_midnight(day, zone)
        bounds.append(boundary)
        if boundary > last:
            break
        labels.append(day)
        day = day.add(**step)
    return Periods(
        freq=freq,
        tz=zone,
        bounds=np.array(bounds, dtype=np.int64),
        labels=np.array([label.isoformat() for label in labels], dtype="datetime64[D]"),
    )


def _local_midnight(day: pendulum.Date, zone: str) -> int:
    if zone == "UTC":
        return int(np.datetime64(day.isoformat(), "D").astype(np.int64)) * NS_PER_DAY
    return to_epoch_ns(pendulum.datetime(day.year, day.month, day.day, tz=zone))
