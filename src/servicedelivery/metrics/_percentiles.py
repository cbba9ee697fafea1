"""Percentiles by nearest rank, the one method used everywhere in the library.

The q-th percentile of n values is the smallest value such that at least q% of the values are at most
it: the value of rank ``ceil(q * n / 100)`` in increasing order (rank 1 for ``q = 0``). It is always
one of the values, so a percentile of durations is an exact duration that some item actually took,
and "85% of items finished within the p85" holds by construction. numpy calls this method
``"inverted_cdf"``; pandas' ``quantile`` has no such option (its default interpolates linearly).
"""

from __future__ import annotations

from collections.abc import Iterable
from fractions import Fraction
from typing import Any

import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError

__all__ = ["GroupedValues", "check_percentiles", "nearest_rank", "rank_index"]

_MAX_DENOMINATOR = 1_000_000
_FEW_GROUPS = 4_096  # up to this many groups, each group's values are sorted on their own


def _as_fraction(q: object, *, path: str) -> Fraction:
    if isinstance(q, (bool, np.bool_)) or not isinstance(q, (int, float, np.integer, np.floating)):
        raise ValidationError.single(path, q, "a percentile between 0 and 100")
    # Through its decimal text, so that 99.9 means 999/1000 and not the float nearest to it.
    try:
        fraction = Fraction(str(q)).limit_denominator(_MAX_DENOMINATOR)
    except (ValueError, OverflowError):  # NaN and infinities
        raise ValidationError.single(path, q, "a percentile between 0 and 100") from None
    if not 0 <= fraction <= 100:
        raise ValidationError.single(path, q, "a percentile between 0 and 100")
    return fraction


def check_percentiles(percentiles: Iterable[object], *, path: str) -> tuple[float, ...]:
    """Percentiles as given, each checked to lie in ``[0, 100]``; at least one, no repeats.

    Raises:
        ValidationError: Naming each bad percentile.
    """
    given = list(percentiles) if not isinstance(percentiles, (int, float)) else [percentiles]
    if not given or len(set(given)) != len(given):
        raise ValidationError.single(path, tuple(given), "one or more distinct percentiles")
    for index, q in enumerate(given):
        _as_fraction(q, path=f"{path}[{index}]")
    return tuple(float(str(q)) for q in given)


def rank_index(count: npt.NDArray[np.int64], q: object) -> npt.NDArray[np.int64]:
    """The 0-based position of the q-th percentile among ``count`` sorted values (exact).

    Integer arithmetic throughout: ``ceil(q * n / 100)`` with ``q`` as a fraction, at least 1.
    """
    fraction = _as_fraction(q, path="q")
    numerator, denominator = fraction.numerator, 100 * fraction.denominator
    rank = -((-numerator * count.astype(np.int64)) // denominator)
    index: npt.NDArray[np.int64] = np.maximum(rank, 1) - 1
    return index


def nearest_rank(values: npt.ArrayLike, q: float) -> Any:
    """The q-th percentile of ``values`` by nearest rank (see the module's definition).

    Args:
        values: The values; durations in ``int64`` ns stay exact.
        q: The percentile, from 0 to 100.

    Returns:
        One of the values (a numpy scalar of their type).

    Raises:
        ValidationError: No values, or ``q`` outside ``[0, 100]``.
    """
    array = np.asarray(values)
    if array.ndim != 1 or not len(array):
        raise ValidationError.single("values", array, "one or more values")
    position = int(rank_index(np.array([len(array)]), q)[0])
    return np.partition(array, position)[position]


class GroupedValues:
    """Values sorted within their groups, ready for per-group counts, means and percentiles.

    Args:
        values: One value per row (``int64`` for durations).
        group: The group index of each row, ``0 <= group < groups``.
        groups: How many groups.
    """

    def __init__(self, values: npt.NDArray[Any], group: npt.NDArray[np.int64], groups: int) -> None:
        self.count = np.bincount(group, minlength=groups).astype(np.int64)
        self.starts = np.zeros(groups, dtype=np.int64)
        np.cumsum(self.count[:-1], out=self.starts[1:])
        if groups <= _FEW_GROUPS:
            # Gather the groups together with a stable radix sort on a 16-bit group index (linear
            # time), then sort each group's values where they lie: one small sort per group.
            order = np.argsort(group.astype(np.uint16), kind="stable")
            self.sorted = values[order]
            ends = self.starts + self.count
            for index in np.flatnonzero(self.count > 1).tolist():
                self.sorted[self.starts[index] : ends[index]].sort()
        else:
            # Sort by value, then stably by group: each group's values end up in increasing order.
            by_value = np.argsort(values)
            self.sorted = values[by_value[np.argsort(group[by_value], kind="stable")]]

    def _pick(self, position: npt.NDArray[np.int64], fill: object) -> npt.NDArray[Any]:
        if not len(self.sorted):
            return np.full(len(self.count), fill, dtype=self.sorted.dtype)
        picked = self.sorted[np.clip(position, 0, len(self.sorted) - 1)]
        # An empty group has no value; it gets ``fill`` (NaT for durations).
        if fill is not None:
            picked[self.count == 0] = fill
        return picked

    def percentile(self, q: float, *, fill: object = None) -> npt.NDArray[Any]:
        """The q-th percentile of each group by nearest rank; ``fill`` for an empty group."""
        return self._pick(self.starts + rank_index(self.count, q), fill)

    def minimum(self, *, fill: object = None) -> npt.NDArray[Any]:
        """Each group's smallest value; ``fill`` for an empty group."""
        return self._pick(self.starts, fill)

    def maximum(self, *, fill: object = None) -> npt.NDArray[Any]:
        """Each group's largest value; ``fill`` for an empty group."""
        return self._pick(self.starts + self.count - 1, fill)

    def mean(self) -> npt.NDArray[np.float64]:
        """Each group's mean as a float computed from an exact integer sum; NaN for an empty group.

        An ``int64`` sum of many long durations can overflow, so the values are split into high and
        low 32-bit halves whose sums cannot, and recombined in floating point at the end.
        """
        mean = np.full(len(self.count), np.nan)
        present = self.count > 0
        if not present.any():
            return mean
        values = self.sorted.astype(np.int64)
        # Empty groups have zero width, so the starts of the others delimit them exactly.
        starts = self.starts[present]
        high = np.add.reduceat(values >> 32, starts)
        low = np.add.reduceat(values & 0xFFFFFFFF, starts)
        total = high.astype(np.float64) * 2.0**32 + low.astype(np.float64)
        mean[present] = total / self.count[present]
        return mean
