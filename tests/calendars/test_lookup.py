"""The bucketed lookup counts exactly what ``np.searchsorted`` counts."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from servicedelivery.calendars._lookup import SortedLookup

LIMIT = 2**62


@st.composite
def keys_and_values(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    # Keys spread out, bunched (many per bucket: the fallback), or repeated.
    scale = draw(st.sampled_from([1, 1_000, 10**9, 10**15]))
    base = draw(st.integers(-(2**61), 2**61))
    offsets = draw(st.lists(st.integers(0, 1_000), min_size=1, max_size=60))
    keys = np.sort(np.array([base + o * scale for o in offsets], dtype=np.int64))
    low, high = int(keys[0]) - 3 * scale, int(keys[-1]) + 3 * scale
    values = draw(st.lists(st.integers(max(low, -LIMIT), min(high, LIMIT)), max_size=60))
    picked = draw(st.lists(st.sampled_from(keys.tolist()), max_size=10))
    return keys, np.array(values + picked, dtype=np.int64)


@given(keys_and_values())
def test_counts_match_searchsorted(case: tuple[np.ndarray, np.ndarray]) -> None:
    keys, values = case
    lookup = SortedLookup.of(keys)
    assert (
        lookup.count_at_or_before(values).tolist()
        == np.searchsorted(keys, values, "right").tolist()
    )
    assert lookup.count_before(values).tolist() == np.searchsorted(keys, values, "left").tolist()


def test_bunched_keys_fall_back_to_a_binary_search() -> None:
    keys = np.array([0, *range(10**12, 10**12 + 50)], dtype=np.int64)
    lookup = SortedLookup.of(keys)
    assert lookup.steps == -1
    values = np.array([-5, 0, 10**12 + 25, 2 * 10**12], dtype=np.int64)
    assert lookup.count_at_or_before(values).tolist() == [0, 1, 27, 51]
    spread = SortedLookup.of(np.arange(0, 10**6, 1_000, dtype=np.int64))
    assert 0 < spread.steps <= 8
