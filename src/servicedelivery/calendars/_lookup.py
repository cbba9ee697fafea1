"""Where values fall in a sorted array, faster than a binary search for millions of values.

``np.searchsorted`` probes about ``log2(n)`` scattered places per value, which costs most of a
calendar operation. A :class:`SortedLookup` cuts the key range into equal buckets of a power-of-two
width and stores, per bucket, how many keys lie at or before its start; a value then needs one
shift, one look-up, and a few steps over the keys inside its bucket. Buckets are about as wide as
the average gap between keys, so a bucket rarely holds more than a few; when keys bunch up so much
that one holds many, the lookup falls back to ``np.searchsorted``.
"""

from __future__ import annotations

import attrs
import numpy as np
import numpy.typing as npt

__all__ = ["SortedLookup"]

_MAX_STEPS = 8
_MAX_BUCKETS_PER_KEY = 4


@attrs.frozen(eq=False)
class SortedLookup:
    """Counts of keys at or before (or strictly before) any values, as ``np.searchsorted`` gives.

    Attributes:
        keys: The sorted keys, with the int64 maximum appended so that a step past the last key
            never moves.
        origin: The start of bucket 0, below every key.
        shift: Buckets are ``2**shift`` wide.
        at_or_before: Per bucket, how many keys are ``<=`` its start.
        before: Per bucket, how many keys are ``<`` its start.
        steps: The most keys any bucket holds; ``-1`` when that is too many to step over.
    """

    keys: npt.NDArray[np.int64]
    origin: int
    shift: int
    at_or_before: npt.NDArray[np.int64]
    before: npt.NDArray[np.int64]
    steps: int

    @classmethod
    def of(cls, keys: npt.NDArray[np.int64]) -> SortedLookup:
        """The lookup for sorted ``keys`` (at least one)."""
        origin = int(keys[0]) - 1
        span = int(keys[-1]) - origin + 1
        # The power of two nearest the mean gap, so that a bucket holds one key on average, and
        # never so narrow that there are many more buckets than keys.
        shift = max(int(span // len(keys)).bit_length() - 1, 0)
        while (span >> shift) > _MAX_BUCKETS_PER_KEY * len(keys):
            shift += 1
        buckets = (span >> shift) + 2
        edges = origin + (np.arange(buckets, dtype=np.int64) << shift)
        at_or_before = np.searchsorted(keys, edges, side="right").astype(np.int64)
        before = np.searchsorted(keys, edges, side="left").astype(np.int64)
        # A value in bucket b passes at most the keys in (edge b, edge b + 1], or [edge, next).
        widest = max(int(np.diff(at_or_before).max()), int(np.diff(before).max()))
        padded = np.append(keys, np.iinfo(np.int64).max)
        steps = widest if widest <= _MAX_STEPS else -1
        return cls(
            keys=padded,
            origin=origin,
            shift=shift,
            at_or_before=at_or_before,
            before=before,
            steps=steps,
        )

    def count_at_or_before(self, values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """How many keys are ``<=`` each value: ``np.searchsorted(keys, values, "right")``."""
        if self.steps < 0:
            return np.searchsorted(self.keys[:-1], values, side="right").astype(np.int64)
        count = self.at_or_before[self._bucket(values)]
        for _ in range(self.steps):
            count += self.keys[count] <= values
        return count

    def count_before(self, values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """How many keys are ``<`` each value: ``np.searchsorted(keys, values, "left")``."""
        if self.steps < 0:
            return np.searchsorted(self.keys[:-1], values, side="left").astype(np.int64)
        count = self.before[self._bucket(values)]
        for _ in range(self.steps):
            count += self.keys[count] < values
        return count

    def _bucket(self, values: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        # Values below the origin count no keys and values past the last bucket count them all,
        # which the first and last buckets give once the steps have run.
        bucket: npt.NDArray[np.int64] = (
            np.maximum(values, self.origin) - self.origin
        ) >> self.shift
        return np.minimum(bucket, len(self.at_or_before) - 1)
