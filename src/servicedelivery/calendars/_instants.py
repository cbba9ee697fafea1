"""The arrays that calendar operations accept: instants and durations as ``int64`` ns, checked.

Every operation takes array-likes of integers, broadcasts them together, and refuses what it cannot
answer exactly with one :class:`~servicedelivery.errors.ValidationError` that names the first few
bad positions and counts the rest.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt

from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.model import to_epoch_ns

__all__ = [
    "EARLIEST",
    "EARLIEST_NS",
    "LATEST",
    "LATEST_NS",
    "as_durations",
    "as_instants",
    "broadcast",
    "invalid_positions",
    "year_of",
]

EARLIEST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
"""The earliest instant a calendar answers for."""
LATEST = dt.datetime(2150, 1, 1, tzinfo=dt.UTC)
"""The first instant past the range a calendar answers for (excluded)."""
EARLIEST_NS = to_epoch_ns(EARLIEST)
LATEST_NS = to_epoch_ns(LATEST)

_SHOWN = 5
_RANGE = f"an instant from {EARLIEST.date().isoformat()} to {LATEST.date().isoformat()} (excluded)"


def _as_int64(values: npt.ArrayLike, *, path: str, expected: str) -> npt.NDArray[np.int64]:
    array = np.asarray(values)
    # An empty list reads as float64; with nothing in it, it is as good as any integer array.
    if array.dtype.kind not in "iu" and array.size:
        raise ValidationError.single(
            path, f"an array of dtype {array.dtype}", f"{expected} as integers"
        )
    if array.dtype.kind == "u" and array.size and int(array.max()) > np.iinfo(np.int64).max:
        raise invalid_positions(path, array, array > np.iinfo(np.int64).max, expected)
    return array.astype(np.int64, copy=False)


def as_instants(values: npt.ArrayLike, *, path: str) -> npt.NDArray[np.int64]:
    """``values`` as ``int64`` ns since the epoch, each in the calendars' range.

    Raises:
        ValidationError: Not integers, or instants out of range (the first few are listed).
    """
    array = _as_int64(values, path=path, expected="instants in ns since the epoch")
    bad = (array < EARLIEST_NS) | (array >= LATEST_NS)
    if bad.any():
        raise invalid_positions(path, array, bad, _RANGE + ", in ns since the epoch")
    return array


def as_durations(values: npt.ArrayLike, *, path: str) -> npt.NDArray[np.int64]:
    """``values`` as ``int64`` ns, each >= 0.

    Raises:
        ValidationError: Not integers, or negative (the first few are listed).
    """
    array = _as_int64(values, path=path, expected="durations in ns")
    bad = array < 0
    if bad.any():
        raise invalid_positions(path, array, bad, "a duration >= 0 in ns")
    return array


def broadcast(**arrays: npt.NDArray[Any]) -> list[npt.NDArray[Any]]:
    """The arrays broadcast to one shape, in the order given.

    Raises:
        ValidationError: The shapes do not broadcast together.
    """
    try:
        return list(np.broadcast_arrays(*arrays.values()))
    except ValueError:
        shapes = {name: array.shape for name, array in arrays.items()}
        raise ValidationError.single(
            ", ".join(arrays), shapes, "arrays whose shapes broadcast together"
        ) from None


def invalid_positions(
    path: str, values: npt.NDArray[Any], bad: npt.NDArray[np.bool_], expected: str
) -> ValidationError:
    """An error naming the first few positions where ``bad`` holds, and how many there are."""
    positions = np.argwhere(bad)
    errors = [
        FieldError(
            # A single value (0-d) is named alone; an array's values by their position.
            f"{path}[{', '.join(str(int(i)) for i in position)}]" if len(position) else path,
            values[tuple(position)].item(),
            expected,
        )
        for position in positions[:_SHOWN]
    ]
    count = len(positions)
    title = None if count == 1 else f"{count} invalid values in {path}"
    if count > _SHOWN:
        title = f"{count} invalid values in {path} (the first {_SHOWN} shown)"
    return ValidationError(errors, title=title)


def year_of(ns: int) -> int:
    """The UTC year of an instant given in ns since the epoch."""
    return int(np.datetime64(ns, "ns").astype("datetime64[Y]").astype(np.int64)) + 1970
