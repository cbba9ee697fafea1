"""Measures read from results computed outside the policy layer: SLA clocks and forecasts.

The policy layer does not import ``servicedelivery.sla``; an evaluation is given the clocks an SLA
computed (``sla_clocks(sla, frame, now=...)`` for the bulk path, ``sla_clock(...)`` for one item)
by name, and reads these fields of them, per item: ``started``, ``start_ns``, ``stopped``,
``stop_ns``, ``elapsed_ns``, ``remaining_ns`` and ``fraction_used``. Bulk results
(:class:`~servicedelivery.sla.SLAClocks`) are aligned with their ``frame.items`` (or an
``item_ids`` array); a single item's (:class:`~servicedelivery.sla.SLAClock`) names its
``item_id``.
Likewise the ``target_miss_probability`` measure reads a :class:`CompletionForecast`.

Since when an SLA comparison has held: the clock's counted time crossed the threshold at the latest
``end - (elapsed - amount)``, where ``end`` is when it stopped (or now) and ``amount`` the counted
time the threshold stands for; that is exact for a calendar-time clock that has not paused since,
and otherwise later than the true crossing (counted time never runs faster than the wall clock), so
a hold time is never cut short. A forecast's probability is taken as constant within the item's
current episode: a comparison on it has held, or not held, since that episode began.
"""

from __future__ import annotations

import contextlib
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np
import numpy.typing as npt

from servicedelivery.errors import ValidationError
from servicedelivery.policy._conditions import Measure, MeasureTest
from servicedelivery.policy._context import LATEST, NONE, Context
from servicedelivery.policy._durations import Clock
from servicedelivery.policy._measures import Monotone, register

__all__ = ["SLA_FIELDS", "forecast_one", "sla_of", "sla_one"]

SLA_FIELDS = (
    "started",
    "start_ns",
    "stopped",
    "stop_ns",
    "elapsed_ns",
    "remaining_ns",
    "fraction_used",
)
"""The fields of an SLA clock result the SLA measures read."""


def sla_of(slas: object, name: str, path: str) -> Any:
    """The clock results named ``name`` among ``slas`` (a mapping of SLA name to results).

    Raises:
        ValidationError: No such SLA, or results without the fields the measures read.
    """
    if not isinstance(slas, Mapping) or name not in slas:
        known = ", ".join(map(repr, slas)) if isinstance(slas, Mapping) else "none given"
        raise ValidationError.single(
            f"{path}.sla" if path else "sla",
            name,
            f"the name of an SLA whose clocks were given (slas=: {known})",
        )
    clocks = slas[name]
    missing = [field for field in SLA_FIELDS if not hasattr(clocks, field)]
    if missing:
        raise ValidationError.single(
            f"slas[{name!r}]",
            type(clocks).__name__,
            f"SLA clock results with {', '.join(SLA_FIELDS)} (missing {', '.join(missing)})",
        )
    return clocks


def _aligned(ctx: Context, clocks: Any, name: str) -> dict[str, npt.NDArray[Any]]:
    """The clock fields per item of the context's frame (items without a clock: not started)."""
    cache: dict[str, dict[str, npt.NDArray[Any]]] = ctx.__dict__.setdefault("_sla_fields", {})
    if name in cache:
        return cache[name]
    ids = _item_ids(clocks)
    if ids is None:
        raise ValidationError.single(
            f"slas[{name!r}]",
            type(clocks).__name__,
            "the clocks of every item (sla_clocks(...)), not one item's, for a bulk evaluation",
        )
    codes = ctx.item_index.codes(np.asarray(ids, dtype=object))
    found = codes >= 0
    fields: dict[str, npt.NDArray[Any]] = {
        "started": np.zeros(ctx.count, dtype=np.bool_),
        "stopped": np.zeros(ctx.count, dtype=np.bool_),
        "start_ns": np.full(ctx.count, NONE, dtype=np.int64),
        "stop_ns": np.full(ctx.count, NONE, dtype=np.int64),
        "elapsed_ns": np.zeros(ctx.count, dtype=np.int64),
        "remaining_ns": np.zeros(ctx.count, dtype=np.int64),
        "fraction_used": np.full(ctx.count, np.nan, dtype=np.float64),
    }
    for field, array in fields.items():
        array[codes[found]] = np.asarray(getattr(clocks, field))[found]
    cache[name] = fields
    return fields


def _item_ids(clocks: Any) -> Any:
    """The items bulk clock results are aligned with; ``None`` for one item's clock."""
    ids = getattr(clocks, "item_ids", None)
    if ids is None and hasattr(clocks, "frame"):
        ids = clocks.frame.items
    return ids


def _crossing(
    end: npt.NDArray[np.int64], elapsed: npt.NDArray[np.int64], amount: npt.NDArray[np.int64]
) -> npt.NDArray[np.int64]:
    """When counted time reached ``amount`` at the latest (see the module docstring)."""
    result: npt.NDArray[np.int64] = end - (elapsed - amount)
    return result


