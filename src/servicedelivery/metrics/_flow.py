"""Flow over time: throughput, work in progress, cumulative flow and percentile trends per period.

Periods are calendar days, ISO weeks or months in a time zone (see
:mod:`servicedelivery.metrics._periods`); every period in the range is kept, with zero when nothing
happened in it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError
from servicedelivery.metrics._durations import ItemDurations, cycle_time
from servicedelivery.metrics._episodes import Episodes, resolve_source
from servicedelivery.metrics._frame import EventFrame
from servicedelivery.metrics._options import as_instant, in_states, state_lut
from servicedelivery.metrics._percentiles import GroupedValues, check_percentiles
from servicedelivery.metrics._periods import Periods, periods_covering
from servicedelivery.metrics._reading import STATE_NAMES
from servicedelivery.metrics._table import NONE_NS, Column, Kind, Tabular

__all__ = [
    "CumulativeFlow",
    "Throughput",
    "Trend",
    "WorkInProgress",
    "cumulative_flow",
    "throughput",
    "trend",
    "work_in_progress",
]

DEFAULT_WIP: tuple[str, ...] = ("in_progress", "blocked")


def _period_columns(periods: Periods) -> list[Column]:
    return [
        Column("period", periods.labels, Kind.DATE),
        Column("start", periods.starts, Kind.INSTANT),
    ]


@attrs.frozen(eq=False, repr=False)
class Throughput(Tabular):
    """How many items completed in each period, with the items behind every count.

    Attributes:
        durations: The completed items (from :func:`cycle_time` or :func:`lead_time`); each counts
            in the period holding its ``end``.
        periods: The periods, from the first to the one holding ``now``.
        counts: ``int64`` items completed per period.
        period: ``int64`` period of each row of ``durations`` (``-1`` if before the first period).
    """

    durations: ItemDurations
    periods: Periods
    counts: npt.NDArray[np.int64]
    period: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.counts)

    def items_in(self, index: int) -> npt.NDArray[Any]:
        """The ids of the items completed in period ``index``."""
        ids: npt.NDArray[Any] = self.durations.item_ids[self.period == index]
        return ids

    def _title(self) -> str:
        return (
            f"Throughput per {self.periods.freq} ({self.periods.tz}): "
            f"{int(self.counts.sum()):,} items in {len(self):,} periods"
        )

    def _columns(self) -> list[Column]:
        return [*_period_columns(self.periods), Column("count", self.counts)]


def throughput(
    source: ItemDurations | EventFrame | Episodes,
    *,
    freq: str = "day",
    tz: str = "UTC",
    start: object | None = None,
) -> Throughput:
    """Items completed per period, every period kept (zero when none completed).

    Args:
        source: Completed items (a :func:`cycle_time` or :func:`lead_time` result: an item counts
            in the period holding its completion). A frame or episodes mean
            ``cycle_time(source)`` with its defaults.
        freq: ``"day"``, ``"week"`` (ISO, from Monday) or ``"month"``.
        tz: The zone whose calendar defines the periods.
        start: The first period is the one holding this instant (default: the frame's first event).

    Raises:
        ValidationError: A bad frequency, zone or ``start``.
    """
    durations = source if isinstance(source, ItemDurations) else cycle_time(source)
    periods = _periods(durations.episodes, freq=freq, tz=tz, start=start)
    period = periods.index_of(durations.end) if len(periods) else np.empty(0, np.int64)
    inside = (period >= 0) & (period < len(periods))
    counts = np.bincount(period[inside], minlength=len(periods)).astype(np.int64)
    return Throughput(
        durations=durations,
        periods=periods,
        counts=counts,
        period=np.where(inside, period, -1),
    )


def _periods(episodes: Episodes, *, freq: str, tz: str, start: object | None) -> Periods:
    first = episodes.frame.first_time
    begin = as_instant(start, path="start") if start is not None else first
    if begin is None:
        begin = episodes.now
    if begin > episodes.now:
        raise ValidationError.single("start", start, f"an instant not after now ({episodes.now})")
    return periods_covering(begin, episodes.now, freq=freq, tz=tz)


def _samples(periods: Periods, now: int) -> npt.NDArray[np.int64]:
    """The instant each period is seen at: its last nanosecond, or ``now`` for the current one."""
    samples: npt.NDArray[np.int64] = np.minimum(periods.bounds[1:] - 1, now)
    return samples


def _states_at(episodes: Episodes, samples: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """How many items are in each state at each sample instant: ``int64[samples, states]``.

    An item is in the state of its episode covering the instant (``start <= t < end``); its last
    episode covers every instant from its start on. Each episode covers a contiguous run of the
    sorted samples, ``[first sample >= start, first sample >= end)``, so adding +1 at the run's
    first sample and -1 after its last, then a cumulative sum, counts every episode at every sample
    exactly, in one pass over the episodes.
    """
    slots = len(samples) + 1
    enter = np.searchsorted(samples, episodes.start, side="left")
    leave = np.where(episodes.last, len(samples), np.searchsorted(samples, episodes.end, "left"))
    state = episodes.state.astype(np.int64)
    size = len(STATE_NAMES) * slots
    delta = np.bincount(state * slots + enter, minlength=size) - np.bincount(
        state * slots + leave, minlength=size
    )
    counts: npt.NDArray[np.int64] = np.cumsum(
        delta.reshape(len(STATE_NAMES), slots)[:, :-1], axis=1
    ).T.astype(np.int64)
    return counts


@attrs.frozen(eq=False, repr=False)
class CumulativeFlow(Tabular):
    """How many items were in each state at the end of each period: the bands of a CFD.

    Stacked in state order (planned at the top of the chart, done at the bottom), the bands of a
    cumulative flow diagram are these counts.

    Attributes:
        episodes: The episodes they were computed from.
        periods: The periods.
        sample: ``int64`` instant each period is counted at: its last nanosecond, or ``now`` for
            the period holding ``now``.
        counts: ``int64[periods, states]``: items in each state (columns in ``STATES`` order).
    """

    episodes: Episodes
    periods: Periods
    sample: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.periods)

    def items_at(self, index: int, *, states: Iterable[object]) -> npt.NDArray[Any]:
        """The ids of the items in ``states`` at period ``index``'s sample instant."""
        return _items_at(self.episodes, int(self.sample[index]), state_lut(states, path="states"))

    def _title(self) -> str:
        return f"Cumulative flow per {self.periods.freq} ({self.periods.tz}): {len(self):,} periods"

    def _columns(self) -> list[Column]:
        return [
            *_period_columns(self.periods),
            Column("at", self.sample, Kind.INSTANT),
            *(Column(name, self.counts[:, code]) for code, name in enumerate(STATE_NAMES)),
        ]


def _items_at(episodes: Episodes, at: int, lut: npt.NDArray[np.bool_]) -> npt.NDArray[Any]:
    covering = (episodes.start <= at) & ((episodes.end > at) | episodes.last)
    chosen = covering & in_states(episodes.state, lut)
    ids: npt.NDArray[Any] = episodes.frame.items[episodes.item[chosen]]
    return ids


def cumulative_flow(
    source: EventFrame | Episodes,
    *,
    now: object | None = None,
    freq: str = "day",
    tz: str = "UTC",
    start: object | None = None,
) -> CumulativeFlow:
    """Items in each state at the end of every period, from ``start`` to ``now``.

    Args:
        source: The events, or episodes already computed.
        now: The instant the history is seen at; required with a frame.
        freq: ``"day"``, ``"week"`` or ``"month"``.
        tz: The zone whose calendar defines the periods.
        start: The first period is the one holding this instant (default: the first event).

    Raises:
        ValidationError: ``now`` missing for a frame; a bad frequency, zone or ``start``.
    """
    episodes = resolve_source(source, now, now_required=True)
    periods = _periods(episodes, freq=freq, tz=tz, start=start)
    sample = _samples(periods, episodes.now)
    return CumulativeFlow(episodes, periods, sample, _states_at(episodes, sample))


@attrs.frozen(eq=False, repr=False)
class WorkInProgress(Tabular):
    """How many items were in progress at the end of each period.

    Attributes:
        episodes: The episodes they were computed from.
        states: The states that count as work in progress.
        periods: The periods.
        sample: ``int64`` instant each period is counted at (as in :class:`CumulativeFlow`).
        counts: ``int64`` items in those states at each sample.
    """

    episodes: Episodes
    states: tuple[str, ...]
    periods: Periods
    sample: npt.NDArray[np.int64]
    counts: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.counts)

    def items_at(self, index: int) -> npt.NDArray[Any]:
        """The ids of the items in progress at period ``index``'s sample instant."""
        return _items_at(
            self.episodes, int(self.sample[index]), state_lut(self.states, path="states")
        )

    def _title(self) -> str:
        return (
            f"Work in progress ({', '.join(self.states)}) per {self.periods.freq} "
            f"({self.periods.tz}): {len(self):,} periods"
        )

    def _columns(self) -> list[Column]:
        return [
            *_period_columns(self.periods),
            Column("at", self.sample, Kind.INSTANT),
            Column("count", self.counts),
        ]


