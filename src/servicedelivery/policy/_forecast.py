"""Target date at risk: each open item's completion forecast by Monte Carlo from completed work.

The history is every *completed* item (its current state is done at ``now``). Each episode of a
completed item in an open state (planned, in progress, blocked) gives one sample of *remaining
time*: from the start of that episode to the instant the item was done. A sample is filed under the
episode's state and the item's attributes named in ``by`` (each item's last recorded value).

An open item, in its current episode since ``t0`` (so ``a = now - t0`` of it has already passed),
is forecast from the samples of its state and attributes that are longer than ``a``: it is done at
``t0 + R`` for a remaining time ``R`` drawn uniformly from them. Groups are tried from the most
specific (state and every ``by`` attribute) to the coarsest (state alone, then every sample), and
the first with at least ``min_samples`` such samples is used. ``trials`` draws per item, from a
``numpy`` Generator seeded with ``seed``, give:

- ``miss_probability``: the fraction of trials done after the item's target date;
- ``p85_ns``: the 85th percentile of the completion instants (the smallest simulated instant by
  which at least 85% of trials are done); ``p50_ns`` likewise.

Everything is vectorized over items and trials; loops run over the groups of a level.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError
from servicedelivery.metrics import EventFrame, episodes
from servicedelivery.metrics._options import OPEN_STATES, as_instant
from servicedelivery.metrics._table import Column, Kind, Tabular
from servicedelivery.model import STATES, MilestoneState
from servicedelivery.policy._context import NONE, item_targets

__all__ = ["CompletionForecast", "forecast_completion"]

_DONE = STATES.index(MilestoneState.DONE)
_CHUNK = 4096
"""Items simulated at once (bounded memory; the draws do not depend on it, see below)."""


@attrs.frozen(eq=False, repr=False)
class CompletionForecast(Tabular):
    """Each item's forecast completion, aligned with the frame's items.

    Attributes:
        now: The instant of the forecast.
        item_ids: The items.
        target_ns: Each item's target date (``INT64_MIN`` when none).
        miss_probability: The probability of completing after the target date; NaN for closed
            items, items without a target date, and items without history to draw from.
        p50_ns: The median forecast completion (``INT64_MIN`` when not forecast).
        p85_ns: The 85th percentile forecast completion (``INT64_MIN`` when not forecast).
        level: How many of the ``by`` attributes the group used had (``len(by)``: all of them;
            0: the state only; -1: every sample; -2: not forecast).
        samples: How many samples the item was drawn from.
        by: The attributes the history was grouped by.
        trials: Draws per item.
        seed: The seed of the generator.
    """

    now: int
    item_ids: npt.NDArray[Any]
    target_ns: npt.NDArray[np.int64]
    miss_probability: npt.NDArray[np.float64]
    p50_ns: npt.NDArray[np.int64]
    p85_ns: npt.NDArray[np.int64]
    level: npt.NDArray[np.int8]
    samples: npt.NDArray[np.int64]
    by: tuple[str, ...]
    trials: int
    seed: int

    def __len__(self) -> int:
        return len(self.item_ids)

    def at_risk(self, threshold: float = 0.5) -> npt.NDArray[Any]:
        """The items whose probability of missing the target is at least ``threshold``."""
        result: npt.NDArray[Any] = self.item_ids[self.miss_probability >= threshold]
        return result

    def _title(self) -> str:
        forecast = int(np.count_nonzero(self.level > -2))
        return f"CompletionForecast: {forecast:,} of {len(self):,} items, {self.trials} trials"

    def _columns(self) -> list[Column]:
        return [
            Column("item", self.item_ids),
            Column("target", self.target_ns, Kind.INSTANT),
            Column("miss_probability", self.miss_probability),
            Column("p50", self.p50_ns, Kind.INSTANT),
            Column("p85", self.p85_ns, Kind.INSTANT),
            Column("level", self.level),
            Column("samples", self.samples),
        ]


def _positive_int(value: object, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValidationError.single(path, value, "a whole number >= 1")
    return int(value)


def forecast_completion(
    frame: EventFrame,
    *,
    now: object,
    targets: object = None,
    by: Sequence[str] = ("step", "provider", "region"),
    min_samples: int = 20,
    trials: int = 1000,
    seed: int = 0,
) -> CompletionForecast:
    """Forecast every open item's completion from the history of completed work.

    Args:
        frame: The events; rows after ``now`` are ignored.
        now: The instant of the forecast.
        targets: The items' target dates, as for :func:`evaluate` (an attribute name, a mapping
            of item id to instant, or an ``int64`` array aligned with ``frame.items``).
        by: The attributes that group the history, most important first; those the frame does not
            have are skipped.
        min_samples: The fewest samples a group must offer an item to be used.
        trials: Monte Carlo draws per item.
        seed: The seed of the ``numpy`` Generator: the same inputs and seed give the same forecast.

    Raises:
        ValidationError: Bad options.
    """
    at = as_instant(now, path="now")
    min_samples = _positive_int(min_samples, "min_samples")
    trials = _positive_int(trials, "trials")
    given: object = seed
    if isinstance(given, bool) or not isinstance(given, (int, np.integer)) or given < 0:
        raise ValidationError.single("seed", seed, "a whole number >= 0")
    ep = episodes(frame, now=at)
    seen = ep.frame
    names = tuple(name for name in by if name in seen.item_attributes)
    count = seen.item_count
    target = item_targets(targets, seen)
    current = ep.offsets[1:] - 1
    state = ep.state.astype(np.int64)
    is_open = OPEN_STATES[state[current]]
    # Samples: each open-state episode of a completed item, remaining time to its completion.
    done_at = np.where(state[current] == _DONE, ep.start[current], NONE)
    item_of = np.repeat(np.arange(count), np.diff(ep.offsets))
    sample = np.flatnonzero((done_at[item_of] != NONE) & OPEN_STATES[state])
    remaining = done_at[item_of[sample]] - ep.start[sample]
    codes = [seen.item_attributes[name].codes.astype(np.int64) + 1 for name in names]
    radix = [int(seen.item_attributes[name].categories.size) + 1 for name in names]
    open_items = np.flatnonzero(is_open)
    groups = _Groups(
        state=state, item_of=item_of, sample=sample, remaining=remaining, codes=codes, radix=radix
    )
    chosen_level, low, high, pool_of, pools = groups.choose(
        open_items, current, at - ep.start[current[open_items]], min_samples
    )
    start = ep.start[current[open_items]]
    miss, completion_50, completion_85 = _simulate(
        count=count,
        open_items=open_items,
        start=start,
        target=target,
        draw=(chosen_level, low, high, pool_of, pools),
        trials=trials,
        seed=int(seed),
    )
    level_out = np.full(count, -2, dtype=np.int8)
    level_out[open_items] = chosen_level
    samples = np.zeros(count, dtype=np.int64)
    samples[open_items] = high - low
    return CompletionForecast(
        now=at,
        item_ids=seen.items,
        target_ns=target,
        miss_probability=miss,
        p50_ns=completion_50,
        p85_ns=completion_85,
        level=level_out,
        samples=samples,
        by=names,
        trials=trials,
        seed=int(seed),
    )


@attrs.frozen(eq=False)
class _Groups:
    """The history's samples and what groups them."""

    state: npt.NDArray[np.int64]
    item_of: npt.NDArray[np.int64]
    sample: npt.NDArray[np.int64]
    remaining: npt.NDArray[np.int64]
    codes: list[npt.NDArray[np.int64]]
    radix: list[int]

    def choose(
        self,
        open_items: npt.NDArray[np.int64],
        current: npt.NDArray[np.int64],
        elapsed: npt.NDArray[np.int64],
        min_samples: int,
    ) -> tuple[Any, ...]:
        """Per open item, the finest group with enough samples longer than what has elapsed.

        Returns:
            The level chosen (-2: none), the range ``low:high`` of the samples to draw from in
            the pool of that level, the pool's number, and the pools (sorted by group, then
            remaining time).
        """
        state, item_of, sample, codes = self.state, self.item_of, self.sample, self.codes
        chosen_level = np.full(len(open_items), -2, dtype=np.int8)
        low = np.zeros(len(open_items), dtype=np.int64)
        high = np.zeros(len(open_items), dtype=np.int64)
        pools: list[npt.NDArray[np.int64]] = []
        pool_of = np.full(len(open_items), -1, dtype=np.int64)
        for level in range(len(codes), -2, -1):  # a loop over the levels of grouping
            key_sample = _keys(state[sample], [c[item_of[sample]] for c in codes], self.radix,
                               level)  # fmt: skip
            key_open = _keys(state[current[open_items]], [c[open_items] for c in codes],
                             self.radix, level)  # fmt: skip
            order = np.lexsort((self.remaining, key_sample))
            pool = self.remaining[order]
            keys = key_sample[order]
            waiting = np.flatnonzero(chosen_level == -2)
            start = np.searchsorted(keys, key_open[waiting], side="left")
            end = np.searchsorted(keys, key_open[waiting], side="right")
            first = _first_longer(
                pool, keys, wanted=key_open[waiting], elapsed=elapsed[waiting], start=start, end=end
            )
            enough = (end - first) >= (min_samples if level > -1 else 1)
            rows = waiting[enough]
            chosen_level[rows] = level
            low[rows] = first[enough]
            high[rows] = end[enough]
            pool_of[rows] = len(pools)
            pools.append(pool)
        return chosen_level, low, high, pool_of, pools


