"""Summaries grouped by attributes, with drill-through from every group to its items.

A summary describes one value per item and group: the item's duration for an :class:`ItemDurations`
(cycle time, lead time, age), the item's total time for a :class:`StateDurations` (its rows in the
group added up), or the item's number of events for an :class:`EventFrame`. Each group gets the count
of items, the mean, the minimum, chosen percentiles (nearest rank, so each is a value some item had)
and the maximum.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import FieldError, ValidationError
from servicedelivery.metrics._categorical import Categorical
from servicedelivery.metrics._durations import ItemDurations
from servicedelivery.metrics._frame import EventFrame
from servicedelivery.metrics._percentiles import GroupedValues, check_percentiles, nearest_rank
from servicedelivery.metrics._reading import OWNER_NAMES, STATE_NAMES
from servicedelivery.metrics._table import NONE_NS, Column, Kind, Tabular, format_duration
from servicedelivery.metrics._time_in_state import StateDurations

__all__ = [
    "DEFAULT_BY",
    "DEFAULT_PERCENTILES",
    "ServiceLevelExpectation",
    "Summary",
    "service_level_expectation",
    "summarize",
]

DEFAULT_BY: tuple[str, ...] = ("provider", "region", "step")
DEFAULT_PERCENTILES: tuple[float, ...] = (50, 85, 95)

Summarized = ItemDurations | StateDurations | EventFrame


@attrs.frozen(eq=False, repr=False)
class Summary(Tabular):
    """Counts, mean, minimum, percentiles and maximum per group, with the items of every group.

    Attributes:
        metric: What was summarized (``"cycle time"``, ``"events per item"``, ...).
        source: The result or frame that was summarized.
        by: The grouping names, in order.
        keys: Per grouping name, each group's value as a :class:`Categorical` (``-1``: none).
        count: ``int64`` items per group.
        mean: ``float64`` mean per group (ns for durations).
        minimum: Smallest value per group.
        percentiles: Per percentile, the value per group (nearest rank).
        maximum: Largest value per group.
        group: ``int64`` group of each summarized (item, group) value.
        item: ``int32`` item code of each summarized value.
        value: The summarized values (``int64`` ns for durations).
        durations: Whether the values are durations (else counts).
    """

    metric: str
    source: Summarized
    by: tuple[str, ...]
    keys: dict[str, Categorical]
    count: npt.NDArray[np.int64]
    mean: npt.NDArray[np.float64]
    minimum: npt.NDArray[np.int64]
    percentiles: dict[float, npt.NDArray[np.int64]]
    maximum: npt.NDArray[np.int64]
    group: npt.NDArray[np.int64]
    item: npt.NDArray[np.int32]
    value: npt.NDArray[np.int64]
    durations: bool

    def __len__(self) -> int:
        return len(self.count)

    @property
    def frame(self) -> EventFrame:
        """The frame behind the summary."""
        return self.source if isinstance(self.source, EventFrame) else self.source.frame

    def items(self, index: int) -> npt.NDArray[Any]:
        """Drill-through: the ids of the items in group ``index``, in item order.

        Each item's events are then ``summary.frame.evidence(item_id)``.
        """
        if not 0 <= index < len(self):
            raise ValidationError.single("index", index, f"a group index from 0 to {len(self) - 1}")
        ids: npt.NDArray[Any] = self.frame.items[np.sort(self.item[self.group == index])]
        return ids

    def find(self, labels: Mapping[str, object]) -> int:
        """The index of the group with these labels (every grouping name given once).

        Raises:
            ValidationError: A name that is not a grouping name, a missing one, or no such group.
        """
        if set(labels) != set(self.by):
            raise ValidationError.single("labels", dict(labels), f"a value for each of {self.by}")
        match = np.ones(len(self), dtype=np.bool_)
        for name in self.by:
            match &= self.keys[name].labels() == np.array(labels[name], dtype=object)
        found = np.flatnonzero(match)
        if not len(found):
            raise ValidationError.single("labels", dict(labels), "the labels of a group")
        return int(found[0])

    def _title(self) -> str:
        by = " x ".join(self.by) if self.by else "everything"
        return f"{self.metric.capitalize()} by {by}: {len(self):,} groups"

    def _columns(self) -> list[Column]:
        kind = Kind.DURATION if self.durations else Kind.PLAIN
        mean = self.mean
        if self.durations:
            # Durations show as timedeltas, so the mean is rounded to the nanosecond.
            mean_values = np.where(np.isnan(mean), NONE_NS, np.rint(np.nan_to_num(mean)))
            mean_column = Column("mean", mean_values.astype(np.int64), kind)
        else:
            mean_column = Column("mean", mean)
        return [
            *(Column(name, self.keys[name].labels()) for name in self.by),
            Column("count", self.count),
            mean_column,
            Column("min", self.minimum, kind),
            *(Column(f"p{q:g}", values, kind) for q, values in self.percentiles.items()),
            Column("max", self.maximum, kind),
        ]


def _key_column(name: str, source: Summarized, items: npt.NDArray[np.int32]) -> Categorical | str:
    """The grouping column ``name`` for each summarized row, or what was expected instead."""
    frame = source if isinstance(source, EventFrame) else source.frame
    if name in frame.item_attributes:
        return frame.item_attributes[name].take(items)
    if isinstance(source, EventFrame) or name not in ("state", "owner", "reason"):
        known = [*frame.attributes]
        if not isinstance(source, EventFrame):
            known += ["state", "owner", "reason"]
        return f"an attribute of the frame or a column of the result ({', '.join(known)})"
    if isinstance(source, StateDurations) and name != "state" and name not in source.split:
        return f"a split of the time in state (call time_in_state(..., by=[{name!r}]))"
    categories = {
        "state": STATE_NAMES,
        "owner": OWNER_NAMES,
        "reason": frame.taxonomy.codes,
    }[name]
    codes = getattr(source, name)
    return Categorical(codes.astype(np.int32), np.array(categories, dtype=object))


def _factorize(
    columns: Sequence[Categorical], rows: int
) -> tuple[npt.NDArray[np.int64], int, list[npt.NDArray[np.int32]]]:
    """Number the distinct combinations of the columns' codes, in code order.

    Returns:
        The group of each row, how many groups, and each column's code per group.
    """
    radices = [len(column.categories) + 1 for column in columns]
    space = int(np.prod(radices, dtype=object)) if radices else 1
    if space >= 2**62:
        stacked = np.stack([column.codes for column in columns], axis=1)
        rows_unique, inverse = np.unique(stacked, axis=0, return_inverse=True)
        return (
            inverse.reshape(-1).astype(np.int64),
            len(rows_unique),
            [rows_unique[:, i].astype(np.int32) for i in range(len(columns))],
        )
    # Mixed-radix number of the codes (shifted by one so that -1, "none", is digit 0), in the
    # narrowest integers that hold it: the arithmetic runs over every row.
    dtype = np.int32 if space < 2**31 else np.int64
    combined: npt.NDArray[Any] = np.zeros(rows, dtype=dtype)
    for column, radix in zip(columns, radices, strict=True):
        combined = combined * radix + (column.codes.astype(dtype) + 1)
    if space <= max(4 * rows, 1 << 20):
        present = np.bincount(combined, minlength=space) > 0
        number = (np.cumsum(present) - 1).astype(np.int32)
        unique = np.flatnonzero(present)
        group = number[combined]
    else:
        unique, inverse = np.unique(combined, return_inverse=True)
        group = inverse.reshape(-1)
    codes: list[npt.NDArray[np.int32]] = []
    rest = unique.astype(np.int64)
    for radix in reversed(radices):
        codes.append((rest % radix - 1).astype(np.int32))
        rest = rest // radix
    return group.astype(np.int64), len(unique), codes[::-1]


def summarize(
    source: Summarized,
    *,
    by: Iterable[str] = DEFAULT_BY,
    percentiles: Iterable[float] = DEFAULT_PERCENTILES,
) -> Summary:
    """Count, mean, minimum, percentiles and maximum per group of any attributes.

    Args:
        source: Durations per item (:func:`cycle_time`, :func:`lead_time`, :func:`work_item_age`,
            ...), time in state (:func:`time_in_state`: an item's rows in a group are added up), or
            a frame (the number of events per item).
        by: Grouping names: the frame's attributes (each item's value: the last one recorded), and
            for results ``"state"``, ``"owner"``, ``"reason"`` (for time in state, those it is split
            by). No names: one group of everything.
        percentiles: Percentiles to report, nearest rank.

    Returns:
        One row per group that has items, in order of the groups' codes.

    Raises:
        ValidationError: An unknown grouping name or a bad percentile.
    """
    names = (by,) if isinstance(by, str) else tuple(by)
    wanted = check_percentiles(percentiles, path="percentiles")
    item, value, metric, durations = _values(source)
    keys: list[Categorical] = []
    errors = []
    for index, name in enumerate(names):
        column = _key_column(name, source, item)
        if isinstance(column, str):
            errors.append(FieldError(f"by[{index}]", name, column))
        else:
            keys.append(column)
    if len(set(names)) != len(names):
        errors.append(FieldError("by", names, "names without repeats"))
    if errors:
        raise ValidationError(errors)
    group, groups, codes = _factorize(keys, len(item))
    if isinstance(source, StateDurations):
        item, value, group = _per_item(item, value, group, source.frame.item_count)
    grouped = GroupedValues(value, group, groups)
    return Summary(
        metric=metric,
        source=source,
        by=names,
        keys={
            name: Categorical(code, key.categories)
            for name, code, key in zip(names, codes, keys, strict=True)
        },
        count=grouped.count,
        mean=grouped.mean(),
        minimum=grouped.minimum(),
        percentiles={q: grouped.percentile(q) for q in wanted},
        maximum=grouped.maximum(),
        group=group,
        item=item,
        value=value,
        durations=durations,
    )


def _values(
    source: Summarized,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], str, bool]:
    given: object = source  # callers may pass anything; the annotation is the promise
    if isinstance(given, (ItemDurations, StateDurations)):
        return given.item, given.duration, given.metric, True
    if isinstance(given, EventFrame):
        events = np.diff(given.offsets)
        items = np.arange(given.item_count, dtype=np.int32)
        return items, events, "events per item", False
    raise ValidationError.single(
        "source", given, "an ItemDurations, a StateDurations or an EventFrame"
    )


def _per_item(
    item: npt.NDArray[np.int32],
    value: npt.NDArray[np.int64],
    group: npt.NDArray[np.int64],
    items: int,
) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Add up an item's rows that fall in the same group, so each item counts once per group."""
    pair = group * max(items, 1) + item
    order = np.argsort(pair, kind="stable")
    pair = pair[order]
    begins = np.ones(len(pair), dtype=np.bool_)
    begins[1:] = pair[1:] != pair[:-1]
    starts = np.flatnonzero(begins)
    totals = np.add.reduceat(value[order], starts) if len(starts) else value[order]
    first = order[starts]
    return item[first], totals.astype(np.int64), group[first]


