"""Monte Carlo forecasts from daily throughput, in the ActionableAgile sense.

Each trial replays the future as a sequence of days, each day's completions drawn at random (with
replacement) from the days of the history. "How many by a date" adds up the draws over the days;
"when will N be done" counts the days until the running total reaches N. Trials are seeded and
simulated as whole arrays, many days at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import attrs
import numpy as np
import numpy.typing as npt
import pendulum

from servicedelivery.errors import ValidationError
from servicedelivery.metrics._flow import Throughput
from servicedelivery.metrics._percentiles import check_percentiles, rank_index
from servicedelivery.metrics._table import Column, Kind, Tabular

__all__ = ["HowManyForecast", "WhenForecast", "forecast_how_many", "forecast_when"]

CONFIDENCES: tuple[float, ...] = (50, 70, 85, 95)
"""The confidence levels a forecast shows by default."""

_CELLS_PER_STEP = 4_000_000  # trials x days simulated at once: bounded memory, few Python steps


def _history(history: Throughput | Sequence[int] | npt.NDArray[Any]) -> npt.NDArray[np.int64]:
    if isinstance(history, Throughput):
        if history.periods.freq != "day":
            raise ValidationError.single(
                "history", history.periods.freq, "daily throughput (freq='day')"
            )
        counts = history.counts
    else:
        counts = np.asarray(history)
        if counts.ndim != 1 or counts.dtype.kind not in "iu":
            raise ValidationError.single("history", history, "a sequence of daily counts (ints)")
    if not len(counts) or (counts < 0).any():
        raise ValidationError.single(
            "history", counts.tolist()[:10], "one or more daily counts, none negative"
        )
    return counts.astype(np.int64)


def _positive(value: object, *, path: str) -> int:
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValidationError.single(path, value, "a positive integer")
    if value < 1:
        raise ValidationError.single(path, value, "a positive integer")
    return int(value)


def _next_day(history: object) -> pendulum.Date | None:
    if isinstance(history, Throughput) and len(history.periods):
        last = str(history.periods.labels[-1])
        return pendulum.Date.fromisoformat(last).add(days=1)
    return None


@attrs.frozen(eq=False, repr=False)
class HowManyForecast(Tabular):
    """How many items will be done in a number of days: one total per trial.

    Attributes:
        days: The days forecast.
        seed: The seed of the trials.
        totals: ``int64`` items done in each trial.
    """

    days: int
    seed: int
    totals: npt.NDArray[np.int64]

    def at_least(self, confidence: float) -> int:
        """The most items done in at least ``confidence`` percent of the trials.

        With 85, the answer ``n`` is such that 85% of trials finished ``n`` or more, and no larger
        number has that property.
        """
        (level,) = check_percentiles([confidence], path="confidence")
        ordered = np.sort(self.totals)
        # The ceil(c * T)-th largest total: exactly that many trials reach it or more.
        needed = int(rank_index(np.array([len(ordered)]), level)[0])
        return int(ordered[len(ordered) - 1 - needed])

    def _title(self) -> str:
        return f"How many in {self.days} days ({len(self.totals):,} trials, seed {self.seed})"

    def _columns(self) -> list[Column]:
        return [
            Column("confidence", np.array(CONFIDENCES)),
            Column("at_least", np.array([self.at_least(c) for c in CONFIDENCES])),
        ]


def forecast_how_many(
    history: Throughput | Sequence[int] | npt.NDArray[Any],
    *,
    days: int,
    trials: int = 10_000,
    seed: int = 0,
) -> HowManyForecast:
    """Forecast how many items will be done in the next ``days`` days.

    Args:
        history: Daily throughput (a :func:`throughput` result with ``freq="day"``, or daily
            counts); choose its window with ``start=`` to reflect the current way of working.
        days: How many days ahead (calendar days, like the history).
        trials: How many simulated futures.
        seed: The seed: the same inputs and seed give the same forecast.

    Raises:
        ValidationError: An empty or negative history, or ``days`` / ``trials`` not positive.
    """
    counts = _history(history)
    days = _positive(days, path="days")
    trials = _positive(trials, path="trials")
    rng = np.random.default_rng(seed)
    totals = np.zeros(trials, dtype=np.int64)
    step = max(1, _CELLS_PER_STEP // trials)
    for begin in range(0, days, step):
        width = min(step, days - begin)
        totals += counts[rng.integers(0, len(counts), size=(trials, width))].sum(axis=1)
    return HowManyForecast(days=days, seed=seed, totals=totals)


@attrs.frozen(eq=False, repr=False)
class WhenForecast(Tabular):
    """How many days until a number of items are done: one count of days per trial.

    Attributes:
        items: The items to finish.
        seed: The seed of the trials.
        days: ``int64`` per trial: the day on which the running total reached ``items`` (1 is the
            first forecast day).
        start: The first forecast day, when known (the day after a throughput history).
    """

    items: int
    seed: int
    days: npt.NDArray[np.int64]
    start: pendulum.Date | None = None

    def within(self, confidence: float) -> int:
        """Days within which ``confidence`` percent of the trials finished (nearest rank)."""
        (level,) = check_percentiles([confidence], path="confidence")
        ordered = np.sort(self.days)
        return int(ordered[rank_index(np.array([len(ordered)]), level)[0]])

    def date(self, confidence: float) -> pendulum.Date:
        """The date by which the items are done with this confidence: day 1 is ``start``.

        Raises:
            ValidationError: The forecast has no start day.
        """
        if self.start is None:
            raise ValidationError.single(
                "start", None, "a first forecast day (pass start= to forecast_when)"
            )
        return self.start.add(days=self.within(confidence) - 1)

    def _title(self) -> str:
        return (
            f"When will {self.items:,} items be done ({len(self.days):,} trials, seed {self.seed})"
        )

    def _columns(self) -> list[Column]:
        columns = [
            Column("confidence", np.array(CONFIDENCES)),
            Column("days", np.array([self.within(c) for c in CONFIDENCES])),
        ]
        if self.start is not None:
            dates = [self.date(c).isoformat() for c in CONFIDENCES]
            columns.append(Column("date", np.array(dates, dtype="datetime64[D]"), Kind.DATE))
        return columns


def forecast_when(
    history: Throughput | Sequence[int] | npt.NDArray[Any],
    *,
    items: int,
    trials: int = 10_000,
    seed: int = 0,
    start: pendulum.Date | None = None,
) -> WhenForecast:
    """Forecast how many days it takes to finish ``items`` items.

    Args:
        history: Daily throughput, as for :func:`forecast_how_many`.
        items: How many items to finish.
        trials: How many simulated futures.
        seed: The seed: the same inputs and seed give the same forecast.
        start: The first forecast day (default: the day after a throughput history's last day).

    Raises:
        ValidationError: An empty or negative history, a history without any completion (the
            items would never be done), or ``items`` / ``trials`` not positive.
    """
    counts = _history(history)
    items = _positive(items, path="items")
    trials = _positive(trials, path="trials")
    if not counts.any():
        raise ValidationError.single(
            "history", counts.tolist()[:10], "at least one day with a completion"
        )
    rng = np.random.default_rng(seed)
    days = np.zeros(trials, dtype=np.int64)
    done = np.zeros(trials, dtype=np.int64)
    pending = np.arange(trials)
    elapsed = 0
    # Simulate blocks of days for the trials still running; a few blocks cover almost every trial.
    expected = int(np.ceil(items / counts.mean()))
    while len(pending):
        width = max(1, min(_CELLS_PER_STEP // len(pending), 2 * expected + 16))
        draws = counts[rng.integers(0, len(counts), size=(len(pending), width))]
        running = done[pending, None] + np.cumsum(draws, axis=1)
        reached = running >= items
        finished = reached.any(axis=1)
        days[pending[finished]] = elapsed + np.argmax(reached[finished], axis=1) + 1
        done[pending] = running[:, -1]
        pending = pending[~finished]
        elapsed += width
    return WhenForecast(
        items=items,
        seed=seed,
        days=days,
        start=start if start is not None else _next_day(history),
    )
