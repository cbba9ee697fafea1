"""The frame's one order: by item, then by time; ties keep the order they were recorded in."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["fill_forward", "item_time_order"]


def item_time_order(
    item: npt.NDArray[np.integer[Any]], time: npt.NDArray[np.int64]
) -> npt.NDArray[np.intp] | None:
    """The stable order by (item, time); ``None`` when the rows are already in it.

    Sorting by time first and then stably by item is a two-key stable sort: rows of one item end up
    by time, and rows with the same item and time keep their input order.
    """
    count = len(item)
    if not count:
        return None
    step = np.diff(item)
    if not ((step < 0).any() or ((step == 0) & (np.diff(time) < 0)).any()):
        return None
    # A log in time order, the usual case, needs no sort by time.
    by_time = None if (np.diff(time) >= 0).all() else np.argsort(time, kind="stable")
    keys = item if by_time is None else item[by_time]
    if int(keys.max()) < np.iinfo(np.int64).max // count:
        # A stable sort by item is a plain sort of (item, row) packed into one integer, which
        # numpy sorts many times faster than it argsorts stably; the row comes back as the rest.
        packed = np.sort(keys.astype(np.int64) * count + np.arange(count))
        by_item = packed % count
    else:
        by_item = np.argsort(keys, kind="stable")
    return by_item if by_time is None else by_time[by_item]


def fill_forward(
    values: npt.NDArray[Any],
    known: npt.NDArray[np.bool_],
    item: npt.NDArray[np.integer[Any]],
    *,
    default: Any,
) -> npt.NDArray[Any]:
    """Each row's value, or else the last known value of an earlier row of the same item.

    Rows must be sorted by item. A running maximum of the known rows' indexes finds, for every row,
    the last known row at or before it; that row counts only if it belongs to the same item.

    Args:
        values: One value per row.
        known: Whether each row's value is known.
        item: Item code per row, sorted.
        default: The value of rows with no known row before them in their item.
    """
    count = len(values)
    if not count:
        return values.copy()
    rows = np.arange(count)
    last_known = np.maximum.accumulate(np.where(known, rows, -1))
    first_of_item = np.zeros(count, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, item[1:] != item[:-1]])
    first_of_item[starts] = starts
    first_of_item = np.maximum.accumulate(first_of_item)
    filled: npt.NDArray[Any] = np.where(
        last_known >= first_of_item, values[np.maximum(last_known, 0)], default
    )
    return filled