def _sla_measure(ctx: Context, test: MeasureTest, path: str, *, fraction: bool) -> Monotone:
    name = str(test.sla)
    fields = _aligned(ctx, sla_of(getattr(ctx, "slas", None), name, path), name)
    started = fields["started"]
    elapsed = fields["elapsed_ns"]
    target = elapsed + fields["remaining_ns"]
    end = np.where(fields["stopped"], fields["stop_ns"], ctx.now)
    start = np.where(started, fields["start_ns"], LATEST)
    anchor = np.full(ctx.count, -1, dtype=np.int64)
    rows = np.flatnonzero(started)
    if len(rows):
        episode = ctx.episode_at(rows, np.maximum(start[rows], ctx.first_time[rows]))
        anchor[rows] = ctx.episodes.first_row[episode]

    if fraction:
        value = np.where(started, fields["fraction_used"], np.nan)

        def onset(items: npt.NDArray[np.intp], threshold: Any, strict: bool) -> Any:
            amount = np.rint(np.asarray(threshold, np.float64) * target[items]).astype(np.int64)
            return _crossing(end[items], elapsed[items], amount)

        return Monotone(True, started, ctx.first_time, start, value, anchor, onset)
    value = np.where(started, fields["remaining_ns"], NONE)

    def onset_remaining(items: npt.NDArray[np.intp], threshold: Any, strict: bool) -> Any:
        # remaining < T  <=>  elapsed > target - T
        return _crossing(end[items], elapsed[items], target[items] - threshold)

    return Monotone(False, started, ctx.first_time, start, value, anchor, onset_remaining)


@register(Measure.SLA_FRACTION_USED)
def _sla_fraction_used(ctx: Context, clock: Clock, path: str, test: MeasureTest) -> Monotone:
    """The fraction of the SLA's target its clock has counted (undefined before it starts)."""
    return _sla_measure(ctx, test, path, fraction=True)


@register(Measure.SLA_REMAINING)
def _sla_remaining(ctx: Context, clock: Clock, path: str, test: MeasureTest) -> Monotone:
    """The SLA's target minus the time its clock has counted: negative once breached."""
    return _sla_measure(ctx, test, path, fraction=False)


@register(Measure.TARGET_MISS_PROBABILITY)
def _target_miss(ctx: Context, clock: Clock, path: str, test: MeasureTest) -> Monotone:
    """The forecast probability of completing after the target date (open items with one)."""
    forecast = _forecast(getattr(ctx, "forecast", None), path)
    codes = ctx.item_index.codes(np.asarray(forecast.item_ids, dtype=object))
    found = codes >= 0
    value = np.full(ctx.count, np.nan, dtype=np.float64)
    value[codes[found]] = forecast.miss_probability[found]
    defined = ~np.isnan(value)
    start = ctx.current_start

    def onset(items: npt.NDArray[np.intp], threshold: Any, strict: bool) -> Any:
        return start[items]

    anchor = np.where(defined, ctx.current_row, -1)
    return Monotone(True, defined, start, start, value, anchor, onset)


def _forecast(forecast: object, path: str) -> Any:
    if forecast is None or not hasattr(forecast, "miss_probability"):
        raise ValidationError.single(
            path or "forecast",
            None if forecast is None else type(forecast).__name__,
            "a CompletionForecast (forecast=) to read the probability of missing the target from",
        )
    return forecast


# ------------------------------------------------------------------------------- one item


def sla_one(slas: object, test: MeasureTest, item_id: object, path: str) -> dict[str, Any]:
    """One item's SLA clock fields as Python scalars (not started when the SLA has none for it).

    ``slas[name]`` is the item's own clock (``sla_clock(...)``) or every item's clocks
    (``sla_clocks(...)``, whose row for the item is read).
    """
    clocks = sla_of(slas, str(test.sla), path)
    ids = _item_ids(clocks)
    if ids is None:
        own = getattr(clocks, "item_id", item_id)
        if own != item_id:
            raise ValidationError.single(
                f"slas[{str(test.sla)!r}].item_id",
                own,
                f"the clock of the item evaluated ({item_id!r})",
            )
        return {field: _scalar(getattr(clocks, field)) for field in SLA_FIELDS}
    index = _position(clocks, ids, item_id)
    if index is None:
        return {
            "started": False,
            "stopped": False,
            "start_ns": NONE,
            "stop_ns": NONE,
            "elapsed_ns": 0,
            "remaining_ns": 0,
            "fraction_used": float("nan"),
        }
    return {field: _scalar(getattr(clocks, field)[index]) for field in SLA_FIELDS}


def _scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


_LOOKUPS: weakref.WeakKeyDictionary[Any, dict[Any, int]] = weakref.WeakKeyDictionary()
"""Item rows of results objects, built once per object (and forgotten with it)."""


def _position(owner: Any, ids: Any, item_id: object) -> int | None:
    """The row of ``item_id`` in ``ids``, with a dictionary built once per results object."""
    frame = getattr(owner, "frame", None)
    if (
        frame is not None
        and hasattr(frame, "codes_of")
        and getattr(owner, "item_ids", None) is None
    ):
        try:  # the frame's own index of its items
            return int(frame.codes_of([item_id])[0])
        except ValidationError:
            return None
    try:
        lookup = _LOOKUPS.get(owner)
    except TypeError:  # not weakly referenceable: no cache
        lookup = None
    if lookup is None:
        listed = np.asarray(ids, dtype=object).tolist()
        lookup = dict(zip(listed, range(len(listed)), strict=True))
        with contextlib.suppress(TypeError):
            _LOOKUPS[owner] = lookup
    return lookup.get(item_id)


def forecast_one(forecast: object, item_id: object, path: str) -> float:
    """One item's probability of missing its target (NaN when the forecast has none)."""
    found = _forecast(forecast, path)
    index = _position(found, found.item_ids, item_id)
    return float("nan") if index is None else float(found.miss_probability[index])
