"""Reading a column of instants into ``int64`` nanoseconds since the epoch, UTC.

Accepted, per column: integers (already nanoseconds since the epoch), ISO 8601 text with a UTC offset
or ``Z`` (parsed without a Python loop per row), and timezone-aware ``datetime`` objects (pendulum,
pandas or the standard library). A value without an offset is naive and rejected: nobody can tell
which instant ``2024-03-31 02:30`` was.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import numpy.typing as npt

from servicedelivery.metrics._categorical import missing_mask
from servicedelivery.metrics._problems import RowProblems
from servicedelivery.model import NS_PER_SECOND, to_epoch_ns

__all__ = ["INSTANT_EXPECTED", "epoch_ns_column"]

INSTANT_EXPECTED = (
    "an instant with a UTC offset: ISO 8601 text such as '2024-03-31T09:00:00+02:00', "
    "an aware datetime, or int64 nanoseconds since the epoch"
)

_T, _SPACE, _COLON, _PLUS, _MINUS, _ZERO = (ord(c) for c in "T :+-0")
_NAT = np.iinfo(np.int64).min  # numpy's and pandas' "not a time"
_DATE_LENGTH = 10  # "YYYY-MM-DD", followed by "T" or " "


def epoch_ns_column(
    values: npt.NDArray[Any], *, column: str, problems: RowProblems
) -> npt.NDArray[np.int64]:
    """Nanoseconds since the epoch for every row; bad rows are recorded in ``problems`` (value 0).

    Args:
        values: The column, as given.
        column: Its name, for the error.
        problems: Where unusable rows are recorded.
    """
    kind = values.dtype.kind
    if kind in "iu":
        return _from_integers(values, column=column, problems=problems)
    if kind == "M":
        # numpy datetime64 carries no zone: the values are naive.
        problems.add(
            ~np.isnat(values),
            column=column,
            values=values.astype(str).astype(object),
            expected=INSTANT_EXPECTED + " (numpy datetime64 has no zone)",
        )
        problems.add(np.isnat(values), column=column, values=values, expected=INSTANT_EXPECTED)
        return np.zeros(len(values), dtype=np.int64)
    if kind in "US":
        return _from_text(values.astype(np.str_), column=column, problems=problems)
    if kind == "O":
        return _from_objects(values, column=column, problems=problems)
    problems.add(
        np.ones(len(values), dtype=np.bool_),
        column=column,
        values=values,
        expected=INSTANT_EXPECTED,
    )
    return np.zeros(len(values), dtype=np.int64)


def _from_integers(
    values: npt.NDArray[Any], *, column: str, problems: RowProblems
) -> npt.NDArray[np.int64]:
    if values.dtype.kind == "u":
        too_big = values > np.iinfo(np.int64).max
        problems.add(too_big, column=column, values=values, expected=INSTANT_EXPECTED)
        return np.where(too_big, 0, values).astype(np.int64)
    ns = values.astype(np.int64, copy=False)
    problems.add(ns == _NAT, column=column, values=values, expected=INSTANT_EXPECTED)
    return ns


def _from_objects(
    values: npt.NDArray[Any], *, column: str, problems: RowProblems
) -> npt.NDArray[np.int64]:
    result = np.zeros(len(values), dtype=np.int64)
    missing = missing_mask(values)
    is_text = np.frompyfunc(lambda value: isinstance(value, str), 1, 1)(values).astype(np.bool_)
    text = is_text & ~missing
    if text.any():
        rows = np.flatnonzero(text)
        result[rows] = _from_text(
            values[rows].astype(np.str_), column=column, problems=problems, rows=rows
        )
    other = np.flatnonzero(~is_text & ~missing)
    # Python objects (datetimes) can only be read one by one; they arrive as Python objects anyway.
    converted = [_object_ns(value) for value in values[other].tolist()]
    ok = np.array([ns is not None for ns in converted], dtype=np.bool_)
    result[other[ok]] = np.array([ns for ns in converted if ns is not None], dtype=np.int64)
    bad = np.zeros(len(values), dtype=np.bool_)
    bad[other[~ok]] = True
    problems.add(bad | missing, column=column, values=values, expected=INSTANT_EXPECTED)
    return result


def _object_ns(value: object) -> int | None:
    if isinstance(value, dt.datetime) and value.utcoffset() is not None:
        ns = to_epoch_ns(value)
        # pandas.Timestamp keeps nanoseconds that datetime arithmetic drops.
        extra = getattr(value, "nanosecond", 0)
        return ns + int(extra)
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    return None


def _from_text(
    values: npt.NDArray[np.str_],
    *,
    column: str,
    problems: RowProblems,
    rows: npt.NDArray[np.intp] | None = None,
) -> npt.NDArray[np.int64]:
    """Parse ISO 8601 text with an offset, all rows at once.

    The text is viewed as a matrix of code points (one row per value), so finding the offset, reading
    its digits and cutting it off are array operations; numpy then parses the remaining local date and
    time in C, and the offset is subtracted.
    """
    count = len(values)
    result = np.zeros(count, dtype=np.int64)
    if count == 0:
        return result
    width = values.dtype.itemsize // 4
    points = np.ascontiguousarray(values).view(np.uint32).reshape(count, width)
    length = np.count_nonzero(points, axis=1)
    missing = length == 0
    problems.add(missing, column=column, values=values, expected=INSTANT_EXPECTED, rows=rows)
    if width <= _DATE_LENGTH:
        problems.add(~missing, column=column, values=values, expected=INSTANT_EXPECTED, rows=rows)
        return result
    index = np.arange(count)
    last = points[index, np.maximum(length - 1, 0)]
    zulu = (last == ord("Z")) | (last == ord("z"))
    # The offset's sign is the last + or - after the date (whose own dashes sit before position 10).
    signs = (points == _PLUS) | (points == _MINUS)
    signs[:, : _DATE_LENGTH + 1] = False
    has_sign = signs.any(axis=1) & ~zulu
    sign_at = width - 1 - np.argmax(signs[:, ::-1], axis=1)
    offset_length = np.where(has_sign, length - sign_at - 1, 0)
    separator = points[:, _DATE_LENGTH]
    well_formed = (separator == _T) | (separator == _SPACE)

    digits = points.astype(np.int64) - _ZERO
    is_digit = (digits >= 0) & (digits <= 9)

    def at(matrix: npt.NDArray[Any], column_index: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
        picked: npt.NDArray[Any] = matrix[index, np.clip(column_index, 0, width - 1)]
        return picked

    # Offsets come as +HH:MM, +HHMM or +HH.
    start = sign_at + 1
    colon = offset_length == 5
    minutes_at = np.where(colon, start + 3, start + 2)
    with_minutes = offset_length != 2
    hours = at(digits, start) * 10 + at(digits, start + 1)
    minutes = np.where(with_minutes, at(digits, minutes_at) * 10 + at(digits, minutes_at + 1), 0)
    offset_ok = (
        has_sign
        & np.isin(offset_length, (2, 4, 5))
        & at(is_digit, start)
        & at(is_digit, start + 1)
        & (~colon | (at(points, start + 2) == _COLON))
        & (~with_minutes | (at(is_digit, minutes_at) & at(is_digit, minutes_at + 1)))
        & (hours <= 23)
        & (minutes <= 59)
    )
    naive = ~missing & ~zulu & ~has_sign & well_formed
    bad_offset = ~missing & has_sign & ~offset_ok
    malformed = ~missing & ~naive & ~well_formed
    problems.add(
        naive,
        column=column,
        values=values,
        expected=INSTANT_EXPECTED + " (this one has no offset)",
        rows=rows,
    )
    problems.add(
        bad_offset | malformed,
        column=column,
        values=values,
        expected=INSTANT_EXPECTED,
        rows=rows,
    )
    usable = well_formed & (zulu | offset_ok) & ~missing
    cut = np.where(zulu, length - 1, sign_at)
    local_points = points.copy()
    local_points[np.arange(width)[None, :] >= cut[:, None]] = 0
    local_points[~usable] = 0
    local = local_points.view(f"<U{width}").reshape(count)
    parsed, unparsed = _parse_local(local, usable)
    problems.add(unparsed, column=column, values=values, expected=INSTANT_EXPECTED, rows=rows)
    sign = np.where(points[index, sign_at] == _MINUS, -1, 1)
    offset_seconds = np.where(has_sign, sign * (hours * 3600 + minutes * 60), 0)
    result = np.where(usable & ~unparsed, parsed - offset_seconds * NS_PER_SECOND, 0)
    return result.astype(np.int64)


def _parse_local(
    local: npt.NDArray[np.str_], usable: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]:
    """Parse local date-times with numpy; return nanoseconds and which usable rows did not parse."""
    unparsed = np.zeros(len(local), dtype=np.bool_)
    # Rows already rejected were blanked, and numpy reads a blank as NaT.
    try:
        parsed = local.astype("datetime64[ns]")
    except ValueError:
        # Only on bad input: find the culprits among the distinct values.
        distinct, inverse = np.unique(local, return_inverse=True)
        ok = np.ones(len(distinct), dtype=np.bool_)
        for slot, text in enumerate(distinct.tolist()):
            try:
                np.datetime64(text, "ns")
            except ValueError:
                ok[slot] = False
        unparsed = ~ok[inverse.reshape(-1)]
        cleaned = np.where(unparsed, "", local)
        parsed = cleaned.astype("datetime64[ns]")
    unparsed |= usable & np.isnat(parsed)
    return parsed.view(np.int64), unparsed