@attrs.frozen
class ServiceLevelExpectation:
    """A service-level expectation: q% of items finish within a duration.

    Attributes:
        metric: What the durations measure, such as ``"cycle time"``.
        q: The confidence, in percent.
        within: The q-th percentile by nearest rank, ``int`` ns: at least q% of the items took at
            most this long, and it is the shortest duration of which that is true.
        count: How many items the expectation rests on.
    """

    metric: str
    q: float
    within: int
    count: int

    @property
    def within_days(self) -> int:
        """``within`` rounded up to whole elapsed days (24-hour days, not calendar dates)."""
        return -(-self.within // 86_400_000_000_000)

    def __str__(self) -> str:
        return (
            f"{self.q:g}% of {self.count:,} items: {self.metric} within "
            f"{format_duration(self.within)}"
        )


def service_level_expectation(
    durations: ItemDurations, *, q: float = 85
) -> ServiceLevelExpectation:
    """The service-level expectation of durations: the q-th percentile by nearest rank.

    Raises:
        ValidationError: No durations, or a bad percentile.
    """
    if not isinstance(durations, ItemDurations):
        raise ValidationError.single("durations", durations, "an ItemDurations result")
    check_percentiles([q], path="q")
    if not len(durations):
        raise ValidationError.single("durations", durations.metric, "at least one duration")
    within = int(nearest_rank(durations.duration, q))
    return ServiceLevelExpectation(
        metric=durations.metric, q=float(q), within=within, count=len(durations)
    )