def work_in_progress(
    source: EventFrame | Episodes,
    *,
    now: object | None = None,
    freq: str = "day",
    tz: str = "UTC",
    start: object | None = None,
    states: Iterable[object] = DEFAULT_WIP,
) -> WorkInProgress:
    """Items in progress (by default in progress or blocked) at the end of every period.

    Raises:
        ValidationError: As :func:`cumulative_flow`, or an unknown state.
    """
    lut = state_lut(states, path="states")
    flow = cumulative_flow(source, now=now, freq=freq, tz=tz, start=start)
    return WorkInProgress(
        episodes=flow.episodes,
        states=tuple(name for name, chosen in zip(STATE_NAMES, lut, strict=True) if chosen),
        periods=flow.periods,
        sample=flow.sample,
        counts=flow.counts[:, lut].sum(axis=1).astype(np.int64),
    )


@attrs.frozen(eq=False, repr=False)
class Trend(Tabular):
    """A percentile of durations per period of completion.

    Attributes:
        durations: The durations, each in the period holding its ``end``.
        q: The percentile (nearest rank).
        periods: The periods, from the first completion's to the one holding ``now``.
        count: ``int64`` items completed per period.
        value: ``int64`` ns: the q-th percentile of the period's durations, ``NaT`` (``INT64_MIN``)
            for a period with none.
    """

    durations: ItemDurations
    q: float
    periods: Periods
    count: npt.NDArray[np.int64]
    value: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.count)

    def _title(self) -> str:
        return (
            f"p{self.q:g} of {self.durations.metric} per {self.periods.freq} "
            f"({self.periods.tz}): {len(self):,} periods"
        )

    def _columns(self) -> list[Column]:
        return [
            *_period_columns(self.periods),
            Column("count", self.count),
            Column(f"p{self.q:g}", self.value, Kind.DURATION),
        ]


def trend(
    durations: ItemDurations,
    *,
    q: float = 85,
    freq: str = "week",
    tz: str = "UTC",
) -> Trend:
    """The q-th percentile (nearest rank) of durations per period of their ``end``.

    Periods run from the one holding the earliest ``end`` to the one holding ``now``; a period
    without items is kept with a count of 0 and no value.

    Raises:
        ValidationError: A bad percentile, frequency or zone, or ``durations`` is not a result of
            :func:`cycle_time`, :func:`lead_time` and the like.
    """
    if not isinstance(durations, ItemDurations):
        raise ValidationError.single("durations", durations, "an ItemDurations result")
    check_percentiles([q], path="q")
    now = durations.now
    first = int(durations.end.min()) if len(durations) else now
    periods = periods_covering(first, max(now, first), freq=freq, tz=tz)
    period = periods.index_of(durations.end)
    grouped = GroupedValues(durations.duration, period, len(periods))
    return Trend(
        durations=durations,
        q=float(q),
        periods=periods,
        count=grouped.count,
        value=grouped.percentile(q, fill=NONE_NS).astype(np.int64),
    )