def _simulate(
    *,
    count: int,
    open_items: npt.NDArray[np.int64],
    start: npt.NDArray[np.int64],
    target: npt.NDArray[np.int64],
    draw: tuple[Any, ...],
    trials: int,
    seed: int,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The trials of every forecast item: probability of missing, p50 and p85 completions."""
    chosen_level, low, high, pool_of, pools = draw
    forecast = np.flatnonzero(chosen_level > -2)
    completion_50 = np.full(count, NONE, dtype=np.int64)
    completion_85 = np.full(count, NONE, dtype=np.int64)
    miss = np.full(count, np.nan, dtype=np.float64)
    rng = np.random.default_rng(seed)
    k50 = int(np.ceil(0.50 * trials)) - 1
    k85 = int(np.ceil(0.85 * trials)) - 1
    for begin in range(0, len(forecast), _CHUNK):  # chunks of items bound the memory used
        rows = forecast[begin : begin + _CHUNK]
        draws = rng.random((len(rows), trials))
        width = (high[rows] - low[rows])[:, None]
        index = low[rows][:, None] + np.minimum((draws * width).astype(np.int64), width - 1)
        drawn = np.empty(index.shape, dtype=np.int64)
        for number, pool in enumerate(pools):  # a loop over the grouping levels
            mine = pool_of[rows] == number
            drawn[mine] = pool[index[mine]]
        items = open_items[rows]
        done = start[rows][:, None] + drawn
        ordered = np.sort(done, axis=1)
        completion_50[items] = ordered[:, k50]
        completion_85[items] = ordered[:, k85]
        late = (done > target[items][:, None]).mean(axis=1)
        miss[items] = np.where(target[items] != NONE, late, np.nan)
    return miss, completion_50, completion_85


def _keys(
    state: npt.NDArray[np.int64], codes: list[npt.NDArray[np.int64]], radix: list[int], level: int
) -> npt.NDArray[np.int64]:
    """One group key per row: the state and the first ``level`` attributes (-1: no grouping)."""
    if level < 0:
        return np.zeros(len(state), dtype=np.int64)
    key = state.copy()
    for column, size in zip(codes[:level], radix[:level], strict=True):
        key = key * size + column
    return key


def _first_longer(
    pool: npt.NDArray[np.int64],
    keys: npt.NDArray[np.int64],
    *,
    wanted: npt.NDArray[np.int64],
    elapsed: npt.NDArray[np.int64],
    start: npt.NDArray[np.int64],
    end: npt.NDArray[np.int64],
) -> npt.NDArray[np.int64]:
    """Per item, the first sample of its group longer than what has elapsed.

    Samples are sorted by (key, remaining), so a group's samples are sorted: the first longer one
    is found by a search in (key, remaining) order, done with one ``searchsorted`` on the pair
    packed as ranks.
    """
    if not len(wanted):
        return start
    # Rank the remaining times and the elapsed times together, then search (key, rank) pairs.
    values, inverse = np.unique(np.concatenate([pool, elapsed]), return_inverse=True)
    size = np.int64(len(values) + 1)
    ranks = inverse.reshape(-1)
    packed_pool = keys * size + ranks[: len(pool)]
    packed_item = wanted * size + ranks[len(pool) :]
    first: npt.NDArray[np.int64] = np.clip(
        np.searchsorted(packed_pool, packed_item, side="right"), start, end
    )
    return first
