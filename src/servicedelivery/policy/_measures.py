"""Measures, each a monotone function of time within a window, and their comparisons.

Within its *window* (the part of the item's history it is read over), a measure is undefined until
its *start* and then moves one way only: age, time in state, time blocked and the SLA fraction used
grow; time to target shrinks; the forecast probability of missing the target grows. So a comparison
that becomes true as time passes (``gt``/``ge`` on a growing measure, ``lt``/``le`` on a shrinking
one) holds from one instant on, its *onset*, which each measure solves for exactly, in calendar or in
working time. From the onset:

- a comparison that becomes true holds since ``max(start, onset)``; while false it has been false
  since the window began;
- its complement (``lt`` on a growing measure, ...) holds since ``start``; once false it has been
  false since the onset of the comparison it is the complement of (or since the window began, when
  that was true from the start).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError
from servicedelivery.metrics._episodes import Marked
from servicedelivery.policy._conditions import Measure, MeasureTest, Op
from servicedelivery.policy._context import BLOCKED, LATEST, NONE, Context
from servicedelivery.policy._durations import Clock, Duration
from servicedelivery.policy._truth import Leaf

__all__ = ["COMPLEMENT", "Monotone", "compare", "measure_leaf", "register"]

Onset = Callable[[npt.NDArray[np.intp], npt.NDArray[Any], bool], npt.NDArray[np.int64]]
"""``onset(items, threshold, strict)``: when the rising comparison starts to hold, per item."""

COMPLEMENT = {Op.LT: Op.GE, Op.LE: Op.GT, Op.GT: Op.LE, Op.GE: Op.LT}


@attrs.frozen(eq=False)
class Monotone:
    """A measure over every item of the frame, ready to be compared.

    Attributes:
        rising: Whether it grows (``True``) or shrinks with time.
        defined: Whether it has a value at ``now``.
        window: Where its window begins: before ``start`` it is undefined (comparisons are false).
        start: Where it becomes defined (meaningful where ``defined``).
        value: Its value at ``now`` (``NONE`` / NaN where undefined).
        anchor: The frame row of the event it rests on (``-1`` for none).
        onset: Solves for the onset of its rising comparisons.
    """

    rising: bool
    defined: npt.NDArray[np.bool_]
    window: npt.NDArray[np.int64]
    start: npt.NDArray[np.int64]
    value: npt.NDArray[Any]
    anchor: npt.NDArray[np.int64]
    onset: Onset


Base = Callable[[Context, Clock, str, MeasureTest], Monotone]
_REGISTRY: dict[Measure, Base] = {}


def register(measure: Measure) -> Callable[[Base], Base]:
    """Register the function that computes a measure for every item."""

    def decorate(function: Base) -> Base:
        _REGISTRY[measure] = function
        return function

    return decorate


def compare(value: npt.NDArray[Any], op: Op, threshold: npt.NDArray[Any]) -> npt.NDArray[np.bool_]:
    """``value op threshold``, elementwise."""
    result: npt.NDArray[np.bool_] = {
        Op.LT: np.less,
        Op.LE: np.less_equal,
        Op.GT: np.greater,
        Op.GE: np.greater_equal,
    }[op](value, threshold)
    return result


def measure_leaf(ctx: Context, test: MeasureTest, items: npt.NDArray[np.intp], path: str) -> Leaf:
    """A measure leaf for ``items``: value, truth, since when, and the event it rests on."""
    threshold_path = f"{path}.{test.op.value}" if path else test.op.value
    if isinstance(test.threshold, Duration):
        clock = test.threshold.clock
        threshold: npt.NDArray[Any] = ctx.clocks.amount(test.threshold, items, path=threshold_path)
    else:
        clock = Clock.CALENDAR
        threshold = np.full(len(items), test.threshold, dtype=np.float64)
    base = monotone(ctx, test, clock, threshold_path)
    defined = base.defined[items]
    value = base.value[items]
    start = base.start[items]
    window = base.window[items]
    holds = defined & compare(value, test.op, threshold)
    rising_family = (test.op in (Op.GT, Op.GE)) == base.rising
    if rising_family:
        onset = base.onset(items, threshold, test.op in (Op.GT, Op.LT))
        since = np.where(holds, np.maximum(start, onset), window)
    else:
        complement = COMPLEMENT[test.op]
        onset = base.onset(items, threshold, complement in (Op.GT, Op.LT))
        ended = defined & (onset > start)
        since = np.where(holds, start, np.where(ended, onset, window))
    return Leaf(holds, since, value, threshold, base.anchor[items])


def monotone(ctx: Context, test: MeasureTest, clock: Clock, path: str) -> Monotone:
    """The measure of a leaf over every item, computed once per evaluation."""
    cache: dict[tuple[Any, ...], Monotone] = ctx.__dict__.setdefault("_measures", {})
    key = (test.measure, clock, test.sla)
    if key not in cache:
        function = _REGISTRY.get(test.measure)
        if function is None:  # pragma: no cover - every measure registers itself
            raise ValidationError.single(path, test.measure.value, "a measure with a kernel")
        cache[key] = function(ctx, clock, path, test)
    return cache[key]


def _all_items(ctx: Context) -> npt.NDArray[np.intp]:
    return np.arange(ctx.count)


def _growing(
    ctx: Context,
    clock: Clock,
    *,
    defined: npt.NDArray[np.bool_],
    window: npt.NDArray[np.int64],
    start: npt.NDArray[np.int64],
    anchor: npt.NDArray[np.int64],
    path: str,
) -> Monotone:
    """A measure that counts time from ``start`` to ``now`` where defined."""
    start = np.where(defined, start, LATEST)
    everything = _all_items(ctx)
    elapsed = ctx.clocks.elapsed(clock, np.minimum(start, ctx.now), ctx.now, everything, path=path)
    value = np.where(defined, elapsed, NONE)

    def onset(items: npt.NDArray[np.intp], threshold: Any, strict: bool) -> npt.NDArray[np.int64]:
        return ctx.clocks.reach(
            clock, np.minimum(start[items], ctx.now), threshold, items, strict=strict, path=path
        )

    return Monotone(True, defined, window, start, value, anchor, onset)


@register(Measure.AGE)
def _age(ctx: Context, clock: Clock, path: str, test: MeasureTest) -> Monotone:
    """Work item age: from the item's first committed episode to now (metrics' definition)."""
    episode = ctx.commit_episode
    defined = episode >= 0
    safe = np.maximum(episode, 0)
    return _growing(
        ctx,
        clock,
        defined=defined,
        window=ctx.first_time,
        start=ctx.episodes.start[safe],
        anchor=np.where(defined, ctx.episodes.first_row[safe], -1),
        path=path,
    )


@register(Measure.TIME_IN_STATE)
def _time_in_state(ctx: Context, clock: Clock, path: str, test: MeasureTest) -> Monotone:
    """Time in the current episode: since the last change of state, owner or reason."""
    return _growing(
        ctx,
        clock,
        defined=np.ones(ctx.count, dtype=np.bool_),
        window=ctx.current_start,
        start=ctx.current_start,
        anchor=ctx.current_row,
        path=path,
    )


@register(Measure.BLOCKED_FOR)
def _blocked_for(ctx: Context, clock: Clock, path: str, test: MeasureTest) -> Monotone:
    """Time in the current episode when it is a blocked one."""
    blocked = ctx.episodes.state[ctx.current] == BLOCKED
    return _growing(
        ctx,
        clock,
        defined=blocked,
        window=ctx.current_start,
        start=ctx.current_start,
        anchor=np.where(blocked, ctx.current_row, -1),
        path=path,
    )


@register(Measure.BLOCKED_TOTAL)
def _blocked_total(ctx: Context, clock: Clock, path: str, test: MeasureTest) -> Monotone:
    """Every blocked episode's time, up to now; it grows only while the item is blocked."""
    ep = ctx.episodes
    blocked = ep.state == BLOCKED
    rows = np.flatnonzero(blocked)
    item_of = ep.item
    duration = np.zeros(len(ep), dtype=np.int64)
    if len(rows):
        ends = ep.ends(rows)
        duration[rows] = ctx.clocks.elapsed(
            clock, ep.start[rows], ends, item_of[rows].astype(np.intp), path=path
        )
    # Running totals restarted per item. int64 sums wrap around silently, and differences of
    # wrapped sums are still exact as long as each item's own total fits, which it does.
    running = np.cumsum(duration)
    before_item = running[ep.offsets[:-1]] - duration[ep.offsets[:-1]]
    within = running - np.repeat(before_item, np.diff(ep.offsets))
    total = within[ep.offsets[1:] - 1]
    latest_block = Marked(blocked, ep.offsets).last()
    anchor = np.where(latest_block >= 0, ep.first_row[np.maximum(latest_block, 0)], -1)
    counts = np.diff(ep.offsets)

    def onset(items: npt.NDArray[np.intp], threshold: Any, strict: bool) -> npt.NDArray[np.int64]:
        # The first blocked episode whose running total passes the threshold; the crossing lies
        # inside it, where its own time passes what is left of the threshold.
        limit = np.full(ctx.count, LATEST, dtype=np.int64)
        limit[items] = threshold
        wanted = np.repeat(limit, counts)
        crossed = blocked & ((within > wanted) if strict else (within >= wanted))
        first = Marked(crossed, ep.offsets).first()[items]
        found = first >= 0
        episode = np.maximum(first, 0)
        left = threshold - (within[episode] - duration[episode])
        reached = ctx.clocks.reach(clock, ep.start[episode], left, items, strict=strict, path=path)
        per_episode = np.where(found, reached, LATEST)
        # A threshold below zero (or zero, for ge) is passed from the first event on.
        always = (threshold < 0) | ((threshold == 0) & (not strict))
        return np.where(always, ctx.first_time[items], per_episode)

    everything = np.ones(ctx.count, dtype=np.bool_)
    return Monotone(True, everything, ctx.first_time, ctx.first_time, total, anchor, onset)


@register(Measure.TIME_TO_TARGET)
def _time_to_target(ctx: Context, clock: Clock, path: str, test: MeasureTest) -> Monotone:
    """Time left until the target date: negative once it has passed; it shrinks with time."""
    target = ctx.targets
    defined = target != NONE
    safe = np.where(defined, target, ctx.now)
    first = ctx.first_time
    everything = _all_items(ctx)
    if clock is Clock.CALENDAR:
        value = np.where(defined, safe - ctx.now, NONE)
    else:
        ahead = ctx.clocks.elapsed(clock, np.full(ctx.count, ctx.now), safe, everything, path=path)
        behind = ctx.clocks.elapsed(clock, safe, np.full(ctx.count, ctx.now), everything, path=path)
        value = np.where(defined, ahead - behind, NONE)

    def onset(items: npt.NDArray[np.intp], threshold: Any, strict: bool) -> npt.NDArray[np.int64]:
        # The rising comparisons are lt (strict) and le: time left below the threshold.
        goal = safe[items]
        start = first[items]
        if clock is Clock.CALENDAR:
            reached: npt.NDArray[np.int64] = goal - threshold
            return reached
        # Before the target, time left below T means working time since the window's start
        # beyond W(start, target) - T; after it, working time since the target beyond -T.
        before = ctx.clocks.elapsed(clock, start, goal, items, path=path) - threshold
        ahead = ctx.clocks.reach(clock, start, before, items, strict=strict, path=path)
        after = ctx.clocks.reach(clock, goal, -threshold, items, strict=strict, path=path)
        # A threshold of zero is reached before the target for le (no working time left), and
        # only after it for lt (some working time past it).
        before_target = (threshold > 0) | ((threshold == 0) & (not strict))
        return np.where(before_target, ahead, after)

    anchor = np.full(ctx.count, -1, dtype=np.int64)
    return Monotone(False, defined, first, first, value, anchor, onset)
